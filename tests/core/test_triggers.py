"""Local signals: Teams is read when something happens, inside the agent's share of the tenant budget.

Stories drive the real protocol (tests/core/world.py). Graph shows a Teams change a few seconds
after the client does, so a story sets the Teams state Graph answers with at the moment Graph has it.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.core.org import TEAMS_AVAILABLE
from tests.core.world import World
from tray_agent.core.events import TriggersAvailable
from tray_agent.core.protocol import ProtocolTiming
from tray_agent.core.triggers import (
    BURST,
    FLEET_SHARE,
    TENANT_READS_PER_30_S,
    SignalKind,
    TokenBucket,
    TriggerTiming,
    fleet_rate,
    plan_reads,
    spread,
    timer_interval,
)

GRAPH_LAG = 3.0  # the simulator's default propagation delay


def with_triggers(**triggers: object) -> World:
    timing = ProtocolTiming(triggers=replace(TriggerTiming(), **triggers))  # type: ignore[arg-type]
    world = World.synced(TEAMS_AVAILABLE, "Available", timing=timing)
    world.feed(TriggersAvailable(True, world.now))
    return world


# --- a signal brings the change to Genesys in seconds ------------------------------------------------


def test_an_ad_hoc_call_reaches_genesys_within_ten_seconds_with_the_microphone_signal() -> None:
    world = with_triggers()
    world.run_until(1000)
    world.signal(SignalKind.DEVICE_IN_USE, at=1000.5)  # the agent answers a Teams call (not at :00/:30)
    world.teams_shows("Busy", "InACall", at=1000.5 + GRAPH_LAG)
    world.run_until(1020)
    assert world.written == ["Busy"], world.story()
    assert world.writes[0].at - 1000.5 <= 10.0  # the follow-up read saw it; the signal vouched for it


def test_the_end_of_the_call_restores_the_earlier_status_as_promptly() -> None:
    world = with_triggers()
    world.agent_sets("Break", at=900)
    world.run_until(1000)
    world.signal(SignalKind.DEVICE_IN_USE, at=1000.5)
    world.teams_shows("Busy", "InACall", at=1003.5)
    world.signal(SignalKind.DEVICE_RELEASED, at=1300.5)
    world.teams_shows("Available", at=1303.5)
    world.run_until(1320)
    assert world.written == ["Busy", "Break"], world.story()
    assert world.writes[1].at - 1300.5 <= 10.0


def test_an_unknown_signal_only_reads_it_never_stands_in_for_the_second_reading() -> None:
    world = with_triggers()
    world.teams_shows("Busy", "InACall", at=995)  # Graph already shows it; the timer has not read it yet
    world.signal(SignalKind.UNKNOWN, at=1000.5)
    world.run_until(1000.5 + 2)
    assert world.written == [] and world.readings[-1].at >= 1000.5
    world.run_until(1000.5 + 60)
    assert world.written == ["Busy"]
    first_busy = next(r.at for r in world.readings if r.teams is not None and r.teams.availability == "Busy")
    assert world.writes[0].at >= first_busy + world.config.dwell_seconds  # the usual second reading


def test_a_signal_without_a_change_in_teams_writes_nothing() -> None:
    world = with_triggers()
    world.signal(SignalKind.DEVICE_IN_USE, at=1000.5)  # another app took the microphone
    world.run_until(1100)
    assert world.written == [] and len(world.readings_between(1000.5, 1100)) == 2


# --- the locked PC -----------------------------------------------------------------------------------


def test_locking_the_pc_turns_genesys_away_once_teams_has_turned_away() -> None:
    world = with_triggers()
    world.signal(SignalKind.SESSION_LOCKED, at=1000)
    world.teams_shows("Away", at=1000 + 45)  # the client turned Away on its own clock
    world.run_until(1000 + 45 + 200)
    assert world.written == ["Away"], world.story()
    seen = next(r.at for r in world.readings if r.teams is not None and r.teams.availability == "Away")
    assert world.writes[0].at - seen <= 30.0  # no second reading needed: the lock vouches for it


def test_while_locked_the_agent_is_quiet_once_teams_shows_away_and_reads_again_at_unlock() -> None:
    world = with_triggers()
    world.signal(SignalKind.SESSION_LOCKED, at=1000)
    world.teams_shows("Away", at=1010)
    world.run_until(1200)
    assert world.written == ["Away"]
    world.run_until(4000)
    assert world.readings_between(1200, 4000) == []  # timer reads wait for someone at the desk
    world.signal(SignalKind.SESSION_UNLOCKED, at=4000.5)
    world.teams_shows("Available", at=4000.5 + GRAPH_LAG)
    world.run_until(4020)
    assert len(world.readings_between(4000.5, 4020)) == 2
    assert world.written == ["Away", "Available"], world.story()


def test_locked_during_a_call_teams_stays_busy_and_the_rereads_give_up() -> None:
    timing = TriggerTiming()
    world = with_triggers()
    world.teams_shows("Busy", "InACall", at=900)
    world.run_until(990)
    world.signal(SignalKind.SESSION_LOCKED, at=1000)
    world.run_until(5000)
    locked_reads = world.readings_between(1000, 5000)
    assert locked_reads and len(locked_reads) <= 1 + timing.give_up_while_locked / timing.reread_while_locked + 1
    give_up = 1000 + timing.give_up_while_locked + timing.reread_while_locked + 2 * world.latency
    assert locked_reads[-1].at <= give_up


# --- the timer becomes a safety net ------------------------------------------------------------------


def test_with_signals_available_the_timer_reads_only_every_five_minutes() -> None:
    world = with_triggers()
    world.run_until(1000)
    world.run_until(4000)
    gaps = [b.at - a.at for a, b in itertools.pairwise(world.readings_between(1000, 4000))]
    assert gaps and min(gaps) >= 0.9 * 300  # the poll jitter is ±10 %


def test_without_signal_sources_the_timer_keeps_its_interval() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.run_until(4000)
    gaps = [b.at - a.at for a, b in itertools.pairwise(world.readings_between(1000, 4000))]
    assert max(gaps) <= 1.1 * 60 + world.latency  # the next read is planned when the answer arrives


def test_the_timer_of_a_large_fleet_uses_at_most_half_of_the_agents_share() -> None:
    assert timer_interval(TriggerTiming(fleet_size=20_000)) == 2 / fleet_rate(20_000)  # 1,000 s
    assert timer_interval(TriggerTiming(fleet_size=100)) == 300


# --- the budget ------------------------------------------------------------------------------------


def test_the_budget_formula() -> None:
    assert fleet_rate(1) == FLEET_SHARE * TENANT_READS_PER_30_S / 30
    assert fleet_rate(5000) * 5000 * 30 == FLEET_SHARE * TENANT_READS_PER_30_S  # 1,200 per 30 s for the fleet


def test_a_flapping_device_is_held_to_the_agents_share() -> None:
    world = with_triggers(fleet_size=5000)
    for n in range(60):  # a headset that connects and drops every second for a minute
        world.signal(SignalKind.DEVICE_IN_USE if n % 2 else SignalKind.DEVICE_RELEASED, at=1000.5 + n)
    world.run_until(1000.5 + 60)
    assert len(world.readings_between(1000.5, 1060.5)) <= BURST + fleet_rate(5000) * 60


@settings(max_examples=200, deadline=None)
@given(
    fleet=st.integers(1, 50_000),
    times=st.lists(st.floats(0, 3600, allow_nan=False), min_size=1, max_size=80),
)
def test_no_agent_ever_reads_more_than_its_bucket_allows(fleet: int, times: list[float]) -> None:
    bucket, taken = TokenBucket.for_fleet(fleet, 0.0), []
    for at in sorted(times):
        ready = bucket.available_at(at)
        bucket = bucket.take(ready)
        taken.append(ready)
    rate = fleet_rate(fleet)
    for start, end in itertools.combinations(taken, 2):
        between = sum(start <= t <= end for t in taken)
        assert between <= BURST + rate * (end - start) + 1e-6


# --- storms: an all-hands at 12:00 -----------------------------------------------------------------


def storm_peak(fleet: int, attendees: int | None, seed: int = 1) -> int:
    """Every agent's microphone opens within the first minute of 12:00; the most reads in any 30 s."""
    rng, noon, reads = random.Random(seed), 12 * 3600.0, []
    timing = TriggerTiming(fleet_size=fleet)
    for _ in range(fleet):
        at = noon + rng.uniform(0, 60)
        reads += [read.at for read in plan_reads(SignalKind.DEVICE_IN_USE, at, timing, rng.random(), attendees).reads]
    reads.sort()
    peak, start = 0, 0
    for end, at in enumerate(reads):
        while reads[start] < at - 30:
            start += 1
        peak = max(peak, end - start + 1)
    return peak


