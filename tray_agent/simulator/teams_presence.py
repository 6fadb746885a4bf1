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

``state.teams.changes(user)`` lists when the shown availability/activity changed and why (by hand, by
the client itself, or by an app's presence session), stamped at the moment each happened, so a checker
can tell automatic changes from others.

**Presence sessions and aggregation** (Graph "Manage presence state", presence-setpresence and
presence-setuserpreferredpresence). What Teams (and Graph) shows is an aggregation of:

- the person's **Teams client session**: what :meth:`TeamsPresences.set` models, plus the client's own
  automatic changes above (calls, meetings, Away after a lock);
- **app sessions**, one per application (Graph's ``sessionId`` must be the app's client id), written with
  ``POST /me/presence/setPresence`` (:meth:`TeamsPresences.set_session`) and removed with
  ``clearPresence`` or when they expire (an expired session "becomes Offline": it contributes nothing).
  An Available app session that is not renewed fades to Available/AvailableInactive after 5 min and to
  Away/Away after another 5 (docs);
- the **user-configured** (preferred) presence: a status chosen by hand in Teams' own status menu
  (``set(..., by_hand=True)``; "Reset status" is :meth:`TeamsPresences.reset_status`) or written with
  ``setUserPreferredPresence``. It beats every session, but only while at least one session exists
  (else the person shows Offline).

Among sessions DoNotDisturb > Busy > Available > Away (docs). Inferred, not documented: the idle variants
rank just below their base (Busy > BusyIdle > Available > AvailableIdle), BeRightBack just below Away,
PresenceUnknown last; a client showing Offline is no session (Teams is not running). Ties (e.g. the
client's Busy/InAMeeting against an app's Busy/InACall): real behaviour unknown; the client's own
activity is shown, then the oldest app session's. Without app sessions and without a preference the
client's status is shown exactly as set (the behaviour before sessions existed).
Session expiry, fades and the preference's expiry are timeline events like the lock and the calendar:
applied lazily, each at its own moment, whenever the presence is read or changed.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple, get_args

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

OFFLINE = ("Offline", "Offline")  # no session at all (inferred: Graph's activity for it is Offline too)
AVAILABLE_INACTIVE = ("Available", "AvailableInactive")

Status = tuple[str, str]  # (availability, activity)
#: Why the shown status changed: set by hand (the client session, or a status chosen in Teams' menu); Away
#: after a lock; back on unlock; a meeting starting or ending (by the clock, or at once because the
#: calendar was edited); an app session (setPresence, clearPresence, its fade or expiry); the preferred
#: presence written by an app (setUserPreferredPresence, clearUserPreferredPresence, its expiry).
ChangeReason = Literal[
    "set",
    "away_after_lock",
    "unlock",
    "meeting_start",
    "meeting_end",
    "calendar",
    "app_session",
    "preferred_presence",
]
CLIENT_AUTOMATIC: frozenset[str] = frozenset({"away_after_lock", "unlock", "meeting_start", "meeting_end", "calendar"})
FROM_APPS: frozenset[str] = frozenset({"app_session", "preferred_presence"})
if CLIENT_AUTOMATIC | FROM_APPS | {"set"} != set(get_args(ChangeReason)):  # pragma: no cover
    raise RuntimeError("every ChangeReason is either by hand, the client's own or from an app")

# Graph presence-setpresence: "the supported combinations of availability and activity" (exact PascalCase:
# real behaviour unknown whether other casings are accepted; refusing them is the strict choice).
SESSION_PAIRS: frozenset[Status] = frozenset(
    {
        ("Available", "Available"),
        ("Busy", "InACall"),
        ("Busy", "InAConferenceCall"),
        ("Away", "Away"),
        ("DoNotDisturb", "Presenting"),
    }
)
# Graph presence-setuserpreferredpresence: its supported combinations (also what Teams' own status menu
# offers: Available, Busy, Do not disturb, Be right back, Appear away, Appear offline).
PREFERRED_PAIRS: frozenset[Status] = frozenset(
    {
        ("Available", "Available"),
        ("Busy", "Busy"),
        ("DoNotDisturb", "DoNotDisturb"),
        ("BeRightBack", "BeRightBack"),
        ("Away", "Away"),
        ("Offline", "OffWork"),
    }
)
SESSION_MIN_EXPIRY = 300.0  # setPresence expirationDuration: PT5M..PT4H, default PT5M (docs)
SESSION_MAX_EXPIRY = 4 * 3600.0
SESSION_DEFAULT_EXPIRY = 300.0
AVAILABLE_TIMEOUT = 300.0  # an Available app session fades after 5 min, then again after another 5 (docs)
PREFERRED_DEFAULT_SHORT = 86400.0  # setUserPreferredPresence default: 1 day for Busy and DoNotDisturb (docs)
PREFERRED_DEFAULT_LONG = 7 * 86400.0  # ... 7 days for the others (docs)
# real behaviour unknown: the range setUserPreferredPresence accepts; strict: setPresence's minimum, and at
# most the longest default (7 days).
PREFERRED_MIN_EXPIRY = 300.0
PREFERRED_MAX_EXPIRY = 7 * 86400.0
SESSION_CALLS_LIMIT = 1000  # the log of set/clear calls keeps the latest this many (all people)

# Aggregation ranks: documented DoNotDisturb > Busy > Available > Away; the rest inferred (module doc).
_RANK = {
    "DoNotDisturb": 8,
    "Busy": 7,
    "BusyIdle": 6,
    "Available": 5,
    "AvailableIdle": 4,
    "Away": 3,
    "BeRightBack": 2,
    "PresenceUnknown": 1,
}


class TeamsChange(NamedTuple):
    """One change of what the Teams client shows (``state.teams.changes(user)``)."""

    at: float  # epoch seconds on the simulator's clock: when the client changed (not when it was read)
    availability: str
    activity: str
    reason: ChangeReason

    @property
    def automatic(self) -> bool:
        """The client changed by itself (lock, unlock, calendar), not the person setting a status."""
        return self.reason in CLIENT_AUTOMATIC

    @property
    def from_app(self) -> bool:
        """An application caused it (a presence session or the preferred presence written through Graph)."""
        return self.reason in FROM_APPS


@dataclass
class PresenceSession:
    """One app's presence session for one person (``state.teams.sessions(user)`` returns copies)."""

    session_id: str  # the application's client id (Graph requires sessionId to be it)
    availability: str  # as set (what it shows now: :meth:`status_at`)
    activity: str
    expires_at: float  # epoch seconds: it is gone from then on
    created: float  # the first setPresence of this session
    renewed: float  # the latest setPresence of this session (restarts the Available fade and the expiry)

    def status_at(self, at: float) -> Status | None:
        """What the session contributes at ``at``: None once expired; an Available one fades."""
        if at >= self.expires_at:
            return None
        if (self.availability, self.activity) == ("Available", "Available"):
            idle = at - self.renewed
            if idle >= 2 * AVAILABLE_TIMEOUT:
                return AWAY
            if idle >= AVAILABLE_TIMEOUT:
                return AVAILABLE_INACTIVE
        return (self.availability, self.activity)

    def moments(self) -> list[float]:
        """When what it contributes changes by itself (fades, expiry)."""
        moments = [self.expires_at]
        if (self.availability, self.activity) == ("Available", "Available"):
            moments += [self.renewed + AVAILABLE_TIMEOUT, self.renewed + 2 * AVAILABLE_TIMEOUT]
        return [m for m in moments if m <= self.expires_at]


@dataclass(frozen=True)
class PreferredPresence:
    """The user-configured presence (``state.teams.preferred(user)``)."""

    availability: str
    activity: str
    expires_at: float | None  # None: until changed (a status chosen in Teams' menu)
    set_at: float
    by: Literal["teams", "graph"]  # chosen by hand in Teams, or written with setUserPreferredPresence

    def alive_at(self, at: float) -> bool:
        return self.expires_at is None or at < self.expires_at


SessionCallKind = Literal["setPresence", "clearPresence", "setUserPreferredPresence", "clearUserPreferredPresence"]


class SessionCall(NamedTuple):
    """One successful presence write through Graph (``state.teams.session_calls(user)``)."""

    at: float
    user_id: str  # Microsoft object id
    call: SessionCallKind
    session_id: str | None  # setPresence/clearPresence
    availability: str | None
    activity: str | None
    expires_at: float | None


def check_session_pair(availability: str, activity: str) -> None:
    if (availability, activity) not in SESSION_PAIRS:
        raise ValueError(
            f"{availability}/{activity} is not a supported availability/activity combination for setPresence"
        )


def check_preferred_pair(availability: str, activity: str) -> None:
    if (availability, activity) not in PREFERRED_PAIRS:
        raise ValueError(
            f"{availability}/{activity} is not a supported availability/activity combination for a preferred presence"
        )


def preferred_default_expiry(availability: str) -> float:
    return PREFERRED_DEFAULT_SHORT if availability in ("Busy", "DoNotDisturb") else PREFERRED_DEFAULT_LONG


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
    sessions: dict[str, PresenceSession] = field(default_factory=dict)  # app sessions by sessionId, oldest first
    preferred: PreferredPresence | None = None  # the user-configured presence

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
        self._session_calls: deque[SessionCall] = deque(maxlen=SESSION_CALLS_LIMIT)
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
        """When the shown availability/activity changed, oldest first (due automatic changes applied
        first; the latest :data:`CHANGES_LIMIT`). Changes caused by apps have ``from_app`` true."""
        return list(self.catch_up(self._people.user(user)).changes)

    def client_status(self, user: UserRef = None) -> Status:
        """What the person's Teams client session alone shows now (before aggregation with app sessions
        and the preferred presence)."""
        return self.catch_up(self._people.user(user)).shows()

    def sessions(self, user: UserRef = None) -> list[PresenceSession]:
        """The person's live app sessions (copies), oldest first; expired ones are gone."""
        client = self.catch_up(self._people.user(user))
        now = self._clock.now()
        return [dataclasses.replace(s) for s in client.sessions.values() if s.expires_at > now]

    def session_status(self, session: PresenceSession) -> Status | None:
        """What ``session`` contributes now (it may have faded)."""
        return session.status_at(self._clock.now())

    def preferred(self, user: UserRef = None) -> PreferredPresence | None:
        """The person's user-configured presence, if any (expired: None)."""
        client = self.catch_up(self._people.user(user))
        preferred = client.preferred
        return preferred if preferred is not None and preferred.alive_at(self._clock.now()) else None

    def session_calls(self, user: UserRef = None) -> list[SessionCall]:
        """The successful presence writes made through Graph, oldest first (the latest
        :data:`SESSION_CALLS_LIMIT` of everyone); ``user`` narrows them to one person."""
        if user is None:
            return list(self._session_calls)
        ms_id = self._people.user(user).ms_id
        return [c for c in self._session_calls if c.user_id == ms_id]

    # ------------------------------------------------------------------ by hand

    def set(
        self,
        availability: str,
        activity: str,
        *,
        user: UserRef = None,
        out_of_office: bool | None = None,
        out_of_office_message: str | None = None,
        by_hand: bool = False,
    ) -> TeamsPresence:
        """Change what the Teams client session shows (a call, a status, during a meeting: until the
        meeting ends). App sessions and a preferred presence are aggregated with it.

        ``by_hand=True``: the person chooses the status in Teams' own status menu (Available, Busy, Do not
        disturb, Be right back, Appear away = Away/Away, Appear offline = Offline/OffWork). That is the
        *user-configured* presence: it beats every app session until changed, :meth:`reset_status` or
        replaced by setUserPreferredPresence (real behaviour unknown: how long Teams' own menu keeps it by
        default; inferred: until changed). The client session itself is left as it was.
        """
        person = self._people.user(user)
        client = self.catch_up(person)
        if by_hand:
            check_preferred_pair(availability, activity)
            client.preferred = PreferredPresence(availability, activity, None, self._clock.now(), "teams")
        elif client.meeting_until is not None:
            client.meeting_hand_set = (availability, activity)
        else:
            client.own = (availability, activity)
        if not by_hand:
            client.auto_away = False  # a status set by hand replaces the automatic Away
        teams = person.teams
        if out_of_office is not None:
            teams.out_of_office = out_of_office
        if out_of_office_message is not None:
            teams.out_of_office_message = out_of_office_message
        self._show(person, client, self._clock.now(), "set", always=True)
        return teams

    def reset_status(self, user: UserRef = None) -> TeamsPresence:
        """ "Reset status" in Teams' own menu: the user-configured presence is gone (whoever set it)."""
        person = self._people.user(user)
        client = self.catch_up(person)
        client.preferred = None
        self._show(person, client, self._clock.now(), "set", always=True)
        return person.teams

    # ------------------------------------------------------------------ apps (through Graph)

    def set_session(
        self, session_id: str, availability: str, activity: str, duration: float, *, user: UserRef = None
    ) -> PresenceSession:
        """``setPresence``: create or renew the app session ``session_id`` (restarts its expiry and fade)."""
        check_session_pair(availability, activity)
        if not SESSION_MIN_EXPIRY <= duration <= SESSION_MAX_EXPIRY:
            raise ValueError("expirationDuration must be between PT5M and PT4H")
        person = self._people.user(user)
        client = self.catch_up(person)
        now = self._clock.now()
        session = client.sessions.get(session_id)
        if session is None:
            session = client.sessions[session_id] = PresenceSession(
                session_id, availability, activity, now + duration, now, now
            )
        else:
            session.availability, session.activity = availability, activity
            session.expires_at, session.renewed = now + duration, now
        self._log(person, "setPresence", session_id, availability, activity, session.expires_at)
        self._show(person, client, now, "app_session")
        return dataclasses.replace(session)

    def clear_session(self, session_id: str, *, user: UserRef = None) -> bool:
        """``clearPresence``: False if there is no such live session (Graph answers 404)."""
        person = self._people.user(user)
        client = self.catch_up(person)
        session = client.sessions.get(session_id)
        if session is None or session.expires_at <= self._clock.now():
            return False
        del client.sessions[session_id]
        self._log(person, "clearPresence", session_id, None, None, None)
        self._show(person, client, self._clock.now(), "app_session")
        return True

    def set_user_preferred(
        self, availability: str, activity: str, duration: float | None = None, *, user: UserRef = None
    ) -> PreferredPresence:
        """``setUserPreferredPresence``: the user-configured presence (``duration`` None: the default)."""
        check_preferred_pair(availability, activity)
        if duration is None:
            duration = preferred_default_expiry(availability)
        if not PREFERRED_MIN_EXPIRY <= duration <= PREFERRED_MAX_EXPIRY:
            raise ValueError("expirationDuration must be between PT5M and P7D")
        person = self._people.user(user)
        client = self.catch_up(person)
        now = self._clock.now()
        client.preferred = PreferredPresence(availability, activity, now + duration, now, "graph")
        self._log(person, "setUserPreferredPresence", None, availability, activity, now + duration)
        self._show(person, client, now, "preferred_presence")
        return client.preferred

    def clear_user_preferred(self, user: UserRef = None) -> None:
        """``clearUserPreferredPresence``: no user-configured presence any more (whoever set it)."""
        person = self._people.user(user)
        client = self.catch_up(person)
        client.preferred = None
        self._log(person, "clearUserPreferredPresence", None, None, None, None)
        self._show(person, client, self._clock.now(), "preferred_presence")

    def _log(
        self,
        person: SimUser,
        call: SessionCallKind,
        session_id: str | None,
        availability: str | None,
        activity: str | None,
        expires_at: float | None,
    ) -> None:
        self._session_calls.append(
            SessionCall(self._clock.now(), person.ms_id, call, session_id, availability, activity, expires_at)
        )

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
        while True:
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

    def _next_due(self, client: _Client, workstation: Workstation | None) -> tuple[float, ChangeReason] | None:
        candidates: list[tuple[float, int, ChangeReason]] = []
        if workstation is not None:
            if client.meeting_until is not None:
                candidates.append((client.meeting_until, 0, "meeting_end"))
            else:
                upcoming = workstation.next_meeting_after(client.processed)
                if upcoming is not None:
                    candidates.append((upcoming.start, 1, "meeting_start"))
            if client.away_due is not None:
                candidates.append((client.away_due, 2, "away_after_lock"))
        moments = [m for s in client.sessions.values() for m in s.moments() if m > client.processed]
        if moments:
            candidates.append((min(moments), 4, "app_session"))
        preferred = client.preferred
        if preferred is not None and preferred.expires_at is not None and preferred.expires_at > client.processed:
            candidates.append((preferred.expires_at, 3, "preferred_presence"))
        if not candidates:
            return None
        at, _, kind = min(candidates)
        return at, kind

    def _apply(
        self, person: SimUser, client: _Client, workstation: Workstation | None, kind: ChangeReason, at: float
    ) -> None:
        if kind == "app_session":
            for session_id in [k for k, s in client.sessions.items() if s.expires_at <= at]:
                del client.sessions[session_id]  # an expired session "becomes Offline": it is gone
        elif kind == "preferred_presence":
            if client.preferred is not None and not client.preferred.alive_at(at):
                client.preferred = None
        elif workstation is None:
            return
        elif kind == "meeting_start":
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

    def _aggregate(self, client: _Client, at: float) -> Status:
        """What Teams shows at ``at``: the client session, app sessions and the preferred presence."""
        own = client.shows()
        preferred = client.preferred if client.preferred is not None and client.preferred.alive_at(at) else None
        apps = [status for s in client.sessions.values() if (status := s.status_at(at)) is not None]
        if not apps and preferred is None:
            return own
        contributing = ([own] if own[0] != "Offline" else []) + apps
        if not contributing:
            return OFFLINE  # no session: "the user's presence shows as Offline" (even with a preference)
        if preferred is not None:
            return (preferred.availability, preferred.activity)
        return max(contributing, key=lambda status: _RANK.get(status[0], 0))  # the first of equals wins

    def _show(self, person: SimUser, client: _Client, at: float, reason: ChangeReason, *, always: bool = False) -> None:
        """Make the record show the aggregation (stamped ``at``); every change bumps the sequence."""
        teams = person.teams
        availability, activity = self._aggregate(client, at)
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
