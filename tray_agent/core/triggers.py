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
may share is therefore spread: its reads are delayed by a random share of

    spread = READS_PER_SIGNAL × sharers / (FLEET_SHARE × 1500 / 30)   seconds

where ``sharers`` is the meeting's attendee count when the calendar gives it; the fleet size for a
microphone, camera or calendar signal in the first ``MEETING_START_MINUTES`` of a half hour (when
meetings start) with no attendee count; and 1 otherwise (an ad-hoc call, a lock: this agent's own).
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


def spread(kind: SignalKind, at: float, fleet_size: int, attendees: int | None) -> float:
    """How widely (seconds) the reads for a signal are spread, for the agents that may share it."""
    if attendees is not None:
        sharers = min(max(1, attendees), max(1, fleet_size))
    elif kind in _MAYBE_SHARED and at % 1800.0 < MEETING_START_MINUTES * 60.0:
        sharers = max(1, fleet_size)
    else:
        sharers = 1
    return READS_PER_SIGNAL * sharers / (FLEET_SHARE * TENANT_READS_PER_30_S / 30.0)


@dataclass(frozen=True, slots=True)
class PlannedRead:
    at: float
    why: str
    even_if_away: bool = False  # read even though nobody is at the desk (after a lock)


def plan_reads(
    kind: SignalKind, at: float, timing: TriggerTiming, u: float, attendees: int | None = None
) -> tuple[PlannedRead, ...]:
    """The reads a signal asks for; ``u`` in [0, 1) places them inside the storm spread."""
    if kind is SignalKind.SESSION_LOCKED:
        return (PlannedRead(at + timing.first_read_after_lock, "locked: has Teams turned Away?", even_if_away=True),)
    delay = u * spread(kind, at, timing.fleet_size, attendees)
    why = kind.value
    return (PlannedRead(at + delay, why), PlannedRead(at + delay + timing.follow_up, f"{why} (follow-up)"))


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
