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

**With local signals** (:func:`simulate_trigger_fleet`, IT's ``FleetSize`` the only policy). Real core
code per agent: :meth:`TokenBucket.for_fleet` / ``available_at`` / ``take`` / ``give_back``,
:func:`plan_reads` (which calls :func:`spread`) with a fresh random ``u`` per signal,
:func:`timer_interval` for the safety-net timer (``SyncProtocol._policy``), ``after_poll`` (OK and
THROTTLED with the simulator's Retry-After) and ``poll_soon``. Modelled after ``SyncProtocol``, not
run (a protocol per agent, with its Genesys heartbeats, is ~100× too slow for 20,000 agents):

- a read goes when the timer or the first planned read is due (planned reads never before
  ``poll.not_before``) and the bucket has a token; *every* read takes one, the timer's too; it
  consumes all planned reads due; a throttled read's token is not given back;
- while the session is locked only ``even_if_away`` reads are sent; the others are skipped and give
  their token back (``TeamsReadSkipped``); the unlock drops the planned lock re-reads; a reading while
  locked that is not yet Away plans a re-read ``reread_while_locked`` later, for
  ``give_up_while_locked``;
- hands-off (On Queue): slow timer, readings acknowledged; leaving it: ``poll_soon``; the first
  reading at shift start goes at once; outside the shift nothing is read;
- acting (latency): a reading is signal-backed while locked or within ``window`` of the latest known
  signal, and acts at once; otherwise it becomes the candidate and a read ``dwell_seconds`` later
  (planned) confirms it (rules 10 and 12). Graph answers at once with what the client showed
  ``GRAPH_LAG`` before. Latency runs from the client's change to that read, for changes made while
  the agent was off queue (others are a baseline, not written). Not modelled: Genesys (writes, the
  agent changing it by hand), "too old" re-reads, sign-in, sleep.

The signal day per agent (independent draws; meetings are not shared between simulated agents,
only their moments): breaks at ~2 h and ~6.5 h (15 min) and lunch at ~4 h (30 min), each a lock
(Teams Away ``AWAY_AFTER_LOCK`` later) and an unlock (Teams back); 2–4 calendar meetings on :00/:30 of
30 or 60 min with 3–10 attendees (calendar signal and Teams "meeting" at the slot, microphone 0–2 min
later, calendar end at the slot, microphone and Teams back ±1 min around it); 2–4 ad-hoc calls (mean
6 min, the agent's own moment: microphone and Teams together); the all-hands (calendar at 12:00 sharp
with every agent invited, microphones within a minute, calendar end at 12:45, microphones released
within 2 min); 1–3 spells of Do Not Disturb set by hand (no signal: only the timer finds them).
Activities do not overlap (one that would is moved by 10 min steps) and take the agent off queue
until 1–3 min after they end.

**Genesys → Teams** (``writeback=True``, off by default: every other figure is then unchanged). While
the agent is On Queue (a queue block, on shift, no activity under way) the ACD routes interactions to
them: gaps between interactions exponential with mean 2 min (``ACD_GAP``), handle times lognormal with
mean 6 min (``ACD_HANDLE``, σ of the log 0.6, i.e. a coefficient of variation of about 0.66, the long
right tail of contact-centre handle times) and at least 30 s (``ACD_HANDLE_FLOOR``). An interaction
that would not end before the On Queue time does (queue block end, shift end, an activity's start) is
not offered: the agent finishes the one in hand and goes off queue, so none crosses a block's end. These
draws use their own random stream, so the reads draw exactly the numbers they draw without write-back.
Each agent runs the real :class:`~tray_agent.core.teams_writeback.TeamsWriteback` (a voice interaction
in the conversation summary at the start, none at the end; ``WritebackConfig`` with its own
``expiration``/``renew_before`` unless ``writeback_expiration`` measures another): ``setPresence`` at
the start, a renewal every ``expiration - renew_before`` while it lasts, ``clearPresence`` at the end.
Every call is a request to the same :class:`SlidingWindow` as the reads (the strict reading: Graph does
not say whether writes count against the presence budget); a 429 is answered to the writer with the
simulator's Retry-After, and the writer retries it after its own backoff, never sooner than Retry-After,
so no set or clear is lost. Not modelled: after-call work, a reading showing our own session (the
agent is hands-off while On Queue: its readings are acknowledged, not acted on), the notification lag
between Genesys and the agent.
"""

from __future__ import annotations

import bisect
import heapq
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field, replace

from tray_agent.core.interactions import InteractionSummary, Media, WritebackConfig
from tray_agent.core.polling import (
    GRAPH_PRESENCE_LIMIT,
    GRAPH_PRESENCE_WINDOW,
    Outcome,
    PollPolicy,
    PollState,
    after_poll,
    poll_soon,
)
from tray_agent.core.presence import ON_QUEUE, GenesysState
from tray_agent.core.rules import SyncConfig
from tray_agent.core.teams_writeback import (
    ClearTeamsSession,
    SessionCall,
    SessionResult,
    TeamsWriteback,
)
from tray_agent.core.triggers import (
    KNOWN_SIGNALS,
    PlannedRead,
    SignalKind,
    TokenBucket,
    TriggerTiming,
    attendees_for,
    plan_reads,
    timer_interval,
    with_signal_reads,
)
from tray_agent.simulator.ratelimit import SlidingWindow

HOUR = 3600.0
DAY_START, DAY_END = 6 * HOUR, 20 * HOUR
ALL_HANDS = (12 * HOUR, 12.75 * HOUR)
SHIFT_HOURS = 8.5


@dataclass
class FleetResult:
    label: str
    agents: int
    interval: float
    requests_per_window: list[int]  # per 30 s, DAY_START..DAY_END
    requests: int = 0
    throttled: int = 0
    latencies: list[float] = field(default_factory=list)
    latencies_by_kind: dict[str, list[float]] = field(default_factory=dict)  # the trigger fleet's
    skipped: int = 0  # reads not sent: nobody at the desk (the token is given back)
    runtime: float = 0.0  # seconds to simulate the row
    why: dict[int, Counter[str]] = field(default_factory=dict)  # the trigger fleet's requests per 30 s, by reason
    # Genesys → Teams (the trigger fleet with ``writeback``). ``requests`` counts reads only, and
    # ``requests_per_window`` every request to the budget (reads and writes); ``throttled`` every 429.
    writes: int = 0  # setPresence/clearPresence requests sent, 429s included
    write_throttled: int = 0  # 429s among them (each retried by the writer)
    writes_per_window: list[int] = field(default_factory=list)  # per 30 s, like requests_per_window
    write_kinds: Counter[str] = field(default_factory=Counter)  # "set" / "renew" / "clear", 429s included
    interactions: list[Interaction] = field(default_factory=list)
    set_delays: list[float] = field(default_factory=list)  # interaction start → Graph took the first set

    def peak_reasons(self) -> list[tuple[str, int]]:
        """Why the requests of the busiest 30 s were sent (the trigger fleet only)."""
        busiest = self.requests_per_window.index(self.peak)
        return self.why.get(busiest, Counter()).most_common()

    @property
    def peak(self) -> int:
        return max(self.requests_per_window)

    @property
    def mean(self) -> float:
        busy = [n for n in self.requests_per_window if n]
        return sum(busy) / len(busy) if busy else 0.0

    @property
    def per_agent_hour(self) -> float:
        """Reads per agent-hour (the writes: :attr:`writes_per_agent_hour`)."""
        return self.requests / (self.agents * SHIFT_HOURS)

    @property
    def writes_per_agent_hour(self) -> float:
        return self.writes / (self.agents * SHIFT_HOURS)

    @property
    def read_throttled(self) -> int:
        return self.throttled - self.write_throttled

    @property
    def peak_write_share(self) -> float:
        """The writes' share of the busiest 30 s (0 without write-back)."""
        if not self.writes_per_window:
            return 0.0
        busiest = self.requests_per_window.index(self.peak)
        return self.writes_per_window[busiest] / self.peak if self.peak else 0.0

    def latency_p(self, q: float, kinds: tuple[str, ...] | None = None) -> float:
        if kinds is None and not self.latencies_by_kind:
            samples = self.latencies
        else:
            wanted = self.latencies_by_kind if kinds is None else {k: self.latencies_by_kind.get(k, []) for k in kinds}
            samples = [x for values in wanted.values() for x in values]
        if not samples:
            return math.nan
        ordered = sorted(samples)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass(slots=True)
class Interaction:
    """One ACD interaction and the Graph writes it took (successful ones; ``throttled``: its 429s)."""

    start: float
    end: float
    sets: int = 0
    renewals: int = 0
    clears: int = 0
    throttled: int = 0

    @property
    def duration(self) -> float:
        return self.end - self.start


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
    started = time.monotonic()
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
    result.runtime = time.monotonic() - started
    return result


# --- the fleet with local signals (core.triggers) ------------------------------------------------

GRAPH_LAG = 3.0  # Graph shows a Teams change this long after the client (the simulator's default)
AWAY_AFTER_LOCK = 10.0  # Teams turns Away this long after a lock (the simulator's default)
TRIGGERED_KINDS = ("lock", "unlock", "call", "meeting", "all-hands")
UNTRIGGERED_KINDS = ("dnd",)


@dataclass(slots=True)
class _SignalAgent:
    policy: PollPolicy
    bucket: TokenBucket
    on_shift: bool = False
    queue_block: bool = False  # the agent's On Queue plan; an activity (break, meeting, call) overrides it
    busy: int = 0  # activities under way: the agent is off queue
    slow: bool = False  # hands-off: baseline reads only
    off_since: float = -math.inf  # hands-off ended (a change before it is the baseline, not measured)
    poll: PollState = field(default_factory=PollState)
    planned: list[PlannedRead] = field(default_factory=list)
    signal_at: float | None = None
    backed_until: float = -math.inf  # SignalPlan.backed_until: the planned read's moment + window
    slot: float = 0.0  # the agent's place inside every storm's spread (SyncProtocol._storm_slot)
    meeting_signal: tuple[float, int | None] | None = None  # the latest calendar signal: when, attendees
    locked_since: float | None = None
    graph: str = "available"  # what Graph answers with
    changed_at: float = 0.0  # when the Teams client showed it
    change_kind: str = ""
    acted: str = "available"  # what the protocol last acted on (or acknowledged)
    candidate: tuple[str, float] | None = None  # (value, first reading) awaiting its second reading
    wake_at: float = math.nan
    version: int = 0


def _agent_day(rng: random.Random, start: float, agents: int) -> list[tuple[float, str, object]]:
    """One agent's shift: activities that take the agent off queue, their signals and Teams changes."""
    end = start + 8.5 * HOUR
    taken: list[tuple[float, float]] = []
    events: list[tuple[float, str, object]] = []

    def free(at: float, until: float) -> bool:
        return start < at and until < end and all(until + 120 < a or b + 120 < at for a, b in taken)

    def place(preferred: float, duration: float, step: float = 600.0) -> float | None:
        for k in (0, 1, -1, 2, -2, 3, -3, 4, -4):
            at = preferred + k * step
            if free(at, at + duration):
                taken.append((at, at + duration))
                return at
        return None

    def back_on_queue(at: float) -> None:
        events.append((at + rng.uniform(60, 180), "unbusy", None))

    # The all-hands: every agent invited; calendar start at 12:00 sharp, microphones within a minute.
    if free(*ALL_HANDS):
        taken.append(ALL_HANDS)
        release = ALL_HANDS[1] + rng.uniform(0, 120)
        events += [
            (ALL_HANDS[0], "busy", None),
            (ALL_HANDS[0], "signal", (SignalKind.MEETING_STARTS, agents)),
            (ALL_HANDS[0], "teams", ("meeting", "all-hands")),
            (ALL_HANDS[0] + rng.uniform(0, 60), "signal", (SignalKind.DEVICE_IN_USE, None)),
            (ALL_HANDS[1], "signal", (SignalKind.MEETING_ENDS, agents)),
            (release, "signal", (SignalKind.DEVICE_RELEASED, None)),
            (release, "teams", ("available", "all-hands")),
        ]
        back_on_queue(release)
    # Two breaks and lunch: the session is locked; Teams turns Away on its own a little later.
    for offset, minutes in ((2 * HOUR, 15), (4 * HOUR, 30), (6.5 * HOUR, 15)):
        at = place(start + offset + rng.uniform(-20, 20) * 60, minutes * 60.0 * rng.uniform(0.8, 1.2))
        if at is None:
            continue
        unlock = taken[-1][1]
        events += [
            (at, "busy", None),
            (at, "signal", (SignalKind.SESSION_LOCKED, None)),
            (at + AWAY_AFTER_LOCK, "teams", ("away", "lock")),
            (unlock, "signal", (SignalKind.SESSION_UNLOCKED, None)),
            (unlock + rng.uniform(0, 2), "teams", ("available", "unlock")),
        ]
        back_on_queue(unlock)
    # Calendar meetings on :00 or :30 with 3–10 attendees; the microphone opens on joining.
    for _ in range(rng.randint(2, 4)):
        slot = math.ceil(rng.uniform(start + 900, end - HOUR) / 1800) * 1800
        at = place(slot, rng.choice((1800.0, 1800.0, 3600.0)), step=1800.0)
        if at is None:
            continue
        finish, attendees = taken[-1][1], rng.randint(3, 10)
        release = finish + rng.uniform(-60, 60)
        events += [
            (at, "busy", None),
            (at, "signal", (SignalKind.MEETING_STARTS, attendees)),
            (at, "teams", ("meeting", "meeting")),
            (at + rng.uniform(0, 120), "signal", (SignalKind.DEVICE_IN_USE, None)),
            (finish, "signal", (SignalKind.MEETING_ENDS, attendees)),
            (release, "signal", (SignalKind.DEVICE_RELEASED, None)),
            (release, "teams", ("available", "meeting")),
        ]
        back_on_queue(release)
    # Ad-hoc Teams calls at the agent's own moments.
    for _ in range(rng.randint(2, 4)):
        at = place(rng.uniform(start + 600, end - 1800), min(1800.0, max(60.0, rng.expovariate(1 / 360))))
        if at is None:
            continue
        hang_up = taken[-1][1]
        events += [
            (at, "busy", None),
            (at, "signal", (SignalKind.DEVICE_IN_USE, None)),
            (at, "teams", ("call", "call")),
            (hang_up, "signal", (SignalKind.DEVICE_RELEASED, None)),
            (hang_up, "teams", ("available", "call")),
        ]
        back_on_queue(hang_up)
    # Do Not Disturb set and cleared by hand: no local signal; only the timer finds it.
    for _ in range(rng.randint(1, 3)):
        at = place(rng.uniform(start + 600, end - 3600), rng.uniform(10, 40) * 60)
        if at is not None:
            events += [(at, "teams", ("dnd", "dnd")), (taken[-1][1], "teams", ("available", "dnd"))]
    return events


ACD_GAP = 120.0  # mean seconds between interactions while On Queue (exponential)
ACD_HANDLE = 360.0  # mean handle time (lognormal)
ACD_HANDLE_SIGMA = 0.6  # σ of its logarithm
ACD_HANDLE_FLOOR = 30.0
_GENESYS_IDLE = GenesysState("on-queue", ON_QUEUE, "IDLE", out_of_office=False, confirmed_at=0.0)
_GENESYS_INTERACTING = replace(_GENESYS_IDLE, routing_status="INTERACTING")
_VOICE = InteractionSummary.of((Media.VOICE,))


def _on_queue_spans(
    start: float, toggles: list[tuple[float, bool]], day: list[tuple[float, str, object]]
) -> list[tuple[float, float]]:
    """When the agent is On Queue: inside a queue block, on shift, and no activity under way."""
    end = start + SHIFT_HOURS * HOUR
    activities = [(at, kind, False) for at, kind, _ in day if kind in ("busy", "unbusy")]
    changes = sorted([(at, "queue", on) for at, on in toggles] + activities, key=lambda change: change[0])
    spans: list[tuple[float, float]] = []
    queue, busy, since = False, 0, None
    for at, kind, on in [*changes, (end, "shift-end", False)]:
        if kind == "queue":
            queue = on
        elif kind in ("busy", "unbusy"):
            busy += 1 if kind == "busy" else -1
        else:
            queue = False
        available = queue and busy == 0 and at < end
        if available and since is None:
            since = at
        elif not available and since is not None:
            spans.append((since, min(at, end)))
            since = None
    return spans


def _acd_interactions(rng: random.Random, spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The interactions routed to an agent On Queue during ``spans``; none crosses a span's end."""
    mu = math.log(ACD_HANDLE) - ACD_HANDLE_SIGMA**2 / 2  # so that the mean is ACD_HANDLE
    interactions = []
    for begin, end in spans:
        t = begin
        while True:
            t += rng.expovariate(1 / ACD_GAP)
            handle = max(ACD_HANDLE_FLOOR, rng.lognormvariate(mu, ACD_HANDLE_SIGMA))
            if t + handle >= end:
                break  # not offered: the agent goes off queue after the interaction in hand
            interactions.append((t, t + handle))
            t += handle
    return interactions


def simulate_trigger_fleet(
    agents: int,
    *,
    label: str,
    fleet_size: int | None = None,
    seed: int = 1,
    until: float = DAY_END,
    poll: PollPolicy | None = None,
    dwell: float | None = None,
    burst: float | None = None,
    writeback: bool = False,
    writeback_expiration: float | None = None,
) -> FleetResult:
    """A fleet whose agents read Teams on local signals, as :class:`~tray_agent.core.protocol.SyncProtocol`
    does, with IT's ``FleetSize`` (default: ``agents``) the only policy set. ``burst`` measures another
    bucket capacity than core's. ``writeback``: Genesys interactions shown in Teams as well (the
    module's "Genesys → Teams"); ``writeback_expiration`` measures another ``expirationDuration`` than
    ``WritebackConfig``'s (renewed ``renew_before`` early, as ever)."""
    started = time.monotonic()
    rng = random.Random(seed)
    size = agents if fleet_size is None else fleet_size
    triggers = TriggerTiming(fleet_size=size)
    base = poll or PollPolicy()
    # SyncProtocol._policy(): once signals are available, the timer is a slow safety net.
    policy = replace(base, interval=max(base.interval, timer_interval(triggers)))
    dwell_seconds = SyncConfig().dwell_seconds if dwell is None else dwell
    budget = SlidingWindow(GRAPH_PRESENCE_LIMIT, GRAPH_PRESENCE_WINDOW)
    windows = int((until - DAY_START) / GRAPH_PRESENCE_WINDOW)
    result = FleetResult(label, agents, policy.base_interval, [0] * windows)
    bucket = TokenBucket.for_fleet(size, 0.0)
    if burst is not None:
        bucket = replace(bucket, capacity=burst, tokens=burst)
    people = [_SignalAgent(policy, bucket, slot=rng.random()) for _ in range(agents)]
    heap: list[tuple[float, int, int, str, object]] = []
    counter = 0
    # Genesys → Teams: its own random stream, so the reads draw what they draw without it.
    acd_rng = random.Random(f"interactions {seed}")
    config = WritebackConfig(enabled=True)
    if writeback_expiration is not None:
        config = replace(config, expiration=writeback_expiration)
    routed: list[list[tuple[float, float]]] = [[] for _ in range(agents)] if writeback else []
    writers: list[TeamsWriteback] = []
    current: list[Interaction | None] = [None] * agents if writeback else []
    write_version = [0] * agents if writeback else []
    if writeback:
        result.writes_per_window = [0] * windows

    def push(at: float, who: int, kind: str, payload: object = None) -> None:
        nonlocal counter
        counter += 1
        heapq.heappush(heap, (at, counter, who, kind, payload))

    for who in range(agents):
        start = 7 * HOUR + rng.uniform(0, 3 * HOUR)
        push(start, who, "shift-start")
        push(start + 8.5 * HOUR, who, "shift-end")
        t, on = start + rng.uniform(2, 15) * 60, True
        toggles: list[tuple[float, bool]] = []
        while t < start + 8.5 * HOUR:
            push(t, who, "queue-on" if on else "queue-off")
            toggles.append((t, on))
            t += rng.expovariate(1 / (50 * 60 if on else 20 * 60))
            on = not on
        day = _agent_day(rng, start, agents)
        for at, kind, payload in day:
            push(at, who, kind, payload)
        if writeback:
            routed[who] = _acd_interactions(acd_rng, _on_queue_spans(start, toggles, day))
            if routed[who]:
                push(routed[who][0][0], who, "acd-start", 0)
            writer = TeamsWriteback(config, random=acd_rng.random)
            writer.microsoft_ready(True)
            writers.append(writer)

    def wake(who: int, now: float) -> None:
        """SyncProtocol.next_wake(), for the reads: the timer or the first planned read, inside the bucket."""
        a = people[who]
        if not a.on_shift:
            a.version, a.wake_at = a.version + 1, math.nan
            return
        planned_at = max(a.planned[0].at, a.poll.not_before) if a.planned else math.inf
        at = max(now, a.bucket.available_at(min(a.poll.next_at, planned_at)))
        if at != a.wake_at:
            a.version, a.wake_at = a.version + 1, at
            push(at, who, "wake", a.version)

    def plan(a: _SignalAgent, read: PlannedRead) -> None:
        bisect.insort(a.planned, read, key=lambda planned: planned.at)

    def interval(a: _SignalAgent) -> float:
        return a.policy.slow_interval if a.slow else a.policy.base_interval

    def follow_queue(a: _SignalAgent, now: float) -> None:
        """SyncProtocol._follow_phase(): baseline reads while hands-off; a spread read on leaving it."""
        slow = a.queue_block and a.busy == 0
        if slow == a.slow:
            return
        a.slow, a.candidate = slow, None
        if slow:
            a.poll = replace(a.poll, next_at=now + a.policy.slow_interval * rng.random())
        else:
            a.off_since = now
            a.poll = poll_soon(a.poll, a.policy, now, rng.random())

    def signal(a: _SignalAgent, now: float, kind: SignalKind, attendees: int | None) -> None:
        """SyncProtocol._local_signal()."""
        if kind in KNOWN_SIGNALS:
            a.signal_at = now
        if kind is SignalKind.SESSION_LOCKED:
            a.locked_since = now
        elif kind is SignalKind.SESSION_UNLOCKED:
            a.locked_since = None
            a.planned = [read for read in a.planned if not read.even_if_away]
        attendees = attendees_for(kind, now, attendees, a.meeting_signal)
        if kind in (SignalKind.MEETING_STARTS, SignalKind.MEETING_ENDS):
            a.meeting_signal = (now, attendees)
        plan = plan_reads(kind, now, triggers, a.slot, attendees)
        a.planned = list(with_signal_reads(tuple(a.planned), plan.reads))
        if kind in KNOWN_SIGNALS:
            a.backed_until = max(a.backed_until, plan.backed_until)

    def reading(a: _SignalAgent, now: float) -> None:
        """What the protocol does with a reading (reads are answered at once: requested = read)."""
        if a.locked_since is not None and a.graph != "away" and now - a.locked_since < triggers.give_up_while_locked:
            plan(a, PlannedRead(now + triggers.reread_while_locked, "locked: has Teams turned Away?", True))
        if a.slow or a.graph == a.acted:  # hands-off readings are acknowledged; rule 10: nothing new
            a.acted, a.candidate = a.graph, None
            return
        backed = (a.locked_since is not None and now >= a.locked_since) or (
            a.signal_at is not None and a.signal_at <= now <= max(a.signal_at + triggers.window, a.backed_until)
        )
        if not backed:  # rule 12: a second reading at least dwell later
            if a.candidate is None or a.candidate[0] != a.graph:
                a.candidate = (a.graph, now)
                plan(a, PlannedRead(now + dwell_seconds, "confirming a Teams change"))
                return
            if now < a.candidate[1] + dwell_seconds:
                return
        if a.changed_at >= a.off_since:
            result.latencies_by_kind.setdefault(a.change_kind, []).append(now - a.changed_at)
        a.acted, a.candidate = a.graph, None

    def read_if_due(who: int, now: float) -> None:
        """SyncProtocol._read_if_due() and what follows a read."""
        a = people[who]
        planned_due = bool(a.planned) and max(a.planned[0].at, a.poll.not_before) <= now
        if not a.on_shift or not (planned_due or a.poll.next_at <= now):
            return
        if a.bucket.available_at(now) > now + 1e-9:
            return
        a.bucket = a.bucket.take(now)
        first = a.planned[0] if planned_due else None
        even_if_away = first is not None and first.even_if_away
        a.planned = [read for read in a.planned if read.at > now]
        if a.locked_since is not None and not even_if_away:  # nobody at the desk: TeamsReadSkipped
            a.bucket = a.bucket.give_back()
            a.poll = replace(a.poll, next_at=now + interval(a))
            result.skipped += 1
            return
        result.requests += 1
        if now >= DAY_START:
            index = int((now - DAY_START) // GRAPH_PRESENCE_WINDOW)
            result.requests_per_window[index] += 1
            why = "timer" if first is None else first.why.removesuffix(" (follow-up)")
            result.why.setdefault(index, Counter())[why] += 1
        wait = budget.hit(now)
        if wait is None:
            a.poll = after_poll(a.poll, a.policy, now, Outcome.OK, rng.random(), slow=a.slow)
            reading(a, now)
        else:
            result.throttled += 1
            a.poll = after_poll(a.poll, a.policy, now, Outcome.THROTTLED, rng.random(), retry_after=wait, slow=a.slow)

    def write(who: int, now: float) -> None:
        """The agent's TeamsWriteback after an event: its calls, each to the budget; then its next wake."""
        writer, record = writers[who], current[who]
        genesys = _GENESYS_INTERACTING if record is not None and now < record.end else _GENESYS_IDLE
        while effects := writer.step(now, genesys):
            for effect in effects:
                call = SessionCall.CLEAR if isinstance(effect, ClearTeamsSession) else SessionCall.SET
                what = "clear" if call is SessionCall.CLEAR else "renew" if record and record.sets else "set"
                result.writes += 1
                result.write_kinds[what] += 1
                if now >= DAY_START:
                    index = int((now - DAY_START) // GRAPH_PRESENCE_WINDOW)
                    result.requests_per_window[index] += 1
                    result.writes_per_window[index] += 1
                    result.why.setdefault(index, Counter())[f"write: {what}"] += 1
                wait = budget.hit(now)
                if wait is None:
                    if record is not None:
                        if what == "set":
                            record.sets += 1
                            result.set_delays.append(now - record.start)
                        elif what == "renew":
                            record.renewals += 1
                        else:
                            record.clears += 1
                    writer.answered(call, SessionResult.OK, now, None)
                else:
                    result.throttled += 1
                    result.write_throttled += 1
                    if record is not None:
                        record.throttled += 1
                    writer.answered(call, SessionResult.THROTTLED, now, wait)
        write_version[who] += 1
        due = writer.next_wake(now)
        if due is not None:
            push(due, who, "write-wake", write_version[who])

    while heap:
        now, _, who, kind, payload = heapq.heappop(heap)
        if now >= until:
            break
        a = people[who]
        if kind in ("acd-start", "acd-end", "write-wake"):  # Genesys → Teams: the reads are not touched
            if kind == "write-wake" and payload != write_version[who]:
                continue
            if kind == "acd-start":
                begin, end = routed[who][payload]  # type: ignore[index]
                current[who] = record = Interaction(begin, end)
                result.interactions.append(record)
                writers[who].interactions(_VOICE)
                push(end, who, "acd-end", payload)
            elif kind == "acd-end":
                writers[who].interactions(InteractionSummary())
                following = payload + 1  # type: ignore[operator]
                if following < len(routed[who]):
                    push(routed[who][following][0], who, "acd-start", following)
            write(who, now)
            continue
        if kind == "wake":
            if payload != a.version:
                continue
            a.wake_at = math.nan
            read_if_due(who, now)
        elif kind == "shift-start":
            a.on_shift, a.slow, a.off_since = True, False, now
            a.poll = PollState(next_at=now)  # the first reading at start-up
        elif kind == "shift-end":
            a.on_shift, a.planned, a.candidate = False, [], None
        elif kind in ("queue-on", "queue-off"):
            a.queue_block = kind == "queue-on"
            if a.on_shift:
                follow_queue(a, now)
        elif kind in ("busy", "unbusy"):
            a.busy += 1 if kind == "busy" else -1
            if a.on_shift:
                follow_queue(a, now)
        elif kind == "signal":
            signal_kind, attendees = payload  # type: ignore[misc]
            signal(a, now, signal_kind, attendees)
        elif kind == "teams":
            push(now + GRAPH_LAG, who, "graph", (*payload, now))  # type: ignore[misc]
        elif kind == "graph":
            a.graph, a.change_kind, a.changed_at = payload  # type: ignore[misc]
        wake(who, now)
    result.runtime = time.monotonic() - started
    return result
