"""The simulated workstation, and how the Teams client reacts to it: Away some seconds after a lock,
InAMeeting for a calendar meeting, nothing for the microphone or camera alone; and Graph reporting
what the client showed ``graph_propagation_delay`` seconds ago. All on a clock only the test moves."""

from __future__ import annotations

import httpx
import pytest

from tray_agent.simulator import Simulator, SimulatorState

from .helpers import DAY, ManualClock, bearer, graph_token, ssl_context

pytestmark = pytest.mark.anyio


def world(**options: float) -> tuple[SimulatorState, ManualClock]:
    """The world model alone (nothing listens): Teams changes are a matter of the clock."""
    clock = ManualClock()
    return Simulator(clock, auto_approve=True, **options).state, clock


def shows(state: SimulatorState) -> tuple[str, str]:
    teams = state.teams.presence()
    return teams.availability, teams.activity


def meeting(start: float, end: float, subject: str = "Team sync") -> dict[str, object]:
    return {"subject": subject, "start": start, "end": end, "attendees": 3}


# ---------------------------------------------------------------- the lock


def test_teams_turns_away_the_configured_delay_after_a_lock_and_back_on_unlock() -> None:
    state, clock = world()
    state.teams.set("Busy", "Busy")
    state.workstation.lock()
    clock.advance(9.9)
    assert shows(state) == ("Busy", "Busy")
    clock.advance(0.1)  # teams_away_after_lock defaults to 10 s
    assert shows(state) == ("Away", "Away")
    state.workstation.unlock()
    assert shows(state) == ("Busy", "Busy")  # what the person had before the automatic Away


def test_the_away_delay_is_a_constructor_option() -> None:
    state, _ = world(teams_away_after_lock=0)
    state.workstation.lock()
    assert shows(state) == ("Away", "Away")


def test_unlocking_before_the_delay_changes_nothing_at_all() -> None:
    state, clock = world()
    before = state.teams.presence().sequence_number
    state.workstation.lock()
    clock.advance(5)
    state.workstation.unlock()
    clock.advance(60)
    assert shows(state) == ("Available", "Available")
    assert state.teams.presence().sequence_number == before


@pytest.mark.parametrize(
    "status",
    [
        ("Busy", "InACall"),
        ("Busy", "InAConferenceCall"),
        ("DoNotDisturb", "Presenting"),
        ("DoNotDisturb", "DoNotDisturb"),
    ],
)
def test_a_lock_does_not_turn_away_a_call_presenting_or_do_not_disturb(status: tuple[str, str]) -> None:
    state, clock = world()
    state.teams.set(*status)
    state.workstation.lock()
    clock.advance(600)
    assert shows(state) == status


def test_a_status_set_by_hand_replaces_the_automatic_away() -> None:
    state, clock = world()
    state.workstation.lock()
    clock.advance(10)
    state.teams.set("Available", "Available")  # e.g. from the phone
    clock.advance(600)
    assert shows(state) == ("Available", "Available")
    state.workstation.unlock()
    assert shows(state) == ("Available", "Available")


def test_microphone_and_camera_alone_do_not_change_teams_but_do_change_the_workstation() -> None:
    state, clock = world()
    workstation = state.workstation
    before = (state.teams.presence().sequence_number, workstation.version)
    workstation.set_devices(microphone=True, camera=True)
    clock.advance(60)
    assert shows(state) == ("Available", "Available")
    assert state.teams.presence().sequence_number == before[0]
    assert (workstation.microphone, workstation.camera) == (True, True)
    assert workstation.version > before[1]
    workstation.set_devices(camera=False)
    assert (workstation.microphone, workstation.camera) == (True, False)


def test_every_workstation_change_bumps_the_version_and_repeats_do_not() -> None:
    state, _ = world()
    workstation = state.workstation
    versions = [workstation.version]
    for act in (workstation.lock, workstation.lock, workstation.unlock, lambda: workstation.set_calendar([])):
        act()
        versions.append(workstation.version)
    assert versions == [0, 1, 1, 2, 3]


# ---------------------------------------------------------------- the calendar


def test_a_meeting_turns_teams_in_a_meeting_at_its_start_and_back_at_its_end() -> None:
    state, clock = world()
    state.teams.set("Available", "Available")
    state.workstation.set_calendar([meeting(DAY + 60, DAY + 90)])
    clock.advance(59)
    assert shows(state) == ("Available", "Available")
    clock.advance(1)
    assert shows(state) == ("Busy", "InAMeeting")  # not joined: the calendar is enough
    clock.advance(30)
    assert shows(state) == ("Available", "Available")


def test_back_to_back_meetings_are_one_meeting_to_teams() -> None:
    state, clock = world()
    state.workstation.set_calendar([meeting(DAY + 10, DAY + 20, "A"), meeting(DAY + 20, DAY + 30, "B")])
    clock.advance(10)
    start = state.teams.presence().sequence_number
    clock.advance(15)
    assert shows(state) == ("Busy", "InAMeeting")
    assert state.teams.presence().sequence_number == start
    clock.advance(5)
    assert shows(state) == ("Available", "Available")


