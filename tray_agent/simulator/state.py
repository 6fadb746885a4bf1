"""The simulated world: people, their Teams and Genesys presence, tokens, channels, logs.

Pure-ish: no aiohttp, no sockets. Time comes from the injected :class:`~tray_agent.clock.Clock`. Anything
that must reach a websocket goes through a :class:`StateObserver` (the notification hub registers itself).
All methods are synchronous and must run on the simulator's event loop thread (``SimulatorThread.call``
marshals them there).
"""

from __future__ import annotations

import itertools
import re
import secrets
import uuid
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, NamedTuple, Protocol

from tray_agent.clock import Clock, iso

from . import definitions as defs
from .definitions import PresenceDefinition
from .faults import Faults
from .ratelimit import SlidingWindow

Cause = Literal["api", "control", "ui", "system"]
RoutingStatus = Literal["OFF_QUEUE", "IDLE", "INTERACTING", "NOT_RESPONDING", "COMMUNICATING"]
ROUTING_STATUSES: tuple[str, ...] = ("OFF_QUEUE", "IDLE", "INTERACTING", "NOT_RESPONDING", "COMMUNICATING")

CHANNEL_LIFETIME = 24 * 3600.0
MAX_CHANNELS_PER_USER_APP = 20
MAX_TOPICS_PER_CHANNEL = 1000

# Permissions per role. The SDK docs say which endpoints need which permission ("Requires ALL
# permissions: …"); which permissions an org's default agent role holds is not documented (inferred:
# orgs differ, so the simulator has one agent role with presence-definition viewing and one without).
PRESENCE_DEFINITION_VIEW = "presence:presenceDefinition:view"
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "agent": frozenset({PRESENCE_DEFINITION_VIEW}),
    "agent_without_presence_view": frozenset(),  # a least-privilege agent role
}
ENTRA_CODE_LIFETIME = 600.0
GENESYS_CODE_LIFETIME = 600.0  # real behaviour unknown: Genesys does not document the code lifetime
ENTRA_REFRESH_LIFETIME = 90 * 86400.0
DEVICE_CODE_LIFETIME = 900.0

ORG_ID = "5c9a1e3b-7d2f-4a6c-8e0b-1f3d5a7c9e2b"
ORG_NAME = "Contoso Contact Centre"
DEFAULT_QUEUE_ID = "2e4f6a8c-0b1d-4e3f-a5c7-9e1b3d5f7a9c"


class RequestLogEntry(NamedTuple):
    """One HTTP request (or websocket upgrade) as the simulator saw it."""

    at: float  # simulated epoch seconds when the request arrived
    method: str
    path: str  # without the query string
    status: int  # 0 = connection aborted (network_down)
    service: str  # "graph" | "genesys" | "entra" | "genesys-login" | "notifications" | "control"
    user_id: str | None  # Microsoft object id (graph/entra) or Genesys user id (genesys*)
    client_id: str | None


class GenesysEvent(NamedTuple):
    """One change of a person's Genesys state, with who caused it."""

    seq: int
    at: float
    kind: str  # presence_changed | routing_changed | out_of_office_changed | taken_off_queue_by_<cause>
    user_id: str  # Genesys user id
    cause: Cause  # "api" = an OAuth token (the agent app); "ui"/"control" = the control surface
    client_id: str | None  # the OAuth client when cause == "api"
    detail: dict[str, Any]


class TopicResult(NamedTuple):
    id: str
    state: Literal["Permitted", "Rejected"]
    rejection_reason: str | None = None


@dataclass
class Counters:
    graph_requests: int = 0  # every request under /v1.0, whatever its status
    graph_presence_requests: int = 0  # GET /v1.0/me/presence that passed auth (incl. 429s)
    graph_throttled: int = 0  # 429s from Graph (budget or injected)
    graph_unauthorized: int = 0
    entra_token_requests: int = 0
    genesys_requests: int = 0  # every request under /api/v2
    genesys_throttled: int = 0
    genesys_unauthorized: int = 0
    genesys_presence_patches: int = 0  # successful PATCH .../presences/purecloud
    genesys_routing_puts: int = 0  # successful PUT .../routingstatus
    genesys_token_requests: int = 0
    channels_created: int = 0
    websocket_connections: int = 0
    events_published: int = 0  # topic messages for topics some channel subscribed to (connected or not)
    network_aborts: int = 0


@dataclass
class TeamsPresence:
    availability: str = "Available"
    activity: str = "Available"
    status_message: str | None = None
    status_message_expiry: float | None = None
    status_message_published: float | None = None
    out_of_office: bool = False
    out_of_office_message: str | None = None
    sequence_number: str = ""


