"""The fleet benchmark's trigger model, on small fleets (fast): the storm of an all-hands and of the
meetings that start together on :00/:30 against the tenant's 1,500 reads per 30 s."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.bench.fleet import HOUR, TRIGGERED_KINDS, UNTRIGGERED_KINDS, proposed_plan_reads, simulate_trigger_fleet
from tray_agent.core.polling import GRAPH_PRESENCE_LIMIT

PROPOSAL = {"planner": proposed_plan_reads, "join_calendar": True, "window_from_read": True}


@settings(max_examples=4, deadline=None)
@given(agents=st.integers(100, 600), seed=st.integers(0, 1000))
def test_with_the_proposal_a_small_fleet_stays_under_the_limit_through_the_all_hands(agents: int, seed: int) -> None:
    result = simulate_trigger_fleet(agents, label="proposal", seed=seed, until=12.5 * HOUR, **PROPOSAL)
    assert result.peak <= GRAPH_PRESENCE_LIMIT and result.throttled == 0
    assert result.latency_p(0.95, ("lock",)) <= 20.0  # Teams turns Away 10 s after the lock; read at 20 s


@pytest.mark.xfail(strict=True, reason="core.triggers: meetings on :00/:30 spread by attendees only (see report)")
def test_with_core_triggers_1000_agents_stay_under_the_limit() -> None:
    result = simulate_trigger_fleet(1000, label="core", until=12.5 * HOUR)
    assert result.throttled == 0


def test_signals_bring_own_changes_in_seconds_and_the_timer_finds_the_rest() -> None:
    result = simulate_trigger_fleet(200, label="core", until=12 * HOUR)
    assert result.latency_p(0.5, ("unlock",)) <= 6.0  # the follow-up read (5 s), vouched for by the signal
    assert result.latency_p(0.5, ("call",)) <= 6.0
    assert result.latency_p(0.95, UNTRIGGERED_KINDS) > result.latency_p(0.5, TRIGGERED_KINDS)
    assert result.skipped > 0  # timer reads while locked are not sent
