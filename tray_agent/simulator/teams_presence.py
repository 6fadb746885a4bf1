"""Teams presence: what a person's Teams client shows, and what Graph reports of it a moment later.

A person sets a status by hand (``state.teams.set("Busy", "InACall")``, from the control surface or a
test); the Teams client also changes it by itself, as the real one does:

- **Lock → Away** ``teams_away_after_lock`` seconds after the session locks (real behaviour: inferred, the
  client's own delay, at once or within minutes), unless Teams then shows a call, a meeting or
  presenting, or DoNotDisturb set by hand. On unlock it goes back to what the person had before.
- **Calendar meeting → Busy/InAMeeting** at the meeting's start, even if not joined (inferred from common
  experience), and back at its end: to what the person had before the meeting, or Away if the session
  is locked by then. A status set by hand during a meeting stands until the meeting ends (then the
  status from before the meeting returns).
- The microphone and camera alone change nothing: another app may be using them.

Automatic changes are evaluated lazily, never by background tasks: each person has a timeline of due
changes (lock + delay, meeting starts and ends) that is applied, each at its own moment, whenever the
presence is read or changed. A run on a virtual clock therefore sees exactly what a live run sees.

Graph is behind the client by ``graph_propagation_delay`` seconds: ``GET /me/presence`` answers what
the client showed that long ago (:meth:`TeamsPresences.graph_presence`), from a bounded history.

``state.teams.changes(user)`` lists when the client's availability/activity changed and why (by hand or
by itself), stamped at the moment each happened, so a checker can tell automatic changes from others.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple

from tray_agent.clock import Clock

from .directory import People, SimUser, UserRef
from .presence_records import TeamsPresence, TeamsSequence

if TYPE_CHECKING:
    from .workstation import Workstation

# What keeps Teams from turning Away on a lock (inferred): being in a call, a meeting or presenting, and
# DoNotDisturb; Offline means no Teams client is running to notice the lock.
_BUSY_ACTIVITIES = frozenset({"InACall", "InAConferenceCall", "InAMeeting", "Presenting"})
_NO_AWAY_AVAILABILITIES = frozenset({"DoNotDisturb", "Offline"})
IN_A_MEETING = ("Busy", "InAMeeting")
AWAY = ("Away", "Away")
HISTORY_LIMIT = 1000  # per person: bounds memory whatever the delay and the rate of change
CHANGES_LIMIT = 1000  # per person: the change log keeps the latest this many

Status = tuple[str, str]  # (availability, activity)
#: Why the client's status changed: set by hand; Away after a lock; back on unlock; a meeting starting or
#: ending (by the clock, or at once because the calendar was edited).
ChangeReason = Literal["set", "away_after_lock", "unlock", "meeting_start", "meeting_end", "calendar"]


class TeamsChange(NamedTuple):
    """One change of what the Teams client shows (``state.teams.changes(user)``)."""

    at: float  # epoch seconds on the simulator's clock: when the client changed (not when it was read)
    availability: str
    activity: str
    reason: ChangeReason

    @property
    def automatic(self) -> bool:
        """The client changed by itself (lock, unlock, calendar), not the person setting a status."""
        return self.reason != "set"


def _away_allowed(status: Status) -> bool:
    return status[0] not in _NO_AWAY_AVAILABILITIES and status[1] not in _BUSY_ACTIVITIES


@dataclass
class _Client:
    """One person's Teams client: their own status and what the client put over it by itself."""

    own: Status  # what the person set by hand (the status automatic changes return to)
    processed: float  # automatic changes up to this moment are applied
    history: deque[tuple[float, TeamsPresence]] = field(default_factory=deque)
    changes: deque[TeamsChange] = field(default_factory=lambda: deque(maxlen=CHANGES_LIMIT))
    auto_away: bool = False  # the client turned Away because the session locked
    away_due: float | None = None  # lock time + delay, while that is still to be decided
    lock_seen: float | None = None  # the lock (its time) the Away was scheduled for, once per lock
    meeting_until: float | None = None  # the end of the meeting the client shows now
    meeting_hand_set: Status | None = None  # set by hand during that meeting (stands until it ends)

    def shows(self) -> Status:
        if self.meeting_until is not None and self.meeting_hand_set is None:
            return IN_A_MEETING
        if self.auto_away:
            return AWAY
        if self.meeting_until is not None and self.meeting_hand_set is not None:
            return self.meeting_hand_set
        return self.own


