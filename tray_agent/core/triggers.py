"""Local signals that Teams is about to change, turned into Graph reads inside the tenant's budget.

Graph stays the source of truth. A signal only asks for reads: a prompt one and a follow-up
``follow_up`` seconds later, because Graph shows a Teams change a few seconds after the client does.
A *known* signal (lock, unlock, microphone or camera, a calendar meeting) also stands in for the
confirming second reading: a change read within ``window`` after it is acted on at once. An
unknown signal never does; it only causes a read.

After a lock, Teams turns Away on its own clock (at once or within minutes; the delay is the
client's), so the agent reads ``first_read_after_lock`` later, then every ``reread_while_locked``
until Teams shows Away (or ``give_up_while_locked`` passes), and is then quiet until the unlock.

**Budget.** Graph allows 1,500 presence reads per 30 s per app per tenant, shared by every agent.
IT states the fleet size (policy ``FleetSize``); each agent keeps to its share with a token bucket:

    rate     = FLEET_SHARE × 1500 / 30 / fleet_size     reads per second   (FLEET_SHARE = 0.8)
    capacity = BURST reads                              (two signals' worth of reads)

so the whole fleet, reading flat out, stays at 80 % of the tenant's limit; the rest is headroom
for retries and clocks that disagree. The timer, a safety net once signals are available, runs
every ``max(timer_interval, 2 / rate)``: it may use at most half of the agent's share.

**Storms.** No per-agent bucket keeps 5,000 simultaneous reads under the limit: an all-hands at
12:00 opens every microphone within a minute, and every bucket is full. A signal that other agents
may share is therefore spread: its reads are delayed by a share ``slot`` (in [0, 1), drawn once per
agent) of

    spread = READS_PER_SIGNAL × sharers / (FLEET_SHARE × 1500 / 30)   seconds

Who shares a signal:

- a microphone, camera or calendar signal within ``MEETING_START_MINUTES`` of a quarter hour
  (before it: calls end; after it: meetings start; most on :00 and :30, the 45- and 15-minute ones
  on :45 and :15) is shared by **the whole fleet, whatever its attendee count**: the count says who
  is in *this* meeting, not how many other meetings begin at the same moment (about a fifth of a
  contact centre on each :00 and :30, measured by the bench), and without the calendar a
  microphone released when the all-hands ends looks like any call ending;
- elsewhere, a calendar meeting with an attendee count is shared by its attendees, and so is a
  microphone or camera signal in the ``MEETING_START_MINUTES`` after it (the protocol passes the
  meeting's count on: the microphones open as people join);
- anything else is the agent's own (an ad-hoc call, a lock): 1.

One read serves every signal before it: a signal whose read would come after one already planned
plans nothing (the calendar's signal at 12:00 and the microphone opening a minute later send one
read, not two), and one whose read comes sooner replaces the later ones. A read ``follow_up`` or
more after the signal needs no follow-up (Graph has caught up by then), so inside a storm each
agent sends one read, not two.
And a spread read still counts as the signal's: a change it finds is acted on at once
(:func:`plan_reads` says until when, ``backed_until``).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, replace

TENANT_READS_PER_30_S = 1500.0  # Graph presence, per app per tenant (reference: microsoft-graph-msal.md)
FLEET_SHARE = 0.8
BURST = 4.0
READS_PER_SIGNAL = 2  # the prompt read and its follow-up
MEETING_START_MINUTES = 3.0


class SignalKind(enum.Enum):
    SESSION_LOCKED = "the session was locked"
    SESSION_UNLOCKED = "the session was unlocked"
    DEVICE_IN_USE = "the microphone or camera went into use"
    DEVICE_RELEASED = "the microphone and camera were released"
    MEETING_STARTS = "a calendar meeting starts"
    MEETING_ENDS = "a calendar meeting ends"
    UNKNOWN = "something changed on the workstation"


KNOWN_SIGNALS = frozenset(kind for kind in SignalKind if kind is not SignalKind.UNKNOWN)
_MAYBE_SHARED = frozenset(
    {SignalKind.DEVICE_IN_USE, SignalKind.DEVICE_RELEASED, SignalKind.MEETING_STARTS, SignalKind.MEETING_ENDS}
)


@dataclass(frozen=True, slots=True)
class TriggerTiming:
    follow_up: float = 5.0  # Graph lags the Teams client by a few seconds (simulator default: 3 s)
    window: float = 30.0  # a change read this long after a known signal needs no second reading
    first_read_after_lock: float = 20.0
    # Teams turns Away on its own clock (simulator default 10 s); Away should reach Genesys within
    # 30 s of Teams showing it, so re-read that often, for as long as Teams' idle timeout (5 min).
    reread_while_locked: float = 30.0
    give_up_while_locked: float = 300.0
    timer_interval: float = 300.0  # the timer's interval once signals are available (a safety net)
    fleet_size: int = 1  # IT policy FleetSize: how many agents share the tenant's Graph budget


def fleet_rate(fleet_size: int) -> float:
    """Reads per second one agent may make so that the fleet stays inside the tenant's budget."""
    return FLEET_SHARE * TENANT_READS_PER_30_S / 30.0 / max(1, fleet_size)


