"""The Teams change log a checker reads (``state.teams.changes(user)``): every change of availability or
activity, stamped at the moment the client made it (even if nobody read the presence then), with why."""

from __future__ import annotations

from tray_agent.simulator import Simulator, SimulatorState
from tray_agent.simulator.teams_presence import CHANGES_LIMIT, TeamsChange

from .helpers import DAY, ManualClock


def world(**options: float) -> tuple[SimulatorState, ManualClock]:
    clock = ManualClock()
    return Simulator(clock, auto_approve=True, **options).state, clock


def test_the_log_stamps_automatic_changes_at_their_own_moment_and_says_why() -> None:
    state, clock = world()
    state.teams.set("Busy", "Busy")
    state.workstation.set_calendar([{"subject": "Sync", "start": DAY + 100, "end": DAY + 160}])
    state.workstation.lock()
    clock.advance(200)  # nobody reads Teams meanwhile: Away at +10, meeting +100..+160, then Away again
    state.workstation.unlock()
    assert state.teams.changes() == [
        TeamsChange(DAY, "Busy", "Busy", "set"),
        TeamsChange(DAY + 10, "Away", "Away", "away_after_lock"),
        TeamsChange(DAY + 100, "Busy", "InAMeeting", "meeting_start"),
        TeamsChange(DAY + 160, "Away", "Away", "meeting_end"),
        TeamsChange(DAY + 200, "Busy", "Busy", "unlock"),
    ]
    assert [c.automatic for c in state.teams.changes()] == [False, True, True, True, True]


def test_only_changes_of_availability_or_activity_are_logged_and_per_person() -> None:
    state, clock = world()
    bob = state.people.add_user("Bob Agent", "bob@contoso.example")
    state.teams.set("Available", "Available")  # what it already shows: not a change
    state.teams.set_status_message("Back at 2")
    state.workstation.set_devices(microphone=True, camera=True)
    clock.advance(5)
    state.teams.set("Busy", "InACall", user=bob)
    assert state.teams.changes() == []
    assert state.teams.changes(bob) == [TeamsChange(DAY + 5, "Busy", "InACall", "set")]


def test_editing_the_calendar_during_a_meeting_time_is_logged_as_a_calendar_change() -> None:
    state, clock = world()
    state.workstation.set_calendar([{"subject": "Now", "start": DAY - 60, "end": DAY + 60}])
    clock.advance(10)
    state.workstation.set_calendar([])
    assert [(c.at, c.activity, c.reason) for c in state.teams.changes()] == [
        (DAY, "InAMeeting", "calendar"),
        (DAY + 10, "Available", "calendar"),
    ]


def test_the_log_is_bounded() -> None:
    state, clock = world()
    for n in range(CHANGES_LIMIT + 50):
        state.teams.set(*(("Busy", "Busy") if n % 2 else ("Away", "Away")))
        clock.advance(1)
    changes = state.teams.changes()
    assert len(changes) == CHANGES_LIMIT and changes[-1].at == DAY + CHANGES_LIMIT + 49
