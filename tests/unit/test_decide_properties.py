"""Properties of the sync core over random days: events in, invariants checked after every decision.

A random sequence of events (Teams changes incl. odd casings and unknown values, the agent picking
statuses in Genesys, going on/off queue, routing changes, Out of Office, time passing with or without
Genesys being re-confirmed, pause/resume/sync-now, failing writes) is run through the engine-like
driver, next to an independent model of what the agent and Teams did. Invariants:

(a) no write while the Genesys state given to decide() is On Queue (routing ≠ OFF_QUEUE or presence
    On Queue), Out of Office or Offline;
(b) no write of the presence Genesys already shows;
(c) a status the agent set (by hand, or by leaving a hands-off state) is not overwritten until the Teams
    mapped target changes after it — except by "sync now", and by resume() when Teams changed while the
    sync was held (resume's docstring promises to act on a change missed meanwhile);
(d) a restore writes back exactly what Genesys showed just before our first write of the episode, and
    only while Genesys shows our own last write (an episode ends when anything else changes Genesys or
    a hands-off state is seen);
(e) at most loop_max_writes confirmed writes in any loop_window_seconds (resume() resets the count);
(f) decide() never raises — every run calls it after every event, and one test feeds it arbitrary input;
(g) a write carries what Teams asks for now, and (except the first action of "sync now") only after
    Teams has asked for it for dwell_seconds (rule 6).

Each invariant is its own test so one broken rule does not hide another. Runs are derandomized; on
failure the falsifying event list is printed, followed by a step-by-step trace of the run. Known
reproductions are pinned with @example.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from sync_world import CATALOG, DEFINITIONS, Driver, Step, genesys, on_queue, teams

from tray_agent.core.decide import (
    Decision,
    SyncConfig,
    SyncMemory,
    SyncStatus,
    Write,
    confirm_write,
    decide,
    pause,
    resume,
    sync_now,
)
from tray_agent.core.mapping import PresenceMapping
from tray_agent.core.presence import (
    GRAPH_ACTIVITY,
    GRAPH_AVAILABILITY,
    OFF_QUEUE,
    GenesysState,
    PresenceCatalog,
    PresenceDefinition,
    TeamsPresence,
)

CONFIG = SyncConfig(
    dwell_seconds=10.0,
    max_genesys_staleness=120.0,
    loop_max_writes=3,
    loop_window_seconds=300.0,
    loop_cooldown_seconds=600.0,  # ≥ the window, as in the defaults
)
SETTINGS = settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# --- events -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamsChanges:
    availability: str
    activity: str


@dataclass(frozen=True)
class TeamsUnreadable:
    pass


@dataclass(frozen=True)
class AgentSets:
    name: str  # a label, or RETIRED_ID: a presence the org deactivated but the agent still shows


@dataclass(frozen=True)
class GoesOnQueue:
    pass


@dataclass(frozen=True)
class GoesOffQueue:
    lands_on: str


@dataclass(frozen=True)
class RoutingBecomes:
    status: str


@dataclass(frozen=True)
class OutOfOffice:
    active: bool


@dataclass(frozen=True)
class TimePasses:
    seconds: float
    genesys_reconfirmed: bool


@dataclass(frozen=True)
class Pause:
    seconds: float  # inf: until resumed


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class SyncNow:
    pass


@dataclass(frozen=True)
class NextWriteFails:
    pass


Event = (
    TeamsChanges
    | TeamsUnreadable
    | AgentSets
    | GoesOnQueue
    | GoesOffQueue
    | RoutingBecomes
    | OutOfOffice
    | TimePasses
    | Pause
    | Resume
    | SyncNow
    | NextWriteFails
)

Start = tuple[tuple[str, str], str]  # (Teams availability, activity), what Genesys shows
RETIRED_ID = "id-retired"  # shown by Genesys, unknown to the catalog
GRAPH_VALUES = sorted(set(GRAPH_AVAILABILITY + GRAPH_ACTIVITY))
REAL_PAIRS = [
    ("Available", "Available"),
    ("Busy", "Busy"),
    ("Busy", "InACall"),
    ("Busy", "InAConferenceCall"),
    ("Busy", "InAMeeting"),
    ("DoNotDisturb", "DoNotDisturb"),
    ("DoNotDisturb", "Presenting"),
    ("DoNotDisturb", "Focusing"),
    ("Away", "Away"),
    ("BeRightBack", "BeRightBack"),
    ("Offline", "OffWork"),
    ("Available", "OutOfOffice"),
    ("AvailableIdle", "Inactive"),
    ("PresenceUnknown", "PresenceUnknown"),
]
AGENT_PICKS = [d.label for d in DEFINITIONS if d.system_presence != "ON_QUEUE"] + [RETIRED_ID]
ROUTING = ["OFF_QUEUE", "IDLE", "INTERACTING", "NOT_RESPONDING", "COMMUNICATING"]


def _casings(value: str) -> list[str]:
    return sorted({value, value.lower(), value.upper(), value[:1].lower() + value[1:]})


ODD_VALUES = ["SomethingNew", "Focusing", "", " Busy ", "busy\n", "Ünbekannt", "InAMeeting2"]
ANY_GRAPH_VALUE = sorted({spelling for value in GRAPH_VALUES for spelling in _casings(value)} | set(ODD_VALUES))
REAL_CHANGES = sorted(
    {TeamsChanges(a, b) for pair in REAL_PAIRS for a, b in zip(_casings(pair[0]), _casings(pair[1]), strict=False)},
    key=repr,
)
teams_changes = st.one_of(
    st.sampled_from(REAL_CHANGES),
    st.builds(TeamsChanges, st.sampled_from(ANY_GRAPH_VALUE), st.sampled_from(ANY_GRAPH_VALUE)),
)
time_passes = st.builds(
    TimePasses,
    st.sampled_from([0.5, 1.0, 3.0, 5.0, 9.99, 10.0, 10.01, 11.0, 30.0, 61.0, 119.0, 121.0, 301.0, 601.0, 1801.0]),
    st.sampled_from([True, True, True, True, False]),
)
agent_sets = st.sampled_from([AgentSets(name) for name in AGENT_PICKS])


def weighted(*choices: tuple[int, st.SearchStrategy[Event]]) -> st.SearchStrategy[Event]:
    """Pick a strategy with probability proportional to its weight, then draw from it."""
    return st.sampled_from([strategy for weight, strategy in choices for _ in range(weight)]).flatmap(lambda s: s)


# Time and Teams move most, the agent now and then; the rest is rarer, and hands-off states are left about as
# often as they are entered.
events = weighted(
    (8, time_passes),
    (8, teams_changes),
    (4, agent_sets),
    (2, st.sampled_from([GoesOffQueue(name) for name in ("Available", "Away", "Busy", "Meeting", "Break")])),
    (2, st.sampled_from([GoesOnQueue(), *(RoutingBecomes(status) for status in ROUTING)])),
    (2, st.sampled_from([OutOfOffice(True), OutOfOffice(False), OutOfOffice(False)])),
    (1, st.sampled_from([Pause(30.0), Pause(600.0), Pause(float("inf"))])),
    (1, st.just(Resume())),
    (1, st.just(SyncNow())),
    (1, st.just(NextWriteFails())),
    (1, st.just(TeamsUnreadable())),
)
starts = st.tuples(
    st.sampled_from(REAL_PAIRS),
    st.sampled_from(["Available", "Busy", "Break", "Meeting", "On Queue", RETIRED_ID]),
)
days = st.lists(events, min_size=4, max_size=30)
flapping_days = st.lists(
    st.sampled_from(
        [
            *(TeamsChanges(value, value) for value in ("Busy", "Available", "Away")),
            *(TimePasses(seconds, True) for seconds in (1.0, 10.0, 11.0, 20.0, 60.0, 299.0, 301.0)),
            Resume(),
            Pause(30.0),
            Pause(float("inf")),
            AgentSets("Break"),
            AgentSets("Available"),
            SyncNow(),
            GoesOnQueue(),
            GoesOffQueue("Available"),
        ]
    ),
    min_size=4,
    max_size=60,
)

# --- the run and its model ----------------------------------------------------------------------------


def is_hands_off(state: GenesysState) -> bool:
    """Rule 3 as the brief words it: On Queue (routing ≠ OFF_QUEUE or presence On Queue), OOO, or Offline."""
    return (
        state.routing_status != OFF_QUEUE
        or state.system_presence == "ON_QUEUE"
        or state.out_of_office
        or state.system_presence == "OFFLINE"
    )


def _visible(state: GenesysState) -> tuple[str, str, str, bool]:
    return state.presence_id, state.system_presence, state.routing_status, state.out_of_office


@dataclass
class Episode:
    restore_point: str  # what Genesys showed just before our first write
    last_written: str


@dataclass
class Run:
    """The world (through the driver) plus an independent model of what the agent and Teams did."""

    driver: Driver
    # Teams
    target: str | None = None  # what Teams asks for (mapped), the last one we could read
    target_since: float = 0.0
    # the agent's own status in Genesys
    protected: str | None = None  # why the current Genesys status is the agent's (None: it is not)
    sync_now_pending: bool = False  # sync now pressed, and not yet used up (see decide_and_check)
    paused_until: float | None = None
    teams_changed_while_held: bool = False
    # our writes
    episode: Episode | None = None
    write_times: list[float] = field(default_factory=list)  # confirmed writes since the last resume()
    fail_next_write: bool = False
    violations: dict[str, list[str]] = field(default_factory=dict)
    trace: list[object] = field(default_factory=list)  # events and (now, teams, genesys, fresh, decision, applied)

    @property
    def now(self) -> float:
        return self.driver.now

    def violated(self, invariant: str, message: str) -> None:
        self.violations.setdefault(invariant, []).append(f"t={self.now:g}: {message}")

    # --- events ---

    def held(self) -> bool:
        paused = self.paused_until is not None and self.now < self.paused_until
        tripped = self.driver.memory.tripped_until is not None and self.now < self.driver.memory.tripped_until
        return paused or tripped

    def teams_now(self, value: TeamsPresence | None) -> None:
        self.driver.teams = value
        target = CONFIG.mapping.signal_for(value) if value is not None else self.target
        if target != self.target:
            self.target, self.target_since = target, self.now
            self.protected = None
            if self.held():
                self.teams_changed_while_held = True

    def genesys_now(self, state: GenesysState, why: str) -> None:
        before = self.driver.genesys
        self.driver.genesys = state
        if before is None or _visible(before) != _visible(state):
            self.protected = why

    def apply(self, event: Event) -> None:
        d = self.driver
        g = d.genesys
        assert g is not None
        match event:
            case TimePasses(seconds, reconfirmed):
                d.now += seconds
                if reconfirmed:
                    d.genesys = replace(g, confirmed_at=d.now)
            case TeamsChanges(availability, activity):
                self.teams_now(TeamsPresence(availability, activity))
            case TeamsUnreadable():
                self.teams_now(None)
            case AgentSets(name):
                if name == RETIRED_ID:
                    presence_id, system = RETIRED_ID, "AWAY"
                else:
                    shown = CATALOG.by_name(name)
                    assert shown is not None
                    presence_id, system = shown.id, shown.system_presence
                if presence_id != g.presence_id:
                    self.genesys_now(
                        replace(
                            g,
                            presence_id=presence_id,
                            system_presence=system,
                            routing_status=OFF_QUEUE,
                            confirmed_at=d.now,
                        ),
                        f"agent picked {name}",
                    )
            case GoesOnQueue():
                self.genesys_now(replace(on_queue(at=d.now), out_of_office=g.out_of_office), "went on queue")
            case GoesOffQueue(lands_on):
                self.genesys_now(
                    replace(genesys(lands_on, at=d.now), out_of_office=g.out_of_office),
                    f"went off queue onto {lands_on}",
                )
            case RoutingBecomes(status):
                self.genesys_now(replace(g, routing_status=status, confirmed_at=d.now), f"routing {status}")
            case OutOfOffice(active):
                self.genesys_now(replace(g, out_of_office=active, confirmed_at=d.now), f"out of office {active}")
            case Pause(seconds):
                if not self.held():
                    self.teams_changed_while_held = False
                d.memory = pause(d.memory, d.now + seconds)
                self.paused_until = d.now + seconds
            case Resume():
                d.memory = resume(d.memory)
                if self.teams_changed_while_held:
                    self.protected = None  # resume() acts on a change missed meanwhile, as documented
                self.paused_until = None
                self.teams_changed_while_held = False
                self.write_times = []  # resume() clears the loop breaker's count, as documented
            case SyncNow():
                d.memory = sync_now(d.memory)
                self.protected = None
                self.sync_now_pending = True
            case NextWriteFails():
                self.fail_next_write = True

    # --- the decision and the invariants ---

    def decide_and_check(self) -> None:
        d = self.driver
        if not self.held():
            self.teams_changed_while_held = False
        seen, teams_seen = d.genesys, d.teams
        assert seen is not None
        fresh = d.now - seen.confirmed_at <= CONFIG.max_genesys_staleness
        if fresh and self.episode is not None and (seen.presence_id != self.episode.last_written or is_hands_off(seen)):
            self.episode = None

        d.writes_fail = self.fail_next_write
        decision = d.step(d.now, reconfirm=False)  # (f): must not raise
        step = d.steps[-1]
        if decision.write is not None:
            self.check_write(decision.write, seen, decision)
            self.fail_next_write = False
        if step.applied and decision.write is not None:
            self.confirmed(decision.write, seen)
        # "Sync now" applies the first Teams state it can act on without the dwell: it waits through a pause,
        # a tripped breaker, an unreadable Teams or a stale Genesys, and a failed write is retried; any other
        # decision (written, nothing to change, hands off, …) uses it up.
        retrying = decision.write is not None and not step.applied
        if decision.status not in (SyncStatus.PAUSED, SyncStatus.LOOP_BREAKER, SyncStatus.WAITING) and not retrying:
            self.sync_now_pending = False
        self.trace.append((d.now, teams_seen, seen, fresh, decision, step.applied))

    def story(self) -> str:
        lines = []
        for entry in self.trace:
            if not isinstance(entry, tuple):
                lines.append(f"    {entry}")
                continue
            now, teams_seen, seen, fresh, decision, applied = entry
            wrote = f" WRITE {decision.write}{'' if applied else ' (failed)'}" if decision.write else ""
            lines.append(
                f"t={now:g} teams={teams_seen.describe() if teams_seen else None} "
                f"genesys={seen.presence_id}/{seen.routing_status}{'/OOO' if seen.out_of_office else ''}"
                f"{'' if fresh else '/stale'} → {decision.status.value}{wrote}"
            )
        return "\n".join(lines)

    def check_write(self, write: Write, seen: GenesysState, decision: Decision) -> None:
        # (a) never a write while On Queue / Out of Office / Offline
        if is_hands_off(seen):
            self.violated("a", f"wrote {write} while Genesys showed {seen}")
        # (b) never a write whose target is the current presence
        if write.presence_id == seen.presence_id:
            self.violated("b", f"wrote {write} although Genesys already showed it")
        # (c) a status the agent set by hand is not overwritten until Teams changes after it (or sync now)
        if self.protected is not None:
            self.violated(
                "c", f"wrote {write} over the agent's own status ({self.protected}) with Teams unchanged since"
            )
        # (d) a restore puts back exactly what was there before our first write, over our own last write
        if write.restore:
            if self.episode is None:
                self.violated("d", f"restore {write} with no episode of ours in progress")
            elif write.presence_id != self.episode.restore_point or seen.presence_id != self.episode.last_written:
                self.violated(
                    "d", f"restore {write} but the episode is {self.episode} and Genesys shows {seen.presence_id}"
                )
        # (g) a write carries what Teams asks for now, and it has held for the dwell (unless sync now)
        if write.signal != self.target:
            self.violated("g", f"wrote {write} but Teams asks for {self.target!r}")
        elif not self.sync_now_pending and self.now - self.target_since < CONFIG.dwell_seconds:
            self.violated("g", f"wrote {write} {self.now - self.target_since:g}s after Teams asked for it")

    def confirmed(self, write: Write, before: GenesysState) -> None:
        self.protected = None
        if write.restore:
            self.episode = None
        elif self.episode is None:
            self.episode = Episode(restore_point=before.presence_id, last_written=write.presence_id)
        else:
            self.episode.last_written = write.presence_id
        self.write_times.append(self.now)
        # (e) at most loop_max_writes writes in any loop_window_seconds
        in_window = [t for t in self.write_times if self.now - t < CONFIG.loop_window_seconds]
        if len(in_window) > CONFIG.loop_max_writes:
            self.violated("e", f"{len(in_window)} writes within {CONFIG.loop_window_seconds:g}s: {in_window}")


def run_day(start: Start, day: list[Event]) -> Run:
    (availability, activity), shown = start
    driver = Driver(config=CONFIG, now=0.0, system_presence_of={RETIRED_ID: "AWAY"})
    if shown == RETIRED_ID:
        state = GenesysState(RETIRED_ID, "AWAY", OFF_QUEUE, False, confirmed_at=0.0)
    elif shown == "On Queue":
        state = on_queue(at=0.0)
    else:
        state = genesys(shown, at=0.0)
    run = Run(driver)
    driver.genesys = state
    run.teams_now(teams(availability, activity))
    run.decide_and_check()
    for event in day:
        run.trace.append(event)
        run.apply(event)
        run.decide_and_check()
    if run.violations and currently_in_test_context():
        note(run.story())
    return run


def check(invariant: str) -> Callable[[Start, list[Event]], None]:
    def test(start: Start, day: list[Event]) -> None:
        run = run_day(start, day)
        found = run.violations.get(invariant, [])
        assert not found, f"invariant ({invariant}) broken:\n" + "\n".join(found)

    return test


# --- the invariants, one test each --------------------------------------------------------------------


@SETTINGS
@given(starts, days)
def test_a_never_writes_while_on_queue_out_of_office_or_offline(start: Start, day: list[Event]) -> None:
    check("a")(start, day)


@SETTINGS
@given(starts, days)
def test_b_never_writes_what_genesys_already_shows(start: Start, day: list[Event]) -> None:
    check("b")(start, day)


SYNCED_ON_AVAILABLE = (("Available", "Available"), "Available")


@SETTINGS
@given(starts, days)
@example(  # the agent picks Break while Teams' meeting is settling
    SYNCED_ON_AVAILABLE,
    [
        TimePasses(60, True),
        TeamsChanges("Busy", "InAMeeting"),
        TimePasses(5, True),
        AgentSets("Break"),
        TimePasses(5, True),
        TimePasses(60, True),
    ],
)
def test_c_never_overwrites_a_status_the_agent_set_until_teams_changes_after_it(start: Start, day: list[Event]) -> None:
    check("c")(start, day)


@SETTINGS
@given(starts, days)
def test_d_a_restore_puts_back_exactly_the_status_from_before_our_first_write(start: Start, day: list[Event]) -> None:
    check("d")(start, day)


@SETTINGS
@given(starts, days)
def test_e_never_more_than_loop_max_writes_in_a_window(start: Start, day: list[Event]) -> None:
    check("e")(start, day)


@SETTINGS
@given(starts, flapping_days)
def test_e_never_more_than_loop_max_writes_in_a_window_when_teams_flaps(start: Start, day: list[Event]) -> None:
    check("e")(start, day)


@SETTINGS
@given(starts, days)
def test_g_every_write_is_what_teams_asks_for_after_it_held_for_the_dwell(start: Start, day: list[Event]) -> None:
    check("g")(start, day)


@SETTINGS
@given(starts, flapping_days)
@example(  # a 3-second blip, and the same change again minutes later
    SYNCED_ON_AVAILABLE,
    [
        TimePasses(11, True),
        TeamsChanges("Busy", "Busy"),
        TimePasses(3, True),
        TeamsChanges("Available", "Available"),
        TimePasses(301, True),
        TeamsChanges("Busy", "Busy"),
    ],
)
@example(  # sync now pressed while on queue, an ordinary change later
    SYNCED_ON_AVAILABLE,
    [
        TimePasses(11, True),
        GoesOnQueue(),
        SyncNow(),
        GoesOffQueue("Available"),
        TimePasses(3600, True),
        TeamsChanges("Busy", "Busy"),
    ],
)
def test_g_every_write_held_for_the_dwell_when_teams_flaps(start: Start, day: list[Event]) -> None:
    check("g")(start, day)


# (f) decide never raises: every run above calls it after every event; here it also gets arbitrary inputs.

times = st.floats(-1e9, 1e10, allow_nan=False, allow_infinity=False)
texts = st.text(max_size=12)
graph_or_text = st.sampled_from(ANY_GRAPH_VALUE) | texts
any_teams = st.none() | st.builds(TeamsPresence, graph_or_text, graph_or_text, texts, st.booleans())
any_genesys = st.none() | st.builds(
    GenesysState,
    st.sampled_from([d.id for d in DEFINITIONS] + [RETIRED_ID, ""]) | texts,
    st.sampled_from(["ON_QUEUE", "AVAILABLE", "OFFLINE", "BUSY", "MEETING", ""]) | texts,
    st.sampled_from([*ROUTING, ""]) | texts,
    st.booleans(),
    times,
    times,
)
signals = st.none() | st.sampled_from(["", "Available", "Meeting|Busy", "Busy", "Nope|Away"]) | texts
ids = st.none() | st.sampled_from([d.id for d in DEFINITIONS]) | texts
any_memory = st.builds(
    SyncMemory,
    acted_signal=signals,
    candidate_signal=signals,
    candidate_since=times,
    owned_presence_id=ids,
    restore_presence_id=ids,
    baseline_signal=signals,
    manual=st.booleans(),
    hands_off=st.none() | st.sampled_from(list(SyncStatus)),
    write_times=st.lists(times, max_size=10).map(tuple),
    paused_until=st.none() | times | st.just(float("inf")),
    tripped_until=st.none() | times,
    force=st.booleans(),
)
mapping_overrides = st.dictionaries(
    st.sampled_from(GRAPH_VALUES) | st.text(min_size=1, max_size=8).filter(str.strip),
    # "On Queue" and "Offline" are refused by PresenceMapping.build (see test_mapping.py).
    st.none() | st.sampled_from(["", "Busy", "Teams call", "Meeting|Busy", "Nope", "Break", "lunch"]),
    max_size=4,
)
any_config = st.builds(
    SyncConfig,
    mapping=mapping_overrides.map(PresenceMapping.build),
    dwell_seconds=st.floats(0, 1e4),
    max_genesys_staleness=st.floats(0, 1e5),
    loop_max_writes=st.integers(0, 20),
    loop_window_seconds=st.floats(0, 1e5),
    loop_cooldown_seconds=st.floats(0, 1e5),
)
any_catalog = st.lists(
    st.builds(
        PresenceDefinition,
        ids.filter(lambda v: v is not None),
        st.sampled_from(["BUSY", "ON_QUEUE", ""]),
        texts,
        st.booleans(),
        st.booleans(),
    ),
    max_size=5,
).map(lambda extra: PresenceCatalog([*DEFINITIONS, *extra]))


@settings(max_examples=100, derandomize=True, database=None, deadline=None)
@given(any_teams, any_genesys, any_catalog, any_memory, any_config, times)
def test_f_decide_never_raises_whatever_it_is_given(
    teams_now: TeamsPresence | None,
    genesys_now: GenesysState | None,
    catalog: PresenceCatalog,
    memory: SyncMemory,
    config: SyncConfig,
    now: float,
) -> None:
    decision = decide(teams_now, genesys_now, catalog, memory, config, now)
    assert isinstance(decision, Decision)
    assert isinstance(decision.status, SyncStatus)
    assert decision.reason
    if decision.write is not None:
        assert genesys_now is not None
        confirm_write(decision.memory, decision.write, genesys_now, now)


@pytest.mark.parametrize("invariant", ["a", "b", "c", "d", "e", "g"])
def test_the_model_sees_a_plain_meeting_day_as_clean(invariant: str) -> None:
    """A sanity check of the checker itself: the meeting story breaks no invariant, and it does write."""
    day: list[Event] = [
        TimePasses(60, True),
        AgentSets("Break"),
        TimePasses(60, True),
        TeamsChanges("Busy", "InAMeeting"),
        TimePasses(10, True),
        TimePasses(900, True),
        TeamsChanges("Available", "Available"),
        TimePasses(10, True),
    ]
    run = run_day((("Available", "Available"), "Available"), day)
    assert not run.violations.get(invariant), run.violations
    assert [w.write.restore for w in run.driver.writes] == [False, True]
    assert isinstance(run.driver.steps[-1], Step)
