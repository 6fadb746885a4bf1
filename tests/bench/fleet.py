"""A company's whole fleet against Graph's tenant budget, over one simulated day.

Each agent is a lightweight client of the real polling scheduler (:mod:`tray_agent.core.polling`,
the same ``after_poll``/``poll_soon`` the engine uses) and of the engine's polling rule (read only
while off queue and on shift; one immediate read on leaving hands-off). Requests go to the
simulator's own tenant budget (:class:`tray_agent.simulator.ratelimit.SlidingWindow`, 1,500 per 30 s
per app), so a 429 and its Retry-After are exactly what the simulator would answer. Time is a
discrete-event clock: a day of 5,000 agents runs in seconds.

The day: shifts start between 07:00 and 10:00 and last 8.5 h; agents alternate On Queue blocks
(mean 50 min) with off-queue blocks (mean 20 min: meetings, breaks, admin); Teams changes about
every 40 min; and a company all-hands from 12:00 to 12:45 takes everyone off queue at once — the
moment a fleet is most likely to run out of budget.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field, replace

from tray_agent.core.polling import (
    GRAPH_PRESENCE_LIMIT,
    GRAPH_PRESENCE_WINDOW,
    Outcome,
    PollPolicy,
    PollState,
    after_poll,
    poll_soon,
)
from tray_agent.simulator.ratelimit import SlidingWindow

HOUR = 3600.0
DAY_START, DAY_END = 6 * HOUR, 20 * HOUR
ALL_HANDS = (12 * HOUR, 12.75 * HOUR)


@dataclass
class FleetResult:
    label: str
    agents: int
    interval: float
    requests_per_window: list[int]  # per 30 s, DAY_START..DAY_END
    requests: int = 0
    throttled: int = 0
    latencies: list[float] = field(default_factory=list)

    @property
    def peak(self) -> int:
        return max(self.requests_per_window)

    @property
    def mean(self) -> float:
        busy = [n for n in self.requests_per_window if n]
        return sum(busy) / len(busy) if busy else 0.0

    def latency_p(self, q: float) -> float:
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class _Agent:
    polling: bool = False
    on_shift: bool = False
    on_queue: bool = False
    in_all_hands: bool = False
    slow: bool = False  # hands-off: baseline reads only (PollPolicy.slow_interval)
    schedule: PollState = field(default_factory=PollState)
    version: int = 0  # invalidates superseded poll events in the heap
    pending_changes: list[float] = field(default_factory=list)


def simulate_fleet(
    agents: int,
    policy: PollPolicy,
    *,
    label: str,
    seed: int = 1,
    naive_fixed_poller: bool = False,
    until: float = DAY_END,
) -> FleetResult:
    """``naive_fixed_poller``: a PresenceLight-style client — polls every ``policy.interval`` all shift
    long whatever Genesys says, and retries a 429 after 2 s/4 s without reading Retry-After."""
    rng = random.Random(seed)
    budget = SlidingWindow(GRAPH_PRESENCE_LIMIT, GRAPH_PRESENCE_WINDOW)
    windows = int((until - DAY_START) / GRAPH_PRESENCE_WINDOW)
    result = FleetResult(label, agents, policy.base_interval, [0] * windows)
    people = [_Agent() for _ in range(agents)]
    heap: list[tuple[float, int, int, str, int]] = []
    counter = 0

    def push(at: float, who: int, kind: str, version: int = 0) -> None:
        nonlocal counter
        counter += 1
        heapq.heappush(heap, (at, counter, who, kind, version))

    def schedule_poll(who: int, at: float) -> None:
        person = people[who]
        person.version += 1
        push(at, who, "poll", person.version)

    for who in range(agents):
        start = 7 * HOUR + rng.uniform(0, 3 * HOUR)
        push(start, who, "shift-start")
        push(start + 8.5 * HOUR, who, "shift-end")
        t = start + rng.uniform(2, 15) * 60
        on = True
        while t < start + 8.5 * HOUR:
            push(t, who, "queue-on" if on else "queue-off")
            t += rng.expovariate(1 / (50 * 60 if on else 20 * 60))
            on = not on
        t = start + rng.expovariate(1 / (40 * 60))
        while t < start + 8.5 * HOUR:
            push(t, who, "teams")
            t += rng.expovariate(1 / (40 * 60))
        push(ALL_HANDS[0] + rng.uniform(0, 60), who, "all-hands-start")
        push(ALL_HANDS[1] + rng.uniform(0, 120), who, "all-hands-end")

    def update_polling(who: int, now: float) -> None:
        """As the sync protocol does: while On Queue only slow baseline reads; on leaving hands-off one
        read spread over an interval; nothing off shift."""
        person = people[who]
        slow = not naive_fixed_poller and person.on_queue and not person.in_all_hands
        if person.on_shift and not person.polling:
            person.polling, person.slow = True, slow
            person.schedule = poll_soon(person.schedule, policy, now, rng.random())
            schedule_poll(who, person.schedule.next_at)
        elif not person.on_shift and person.polling:
            person.polling = False
            person.pending_changes.clear()
            person.version += 1
        elif person.polling and slow != person.slow:
            person.slow = slow
            if slow:
                person.pending_changes.clear()  # changes seen while hands-off are acknowledged, not written
                at = now + policy.slow_interval * rng.random()
                person.schedule = replace(person.schedule, next_at=max(at, person.schedule.not_before))
            else:
                person.schedule = poll_soon(person.schedule, policy, now, rng.random())
            schedule_poll(who, person.schedule.next_at)

    while heap:
        now, _, who, kind, version = heapq.heappop(heap)
        if now >= until:
            break
        person = people[who]
        if kind == "poll":
            if version != person.version or not person.polling:
                continue
            result.requests += 1
            if now >= DAY_START:
                result.requests_per_window[int((now - DAY_START) // GRAPH_PRESENCE_WINDOW)] += 1
            wait = budget.hit(now)
            u = rng.random()
            if wait is None:
                for changed_at in person.pending_changes:
                    result.latencies.append(now - changed_at)
                person.pending_changes.clear()
                if naive_fixed_poller:
                    person.schedule = PollState(next_at=now + policy.interval, failures=0)
                else:
                    person.schedule = after_poll(person.schedule, policy, now, Outcome.OK, u, slow=person.slow)
            else:
                result.throttled += 1
                if naive_fixed_poller:
                    failures = person.schedule.failures + 1
                    delay = 2.0**failures if failures <= 2 else policy.interval
                    person.schedule = PollState(next_at=now + delay, failures=0 if failures > 2 else failures)
                else:
                    person.schedule = after_poll(
                        person.schedule, policy, now, Outcome.THROTTLED, u, retry_after=wait, slow=person.slow
                    )
            schedule_poll(who, person.schedule.next_at)
            continue
        if kind == "shift-start":
            person.on_shift, person.on_queue = True, False
        elif kind == "shift-end":
            person.on_shift = False
        elif kind == "queue-on":
            person.on_queue = True
        elif kind == "queue-off":
            person.on_queue = False
        elif kind == "all-hands-start":
            person.in_all_hands = True
        elif kind == "all-hands-end":
            person.in_all_hands = False
        elif kind == "teams" and person.polling and not person.slow:
            person.pending_changes.append(now)
        update_polling(who, now)
    return result
