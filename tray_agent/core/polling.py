"""When to read Teams presence next: a pure scheduler, shared by the engine and the fleet benchmark.

Microsoft Graph allows 1,500 presence requests per 30 s per app per tenant, shared by every agent of
the company. The scheduler therefore:

- polls every ``max(interval, floor)`` seconds with ±``jitter`` so a fleet never lines up;
- on a 429 waits at least ``Retry-After``, then spreads the retry over a random share of one more
  interval (no synchronized retries), and doubles a *pressure* factor that stretches this agent's
  following intervals (up to ``max_pressure``) — so when the tenant budget runs out, the whole fleet
  slows down smoothly instead of retrying in lockstep. Each success eases the pressure by ``ease``
  (×0.9: about seven reads back from one 429). Easing by ×0.75 let agents return to full speed while
  the budget was still short. The retry itself is not stretched: the first good read, the one that
  catches up with Teams, comes within Retry-After + one interval even after several 429s (stretching
  it by the pressure delayed the demo's catch-up by 12 minutes);
- on errors backs off exponentially with jitter up to ``backoff_cap``; when the service cannot be
  reached at all, up to one interval only (so recovery after an outage takes at most one interval);
- on leaving hands-off reads at a random point of the next interval (``poll_soon``), not at once;
- while hands-off (On Queue, Out of Office), reads every ``hands_off_interval`` (5 min, or five
  floors): slow reads that keep a recent baseline, so that a Teams state that was already showing
  when hands-off ends is told apart from one that begins after it (sync-protocol rule 5). Graph's
  ``sequenceNumber`` cannot do this alone: it orders readings but says nothing about when a state
  began. At 70 % of a 5,000-agent fleet on queue these reads cost 350 requests / 30 s, inside the
  tenant budget with the IT floor's 20 % headroom at the default interval (see docs/performance.md).

``fleet_floor`` is the formula IT uses to set the policy floor from the number of agents.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, replace

GRAPH_PRESENCE_LIMIT = 1500  # requests …
GRAPH_PRESENCE_WINDOW = 30.0  # … per this many seconds, per app per tenant


def fleet_floor(agents: int, *, share_polling: float = 1.0, headroom: float = 0.8) -> float:
    """The poll-interval floor (seconds) that keeps ``agents`` inside the tenant's presence budget.

    ``share_polling`` is the fraction of agents polling at the same time (1.0 = worst case, everyone
    off queue at once); ``headroom`` keeps that fraction of the budget in use, leaving the rest for
    retries and other apps. floor = agents × share × 30 s / (1,500 × headroom).
    """
    if agents <= 0:
        return 0.0
    return math.ceil(agents * share_polling * GRAPH_PRESENCE_WINDOW / (GRAPH_PRESENCE_LIMIT * headroom))


class Outcome(enum.Enum):
    OK = "ok"
    THROTTLED = "throttled"
    FAILED = "failed"  # the service answered with an error (5xx, a bad answer)
    UNREACHABLE = "unreachable"  # no answer at all (network down, timeout)
    SIGNED_OUT = "signed-out"  # nothing was sent: a sign-in is needed first


@dataclass(frozen=True, slots=True)
class PollPolicy:
    interval: float = 60.0
    floor: float = 0.0  # set by IT policy (see fleet_floor)
    jitter: float = 0.1
    backoff_base: float = 2.0
    backoff_cap: float = 300.0
    max_pressure: float = 8.0
    ease: float = 0.9  # pressure × this after each successful read
    hands_off_interval: float = 300.0

    @property
    def base_interval(self) -> float:
        return max(self.interval, self.floor)

    @property
    def slow_interval(self) -> float:
        """The interval while hands-off: baseline reads only."""
        return max(self.hands_off_interval, 5 * self.floor, self.base_interval)


@dataclass(frozen=True, slots=True)
class PollState:
    next_at: float = 0.0
    not_before: float = 0.0  # Retry-After / backoff: no request before this, even if asked to poll now
    pressure: float = 1.0
    failures: int = 0


def after_poll(
    state: PollState,
    policy: PollPolicy,
    now: float,
    outcome: Outcome,
    u: float,
    *,
    retry_after: float | None = None,
    slow: bool = False,
) -> PollState:
    """The schedule after a read that ended at ``now``. ``u`` is a uniform random number in [0, 1).

    ``slow``: hands-off, the next read is a baseline read (``slow_interval``)."""
    if outcome is Outcome.OK:
        pressure = max(1.0, min(policy.max_pressure, state.pressure * policy.ease))
        interval = policy.slow_interval if slow else policy.base_interval
        wait = interval * pressure * (1 + policy.jitter * (2 * u - 1))
        return PollState(next_at=now + wait, not_before=now, pressure=pressure, failures=0)
    failures = state.failures + 1
    if outcome is Outcome.THROTTLED:
        pressure = min(policy.max_pressure, state.pressure * 2)
        # Wait out Retry-After, then land somewhere in the next interval.
        wait = (retry_after or 0.0) + policy.base_interval * u
        wait = max(wait, policy.backoff_base)
        return PollState(next_at=now + wait, not_before=now + wait, pressure=pressure, failures=failures)
    cap = policy.backoff_cap
    if outcome is Outcome.UNREACHABLE:
        # Capped at one interval: after a network outage the agent is back within one interval.
        cap = min(cap, max(policy.base_interval, policy.backoff_base))
    ceiling = min(cap, policy.backoff_base * 2 ** min(failures - 1, 30))
    wait = ceiling * (0.5 + 0.5 * u)
    return PollState(next_at=now + wait, not_before=now + wait, pressure=state.pressure, failures=failures)


def poll_soon(state: PollState, policy: PollPolicy, now: float, u: float) -> PollState:
    """Read within one interval, at a random point (leaving hands-off).

    Agents leave the queue together (end of an all-hands, a queue closing): an immediate read by
    each would spend the tenant's budget in one burst. That read only acknowledges what Teams shows,
    so it can wait; spreading it over one interval keeps the fleet inside the budget.
    """
    return replace(state, next_at=max(now + policy.base_interval * u, state.not_before))


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """When the agent works, e.g. ``"Mon-Fri 07:30-18:00"``: outside it, Teams is not polled.

    Local wall-clock time. An empty spec means always. A span that ends before it starts runs past
    midnight (``"Mon-Sun 22:00-06:00"``) and belongs to the day it starts on.
    """

    days: frozenset[int] = frozenset(range(7))
    start_minute: int = 0
    end_minute: int = 24 * 60

    @classmethod
    def parse(cls, spec: str) -> WorkingHours:
        text = spec.strip().lower()
        if not text:
            return cls()
        try:
            day_part, time_part = text.split()
            days = _parse_days(day_part)
            start_text, end_text = time_part.split("-")
            start, end = _minutes(start_text), _minutes(end_text)
        except ValueError:
            raise ValueError(f"working hours {spec!r}: expected e.g. 'Mon-Fri 08:00-18:00'") from None
        if start == end:
            raise ValueError(f"working hours {spec!r}: start and end are the same time")
        return cls(days, start, end)

    def contains(self, weekday: int, minute_of_day: int) -> bool:
        """``weekday`` 0 = Monday; ``minute_of_day`` 0–1439, local time."""
        if self.start_minute < self.end_minute:
            return weekday in self.days and self.start_minute <= minute_of_day < self.end_minute
        if minute_of_day >= self.start_minute:  # the evening part of an overnight span
            return weekday in self.days
        return (weekday - 1) % 7 in self.days and minute_of_day < self.end_minute


def _parse_days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        a = _DAYS.index(first[:3])
        b = _DAYS.index(last[:3]) if last else a
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return frozenset(days)


def _minutes(text: str) -> int:
    hours, _, minutes = text.partition(":")
    value = int(hours) * 60 + int(minutes or 0)
    if not 0 <= value <= 24 * 60:
        raise ValueError(text)
    return value
