"""Genesys Cloud presence, routing status and out of office: the rules of changing them, and the log of
every change with who caused it.

Two kinds of caller: the control surface (the agent clicking in the Genesys UI, ACD routing a call, a
test) through :meth:`GenesysPresences.set_presence` and friends, and the Platform API (the agent app's
token) through the ``api_*`` methods. Each change is recorded as a :class:`GenesysEvent` and announced
on the person's notification topics. :attr:`GenesysPresences.violations` lists the changes the agent
app must never make.
"""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple

from tray_agent.clock import Clock

from . import definitions as defs
from .definitions import PresenceDefinition, PresenceDefinitions
from .directory import People, SimUser, UserRef
from .notification_channels import NotificationChannels
from .presence_records import ROUTING_STATUSES, Cause
from .request_log import Counters


class GenesysEvent(NamedTuple):
    """One change of a person's Genesys state, with who caused it."""

    seq: int
    at: float
    kind: str  # presence_changed | routing_changed | out_of_office_changed | taken_off_queue_by_<cause>
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
        """Change routing status (e.g. the agent toggling On Queue, or ACD routing a call: INTERACTING)."""
        if status not in ROUTING_STATUSES:
            raise ValueError(f"unknown routing status {status!r}")
        self._change_routing(self._people.user(user), status, cause, None)

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
