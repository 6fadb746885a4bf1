"""The product's promises, checked on the simulator's own record of who changed what (its Genesys
event list and request log) and on the engine's transitions — never on what the engine says it did.

One checker for every fault test and the soak. A write is a ``PATCH …/presences/purecloud``; the
simulator records each one it accepted as a ``presence_changed`` event with cause ``"api"``.

1. **Hands off.** No write is sent while the agent is On Queue (routing ≠ OFF_QUEUE), Out of Office or
   Offline as the engine last read it: every write follows a ``users/me`` read (verify-then-write),
   and that read did not show hands-off. Hands-off that began *between* that read and the write is
   the one-round-trip race verify-then-write leaves; it is counted (``races``), not excused silently.
2. **A status set by hand wins** until what Teams asks for (its mapped target) changes after it: no
   write lands after a presence change by anyone else (the agent, a supervisor, routing) unless
   Teams' target changed after that change. Leaving hands-off, the agent app has not read Teams at
   the moment it ended (a fleet leaves its queues together; see ``core/polling.py``): there the
   change must come after the last Graph read before it — the baseline the app judges by.
3. **Restore only what we wrote.** A restore lands only over our own write, and puts back the status
   that was showing before the episode's first write.
4. **Loop breaker.** Never more than ``loop_max_writes`` writes within ``loop_window_seconds``.
5. **Every write changes something.** Its target differs from the status showing.
6. **The engine's story is true.** Every write the engine reports is one the simulator accepted, and
   the other way round.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tray_agent.core.presence import TeamsPresence
from tray_agent.core.rules import SyncConfig
from tray_agent.engine.snapshot import Transition
from tray_agent.simulator.genesys_presence import GenesysEvent
from tray_agent.simulator.request_log import Counters, RequestLogEntry

HANDS_OFF_STATUSES = ("on-queue", "out-of-office", "genesys-offline", "manual")


def clock(at: float) -> str:
    """A simulated moment as the time of day (the simulated days start at 08:00 UTC)."""
    return datetime.fromtimestamp(at, UTC).strftime("%H:%M:%S")


@dataclass(frozen=True)
class Initial:
    """The default user's Genesys state when a simulator started (before any event)."""

    definition_id: str = ""
    system_presence: str = "Available"
    routing_status: str = "OFF_QUEUE"
    out_of_office: bool = False


@dataclass(frozen=True)
class Record:
    """Everything one simulator saw, from its start to its stop."""

    events: list[GenesysEvent]
    requests: list[RequestLogEntry]
    initial: Initial
    user_id: str
    counters: Counters | None = None


@dataclass(frozen=True)
class _Genesys:
    definition_id: str
    system_presence: str
    routing_status: str
    out_of_office: bool

    @property
    def hands_off(self) -> str | None:
        if self.routing_status != "OFF_QUEUE":
            return f"routing {self.routing_status}"
        if self.out_of_office:
            return "Out of Office"
        if self.system_presence.replace("_", "").lower() in ("offline", "onqueue"):
            return self.system_presence
        return None


@dataclass
class Checked:
    violations: list[str] = field(default_factory=list)
    writes: int = 0  # writes the simulator accepted
    restores: int = 0
    attempts: int = 0  # PATCH requests, accepted or not
    races: int = 0  # hands-off began between the verify read and the write (see rule 1)
    hands_off_entries: int = 0  # times the engine entered a hands-off status (incl. "set by hand")
    teams_changes: int = 0  # changes of what Teams asks for
    genesys_changes: int = 0  # presence/routing/Out of Office changes by others than the agent app


class _Timeline:
    """The default user's Genesys state over time, replayed from the simulator's events."""

    def __init__(self, record: Record) -> None:
        initial = record.initial
        state = _Genesys(initial.definition_id, initial.system_presence, initial.routing_status, initial.out_of_office)
        self.times: list[float] = [float("-inf")]
        self.states: list[_Genesys] = [state]
        for event in record.events:
            if event.user_id != record.user_id:
                continue
            detail = event.detail
            if event.kind == "presence_changed":
                state = _Genesys(
                    str(detail["new_definition_id"]), str(detail["new"]), state.routing_status, state.out_of_office
                )
            elif event.kind == "routing_changed":
                state = _Genesys(state.definition_id, state.system_presence, str(detail["new"]), state.out_of_office)
            elif event.kind == "out_of_office_changed":
                state = _Genesys(state.definition_id, state.system_presence, state.routing_status, bool(detail["new"]))
            else:
                continue
            self.times.append(event.at)
            self.states.append(state)

    def at(self, moment: float) -> _Genesys:
        """The state a request arriving at ``moment`` saw (events at the same moment came first)."""
        return self.states[bisect.bisect_right(self.times, moment) - 1]

    def just_before(self, moment: float) -> _Genesys:
        """The state just before the events of ``moment`` (e.g. what a write found when it was applied)."""
        return self.states[bisect.bisect_left(self.times, moment) - 1]