def test_an_all_hands_of_5000_agents_stays_inside_the_tenant_budget() -> None:
    assert storm_peak(5000, attendees=None) <= TENANT_READS_PER_30_S
    assert storm_peak(5000, attendees=5000) <= TENANT_READS_PER_30_S


def test_an_all_hands_of_20000_agents_stays_inside_the_tenant_budget() -> None:
    assert storm_peak(20_000, attendees=None) <= TENANT_READS_PER_30_S


def test_a_small_meeting_on_the_hour_is_spread_like_the_whole_fleet_since_many_others_start_with_it() -> None:
    # about a fifth of a contact centre starts a meeting at each :00 and :30 (the fleet bench)
    assert spread(SignalKind.MEETING_STARTS, 12 * 3600.0, 5000, attendees=5) == 250.0
    assert spread(SignalKind.DEVICE_IN_USE, 12 * 3600.0 + 30, 5000, attendees=None) == 250.0  # 12:00: maybe shared
    assert spread(SignalKind.DEVICE_RELEASED, 12.75 * 3600.0 + 60, 5000, attendees=None) == 250.0  # 12:46
    assert spread(SignalKind.DEVICE_IN_USE, 12 * 3600.0 + 420, 5000, attendees=None) <= 0.05  # 12:07: ad hoc
    assert spread(SignalKind.SESSION_UNLOCKED, 12 * 3600.0, 5000, attendees=None) <= 0.05  # always the agent's own
    assert spread(SignalKind.MEETING_ENDS, 12 * 3600.0 + 420, 5000, attendees=8) == 0.4  # off the quarter: its 8


