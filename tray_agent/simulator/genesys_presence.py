"""Genesys Cloud presence, routing status and out of office: the rules of changing them, and the log of
every change with who caused it.

Two kinds of caller: the control surface (the agent clicking in the Genesys UI, ACD routing a call, a
test) through :meth:`GenesysPresences.set_presence` and friends, and the Platform API (the agent app's
token) through the ``api_*`` methods. Each change is recorded as a :class:`GenesysEvent` and announced
on the person's notification topics. :attr:`GenesysPresences.violations` lists the changes the agent
app must never make.

**Interactions** (:meth:`GenesysPresences.connect_interaction` / :meth:`end_interaction`, the control
surface's ``POST /control/api/genesys/interaction``): conversations the person handles, ACD (routed from
a queue) or not. Routing status follows them as Genesys's does (RoutingStatus enum OFF_QUEUE, IDLE,
INTERACTING, NOT_RESPONDING, COMMUNICATING): an agent on queue shows INTERACTING while any ACD interaction
is active, else COMMUNICATING while a non-ACD one is, else IDLE; an agent OFF_QUEUE stays OFF_QUEUE (a
non-ACD call is still possible), and ACD cannot route to them (refused, as it cannot to NOT_RESPONDING:
inferred). Inferred, not documented: going on queue during an interaction shows INTERACTING or
COMMUNICATING at once; the simulator has no after-call work (``acw`` counts are always 0; ending an
interaction ends its wrap-up too). Each change of the counts is published on
``v2.users.{id}.conversationsummary`` (after the routing change it caused, if any: real order unknown).
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any, NamedTuple

from tray_agent.clock import Clock

from . import definitions as defs
from . import notification_topics as topics
from .definitions import PresenceDefinition, PresenceDefinitions
from .directory import People, SimUser, UserRef
from .notification_channels import NotificationChannels
from .presence_records import ROUTING_STATUSES, Cause
from .request_log import Counters

MEDIA_FIELDS = topics.FIELD_OF_MEDIA  # media → its UserConversationSummary field
MAX_ACTIVE_INTERACTIONS = 50  # per person, so a runaway test or script stays small


class Interaction(NamedTuple):
    """One active conversation of a person (``state.genesys.interactions(user)``)."""

    id: str  # the conversation id
    user_id: str  # Genesys user id
    media: str  # a key of MEDIA_FIELDS
    acd: bool  # routed from a queue (counts under contactCenter) or not (enterprise)
    connected_at: float


class GenesysEvent(NamedTuple):
    """One change of a person's Genesys state, with who caused it."""

    seq: int
    at: float
    # presence_changed | routing_changed | out_of_office_changed | taken_off_queue_by_<cause> |
    # interaction_connected | interaction_ended
    kind: str
    user_id: str  # Genesys user id
    cause: Cause  # "api" = an OAuth token (the agent app); "ui"/"control" = the control surface
    client_id: str | None  # the OAuth client when cause == "api"
    detail: dict[str, Any]