@dataclass
class GenesysStatus:
    definition_id: str
    message: str
    modified: float
    routing_status: str
    routing_start: float
    ooo_active: bool
    ooo_start: float | None
    ooo_end: float | None
    ooo_indefinite: bool
    ooo_modified: float
    queue_ids: tuple[str, ...]
    queues_changed: float
    # Several presence sources: the *primary* one's presence is the one shown (users/me, events). SDK
    # PresenceApi.md, patch_user_presences_purecloud: "Set the 'primary' property to true. This will set
    # the PURECLOUD source as the user's primary presence source." (inferred: a PURECLOUD write while
    # another source is primary is kept for that source but not shown.)
    primary_source: str = "PURECLOUD"
    unshown_purecloud_definition_id: str | None = None

    @property
    def on_queue(self) -> bool:
        return self.routing_status != "OFF_QUEUE"


@dataclass
class SimUser:
    """One person: a Microsoft (Entra/Teams) identity linked to a Genesys Cloud user (separate ids)."""

    name: str
    email: str
    ms_id: str
    genesys_id: str
    teams: TeamsPresence
    genesys: GenesysStatus
    role: str = "agent"  # a key of ROLE_PERMISSIONS

    @property
    def permissions(self) -> frozenset[str]:
        return ROLE_PERMISSIONS[self.role]


@dataclass
class EntraAuthCode:
    code: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    user_id: str
    expires_at: float


@dataclass
class EntraToken:
    token: str
    user_id: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: float
    revoked: bool = False


@dataclass
class DeviceCode:
    device_code: str
    user_code: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: float
    status: Literal["pending", "approved", "declined", "consent_required", "redeemed"] = "pending"
    user_id: str | None = None


@dataclass
class GenesysAuthCode:
    code: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    user_id: str
    expires_at: float


@dataclass
class GenesysToken:
    token: str
    user_id: str
    client_id: str
    created: float
    expires_at: float
    revoked: bool = False
    window: SlidingWindow | None = None
    last_used: float | None = None  # for the org's Idle Token Timeout; None = since it was issued

    def idles_at(self, idle_timeout: float | None) -> float | None:
        if idle_timeout is None:
            return None
        return (self.created if self.last_used is None else self.last_used) + idle_timeout


@dataclass
class Channel:
    id: str
    user_id: str
    client_id: str
    token: str
    created: float
    expires: float
    last_used: float
    topics: dict[str, None] = field(default_factory=dict)  # ordered set
    connected: bool = False


class StateObserver(Protocol):
    """What the world tells the notification hub (implemented in notifications.py)."""

    def publish(self, topic: str, body: dict[str, Any]) -> None: ...

    def channel_removed(self, channel_id: str) -> None: ...

    def drop_all_sockets(self) -> None: ...

    def socket_closing(self, delay: float) -> None: ...


class _NoObserver:
    def publish(self, topic: str, body: dict[str, Any]) -> None:
        pass

    def channel_removed(self, channel_id: str) -> None:
        pass

    def drop_all_sockets(self) -> None:
        pass

    def socket_closing(self, delay: float) -> None:
        pass