def test_a_meeting_ending_while_locked_leaves_teams_away() -> None:
    state, clock = world()
    state.workstation.set_calendar([meeting(DAY + 60, DAY + 120)])
    clock.advance(70)
    state.workstation.lock()  # during the meeting: Teams stays InAMeeting
    clock.advance(30)
    assert shows(state) == ("Busy", "InAMeeting")
    clock.advance(20)
    assert shows(state) == ("Away", "Away")
    state.workstation.unlock()
    assert shows(state) == ("Available", "Available")


def test_a_status_set_by_hand_during_a_meeting_stands_until_the_meeting_ends() -> None:
    state, clock = world()
    state.teams.set("Available", "Available")
    state.workstation.set_calendar([meeting(DAY + 60, DAY + 120)])
    clock.advance(70)
    state.teams.set("DoNotDisturb", "Presenting")
    clock.advance(49)
    assert shows(state) == ("DoNotDisturb", "Presenting")
    clock.advance(1)
    assert shows(state) == ("Available", "Available")  # the status from before the meeting


def test_a_calendar_set_during_a_meeting_applies_at_once_and_removing_it_ends_it() -> None:
    state, clock = world()
    state.workstation.set_calendar([meeting(DAY - 60, DAY + 60)])
    assert shows(state) == ("Busy", "InAMeeting")
    clock.advance(10)
    state.workstation.set_calendar([])
    assert shows(state) == ("Available", "Available")


def test_calendar_attendees_are_kept_as_addresses_and_a_count_gets_placeholders() -> None:
    state, _ = world()
    events = state.workstation.set_calendar(
        [
            {"subject": "1:1", "start": DAY, "end": DAY + 1800, "attendees": ["kim@contoso.example"]},
            {"subject": "All hands", "start": DAY - 100, "end": DAY + 100, "attendees": 2},
            {"subject": "Focus", "start": DAY + 3600, "end": DAY + 7200},
        ]
    )
    assert [e.subject for e in events] == ["All hands", "1:1", "Focus"]  # by start
    assert events[1].attendees == ("kim@contoso.example",)
    assert len(events[0].attendees) == 2 and all("@" in a for a in events[0].attendees)
    assert events[2].attendees == ()


@pytest.mark.parametrize(
    "bad",
    [
        [{"subject": "Backwards", "start": DAY + 10, "end": DAY}],
        [{"subject": 7, "start": DAY, "end": DAY + 10}],
        [{"subject": "No end", "start": DAY}],
        [{"subject": "Guests", "start": DAY, "end": DAY + 10, "attendees": ["not an address"]}],
        [{"subject": "Many", "start": DAY, "end": DAY + 10}] * 501,
    ],
)
def test_a_bad_calendar_is_refused_whole_and_the_old_one_stays(bad: list[dict[str, object]]) -> None:
    state, _ = world()
    kept = state.workstation.set_calendar([meeting(DAY + 60, DAY + 120)])
    version = state.workstation.version
    with pytest.raises(ValueError):
        state.workstation.set_calendar(bad)
    assert state.workstation.calendar == kept and state.workstation.version == version


# ---------------------------------------------------------------- Graph lags the client


def test_graph_reports_what_the_client_showed_the_propagation_delay_ago() -> None:
    state, clock = world()  # graph_propagation_delay defaults to 3 s
    state.teams.set("Busy", "InACall")
    assert (state.teams.graph_presence().availability, state.teams.graph_presence().activity) == (
        "Available",
        "Available",
    )
    clock.advance(2.9)
    assert state.teams.graph_presence().activity == "Available"
    clock.advance(0.1)
    assert state.teams.graph_presence().activity == "InACall"


def test_an_automatic_change_is_stamped_at_its_own_moment_even_when_nobody_looked() -> None:
    state, clock = world()
    state.workstation.lock()
    clock.advance(12)  # Away happened at +10, nobody read it: Graph shows it from +13
    assert state.teams.graph_presence().availability == "Available"
    clock.advance(1)
    assert state.teams.graph_presence().availability == "Away"


async def test_get_me_presence_lags_while_the_control_state_shows_the_client_now() -> None:
    clock = ManualClock()
    async with Simulator(clock, auto_approve=True) as sim, httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = graph_token(sim)
        url = f"{sim.base_url}/v1.0/me/presence"
        sim.state.teams.set("Busy", "InACall")
        sim.state.workstation.set_devices(microphone=True)  # as the demo does, with the call
        graph_now = (await client.get(url, headers=bearer(token))).json()
        control = (await client.get(f"{sim.base_url}/control/api/state")).json()
        clock.advance(3)
        graph_later = (await client.get(url, headers=bearer(token))).json()
    assert graph_now["activity"] == "Available"
    assert control["users"][0]["teams"]["activity"] == "InACall"
    assert control["workstation"]["microphone"] is True
    assert graph_later["activity"] == "InACall" and graph_later["sequenceNumber"] > graph_now["sequenceNumber"]


def test_the_history_behind_graph_stays_bounded() -> None:
    state, clock = world(graph_propagation_delay=3600)
    for n in range(3000):
        state.teams.set("Busy" if n % 2 else "Available", "Busy" if n % 2 else "Available")
        clock.advance(0.01)
    client = state.teams._clients[state.people.default_user.ms_id]
    assert len(client.history) <= 1000
