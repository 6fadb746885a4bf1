"""The agent's simulated workstation: session lock, microphone, camera and the Outlook calendar.

``state.workstation`` is the default user's (``state.workstations.of(user)`` anyone's). Every change
(lock/unlock, devices, calendar) bumps ``version`` and wakes long polls of ``GET /control/api/workstation``.
Teams reacts to the lock and the calendar (:mod:`.teams_presence`), lazily, on the injected clock.
The microphone and camera alone never change Teams: another app may be using them.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tray_agent.clock import Clock

from .directory import People, SimUser, UserRef

if TYPE_CHECKING:
    from .teams_presence import TeamsPresences

MAX_EVENTS = 500  # per calendar, so a bad or hostile body stays small
MAX_ATTENDEES = 1000
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


@dataclass(frozen=True)
class CalendarEvent:
    """One calendar event; ``start``/``end`` are epoch seconds on the simulator's clock."""

    id: str
    subject: str
    start: float
    end: float
    attendees: tuple[str, ...] = ()  # e-mail addresses


@dataclass(frozen=True)
class Meeting:
    """A stretch of time covered by one or more overlapping (or touching) calendar events."""

    start: float
    end: float


def _attendees(value: Any, index: int) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= MAX_ATTENDEES:
            raise ValueError(f"events[{index}].attendees: a count from 0 to {MAX_ATTENDEES}")
        return tuple(f"attendee{n}@contoso.example" for n in range(1, value + 1))
    if isinstance(value, list | tuple):
        if len(value) > MAX_ATTENDEES or not all(isinstance(a, str) and _EMAIL.fullmatch(a) for a in value):
            raise ValueError(f"events[{index}].attendees: at most {MAX_ATTENDEES} e-mail address strings")
        return tuple(value)
    raise ValueError(f"events[{index}].attendees: a count or a list of e-mail addresses")


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:  # NaN != NaN
        raise ValueError(f"{where}: epoch seconds (a number)")
    return float(value)


def parse_events(events: Iterable[Mapping[str, Any] | CalendarEvent]) -> tuple[CalendarEvent, ...]:
    """Validate a whole calendar (``{subject, start, end, attendees?}`` with epoch times); raises ValueError."""
    if isinstance(events, str | bytes | Mapping):
        raise ValueError("events: a list of events")
    out: list[CalendarEvent] = []
    for index, raw in enumerate(events):
        if index >= MAX_EVENTS:
            raise ValueError(f"events: at most {MAX_EVENTS}")
        if isinstance(raw, CalendarEvent):
            event = raw
        else:
            if not isinstance(raw, Mapping):
                raise ValueError(f"events[{index}]: an object")
            subject = raw.get("subject")
            if not isinstance(subject, str) or len(subject) > 255:
                raise ValueError(f"events[{index}].subject: a string (at most 255 characters)")
            start = _number(raw.get("start"), f"events[{index}].start")
            end = _number(raw.get("end"), f"events[{index}].end")
            event_id = raw.get("id")
            event = CalendarEvent(
                event_id if isinstance(event_id, str) and event_id else f"AAMkSIM{uuid.uuid4().hex}",
                subject,
                start,
                end,
                _attendees(raw.get("attendees"), index),
            )
        if not event.end > event.start:
            raise ValueError(f"events[{index}]: end must be after start")
        out.append(event)
    return tuple(sorted(out, key=lambda e: (e.start, e.end, e.id)))


def merge_meetings(events: Iterable[CalendarEvent]) -> tuple[Meeting, ...]:
    """The calendar as stretches of meeting time: overlapping or back-to-back events are one stretch."""
    merged: list[Meeting] = []
    for event in sorted(events, key=lambda e: e.start):
        if merged and event.start <= merged[-1].end:
            merged[-1] = Meeting(merged[-1].start, max(merged[-1].end, event.end))
        else:
            merged.append(Meeting(event.start, event.end))
    return tuple(merged)