def test_a_read_spread_past_graphs_lag_needs_no_follow_up_and_still_counts_as_the_signals() -> None:
    timing = TriggerTiming(fleet_size=5000)
    plan = plan_reads(SignalKind.MEETING_STARTS, 12 * 3600.0, timing, slot=0.5, attendees=40)
    assert [read.at - 12 * 3600.0 for read in plan.reads] == [125.0]
    assert plan.backed_until == 12 * 3600.0 + 125.0 + timing.window
    own = plan_reads(SignalKind.DEVICE_IN_USE, 12 * 3600.0 + 420, timing, slot=0.5)
    assert [round(read.at - (12 * 3600.0 + 420), 3) for read in own.reads] == [0.025, 5.025]


def test_one_read_serves_the_calendar_and_the_microphone_opening_after_it() -> None:
    world = with_triggers(fleet_size=5000)
    noon = 12 * 3600.0
    world.run_until(noon)
    world.signal(SignalKind.MEETING_STARTS, at=noon, attendees=5000)
    world.signal(SignalKind.DEVICE_IN_USE, at=noon + 40)  # the agent joins: counted as the all-hands'
    world.run_until(noon + 600)
    whys = [reading.why for reading in world.readings_between(noon, noon + 600)]
    assert whys.count("a calendar meeting starts") == 1, world.story()
    assert not any(why.startswith("the microphone") for why in whys)  # only the timer's besides


def test_an_own_signal_during_a_storm_reads_at_once_and_serves_the_storms_read_too() -> None:
    world = with_triggers(fleet_size=5000)
    noon = 12 * 3600.0
    world.run_until(noon)
    world.signal(SignalKind.MEETING_STARTS, at=noon, attendees=5000)
    world.signal(SignalKind.SESSION_UNLOCKED, at=noon + 420)  # not the meeting's: the agent's own
    world.run_until(noon + 1000)
    reads = world.readings_between(noon, noon + 1000)
    assert reads[0].at - (noon + 420) <= 1.0, world.story()
