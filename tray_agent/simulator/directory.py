"""Who is in the simulated world: the organisation, its app registrations, its people and their roles.

Each person is a Microsoft (Entra/Teams) identity linked to a Genesys Cloud user; the two clouds give
them different ids. :class:`People` is the directory: add someone, find them by any of their ids or
their e-mail address.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from tray_agent.clock import Clock

from . import definitions as defs
from .definitions import PresenceDefinitions
from .presence_records import ROUTING_STATUSES, GenesysStatus, TeamsPresence, TeamsSequence

ORG_ID = "5c9a1e3b-7d2f-4a6c-8e0b-1f3d5a7c9e2b"
ORG_NAME = "Contoso Contact Centre"
DEFAULT_QUEUE_ID = "2e4f6a8c-0b1d-4e3f-a5c7-9e1b3d5f7a9c"

# Permissions per role. The SDK docs say which endpoints need which permission ("Requires ALL
# permissions: …"); which permissions an org's default agent role holds is not documented (inferred:
# orgs differ, so the simulator has one agent role with presence-definition viewing and one without).
PRESENCE_DEFINITION_VIEW = "presence:presenceDefinition:view"
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "agent": frozenset({PRESENCE_DEFINITION_VIEW}),
    "agent_without_presence_view": frozenset(),  # a least-privilege agent role
}


# Graph permissions of the Entra app registration. Consented for every user of the tenant (as if IT or each
# user had consented long ago): what ".default" always expands to.
PRECONSENTED_GRAPH_SCOPES: tuple[str, ...] = ("Presence.Read", "User.Read")
# User-consentable permissions the app also lists: each person consents once, in an interactive sign-in.
# (Any other delegated Graph scope asked for is treated the same way: v2 "dynamic consent".)
USER_CONSENTABLE_GRAPH_SCOPES: tuple[str, ...] = ("Calendars.ReadBasic", "Presence.ReadWrite")


class Consents:
    """Which Graph permissions each person consented to, per app (incremental, per-user consent)."""

    def __init__(self) -> None:
        self._granted: dict[tuple[str, str], dict[str, None]] = {}

    def consented(self, user_id: str, client_id: str) -> tuple[str, ...]:
        """Every permission this person's tokens for this app may carry (the pre-consented ones first)."""
        extra = self._granted.get((user_id, client_id), {})
        return tuple(dict.fromkeys((*PRECONSENTED_GRAPH_SCOPES, *extra)))

    def missing(self, user_id: str, client_id: str, scopes: tuple[str, ...] | list[str]) -> tuple[str, ...]:
        """The Graph permissions (short names) of ``scopes`` the person has not consented to yet."""
        have = {s.lower() for s in self.consented(user_id, client_id)}
        return tuple(dict.fromkeys(s for s in scopes if s.lower() not in have))

    def grant(self, user_id: str, client_id: str, scopes: tuple[str, ...] | list[str]) -> None:
        """The person consented (interactively) to ``scopes`` for the app."""
        self._granted.setdefault((user_id, client_id), {}).update(dict.fromkeys(scopes))

    def revoke(self, user_id: str, client_id: str, scopes: tuple[str, ...] | list[str] | None = None) -> None:
        """Withdraw consent (None = every incremental one); the pre-consented permissions stay."""
        granted = self._granted.get((user_id, client_id))
        if granted is None:
            return
        for scope in list(granted) if scopes is None else scopes:
            granted.pop(scope, None)

    def snapshot(self) -> list[dict[str, object]]:
        return [
            {"userId": user_id, "clientId": client_id, "scopes": list(scopes)}
            for (user_id, client_id), scopes in self._granted.items()
            if scopes
        ]


@dataclass(frozen=True)
class AppRegistrations:
    """The tenant and the two OAuth clients the agent signs in with (what IT registers)."""

    tenant_id: str  # the Entra tenant
    ms_client_id: str  # the Entra app registration (public client)
    genesys_client_id: str  # the Genesys OAuth client (code grant with PKCE)
    genesys_redirect_uris: tuple[str, ...]  # the Genesys client's registered redirect URIs


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


#: How callers name a person: the person, their Microsoft id, Genesys id or e-mail; None = the default user.
UserRef = SimUser | str | None


class People:
    """The directory of people, with the default user (the one the demo and most tests act as)."""

    def __init__(self, clock: Clock, definitions: PresenceDefinitions, teams_sequence: TeamsSequence) -> None:
        self._clock = clock
        self._definitions = definitions
        self._teams_sequence = teams_sequence
        self.users: dict[str, SimUser] = {}  # by Microsoft object id
        self.consents = Consents()  # also ``state.consents``
        self._by_genesys_id: dict[str, SimUser] = {}
        self._by_email: dict[str, SimUser] = {}
        self.default_user = self.add_user(
            "Alex Agent",
            "alex@contoso.example",
            ms_id="0f3c1b2a-4d5e-4f60-8a7b-9c0d1e2f3a4b",
            genesys_id="a7e5c3b1-2d4f-4e6a-9b8c-7d6e5f4a3b2c",
        )

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
        definition = self._definitions.resolve(genesys_presence)
        if routing_status not in ROUTING_STATUSES:
            raise ValueError(f"unknown routing status {routing_status!r}")
        if routing_status != "OFF_QUEUE":
            definition = defs.ON_QUEUE
        user = SimUser(
            name=name,
            email=email,
            ms_id=ms_id or str(uuid.uuid4()),
            genesys_id=genesys_id or str(uuid.uuid4()),
            teams=TeamsPresence(availability, activity, sequence_number=self._teams_sequence.next()),
            genesys=self._new_genesys_status(definition.id, routing_status, tuple(queue_ids)),
            role=role,
        )
        self.users[user.ms_id] = user
        self._by_genesys_id[user.genesys_id] = user
        self._by_email[email.lower()] = user
        return user

    def _new_genesys_status(self, definition_id: str, routing_status: str, queue_ids: tuple[str, ...]) -> GenesysStatus:
        now = self._clock.now()
        return GenesysStatus(
            definition_id=definition_id,
            message="",
            modified=now,
            routing_status=routing_status,
            routing_start=now,
            ooo_active=False,
            ooo_start=None,
            ooo_end=None,
            ooo_indefinite=False,
            ooo_modified=now,
            queue_ids=queue_ids,
            queues_changed=now,
        )

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