class Workstation:
    """One person's workstation. Mutate through the methods (they keep Teams and the long polls in step)."""

    def __init__(self, owner: SimUser, registry: Workstations) -> None:
        self.owner = owner
        self._registry = registry
        self.locked = False
        self.locked_since: float | None = None
        self.microphone = False
        self.camera = False
        self.calendar: tuple[CalendarEvent, ...] = ()
        self.meetings: tuple[Meeting, ...] = ()
        self.version = 0

    def meeting_at(self, when: float) -> Meeting | None:
        """The meeting stretch going on at ``when`` (start inclusive, end exclusive), if any."""
        return next((m for m in self.meetings if m.start <= when < m.end), None)

    def next_meeting_after(self, when: float) -> Meeting | None:
        return next((m for m in self.meetings if m.start > when), None)

    def lock(self) -> None:
        """The session is locked (Win+L): Teams turns Away ``teams_away_after_lock`` seconds later."""
        self._set_locked(True)

    def unlock(self) -> None:
        """The session is unlocked: Teams goes back to what it showed before its automatic Away."""
        self._set_locked(False)

    def _set_locked(self, locked: bool) -> None:
        if locked == self.locked:
            return
        teams = self._registry.teams
        teams.catch_up(self.owner)
        self.locked = locked
        self.locked_since = self._registry.clock.now() if locked else None
        self._changed()
        teams.workstation_changed(self.owner, "away_after_lock" if locked else "unlock")

    def set_devices(self, *, microphone: bool | None = None, camera: bool | None = None) -> None:
        """Microphone/camera in use or not (None = unchanged). Teams does not react (tests set InACall too)."""
        for name, value in (("microphone", microphone), ("camera", camera)):
            if value is not None and not isinstance(value, bool):
                raise TypeError(f"{name} must be a boolean")
        changed = (microphone is not None and microphone != self.microphone) or (
            camera is not None and camera != self.camera
        )
        if microphone is not None:
            self.microphone = microphone
        if camera is not None:
            self.camera = camera
        if changed:
            self._changed()

    def set_calendar(self, events: Iterable[Mapping[str, Any] | CalendarEvent]) -> tuple[CalendarEvent, ...]:
        """Replace the calendar (validated first: on ValueError nothing changes)."""
        parsed = parse_events(events)
        teams = self._registry.teams
        teams.catch_up(self.owner)
        self.calendar = parsed
        self.meetings = merge_meetings(parsed)
        self._changed()
        teams.workstation_changed(self.owner)
        return parsed

    def _changed(self) -> None:
        self.version += 1
        self._registry.notify()


class Workstations:
    """Everyone's workstation (created when first asked for) and the long-poll wake-up."""

    def __init__(self, people: People, clock: Clock, teams: TeamsPresences) -> None:
        self._people = people
        self.clock = clock
        self.teams = teams
        self._by_user: dict[str, Workstation] = {}
        self._event: asyncio.Event | None = None

    def of(self, user: UserRef = None) -> Workstation:
        person = self._people.user(user)
        found = self._by_user.get(person.ms_id)
        if found is None:
            found = self._by_user[person.ms_id] = Workstation(person, self)
        return found

    def existing(self, person: SimUser) -> Workstation | None:
        """The person's workstation if anything was ever set on it (Teams needs none otherwise)."""
        return self._by_user.get(person.ms_id)

    @property
    def polled(self) -> bool:
        """Whether a long poll is waiting for the next change (tests wait for this before changing)."""
        return self._event is not None

    def notify(self) -> None:
        event, self._event = self._event, None
        if event is not None:
            event.set()

    async def wait_for_change(self, user: UserRef, after: int, timeout: float) -> Workstation:
        """Return as soon as the workstation's ``version > after``, or after ``timeout`` real seconds."""
        workstation = self.of(user)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout)
        while workstation.version <= after:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            if self._event is None:
                self._event = asyncio.Event()
            try:
                await asyncio.wait_for(self._event.wait(), remaining)
            except TimeoutError:
                break
        return workstation
