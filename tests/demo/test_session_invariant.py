"""The demo's invariant "our Teams session is set only during a Genesys interaction", decided by order:
a renewal that lands just after the interaction's end passes when our next call clears it."""

from __future__ import annotations

from tests.simulator.helpers import ManualClock
from tray_agent.demo.runner import teams_session_problems
from tray_agent.simulator import SimulatorThread
from tray_agent.simulator.state import SimulatorState

SESSION = "client-id"
FIVE_MINUTES = 300.0


def world() -> tuple[ManualClock, SimulatorState]:
    clock = ManualClock()
    return clock, SimulatorThread(clock=clock).state  # not started: the state alone, on this thread


def on_queue_with_a_call(clock: ManualClock, state: SimulatorState) -> None:
    state.genesys.set_routing("IDLE")
    state.genesys.connect_interaction("voice")
    clock.advance(5)
    state.teams.set_session(SESSION, "Busy", "InACall", FIVE_MINUTES)


def test_a_renewal_overtaken_by_the_end_of_the_call_and_then_cleared_is_fine() -> None:
    clock, state = world()
    on_queue_with_a_call(clock, state)
    clock.advance(200)
    state.genesys.end_interaction(media="voice")
    clock.advance(30)  # however late: what matters is that it renews what showed, and is cleared next
    state.teams.set_session(SESSION, "Busy", "InACall", FIVE_MINUTES)
    clock.advance(2)
    state.teams.clear_session(SESSION)
    assert teams_session_problems(state) == []


def test_a_renewal_after_the_end_that_is_never_cleared_is_a_problem() -> None:
    clock, state = world()
    on_queue_with_a_call(clock, state)
    state.genesys.end_interaction(media="voice")
    clock.advance(1)
    state.teams.set_session(SESSION, "Busy", "InACall", FIVE_MINUTES)
    assert len(teams_session_problems(state)) == 2  # set with no interaction, and left showing


def test_a_new_session_after_the_end_is_a_problem_even_if_cleared_at_once() -> None:
    clock, state = world()
    on_queue_with_a_call(clock, state)
    state.teams.clear_session(SESSION)
    state.genesys.end_interaction(media="voice")
    clock.advance(1)
    state.teams.set_session(SESSION, "Busy", "InACall", FIVE_MINUTES)
    state.teams.clear_session(SESSION)
    [problem] = teams_session_problems(state)
    assert "with no Genesys interaction" in problem
