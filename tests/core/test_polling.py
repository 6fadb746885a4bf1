"""The Graph polling schedule: inside the tenant's budget, polite on 429, never in lockstep."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tray_agent.core.polling import Outcome, PollPolicy, PollState, after_poll, fleet_floor

POLICY = PollPolicy(interval=60.0, jitter=0.1)


@pytest.mark.parametrize(
    ("agents", "floor"),
    [(0, 0.0), (100, 3.0), (1000, 25.0), (5000, 125.0), (20000, 500.0)],
)
def test_the_fleet_floor_formula_keeps_everyone_inside_80_percent_of_the_budget(agents: int, floor: float) -> None:
    assert fleet_floor(agents) == floor
    if agents:
        assert agents * 30 / floor <= 1500 * 0.8 + 1e-9


def test_the_floor_only_ever_lengthens_the_interval() -> None:
    assert PollPolicy(interval=60, floor=125).base_interval == 125
    assert PollPolicy(interval=60, floor=10).base_interval == 60


@given(st.floats(min_value=0, max_value=0.999999))
def test_a_successful_read_schedules_the_next_within_the_jitter_band(u: float) -> None:
    state = after_poll(PollState(), POLICY, now=1000.0, outcome=Outcome.OK, u=u)
    assert 1000 + 54 <= state.next_at <= 1000 + 66


@given(st.floats(min_value=0, max_value=0.999999), st.floats(min_value=0, max_value=600))
def test_a_429_is_never_retried_before_retry_after(u: float, retry_after: float) -> None:
    state = after_poll(PollState(), POLICY, now=0.0, outcome=Outcome.THROTTLED, u=u, retry_after=retry_after)
    assert state.next_at >= retry_after
    assert state.not_before == state.next_at


def test_429s_spread_retries_over_an_interval_so_a_fleet_does_not_retry_in_lockstep() -> None:
    rng = random.Random(7)
    retries = [
        after_poll(PollState(), POLICY, 0.0, Outcome.THROTTLED, rng.random(), retry_after=2.0).next_at
        for _ in range(1000)
    ]
    in_any_second = max(sum(1 for r in retries if s <= r < s + 1) for s in range(0, 63))
    assert min(retries) >= 2.0 and max(retries) <= 62.0
    assert in_any_second < 40  # ~1000/60 per second on average: no spike


def test_after_several_429s_the_catch_up_read_still_comes_within_retry_after_and_one_interval() -> None:
    state = PollState()
    for _ in range(3):
        state = after_poll(state, POLICY, 0.0, Outcome.THROTTLED, 0.999, retry_after=45.5)
    assert state.pressure == 8.0  # the reads after it are stretched ...
    assert state.next_at <= 45.5 + 60  # ... but not the one that catches up with Teams


def test_pressure_stretches_intervals_after_429s_and_eases_back_with_successes() -> None:
    state = PollState()
    for _ in range(3):
        state = after_poll(state, POLICY, 0.0, Outcome.THROTTLED, 0.5, retry_after=1.0)
    assert state.pressure == 8.0
    intervals = []
    now = 0.0
    for _ in range(25):
        state = after_poll(state, POLICY, now, Outcome.OK, 0.5)
        intervals.append(state.next_at - now)
        now = state.next_at
    assert intervals[0] == pytest.approx(60 * 8 * 0.9)
    assert intervals == sorted(intervals, reverse=True)
    assert intervals[19] == pytest.approx(60.0)  # 8 × 0.9²⁰ < 1: back to the plain interval
    one_429 = after_poll(PollState(), POLICY, 0.0, Outcome.THROTTLED, 0.5, retry_after=1.0)
    reads_back = 0
    while one_429.pressure > 1.0:
        one_429 = after_poll(one_429, POLICY, 0.0, Outcome.OK, 0.5)
        reads_back += 1
    assert reads_back == 7  # a single 429 costs a few slower reads, not an hour


def test_failures_back_off_exponentially_up_to_the_cap() -> None:
    state = PollState()
    waits = []
    for _ in range(12):
        state = after_poll(state, POLICY, 0.0, Outcome.FAILED, 0.999)
        waits.append(state.next_at)
    assert waits[:4] == pytest.approx([2.0, 4.0, 8.0, 16.0], rel=0.01)
    assert max(waits) <= 300.0
    assert after_poll(state, POLICY, 0.0, Outcome.OK, 0.5).failures == 0