def record_writes(record: Record) -> int:
    """How many writes one simulator accepted."""
    return sum(e.kind == "presence_changed" and e.cause == "api" and e.user_id == record.user_id for e in record.events)


def teams_target_changes(teams_changes: Sequence[tuple[float, str, str]], sync: SyncConfig) -> list[float]:
    """When what Teams asks for (its mapped target) changed."""
    moments, previous = [], None
    for at, availability, activity in sorted(teams_changes):
        signal = sync.mapping.signal_for(TeamsPresence(availability, activity))
        if signal != previous and previous is not None:
            moments.append(at)
        previous = signal
    return moments


def _is_write(entry: RequestLogEntry) -> bool:
    return entry.method == "PATCH" and entry.path.endswith("/presences/purecloud")


@dataclass(frozen=True)
class _Write:
    event: GenesysEvent | None  # the change the simulator made (None: the write was refused)
    sent: float  # when the PATCH arrived
    verified: float | None  # the last users/me read before it (the engine's verify read)


def _writes(record: Record) -> list[_Write]:
    """Each PATCH with its verify read and (for the accepted ones, in order) the change it made."""
    reads = sorted(e.at for e in record.requests if e.method == "GET" and e.path == "/api/v2/users/me")
    changes = [
        e for e in record.events if e.user_id == record.user_id and e.cause == "api" and e.kind == "presence_changed"
    ]
    writes = []
    for request in sorted((e for e in record.requests if _is_write(e)), key=lambda e: e.at):
        index = bisect.bisect_left(reads, request.at) - 1
        event = changes.pop(0) if request.status == 200 and changes else None
        writes.append(_Write(event, request.at, reads[index] if index >= 0 else None))
    return writes


def _check_hands_off(
    writes: list[_Write], timeline: _Timeline, result: Checked, verified_before_restart: float | None = None
) -> set[int]:
    """Rule 1; returns the event numbers of writes that lost the race (hands-off began after the verify read).

    ``verified_before_restart``: the previous simulator's last users/me read, when no write reached that
    simulator after it (a verify read whose PATCH was still on its way when the cloud restarted,
    ``FaultWorld.restart``). The first write the new simulator gets before any read raced the restart;
    a second one would have no verify read at all. (Structural, not a time window: at the soak's
    2,400x, the restart's real downtime is minutes of simulated time.)
    """
    raced: set[int] = set()
    for write in writes:
        result.attempts += 1
        if write.verified is None and verified_before_restart is not None:
            verified_before_restart = None  # one write only: the one that was on its way
            result.races += 1
            if write.event is not None:
                raced.add(write.event.seq)
            continue
        if write.verified is None:
            result.violations.append(f"a write at {clock(write.sent)} was not preceded by a read of users/me (verify)")
            continue
        seen = timeline.at(write.verified).hands_off
        if seen:
            result.violations.append(
                f"a write at {clock(write.sent)} was sent although the verify read at {clock(write.verified)} "
                f"showed {seen}"
            )
            continue
        applied = write.event.at if write.event is not None else write.sent  # later, when answers are slow
        if timeline.at(write.sent).hands_off or timeline.just_before(applied).hands_off:
            result.races += 1
            if write.event is not None:
                raced.add(write.event.seq)
    return raced