class PresenceChangeRejected(Exception):
    """A Genesys rule refused the change; the API layer turns it into an ErrorBody."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


_TOPIC = re.compile(r"^v2\.users\.([0-9A-Za-z-]+)\.([A-Za-z]+)$")
UserRef = SimUser | str | None


class SimulatorState:
    """The world model. Construct via :class:`~tray_agent.simulator.Simulator`; read and mutate freely on the loop."""

    def __init__(
        self,
        clock: Clock,
        *,
        tenant_id: str,
        ms_client_id: str,
        genesys_client_id: str,
        genesys_redirect_uris: Sequence[str],
        entra_token_lifetime: int,
        genesys_token_lifetime: int,
        genesys_rate_per_minute: int,
        graph_limit_per_30s: int,
        genesys_issue_refresh_tokens: bool,
        auto_approve: bool,
        heartbeat_interval: float,
        device_code_interval: int,
        request_log_size: int,
    ) -> None:
        self.clock = clock
        self.tenant_id = tenant_id
        self.ms_client_id = ms_client_id
        self.genesys_client_id = genesys_client_id
        self.genesys_redirect_uris = tuple(genesys_redirect_uris)
        self.entra_token_lifetime = entra_token_lifetime
        self.genesys_token_lifetime = genesys_token_lifetime
        self.genesys_rate_per_minute = genesys_rate_per_minute
        self.graph_limit_per_30s = graph_limit_per_30s
        self.genesys_issue_refresh_tokens = genesys_issue_refresh_tokens
        # The org's Idle Token Timeout (Genesys: 5 min to 8 h, at most 15 min with HIPAA; IdleTokenTimeout.md):
        # a token not used for this long is ended. Every authenticated API call counts as use, except
        # GET /api/v2/tokens/me?preserveIdleTTL=true; websocket traffic does not (inferred: undocumented).
        self.genesys_idle_timeout: float | None = None
        self.auto_approve = auto_approve
        self.heartbeat_interval = heartbeat_interval
        self.device_code_interval = device_code_interval
        self.base_url = ""  # set by the server once it listens
        self.observer: StateObserver = _NoObserver()
        self.faults = Faults(self)

        self.definitions: dict[str, PresenceDefinition] = {d.id: d for d in defs.DEFAULT_DEFINITIONS}
        self._primary_by_system: dict[str, PresenceDefinition] = {
            defs.normalise(d.system_presence): d for d in defs.SYSTEM_DEFINITIONS
        }

        self.users: dict[str, SimUser] = {}  # by Microsoft object id
        self._by_genesys_id: dict[str, SimUser] = {}
        self._by_email: dict[str, SimUser] = {}
        self._teams_seq = itertools.count(1)
        self._event_seq = itertools.count(1)

        self.entra_codes: dict[str, EntraAuthCode] = {}
        self.entra_redeemed_codes: set[str] = set()
        self.entra_access_tokens: dict[str, EntraToken] = {}
        self.entra_refresh_tokens: dict[str, EntraToken] = {}
        self.device_codes: dict[str, DeviceCode] = {}
        self._device_by_user_code: dict[str, DeviceCode] = {}
        self.graph_windows: dict[tuple[str, str], SlidingWindow] = {}

        self.genesys_codes: dict[str, GenesysAuthCode] = {}
        self.genesys_redeemed_codes: set[str] = set()
        self.genesys_tokens: dict[str, GenesysToken] = {}
        self.genesys_refresh_tokens: dict[str, GenesysToken] = {}

        self.channels: dict[str, Channel] = {}
        self._channels_by_owner: dict[tuple[str, str], dict[str, None]] = {}
        self._topic_index: dict[str, set[str]] = {}

        self.request_log: deque[RequestLogEntry] = deque(maxlen=request_log_size)
        self.events: list[GenesysEvent] = []
        self.counters = Counters()

        self.default_user = self.add_user(
            "Alex Agent",
            "alex@contoso.example",
            ms_id="0f3c1b2a-4d5e-4f60-8a7b-9c0d1e2f3a4b",
            genesys_id="a7e5c3b1-2d4f-4e6a-9b8c-7d6e5f4a3b2c",
        )

    # ------------------------------------------------------------------ people

    def add_user(
        self,
        name: str,
        email: str,
        *,
        ms_id: str | None = None,
        genesys_id: str | None = None,
        availability: str = "Available",
        activity: str = "Available",
        genesys_presence: str = "Available",
        routing_status: str = "OFF_QUEUE",
        queue_ids: Sequence[str] = (DEFAULT_QUEUE_ID,),
        role: str = "agent",
    ) -> SimUser:
        """Add a person (Microsoft user linked to a Genesys user). O(1); fine for thousands."""
        if email.lower() in self._by_email:
            raise ValueError(f"user {email} already exists")
        if role not in ROLE_PERMISSIONS:
            raise ValueError(f"unknown role {role!r} (one of: {', '.join(ROLE_PERMISSIONS)})")
        now = self.clock.now()
        definition = self.resolve_definition(genesys_presence)
        if routing_status not in ROUTING_STATUSES:
            raise ValueError(f"unknown routing status {routing_status!r}")
        if routing_status != "OFF_QUEUE":
            definition = defs.ON_QUEUE
        user = SimUser(
            name=name,
            email=email,
            ms_id=ms_id or str(uuid.uuid4()),
            genesys_id=genesys_id or str(uuid.uuid4()),
            teams=TeamsPresence(availability, activity, sequence_number=self._next_sequence()),
            genesys=GenesysStatus(
                definition_id=definition.id,
                message="",
                modified=now,
                routing_status=routing_status,
                routing_start=now,
                ooo_active=False,
                ooo_start=None,
                ooo_end=None,
                ooo_indefinite=False,
                ooo_modified=now,
                queue_ids=tuple(queue_ids),
                queues_changed=now,
            ),
            role=role,
        )
        self.users[user.ms_id] = user
        self._by_genesys_id[user.genesys_id] = user
        self._by_email[email.lower()] = user
        return user

    def user(self, ref: UserRef = None) -> SimUser:
        """Find a person by SimUser, Microsoft id, Genesys id or e-mail/UPN; None = the default user."""
        if ref is None:
            return self.default_user
        if isinstance(ref, SimUser):
            return ref
        found = self.find_user(ref)
        if found is None:
            raise KeyError(f"no such user: {ref}")
        return found

    def find_user(self, ref: str) -> SimUser | None:
        return self.users.get(ref) or self._by_genesys_id.get(ref) or self._by_email.get(ref.lower())

    def genesys_user(self, genesys_id: str) -> SimUser | None:
        return self._by_genesys_id.get(genesys_id)

    # ------------------------------------------------------------------ Teams (Microsoft Graph)

    def _next_sequence(self) -> str:
        # Graph: "lexicographically sortable String stamp"; zero-padded so string order == numeric order.
        return f"{next(self._teams_seq):020d}"

    def set_teams(
        self,
        availability: str,
        activity: str,
        *,
        user: UserRef = None,
        out_of_office: bool | None = None,
        out_of_office_message: str | None = None,
    ) -> TeamsPresence:
        """Change what Graph reports for the person (as if they changed status in Teams)."""
        teams = self.user(user).teams
        teams.availability = availability
        teams.activity = activity
        if out_of_office is not None:
            teams.out_of_office = out_of_office
        if out_of_office_message is not None:
            teams.out_of_office_message = out_of_office_message
        teams.sequence_number = self._next_sequence()
        return teams

    def set_teams_status_message(
        self, message: str | None, *, user: UserRef = None, expiry: float | None = None
    ) -> TeamsPresence:
        teams = self.user(user).teams
        teams.status_message = message
        teams.status_message_expiry = expiry if message is not None else None
        teams.status_message_published = self.clock.now() if message is not None else None
        teams.sequence_number = self._next_sequence()
        return teams

    def teams_presence(self, user: UserRef = None) -> TeamsPresence:
        return self.user(user).teams

    # ------------------------------------------------------------------ Genesys presence definitions

    def resolve_definition(self, value: str) -> PresenceDefinition:
        """A definition id, or a system presence in any casing ("On Queue", "ON_QUEUE", "OnQueue")."""
        found = self.definitions.get(value) or self._primary_by_system.get(defs.normalise(value))
        if found is None:
            raise KeyError(f"unknown presence definition or system presence: {value!r}")
        return found

    def current_definition(self, user: UserRef = None) -> PresenceDefinition:
        return self.definitions[self.user(user).genesys.definition_id]

    def genesys_system_presence(self, user: UserRef = None) -> str:
        """Current system presence in enum casing, e.g. "OnQueue"."""
        return self.current_definition(user).system_presence

    def routing_status(self, user: UserRef = None) -> str:
        return self.user(user).genesys.routing_status

    def out_of_office(self, user: UserRef = None) -> bool:
        return self.user(user).genesys.ooo_active

    # ------------------------------------------------------------------ Genesys changes (control surface)

    def set_genesys_presence(
        self, system_presence_or_definition_id: str, *, user: UserRef = None, cause: Cause = "ui"
    ) -> PresenceDefinition:
        """The agent clicking a status in the Genesys UI.

        Like the UI (help "Change an agent's status"): choosing a status while On Queue also takes the
        agent off queue; choosing On Queue goes on queue (routing IDLE). Unlike the UI, Out of Office does
        not block it — this is test tooling.
        """
        person = self.user(user)
        definition = self.resolve_definition(system_presence_or_definition_id)
        if definition.system_presence == "OnQueue":
            if not person.genesys.on_queue:
                self._change_routing(person, "IDLE", cause, None)
            return self.current_definition(person)
        self._change_presence(person, definition, None, cause, None)
        return definition

    def set_routing(self, status: str, *, user: UserRef = None, cause: Cause = "control") -> None:
        """Change routing status (e.g. the agent toggling On Queue, or ACD routing a call: INTERACTING)."""
        if status not in ROUTING_STATUSES:
            raise ValueError(f"unknown routing status {status!r}")
        self._change_routing(self.user(user), status, cause, None)

    def set_out_of_office(
        self,
        active: bool,
        *,
        user: UserRef = None,
        cause: Cause = "control",
        start: float | None = None,
        end: float | None = None,
        indefinite: bool | None = None,
    ) -> None:
        self._change_ooo(self.user(user), active, start, end, indefinite, cause, None)

    # ------------------------------------------------------------------ Genesys changes (Platform API)

    def make_primary_source(self, person: SimUser, source: str) -> None:
        """Another presence source (an integration, e.g. ``MICROSOFTTEAMS``) becomes the user's primary one."""
        person.genesys.primary_source = source.upper()

    def api_patch_presence(
        self,
        person: SimUser,
        *,
        definition_id: str | None,
        message: str | None,
        client_id: str,
        primary: bool = False,
    ) -> None:
        """``PATCH /api/v2/users/{id}/presences/purecloud`` by the person's own token."""
        g = person.genesys
        definition: PresenceDefinition | None = None
        if definition_id is not None:
            definition = self.definitions.get(definition_id)
            if definition is None or definition.deactivated:
                # real behaviour unknown: exact code/message for an unknown or deactivated definition
                raise PresenceChangeRejected(
                    400, "bad.request", f"The presence definition {definition_id} is invalid or deactivated."
                )
            if definition.system_presence == "OnQueue":
                # real behaviour unknown: On Queue is entered via routing status, so refuse it here
                raise PresenceChangeRejected(
                    400,
                    "bad.request",
                    "On Queue cannot be set as a presence; use PUT /api/v2/users/{userId}/routingstatus.",
                )
        if g.ooo_active:
            # Help text: "If an agent's presence status is Out of Office, it cannot be changed".
            # real behaviour unknown: the exact API response; a 400 ErrorBody is our guess.
            raise PresenceChangeRejected(
                400, "bad.request", "The user is Out of Office; their presence cannot be changed."
            )
        self.counters.genesys_presence_patches += 1
        if primary:
            g.primary_source = "PURECLOUD"
        elif g.primary_source != "PURECLOUD":
            # Stored for the PURECLOUD source, but another source is primary: the status shown stays.
            g.unshown_purecloud_definition_id = definition.id if definition else g.unshown_purecloud_definition_id
            return
        self._change_presence(person, definition, message, "api", client_id)

    def api_put_routing(self, person: SimUser, status: str, client_id: str) -> None:
        self.counters.genesys_routing_puts += 1
        self._change_routing(person, status, "api", client_id)

    def api_put_out_of_office(
        self,
        person: SimUser,
        *,
        active: bool,
        start: float | None,
        end: float | None,
        indefinite: bool | None,
        client_id: str,
    ) -> None:
        self._change_ooo(person, active, start, end, indefinite, "api", client_id)

    # ------------------------------------------------------------------ change mechanics

    def _record(self, kind: str, person: SimUser, cause: Cause, client_id: str | None, **detail: Any) -> GenesysEvent:
        event = GenesysEvent(next(self._event_seq), self.clock.now(), kind, person.genesys_id, cause, client_id, detail)
        self.events.append(event)
        return event

    def _change_presence(
        self,
        person: SimUser,
        definition: PresenceDefinition | None,
        message: str | None,
        cause: Cause,
        client_id: str | None,
    ) -> None:
        g = person.genesys
        now = self.clock.now()
        routing_changed = False
        if definition is not None and g.on_queue:
            # Help: "If the agent's status is On Queue, selecting a user status also sets them to Off Queue".
            old_routing = g.routing_status
            g.routing_status, g.routing_start, g.queues_changed = "OFF_QUEUE", now, now
            routing_changed = True
            self._record(
                f"taken_off_queue_by_{cause}",
                person,
                cause,
                client_id,
                previous_routing=old_routing,
                new_presence=definition.system_presence,
            )
            self._record("routing_changed", person, cause, client_id, old=old_routing, new="OFF_QUEUE")
        old = self.definitions[g.definition_id]
        if definition is not None:
            g.definition_id = definition.id
        if message is not None:
            g.message = message
        # real behaviour unknown: a PATCH that repeats the current definition still stamps modifiedDate
        # and notifies (Genesys documents no de-duplication).
        g.modified = now
        self._record_presence_change(person, old, cause, client_id)
        self._announce(person, presence=True, routing=routing_changed)

    def _record_presence_change(
        self, person: SimUser, old: PresenceDefinition, cause: Cause, client_id: str | None
    ) -> None:
        new = self.definitions[person.genesys.definition_id]
        self._record(
            "presence_changed",
            person,
            cause,
            client_id,
            old=old.system_presence,
            new=new.system_presence,
            old_definition_id=old.id,
            new_definition_id=new.id,
            message=person.genesys.message,
        )

    def _change_routing(self, person: SimUser, status: str, cause: Cause, client_id: str | None) -> None:
        g = person.genesys
        now = self.clock.now()
        old_status = g.routing_status
        was_on_queue = g.on_queue
        g.routing_status, g.routing_start = status, now
        self._record("routing_changed", person, cause, client_id, old=old_status, new=status)
        presence_changed = False
        old_def = self.definitions[g.definition_id]
        if status != "OFF_QUEUE" and not was_on_queue:
            g.definition_id, g.modified, g.queues_changed = defs.ON_QUEUE.id, now, now
            presence_changed = True
        elif status == "OFF_QUEUE" and was_on_queue:
            # Help: "If you change the status from On Queue to Off Queue, then the agent's status
            # automatically also changes to Available."
            g.definition_id, g.modified, g.queues_changed = defs.AVAILABLE.id, now, now
            presence_changed = True
        if presence_changed:
            self._record_presence_change(person, old_def, cause, client_id)
        self._announce(person, presence=presence_changed, routing=True)

    def _change_ooo(
        self,
        person: SimUser,
        active: bool,
        start: float | None,
        end: float | None,
        indefinite: bool | None,
        cause: Cause,
        client_id: str | None,
    ) -> None:
        g = person.genesys
        old = g.ooo_active
        g.ooo_active = active
        if start is not None:
            g.ooo_start = start
        if end is not None:
            g.ooo_end = end
        if indefinite is not None:
            g.ooo_indefinite = indefinite
        if active and g.ooo_start is None:
            g.ooo_start = self.clock.now()
        g.ooo_modified = self.clock.now()
        self._record("out_of_office_changed", person, cause, client_id, old=old, new=active)
        self._announce(person, ooo=True)

    @property
    def violations(self) -> list[GenesysEvent]:
        """Events where the agent app (an OAuth token) took someone off queue — the rule it must never break."""
        return [e for e in self.events if e.kind == "taken_off_queue_by_api"]

    # ------------------------------------------------------------------ notification payloads

    def activity_body(self, person: SimUser) -> dict[str, Any]:
        g = person.genesys
        definition = self.definitions[g.definition_id]
        return {
            "id": person.genesys_id,
            "routingStatus": {"status": g.routing_status, "startTime": iso(g.routing_start)},
            "presence": {
                "presenceDefinition": {"id": definition.id, "systemPresence": definition.event_system_presence},
                "presenceMessage": g.message,
                "modifiedDate": iso(g.modified),
            },
            "outOfOffice": {"active": g.ooo_active, "modifiedDate": iso(g.ooo_modified)},
            "activeQueueIds": list(g.queue_ids) if g.on_queue else [],
            "dateActiveQueuesChanged": iso(g.queues_changed),
        }

    def _announce(self, person: SimUser, *, presence: bool = False, routing: bool = False, ooo: bool = False) -> None:
        """Publish the change on every topic that carries it (only topics somebody subscribed to)."""
        gid = person.genesys_id
        g = person.genesys
        index = self._topic_index
        topic = f"v2.users.{gid}.activity"
        if index.get(topic):
            self._publish(topic, self.activity_body(person))
        if presence and index.get(topic := f"v2.users.{gid}.presence"):
            definition = self.definitions[g.definition_id]
            # real behaviour unknown: systemPresence casing on this topic; we use the event casing
            self._publish(
                topic,
                {
                    "source": "PURECLOUD",
                    "presenceDefinition": {
                        "id": definition.id,
                        "systemPresence": definition.event_system_presence,
                    },
                    "primary": True,
                    "message": g.message,
                    "modifiedDate": iso(g.modified),
                },
            )
        if routing and index.get(topic := f"v2.users.{gid}.routingStatus"):
            self._publish(
                topic, {"id": gid, "routingStatus": {"status": g.routing_status, "startTime": iso(g.routing_start)}}
            )
        if ooo and index.get(topic := f"v2.users.{gid}.outofoffice"):
            self._publish(topic, self.out_of_office_body(person))

    def out_of_office_body(self, person: SimUser) -> dict[str, Any]:
        g = person.genesys
        return {
            "user": {"id": person.genesys_id, "selfUri": f"/api/v2/users/{person.genesys_id}"},
            "startDate": iso(g.ooo_start) if g.ooo_start is not None else None,
            "endDate": iso(g.ooo_end) if g.ooo_end is not None else None,
            "active": g.ooo_active,
            "indefinite": g.ooo_indefinite,
        }

    def _publish(self, topic: str, body: dict[str, Any]) -> None:
        self.counters.events_published += 1
        self.observer.publish(topic, body)

    # ------------------------------------------------------------------ Entra tokens

    def new_entra_access_token(self, user_id: str, client_id: str, scopes: tuple[str, ...]) -> EntraToken:
        token = EntraToken(
            "eyJ0eXAiOiJzaW0ifQ." + secrets.token_urlsafe(48),  # opaque to clients; "sim" prefix for humans
            user_id,
            client_id,
            scopes,
            self.clock.now() + self.entra_token_lifetime,
        )
        self.entra_access_tokens[token.token] = token
        return token

    def new_entra_refresh_token(self, user_id: str, client_id: str, scopes: tuple[str, ...]) -> EntraToken:
        token = EntraToken(
            "0.SIM" + secrets.token_urlsafe(64), user_id, client_id, scopes, self.clock.now() + ENTRA_REFRESH_LIFETIME
        )
        self.entra_refresh_tokens[token.token] = token
        return token

    def secrets_handed_out(self) -> set[str]:
        """Every code and token this simulator issued (redeemed or not): none may appear in the
        agent's files, logs or output — the security tests scan for exactly these."""
        return {
            *self.entra_codes,
            *self.entra_redeemed_codes,
            *self.entra_access_tokens,
            *self.entra_refresh_tokens,
            *self.device_codes,
            *self.genesys_codes,
            *self.genesys_redeemed_codes,
            *self.genesys_tokens,
            *self.genesys_refresh_tokens,
        }

    def entra_token_status(self, token: str) -> tuple[Literal["ok", "expired", "invalid"], EntraToken | None]:
        found = self.entra_access_tokens.get(token)
        return self._token_status(found), found

    def _token_status(self, found: EntraToken | GenesysToken | None) -> Literal["ok", "expired", "invalid"]:
        if found is None or found.revoked:
            return "invalid"
        now = self.clock.now()
        if isinstance(found, GenesysToken):
            idles_at = found.idles_at(self.genesys_idle_timeout)
            if idles_at is not None and now >= idles_at:
                return "expired"  # ended by the idle timeout (real behaviour unknown: the code it answers with)
        return "expired" if now >= found.expires_at else "ok"

    def use_genesys_token(self, token: GenesysToken) -> None:
        """An API call with ``token``: it restarts the idle timeout."""
        token.last_used = self.clock.now()

    def add_device_code(self, client_id: str, scopes: tuple[str, ...]) -> DeviceCode:
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        user_code = "".join(secrets.choice(alphabet) for _ in range(9))
        entry = DeviceCode(
            "SIMDC." + secrets.token_urlsafe(48), user_code, client_id, scopes, self.clock.now() + DEVICE_CODE_LIFETIME
        )
        self.device_codes[entry.device_code] = entry
        self._device_by_user_code[user_code] = entry
        return entry

    def device_code_by_user_code(self, user_code: str) -> DeviceCode | None:
        return self._device_by_user_code.get(user_code.strip().upper().replace("-", ""))

    def graph_window(self, client_id: str) -> SlidingWindow:
        """The presence budget shared by every user of one app in this tenant."""
        key = (self.tenant_id, client_id)
        window = self.graph_windows.get(key)
        if window is None:
            window = self.graph_windows[key] = SlidingWindow(self.graph_limit_per_30s, 30.0)
        return window

    # ------------------------------------------------------------------ Genesys tokens

    def new_genesys_token(self, user_id: str, client_id: str) -> GenesysToken:
        now = self.clock.now()
        token = GenesysToken(secrets.token_urlsafe(64), user_id, client_id, now, now + self.genesys_token_lifetime)
        self.genesys_tokens[token.token] = token
        return token

    def new_genesys_refresh_token(self, user_id: str, client_id: str) -> GenesysToken:
        now = self.clock.now()
        token = GenesysToken(secrets.token_urlsafe(64), user_id, client_id, now, now + 30 * 86400.0)
        self.genesys_refresh_tokens[token.token] = token
        return token

    def genesys_token_status(self, token: str) -> tuple[Literal["ok", "expired", "invalid"], GenesysToken | None]:
        found = self.genesys_tokens.get(token)
        return self._token_status(found), found

    def revoke_genesys_token(self, token: str) -> None:
        """``DELETE /api/v2/tokens/me``: the token and the channels it created die (O(channels of that user))."""
        found = self.genesys_tokens.get(token)
        if found is not None:
            found.revoked = True
            for channel_id in list(self._channels_by_owner.get((found.user_id, found.client_id), {})):
                if self.channels[channel_id].token == token:
                    self.remove_channel(channel_id)

    def expire_tokens(self, service: str, *, refresh_tokens: bool = False) -> int:
        """Make every current access token of ``service`` ("graph"/"entra" or "genesys") expired now."""
        now = self.clock.now()
        count = 0
        if service in ("graph", "entra", "all"):
            for t in self.entra_access_tokens.values():
                if t.expires_at > now:
                    t.expires_at, count = now, count + 1
            if refresh_tokens:
                for t in self.entra_refresh_tokens.values():
                    t.revoked = True
        if service in ("genesys", "all"):
            for g in self.genesys_tokens.values():
                if g.expires_at > now:
                    g.expires_at, count = now, count + 1
            if refresh_tokens:
                for g in self.genesys_refresh_tokens.values():
                    g.revoked = True
            # real behaviour unknown: we assume a channel dies with the token that created it (the
            # genesys-notifications library reads {"result":"404"} as "channel expired or its token expired").
            self._close_channels_of_dead_tokens()
        if service not in ("graph", "entra", "genesys", "all"):
            raise ValueError(f"unknown service {service!r}")
        return count

    # ------------------------------------------------------------------ notification channels

    def create_channel(self, token: GenesysToken) -> Channel:
        now = self.clock.now()
        owner = (token.user_id, token.client_id)
        owned = self._channels_by_owner.setdefault(owner, {})
        for channel_id in [c for c in owned if not self._channel_alive(self.channels[c], now)]:
            self.remove_channel(channel_id)
        while len(owned) >= MAX_CHANNELS_PER_USER_APP:
            # "Creating a 21st channel will remove the channel with oldest last used date. Channels without
            # an active connection will be removed first."
            candidates = [self.channels[c] for c in owned]
            victim = min(candidates, key=lambda c: (c.connected, c.last_used))
            self.remove_channel(victim.id)
        channel = Channel(
            id=f"streaming-0-{secrets.token_hex(13)}",
            user_id=token.user_id,
            client_id=token.client_id,
            token=token.token,
            created=now,
            expires=now + CHANNEL_LIFETIME,
            last_used=now,
        )
        self.channels[channel.id] = channel
        owned[channel.id] = None
        self.counters.channels_created += 1
        return channel

    def _channel_alive(self, channel: Channel, now: float) -> bool:
        if now >= channel.expires:
            return False
        status, _ = self.genesys_token_status(channel.token)
        return status == "ok"

    def live_channel(self, channel_id: str) -> Channel | None:
        """The channel if it exists and has not expired (expired ones are removed on sight)."""
        channel = self.channels.get(channel_id)
        if channel is None:
            return None
        if not self._channel_alive(channel, self.clock.now()):
            self.remove_channel(channel_id)
            return None
        return channel

    def channels_of(self, user_id: str, client_id: str, token: str | None = None) -> list[Channel]:
        owned = self._channels_by_owner.get((user_id, client_id), {})
        alive = [c for c in (self.live_channel(cid) for cid in list(owned)) if c is not None]
        return [c for c in alive if token is None or c.token == token]

    def remove_channel(self, channel_id: str) -> None:
        channel = self.channels.pop(channel_id, None)
        if channel is None:
            return
        owned = self._channels_by_owner.get((channel.user_id, channel.client_id))
        if owned is not None:
            owned.pop(channel_id, None)
        for topic in channel.topics:
            subscribers = self._topic_index.get(topic)
            if subscribers is not None:
                subscribers.discard(channel_id)
                if not subscribers:
                    del self._topic_index[topic]
        self.observer.channel_removed(channel_id)

    def expire_all_channels(self) -> None:
        for channel_id in list(self.channels):
            self.remove_channel(channel_id)

    def _close_channels_of_dead_tokens(self) -> None:
        now = self.clock.now()
        for channel in list(self.channels.values()):
            if not self._channel_alive(channel, now):
                self.remove_channel(channel.id)

    def check_topic(self, channel: Channel, topic: str) -> TopicResult | None:
        """None if the topic is not a topic name at all; else Permitted/Rejected."""
        match = _TOPIC.match(topic)
        if match is None:
            return None
        if match.group(1) != channel.user_id:
            # real behaviour unknown: the exact rejection text for someone else's user topic
            return TopicResult(topic, "Rejected", "Permission denied: you may only subscribe to your own user topics")
        return TopicResult(topic, "Permitted")

    def subscribe(self, channel: Channel, topics: Iterable[str], *, replace: bool) -> list[TopicResult]:
        """Subscribe (``replace`` = PUT semantics). Caller validates topic names first."""
        results = [r for r in (self.check_topic(channel, t) for t in topics) if r is not None]
        if replace:
            self.unsubscribe(channel, None)
        for result in results:
            if result.state == "Permitted" and result.id not in channel.topics:
                channel.topics[result.id] = None
                self._topic_index.setdefault(result.id, set()).add(channel.id)
        now = self.clock.now()
        channel.expires = now + CHANNEL_LIFETIME  # re-subscribing extends the 24 h lifetime
        channel.last_used = now
        return results

    def unsubscribe(self, channel: Channel, topics: Iterable[str] | None) -> None:
        for topic in list(channel.topics) if topics is None else list(topics):
            if topic in channel.topics:
                del channel.topics[topic]
                subscribers = self._topic_index.get(topic)
                if subscribers is not None:
                    subscribers.discard(channel.id)
                    if not subscribers:
                        del self._topic_index[topic]

    def subscribers(self, topic: str) -> Iterator[str]:
        return iter(tuple(self._topic_index.get(topic, ())))

    def set_connected(self, channel_id: str, connected: bool) -> None:
        channel = self.channels.get(channel_id)
        if channel is not None:
            channel.connected = connected
            channel.last_used = self.clock.now()

    # ------------------------------------------------------------------ control-surface views

    def log_request(self, entry: RequestLogEntry) -> None:
        self.request_log.append(entry)

    def user_snapshot(self, person: SimUser) -> dict[str, Any]:
        t, g = person.teams, person.genesys
        definition = self.definitions[g.definition_id]
        return {
            "name": person.name,
            "email": person.email,
            "msId": person.ms_id,
            "genesysId": person.genesys_id,
            "teams": {
                "availability": t.availability,
                "activity": t.activity,
                "statusMessage": t.status_message,
                "outOfOffice": t.out_of_office,
                "sequenceNumber": t.sequence_number,
            },
            "genesys": {
                "definitionId": definition.id,
                "systemPresence": definition.system_presence,
                "label": definition.label,
                "message": g.message,
                "modifiedDate": iso(g.modified),
                "routingStatus": g.routing_status,
                "routingStartTime": iso(g.routing_start),
                "outOfOffice": g.ooo_active,
            },
        }

    def snapshot(self, *, max_users: int = 50) -> dict[str, Any]:
        users = list(itertools.islice(self.users.values(), max_users))
        return {
            "now": iso(self.clock.now()),
            "tenantId": self.tenant_id,
            "msClientId": self.ms_client_id,
            "genesysClientId": self.genesys_client_id,
            "userCount": len(self.users),
            "users": [self.user_snapshot(u) for u in users],
            "definitions": [
                {
                    "id": d.id,
                    "systemPresence": d.system_presence,
                    "label": d.label,
                    "type": d.type,
                    "deactivated": d.deactivated,
                }
                for d in self.definitions.values()
            ],
            "faults": self.faults.snapshot(),
            "counters": asdict(self.counters),
            "channels": [
                {
                    "id": c.id,
                    "userId": c.user_id,
                    "connected": c.connected,
                    "expires": iso(c.expires),
                    "topics": list(c.topics)[:20],
                }
                for c in itertools.islice(self.channels.values(), 100)
            ],
            "violations": len(self.violations),
        }