class PresenceChangeRejected(Exception):
    """A Genesys rule refused the change; the API layer turns it into an ErrorBody."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class GenesysPresences:
    def __init__(
        self,
        people: People,
        definitions: PresenceDefinitions,
        notifications: NotificationChannels,
        counters: Counters,
        clock: Clock,
    ) -> None:
        self._people = people
        self._definitions = definitions
        self._notifications = notifications
        self._counters = counters
        self._clock = clock
        self._event_seq = itertools.count(1)
        self.events: list[GenesysEvent] = []
        self._interactions: dict[str, dict[str, Interaction]] = {}  # Genesys user id → id → (oldest first)

    # ------------------------------------------------------------------ reading

    def current_definition(self, user: UserRef = None) -> PresenceDefinition:
        return self._definitions[self._people.user(user).genesys.definition_id]

    def system_presence(self, user: UserRef = None) -> str:
        """Current system presence in enum casing, e.g. "OnQueue"."""
        return self.current_definition(user).system_presence

    def routing_status(self, user: UserRef = None) -> str:
        return self._people.user(user).genesys.routing_status

    def out_of_office(self, user: UserRef = None) -> bool:
        return self._people.user(user).genesys.ooo_active

    def interactions(self, user: UserRef = None) -> list[Interaction]:
        """The person's active interactions, oldest first."""
        return list(self._interactions.get(self._people.user(user).genesys_id, {}).values())

    def conversation_summary(self, user: UserRef = None) -> dict[str, Any]:
        """``UserConversationSummary`` of the person's own active interactions (counts only)."""
        person = self._people.user(user)
        return topics.conversation_summary_body(person, [(i.media, i.acd) for i in self.interactions(person)])

    @property
    def violations(self) -> list[GenesysEvent]:
        """Events where the agent app (an OAuth token) took someone off queue — the rule it must never break."""
        return [e for e in self.events if e.kind == "taken_off_queue_by_api"]

    # ------------------------------------------------------------------ the control surface

    def set_presence(
        self, system_presence_or_definition_id: str, *, user: UserRef = None, cause: Cause = "ui"
    ) -> PresenceDefinition:
        """The agent clicking a status in the Genesys UI.

        Like the UI (help "Change an agent's status"): choosing a status while On Queue also takes the
        agent off queue; choosing On Queue goes on queue (routing IDLE). Unlike the UI, Out of Office does
        not block it — this is test tooling.
        """
        person = self._people.user(user)
        definition = self._definitions.resolve(system_presence_or_definition_id)
        if definition.system_presence == "OnQueue":
            if not person.genesys.on_queue:
                self._change_routing(person, "IDLE", cause, None)
            return self.current_definition(person)
        self._change_presence(person, definition, None, cause, None)
        return definition

    def set_routing(self, status: str, *, user: UserRef = None, cause: Cause = "control") -> None:
        """Change routing status (e.g. the agent toggling On Queue, or ACD routing a call: INTERACTING).
        Going on queue (IDLE) during interactions shows INTERACTING or COMMUNICATING instead."""
        if status not in ROUTING_STATUSES:
            raise ValueError(f"unknown routing status {status!r}")
        person = self._people.user(user)
        self._change_routing(person, self._on_queue_status(person, status), cause, None)

    def connect_interaction(
        self, media: str, *, user: UserRef = None, acd: bool = True, conversation_id: str | None = None
    ) -> Interaction:
        """An interaction is connected to the person (ACD routes it from a queue; ``acd=False``: a direct
        call, chat or e-mail). Raises ValueError for what Genesys would not do."""
        if media not in MEDIA_FIELDS:
            raise ValueError(f"media must be one of {sorted(MEDIA_FIELDS)}, not {media!r}")
        person = self._people.user(user)
        g = person.genesys
        if acd and g.routing_status in ("OFF_QUEUE", "NOT_RESPONDING"):
            raise ValueError(
                f"an ACD interaction cannot be routed to an agent who is {g.routing_status} (go on queue first)"
            )
        active = self._interactions.setdefault(person.genesys_id, {})
        if len(active) >= MAX_ACTIVE_INTERACTIONS:
            raise ValueError(f"at most {MAX_ACTIVE_INTERACTIONS} active interactions per person")
        conversation_id = conversation_id or str(uuid.uuid4())
        if any(conversation_id in mine for mine in self._interactions.values()):
            raise ValueError(f"conversation {conversation_id} is already connected")
        interaction = Interaction(conversation_id, person.genesys_id, media, acd, self._clock.now())
        active[conversation_id] = interaction
        self._record("interaction_connected", person, "control", None, id=conversation_id, media=media, acd=acd)
        self._follow_interactions(person)
        return interaction

    def end_interaction(
        self, conversation_id: str | None = None, *, user: UserRef = None, media: str | None = None
    ) -> Interaction:
        """The interaction ``conversation_id`` of the person ends (or, without an id, their latest in
        ``media``). Raises ValueError if there is no such active interaction."""
        person = self._people.user(user)
        active = self._interactions.get(person.genesys_id, {})
        if conversation_id is not None:
            found = active.get(conversation_id)
            if found is None:
                raise ValueError(f"{person.email} has no active interaction {conversation_id}")
        elif media is not None:
            if media not in MEDIA_FIELDS:
                raise ValueError(f"media must be one of {sorted(MEDIA_FIELDS)}, not {media!r}")
            found = next((i for i in reversed(active.values()) if i.media == media), None)
            if found is None:
                raise ValueError(f"{person.email} has no active {media} interaction")
        else:
            raise ValueError("an interaction id or a media is required to end an interaction")
        del active[found.id]
        self._record("interaction_ended", person, "control", None, id=found.id, media=found.media, acd=found.acd)
        self._follow_interactions(person)
        return found

    def _follow_interactions(self, person: SimUser) -> None:
        """Routing status follows the interactions; then the summary's new counts are published."""
        g = person.genesys
        if g.routing_status not in ("OFF_QUEUE", "NOT_RESPONDING"):
            wanted = self._on_queue_status(person, "IDLE")
            if wanted != g.routing_status:
                self._change_routing(person, wanted, "system", None)
        self._notifications.announce_summary(person, self.conversation_summary(person))

    def _on_queue_status(self, person: SimUser, status: str) -> str:
        """The routing status an agent on queue (``status`` IDLE) really shows given their interactions."""
        if status != "IDLE":
            return status
        active = self._interactions.get(person.genesys_id, {}).values()
        if any(i.acd for i in active):
            return "INTERACTING"
        return "COMMUNICATING" if active else "IDLE"

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
        self._change_ooo(self._people.user(user), active, start, end, indefinite, cause, None)

    def make_primary_source(self, person: SimUser, source: str) -> None:
        """Another presence source (an integration, e.g. ``MICROSOFTTEAMS``) becomes the user's primary one."""
        person.genesys.primary_source = source.upper()

    # ------------------------------------------------------------------ the Platform API

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
        definition = None if definition_id is None else self._settable_definition(definition_id)
        if g.ooo_active:
            # Help text: "If an agent's presence status is Out of Office, it cannot be changed".
            # real behaviour unknown: the exact API response; a 400 ErrorBody is our guess.
            raise PresenceChangeRejected(
                400, "bad.request", "The user is Out of Office; their presence cannot be changed."
            )
        self._counters.genesys_presence_patches += 1
        if primary:
            g.primary_source = "PURECLOUD"
        elif g.primary_source != "PURECLOUD":
            # Stored for the PURECLOUD source, but another source is primary: the status shown stays.
            g.unshown_purecloud_definition_id = definition.id if definition else g.unshown_purecloud_definition_id
            return
        self._change_presence(person, definition, message, "api", client_id)

    def _settable_definition(self, definition_id: str) -> PresenceDefinition:
        definition = self._definitions.get(definition_id)
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
        return definition

    def api_put_routing(self, person: SimUser, status: str, client_id: str) -> None:
        self._counters.genesys_routing_puts += 1
        self._change_routing(person, self._on_queue_status(person, status), "api", client_id)

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
        event = GenesysEvent(
            next(self._event_seq), self._clock.now(), kind, person.genesys_id, cause, client_id, detail
        )
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
        now = self._clock.now()
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
        old = self._definitions[g.definition_id]
        if definition is not None:
            g.definition_id = definition.id
        if message is not None:
            g.message = message
        # real behaviour unknown: a PATCH that repeats the current definition still stamps modifiedDate
        # and notifies (Genesys documents no de-duplication).
        g.modified = now
        self._record_presence_change(person, old, cause, client_id)
        self._notifications.announce(person, presence=True, routing=routing_changed)

    def _record_presence_change(
        self, person: SimUser, old: PresenceDefinition, cause: Cause, client_id: str | None
    ) -> None:
        new = self._definitions[person.genesys.definition_id]
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
        now = self._clock.now()
        old_status = g.routing_status
        was_on_queue = g.on_queue
        g.routing_status, g.routing_start = status, now
        self._record("routing_changed", person, cause, client_id, old=old_status, new=status)
        presence_changed = False
        old_def = self._definitions[g.definition_id]
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
        self._notifications.announce(person, presence=presence_changed, routing=True)

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
            g.ooo_start = self._clock.now()
        g.ooo_modified = self._clock.now()
        self._record("out_of_office_changed", person, cause, client_id, old=old, new=active)
        self._notifications.announce(person, ooo=True)