def _check_writes(
    record: Record,
    writes: list[_Write],
    timeline: _Timeline,
    raced: set[int],
    teams_moments: list[float],
    restore_flags: list[bool],
    result: Checked,
) -> list[float]:
    """Rules 2, 3 and 5 on one simulator's events; returns the times of the writes it accepted.

    A write that raced a change by someone else (made between its verify read and its arrival) is not
    judged on what it could not know: it counts as a race, and the engine's view of it (its write over
    the status its verify read showed) is what the following writes are judged against.
    """
    verified = {w.event.seq: w.verified for w in writes if w.event is not None}
    graph_reads = sorted(
        e.at for e in record.requests if e.service == "graph" and e.path == "/v1.0/me/presence" and e.status == 200
    )
    write_times: list[float] = []
    last_manual: float | None = None  # the last presence change by anyone but the agent app
    judged_from: float | None = None  # Teams must have changed after this (rule 2)
    ours_showing = False  # the status showing was written by the agent app
    episode_origin: str | None = None  # what showed before the first write since the last change by others
    for event in record.events:
        if event.user_id != record.user_id:
            continue
        if event.cause != "api":
            if _changes_something(event):
                result.genesys_changes += 1
                episode_origin = None  # hands-off or a change by the agent ends the episode
                if event.kind == "presence_changed":
                    last_manual, ours_showing = event.at, False
                    judged_from = event.at
                    if timeline.just_before(event.at).hands_off and not timeline.at(event.at).hands_off:
                        baseline = bisect.bisect_left(graph_reads, event.at) - 1
                        judged_from = graph_reads[baseline] if baseline >= 0 else event.at
            continue
        if event.kind != "presence_changed":
            if not any(abs(event.seq - seq) <= 2 for seq in raced):  # the side effects of a raced write
                result.violations.append(f"the agent app changed {event.kind} at {clock(event.at)}: only presence")
            continue
        detail: dict[str, Any] = event.detail
        old, new = str(detail["old_definition_id"]), str(detail["new_definition_id"])
        write_times.append(event.at)
        restore = restore_flags.pop(0) if restore_flags else False
        result.restores += restore
        check_from = verified.get(event.seq)
        if event.seq in raced or (last_manual is not None and check_from is not None and last_manual > check_from):
            if event.seq not in raced:
                result.races += 1  # the agent chose a status between our verify read and our write
            seen = timeline.at(check_from).definition_id if check_from is not None else old
            last_manual, ours_showing = None, True
            episode_origin = None if restore else episode_origin or seen
            continue
        if old == new:
            result.violations.append(f"a write at {clock(event.at)} set {detail['new']}, which was already showing")
        if last_manual is not None and not any((judged_from or last_manual) < t <= event.at for t in teams_moments):
            result.violations.append(
                f"a write at {clock(event.at)} ({detail['old']} → {detail['new']}) overwrote a status set by hand "
                f"at {clock(last_manual)}, and Teams had not changed since"
            )
        if restore:
            if not ours_showing:
                result.violations.append(f"a restore at {clock(event.at)} replaced a status the app had not written")
            elif new != episode_origin:
                result.violations.append(
                    f"a restore at {clock(event.at)} put back {detail['new']}, not the status before our first write"
                )
            episode_origin = None
        elif episode_origin is None:
            episode_origin = old
        ours_showing = True
    return write_times


def _changes_something(event: GenesysEvent) -> bool:
    """A change by someone else that anyone could see (re-clicking the status showing, or a routing
    or Out of Office "change" to what it already was, changes nothing — and the engine cannot tell)."""
    if event.kind == "presence_changed":
        return bool(event.detail["old_definition_id"] != event.detail["new_definition_id"])
    if event.kind in ("routing_changed", "out_of_office_changed"):
        return bool(event.detail["old"] != event.detail["new"])
    return False


def _check_loop_breaker(write_times: list[float], resumes: list[float], sync: SyncConfig, result: Checked) -> None:
    window, limit = sync.loop_window_seconds, sync.loop_max_writes
    ordered = sorted(write_times)
    for index, at in enumerate(ordered):
        since = max([at - window, *[r for r in resumes if r <= at]])
        recent = [t for t in ordered[: index + 1] if t > since]
        if len(recent) > limit:
            result.violations.append(
                f"{len(recent)} writes within {window / 60:g} min up to {clock(at)}: the loop breaker allows {limit}"
            )
            return


def check(
    records: Sequence[Record],
    *,
    teams_changes: Sequence[tuple[float, str, str]],
    transitions: Sequence[Transition],
    sync: SyncConfig,
) -> Checked:
    """Every rule of this module over the whole run (one record per simulator, in order)."""
    result = Checked()
    teams_moments = teams_target_changes(teams_changes, sync)
    result.teams_changes = len(teams_moments)
    reported = [t for t in transitions if t.kind == "write"]
    restore_flags = [t.text.startswith("Genesys restored") for t in reported]
    resumes = [t.at for t in transitions if t.kind == "decision" and t.text == "sync resumed by the agent"]
    result.hands_off_entries = sum(
        t.kind == "decision" and t.text.split(":", 1)[0] in HANDS_OFF_STATUSES for t in transitions
    )
    write_times: list[float] = []
    pending_verify: float | None = None  # the previous simulator's verify read without its write
    for record in records:
        writes, timeline = _writes(record), _Timeline(record)
        raced = _check_hands_off(writes, timeline, result, pending_verify)
        reads = [e.at for e in record.requests if e.method == "GET" and e.path == "/api/v2/users/me"]
        last_read, last_write = max(reads, default=None), max((w.sent for w in writes), default=None)
        pending_verify = last_read if last_read is not None and (last_write is None or last_read > last_write) else None
        write_times += _check_writes(record, writes, timeline, raced, teams_moments, restore_flags, result)
    result.writes = len(write_times)
    if len(reported) != result.writes:
        result.violations.append(f"the engine reported {len(reported)} writes, the simulator accepted {result.writes}")
    _check_loop_breaker(write_times, resumes, sync, result)
    return result