class TeamsPresences:
    def __init__(
        self,
        people: People,
        clock: Clock,
        sequence: TeamsSequence,
        *,
        away_after_lock: float = 10.0,
        propagation_delay: float = 3.0,
    ) -> None:
        if away_after_lock < 0 or propagation_delay < 0:
            raise ValueError("teams_away_after_lock and graph_propagation_delay must be >= 0")
        self._people = people
        self._clock = clock
        self._sequence = sequence
        self.away_after_lock = away_after_lock
        self.propagation_delay = propagation_delay
        self._clients: dict[str, _Client] = {}
        # Set by the state once the workstations exist (they are built after Teams).
        self.workstation_of: Callable[[SimUser], Workstation | None] = lambda _person: None

    # ------------------------------------------------------------------ reading

    def presence(self, user: UserRef = None) -> TeamsPresence:
        """What the Teams client shows now (due automatic changes applied first)."""
        person = self._people.user(user)
        self.catch_up(person)
        return person.teams

    def graph_presence(self, user: UserRef = None) -> TeamsPresence:
        """What Graph reports now: what the client showed ``propagation_delay`` seconds ago."""
        person = self._people.user(user)
        client = self.catch_up(person)
        horizon = self._clock.now() - self.propagation_delay
        shown = person.teams
        for at, presence in reversed(client.history):
            if at <= horizon:
                return presence
            shown = presence
        return shown  # older than the history (it always keeps the entry before the horizon): the oldest

    def changes(self, user: UserRef = None) -> list[TeamsChange]:
        """When the client's availability/activity changed, oldest first (due automatic changes applied
        first; the latest :data:`CHANGES_LIMIT`)."""
        return list(self.catch_up(self._people.user(user)).changes)

    # ------------------------------------------------------------------ by hand

    def set(
        self,
        availability: str,
        activity: str,
        *,
        user: UserRef = None,
        out_of_office: bool | None = None,
        out_of_office_message: str | None = None,
    ) -> TeamsPresence:
        """Change the status by hand in Teams (during a meeting: until the meeting ends)."""
        person = self._people.user(user)
        client = self.catch_up(person)
        if client.meeting_until is not None:
            client.meeting_hand_set = (availability, activity)
        else:
            client.own = (availability, activity)
        client.auto_away = False  # a status set by hand replaces the automatic Away
        teams = person.teams
        if out_of_office is not None:
            teams.out_of_office = out_of_office
        if out_of_office_message is not None:
            teams.out_of_office_message = out_of_office_message
        self._show(person, client, self._clock.now(), "set", always=True)
        return teams

    def set_status_message(
        self, message: str | None, *, user: UserRef = None, expiry: float | None = None
    ) -> TeamsPresence:
        person = self._people.user(user)
        client = self.catch_up(person)
        teams = person.teams
        teams.status_message = message
        teams.status_message_expiry = expiry if message is not None else None
        teams.status_message_published = self._clock.now() if message is not None else None
        self._show(person, client, self._clock.now(), "set", always=True)
        return teams

    # ------------------------------------------------------------------ the client by itself

    def catch_up(self, person: SimUser) -> _Client:
        """Apply every automatic change due by now, each at its own moment (for Graph's history)."""
        client = self._client(person)
        now = self._clock.now()
        workstation = self.workstation_of(person)
        while workstation is not None:
            due = self._next_due(client, workstation)
            if due is None or due[0] > now:
                break
            at, kind = due
            client.processed = max(client.processed, at)
            self._apply(person, client, workstation, kind, at)
        client.processed = max(client.processed, now)
        return client

    def workstation_changed(self, person: SimUser, reason: ChangeReason = "calendar") -> None:
        """After a lock, unlock or calendar edit (already caught up to now): react to it."""
        client = self._client(person)
        workstation = self.workstation_of(person)
        if workstation is None:
            return
        now = self._clock.now()
        if workstation.locked and workstation.locked_since is not None:
            if client.lock_seen != workstation.locked_since:
                client.lock_seen = workstation.locked_since
                client.away_due = workstation.locked_since + self.away_after_lock
        else:
            client.away_due = client.lock_seen = None
            client.auto_away = False
        meeting = workstation.meeting_at(now)
        if meeting is None and client.meeting_until is not None:
            self._end_meeting(client, workstation, now)
        elif meeting is not None:
            if client.meeting_until is None:
                client.meeting_hand_set = None
            client.meeting_until = meeting.end
        self._show(person, client, now, reason)
        self.catch_up(person)  # a delay of 0 is due at once

    def _next_due(self, client: _Client, workstation: Workstation) -> tuple[float, ChangeReason] | None:
        candidates: list[tuple[float, int, ChangeReason]] = []
        if client.meeting_until is not None:
            candidates.append((client.meeting_until, 0, "meeting_end"))
        else:
            upcoming = workstation.next_meeting_after(client.processed)
            if upcoming is not None:
                candidates.append((upcoming.start, 1, "meeting_start"))
        if client.away_due is not None:
            candidates.append((client.away_due, 2, "away_after_lock"))
        if not candidates:
            return None
        at, _, kind = min(candidates)
        return at, kind

    def _apply(self, person: SimUser, client: _Client, workstation: Workstation, kind: ChangeReason, at: float) -> None:
        if kind == "meeting_start":
            meeting = workstation.meeting_at(at)
            client.meeting_until = meeting.end if meeting is not None else None
            client.meeting_hand_set = None
        elif kind == "meeting_end":
            self._end_meeting(client, workstation, at)
        else:
            client.away_due = None
            if _away_allowed(client.shows()):
                client.auto_away = True
        self._show(person, client, at, kind)

    def _end_meeting(self, client: _Client, workstation: Workstation, at: float) -> None:
        client.meeting_until = None
        client.meeting_hand_set = None
        locked_long = (
            workstation.locked
            and workstation.locked_since is not None
            and workstation.locked_since + self.away_after_lock <= at
        )
        if locked_long and client.away_due is None and _away_allowed(client.own):
            client.auto_away = True  # "back to what it was, or Away if locked by then"

    # ------------------------------------------------------------------ records

    def _client(self, person: SimUser) -> _Client:
        client = self._clients.get(person.ms_id)
        if client is None:
            client = _Client((person.teams.availability, person.teams.activity), self._clock.now())
            # What the person showed before the simulator saw any change: "since always".
            client.history.append((float("-inf"), dataclasses.replace(person.teams)))
            self._clients[person.ms_id] = client
        return client

    def _show(self, person: SimUser, client: _Client, at: float, reason: ChangeReason, *, always: bool = False) -> None:
        """Make the record show what the client shows (stamped ``at``); every change bumps the sequence."""
        teams = person.teams
        availability, activity = client.shows()
        same = (teams.availability, teams.activity) == (availability, activity)
        if same and not always:
            return
        if not same:
            client.changes.append(TeamsChange(at, availability, activity, reason))
        teams.availability, teams.activity = availability, activity
        teams.sequence_number = self._sequence.next()
        self._record(client, at, teams)

    def _record(self, client: _Client, at: float, teams: TeamsPresence) -> None:
        history = client.history
        history.append((at, dataclasses.replace(teams)))
        # Keep one entry at or before the oldest moment Graph can still be asked about (reads only move
        # forward in time, so "now - delay" at recording time is a safe horizon).
        horizon = self._clock.now() - self.propagation_delay
        while len(history) > 1 and (history[1][0] <= horizon or len(history) > HISTORY_LIMIT):
            history.popleft()
