"""The real agent against the simulator over HTTPS and websockets: the product's promises, end to end.

Times are simulated seconds (the clock runs ~100× faster than real time). Engine timing in these
tests: Graph polled every 10 s, a Teams change must be stable 10 s before acting.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

import pytest

from tests.e2e.harness import FAST_TIMING, running_world
from tray_agent.core.rules import SyncConfig
from tray_agent.core.service import Service
from tray_agent.engine.snapshot import Command, CommandKind, Link
from tray_agent.simulator.state import SimulatorState

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


async def test_a_meeting_sets_meeting_and_its_end_restores_the_agents_earlier_status() -> None:
    async with running_world() as world:
        world.by_hand("Break")
        await world.took_in_the_choice("Break")
        await world.keeps_showing("Break", during=30)
        world.teams("Busy", "InAMeeting")
        await world.shows("Meeting")
        world.teams("Available", "Available")
        await world.shows("Break")  # restored, not the mapped Available
        assert world.violations() == []


async def test_nothing_is_written_while_the_agent_is_on_queue_and_their_landing_status_is_kept() -> None:
    async with running_world() as world:
        world.act(lambda state: state.genesys.set_routing("IDLE"))
        await world.shows("On Queue")
        writes_before = world.api_writes()
        world.teams("Busy", "InAMeeting")
        await world.keeps_showing("On Queue", during=120)
        # While On Queue Teams is read only slowly, for a baseline: wait until it has seen the meeting.
        seen = lambda: any(t.text == "Teams is Busy / InAMeeting" for t in world.agent.engine.history)  # noqa: E731
        await world.eventually(seen, 600, "a baseline read")
        world.act(lambda state: state.genesys.set_routing("OFF_QUEUE"))
        await world.shows("Available")
        # Teams has not changed since: the status the agent landed on is theirs.
        await world.keeps_showing("Available", during=120)
        assert world.api_writes() == writes_before
        assert world.violations() == []


async def test_coming_off_queue_into_a_meeting_shows_meeting() -> None:
    async with running_world() as world:
        world.act(lambda state: state.genesys.set_routing("IDLE"))
        await world.shows("On Queue")
        world.act(lambda state: state.genesys.set_routing("OFF_QUEUE"))  # the all-hands is about to begin
        await world.shows("Available")
        world.teams("Busy", "InAMeeting")
        await world.shows("Meeting")
        assert world.violations() == []


async def test_a_status_the_agent_sets_by_hand_wins_until_teams_changes_again() -> None:
    async with running_world() as world:
        world.teams("Busy", "InACall")
        await world.shows("Busy")
        world.by_hand("Lunch")
        world.teams("Busy", "InAConferenceCall")  # a different Teams value with the same target
        await world.keeps_showing("Lunch", during=120)
        world.teams("Away", "Away")
        await world.shows("Away")


async def test_out_of_office_means_hands_off() -> None:
    async with running_world() as world:
        world.act(lambda state: state.genesys.set_out_of_office(True))
        world.teams("Busy", "InAMeeting")
        await world.keeps_showing("Available", during=120)
        assert world.api_writes() == 0


async def test_graph_throttling_is_waited_out_as_retry_after_says() -> None:
    async with running_world() as world:
        world.act(lambda state: state.faults.throttle_next("graph", 2, 40.5))
        world.teams("Busy", "InAMeeting")
        started = world.clock.now()
        await world.shows("Meeting", within=240)
        # Two 429s with Retry-After 40.5 s each: the change cannot have been seen sooner.
        assert world.clock.now() - started >= 2 * 40.5
        reads = [
            entry.at
            for entry in world.act(lambda state: list(state.request_log))
            if entry.service == "graph" and entry.at >= started
        ]
        gaps = [later - earlier for earlier, later in itertools.pairwise(reads)]
        assert gaps[:2] and all(gap >= 40.5 for gap in gaps[:2]), gaps


async def test_a_dropped_socket_is_replaced_and_changes_made_meanwhile_are_not_missed() -> None:
    async with running_world() as world:
        world.act(lambda state: state.faults.drop_websockets())
        world.by_hand("Break")  # while the socket is down
        await world.took_in_the_choice("Break")  # seen anyway (by polling), and Teams read after it
        world.teams("Busy", "InAMeeting")  # after the agent's change (a simultaneous one would leave Break)
        await world.shows("Meeting", within=180)
        world.teams("Available", "Available")
        await world.shows("Break", within=180)
        connections = world.act(lambda state: state.counters.websocket_connections)
        assert connections >= 2


async def test_socket_closing_for_maintenance_moves_to_a_new_channel() -> None:
    async with running_world() as world:
        channels_before = world.act(lambda state: state.counters.channels_created)
        world.act(lambda state: state.faults.socket_closing())
        await world.eventually(
            lambda: world.act(lambda state: state.counters.channels_created) > channels_before,
            60,
            "a new channel was created",
        )
        world.teams("Busy", "InACall")
        await world.shows("Busy")


async def test_after_genesys_goes_quiet_the_engine_re_reads_it_and_keeps_handling_events() -> None:
    # Regression: once the Genesys state turned stale, the decision loop spun on a due timer and
    # never read its inbox again (wait_for(get(), 0) cancels the get before it runs).
    async with running_world(sync=SyncConfig(max_genesys_staleness=40)) as world:
        world.act(lambda state: state.faults.stop_heartbeats(True))
        await world.clock.sleep(120)  # quiet for longer than the staleness limit
        world.teams("Busy", "InAMeeting")
        await world.shows("Meeting", within=120)
        world.act(lambda state: state.faults.stop_heartbeats(False))
        world.teams("Available", "Available")
        await world.shows("Available", within=120)


async def test_teams_is_not_polled_outside_working_hours_or_while_the_agent_is_away() -> None:
    class Away:
        async def away(self) -> bool:
            return True

    closed = replace(FAST_TIMING, working_hours="Sat-Sun 00:00-23:59")  # the simulated day is a Wednesday
    for timing, workstation in ((closed, None), (FAST_TIMING, Away())):
        async with running_world(timing=timing, settle=False, workstation=workstation) as world:
            reads_before = world.act(lambda state: state.counters.graph_presence_requests)
            world.teams("Busy", "InAMeeting")
            await world.keeps_showing("Available", during=300)
            assert world.act(lambda state: state.counters.graph_presence_requests) == reads_before


async def test_microsoft_sign_in_with_a_code_from_another_device_shows_the_code_then_syncs() -> None:
    async with running_world() as world:
        engine = world.agent.engine
        engine.submit(Command(CommandKind.SIGN_OUT, service=Service.MICROSOFT))
        await world.eventually(lambda: engine.snapshot.microsoft is Link.SIGN_IN_NEEDED, 60, "signed out")
        engine.submit(Command(CommandKind.SIGN_IN, service=Service.MICROSOFT, device_code=True))
        await world.eventually(lambda: bool(engine.snapshot.sign_in_prompt), 60, "the code is shown")
        found = re.search(r"enter the code (\S+)", engine.snapshot.sign_in_prompt)
        assert found is not None, engine.snapshot.sign_in_prompt
        user_code = found.group(1)

        def approve_on_another_device(state: SimulatorState) -> None:
            entry = state.tokens.device_code_by_user_code(user_code)
            assert entry is not None
            entry.status, entry.user_id = "approved", state.people.user().ms_id

        world.act(approve_on_another_device)
        await world.eventually(lambda: engine.snapshot.microsoft is Link.CONNECTED, 1200, "signed in again")
        assert engine.snapshot.sign_in_prompt == ""
        world.teams("Busy", "InAMeeting")
        await world.shows("Meeting")