def timer_interval(timing: TriggerTiming) -> float:
    return max(timing.timer_interval, 2.0 / fleet_rate(timing.fleet_size))


def near_quarter_hour(at: float) -> bool:
    """Meetings start and end on the quarter hours (most on :00 and :30, 45- and 15-minute ones on :45 and :15)."""
    offset = at % 900.0
    return min(offset, 900.0 - offset) < MEETING_START_MINUTES * 60.0


def sharers(kind: SignalKind, at: float, fleet_size: int, attendees: int | None) -> int:
    """How many agents may get the same signal at about the same moment (see the module docstring)."""
    fleet = max(1, fleet_size)
    if kind in _MAYBE_SHARED and near_quarter_hour(at):
        return fleet
    if attendees is not None and kind in _MAYBE_SHARED:
        return min(max(1, attendees), fleet)
    return 1


def spread(kind: SignalKind, at: float, fleet_size: int, attendees: int | None) -> float:
    """How widely (seconds) the reads for a signal are spread, for the agents that may share it."""
    return READS_PER_SIGNAL * sharers(kind, at, fleet_size, attendees) / (FLEET_SHARE * TENANT_READS_PER_30_S / 30.0)


@dataclass(frozen=True, slots=True)
class PlannedRead:
    at: float
    why: str
    even_if_away: bool = False  # read even though nobody is at the desk (after a lock)
    for_signal: bool = False  # asked for by a signal other than a lock (one such read serves them all)


@dataclass(frozen=True, slots=True)
class SignalPlan:
    reads: tuple[PlannedRead, ...]
    backed_until: float  # a reading sent by then, after the signal, needs no second reading


def plan_reads(
    kind: SignalKind, at: float, timing: TriggerTiming, slot: float, attendees: int | None = None
) -> SignalPlan:
    """The reads a signal asks for; ``slot`` in [0, 1) is the agent's place inside a storm's spread."""
    if kind is SignalKind.SESSION_LOCKED:
        first = at + timing.first_read_after_lock
        return SignalPlan((PlannedRead(first, "locked: has Teams turned Away?", even_if_away=True),), first)
    prompt = at + slot * spread(kind, at, timing.fleet_size, attendees)
    why = kind.value
    backed_until = prompt + timing.window
    if prompt - at >= timing.follow_up:  # Graph has caught up with the Teams client by then
        return SignalPlan((PlannedRead(prompt, why, for_signal=True),), backed_until)
    follow_up = PlannedRead(prompt + timing.follow_up, f"{why} (follow-up)", for_signal=True)
    return SignalPlan((PlannedRead(prompt, why, for_signal=True), follow_up), backed_until)


def with_signal_reads(planned: tuple[PlannedRead, ...], reads: tuple[PlannedRead, ...]) -> tuple[PlannedRead, ...]:
    """``planned`` with a signal's ``reads`` added, by time. One read serves every signal before it:
    a signal read already planned before this one's first keeps it (nothing new is planned); later
    ones are replaced by this one's. A lock's read is its own, never shared."""
    if not reads:
        return planned
    if reads[0].for_signal:
        if any(read.for_signal and read.at <= reads[0].at for read in planned):
            return planned
        planned = tuple(read for read in planned if not read.for_signal)
    else:
        reads = reads[:1]
    return tuple(sorted((*planned, *reads), key=lambda read: read.at))


def attendees_for(
    kind: SignalKind, at: float, attendees: int | None, meeting: tuple[float, int | None] | None
) -> int | None:
    """A microphone or camera signal within ``MEETING_START_MINUTES`` after the latest calendar
    signal (``meeting``: when, how many) is people joining or leaving that meeting: its count."""
    device = kind in (SignalKind.DEVICE_IN_USE, SignalKind.DEVICE_RELEASED)
    if device and meeting is not None and at - meeting[0] < MEETING_START_MINUTES * 60.0:
        return meeting[1]
    return attendees


@dataclass(frozen=True, slots=True)
class TokenBucket:
    """``capacity`` reads, refilled at ``rate`` per second; one read takes one token."""

    capacity: float
    rate: float
    tokens: float
    at: float

    @classmethod
    def for_fleet(cls, fleet_size: int, now: float) -> TokenBucket:
        return cls(BURST, fleet_rate(fleet_size), BURST, now)

    def _at(self, now: float) -> float:
        return min(self.capacity, self.tokens + max(0.0, now - self.at) * self.rate)

    def available_at(self, now: float) -> float:
        """The earliest time, from ``now``, at which a read may be taken."""
        now = max(now, self.at)  # the bucket never runs backwards
        tokens = self._at(now)
        if tokens >= 1.0:
            return now
        return now + (1.0 - tokens) / self.rate if self.rate > 0 else math.inf

    def take(self, now: float) -> TokenBucket:
        return replace(self, tokens=self._at(now) - 1.0, at=max(now, self.at))

    def give_back(self) -> TokenBucket:
        """A read that was taken but not sent (nobody at the desk)."""
        return replace(self, tokens=min(self.capacity, self.tokens + 1.0))
