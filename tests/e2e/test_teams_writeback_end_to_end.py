"""Genesys → Teams end to end: the real agent, the simulator's Graph presence sessions and Genesys
interactions over real HTTPS and websockets. While a Genesys interaction lasts Teams shows the agent
busy, from our own session (setPresence, renewed before it lapses); when it ends, on quit, on sign-out
and after a crash (the expiration) Teams tells the truth again; a 429 on the clear is waited out; a
status the agent picks in Teams wins, and nothing our session showed is ever carried back to Genesys.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools

import pytest

from tests.e2e.harness import World, running_world
from tray_agent.core.service import Service
from tray_agent.engine.snapshot import Command, CommandKind
from tray_agent.simulator.state import SimulatorState

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

EXPIRATION = 300.0  # WritebackConfig's expirationDuration: what a crashed agent leaves at most


def teams_sessions(world: World) -> list[tuple[str, str]]:
    return [(s.availability, s.activity) for s in world.act(lambda state: state.teams.sessions())]


def calls(world: World, kind: str, since: float = 0.0) -> list[float]:
    def collect(state: SimulatorState) -> list[float]:
        return [c.at for c in state.teams.session_calls() if c.call == kind and c.at >= since]

    return list(world.act(collect))


def graph_shows(world: World) -> tuple[str, str]:
    presence = world.act(lambda state: state.teams.graph_presence())
    return presence.availability, presence.activity


def teams_line(world: World) -> str:
    snapshot = world.agent.engine.snapshot
    return snapshot.teams_writeback if snapshot is not None else ""


async def on_a_genesys_call(world: World, media: str = "voice") -> float:
    """The agent goes On Queue and a call is routed to them; returns when it connected."""
    await world.shows("Available")
    world.act(lambda state: state.genesys.set_routing("IDLE"))
    await world.shows("On Queue")
    connected = world.clock.now()
    world.act(lambda state: state.genesys.connect_interaction(media))
    await world.eventually(lambda: teams_sessions(world) == [("Busy", "InACall")], 60, "Teams shows our session")
    return connected


async def test_a_call_sets_teams_busy_renews_it_while_it_lasts_and_clears_it_at_the_end() -> None:
    async with running_world(writeback=True) as world:
        connected = await on_a_genesys_call(world)
        # Set because the call connected (how soon is measured on virtual time in the engine test:
        # a stopwatch here would time this machine's scheduler, at 100× a tenth of a second is 10 s).
        assert calls(world, "setPresence")[0] >= connected
        assert "Genesys voice interaction" in teams_line(world)
        await world.eventually(lambda: graph_shows(world) == ("Busy", "InACall"), 30, "Graph shows the call")
        await world.eventually(lambda: len(calls(world, "setPresence")) >= 3, 3 * EXPIRATION, "two renewals")
        sets = calls(world, "setPresence")
        assert all(later - earlier < EXPIRATION for earlier, later in itertools.pairwise(sets))
        assert teams_sessions(world) == [("Busy", "InACall")], "renewed before it lapsed, never gone meanwhile"
        ended = world.clock.now()
        world.act(lambda state: state.genesys.end_interaction(media="voice"))
        await world.eventually(lambda: teams_sessions(world) == [], 60, "Teams is cleared")
        assert calls(world, "clearPresence", since=ended), "cleared by our clearPresence, not left to lapse"
        await world.eventually(lambda: graph_shows(world) == ("Available", "Available"), 30, "Graph shows Available")
        assert world.genesys_shows() == "On Queue" and world.api_writes() == 0
        assert world.violations() == []


async def test_a_crashed_agent_leaves_teams_busy_for_the_expiration_at_most() -> None:
    async with running_world(writeback=True) as world:
        await on_a_genesys_call(world)
        assert world.engine_task is not None
        world.engine_task.cancel()  # the process dies: nobody renews or clears
        with contextlib.suppress(asyncio.CancelledError):
            await world.engine_task
        last_set = calls(world, "setPresence")[-1]
        await world.eventually(lambda: teams_sessions(world) == [], EXPIRATION + 60, "the session expires")
        assert world.clock.now() - last_set <= EXPIRATION + 30
        assert calls(world, "clearPresence") == []


async def test_a_throttled_clear_is_waited_out_and_retried_until_teams_is_clear() -> None:
    async with running_world(writeback=True) as world:
        await on_a_genesys_call(world)
        world.act(lambda state: state.faults.throttle_next("graph_clear_presence", 2, 20.0))
        ended = world.clock.now()
        world.act(lambda state: state.genesys.end_interaction(media="voice"))
        await world.eventually(lambda: teams_sessions(world) == [], 300, "Teams is cleared after the 429s")
        [cleared] = calls(world, "clearPresence", since=ended)
        assert cleared - ended >= 2 * 20.0
        await world.keeps_showing("On Queue", during=60)


async def test_do_not_disturb_chosen_in_teams_during_the_call_wins_and_nothing_is_echoed() -> None:
    async with running_world(writeback=True) as world:
        await on_a_genesys_call(world)
        world.act(lambda state: state.teams.set("DoNotDisturb", "DoNotDisturb", by_hand=True))
        await world.eventually(
            lambda: graph_shows(world) == ("DoNotDisturb", "DoNotDisturb"), 60, "the agent's own choice shows"
        )
        world.act(lambda state: state.genesys.end_interaction(media="voice"))
        await world.eventually(lambda: teams_sessions(world) == [], 60, "our session is cleared")
        world.act(lambda state: state.genesys.set_routing("OFF_QUEUE"))
        await world.shows("Available")
        await world.clock.sleep(300)
        # Their DoNotDisturb is theirs: it is followed as without this feature (the mapping's Busy);
        # our own Busy / InACall never is.
        writes = [entry.text for entry in world.agent.engine.history if entry.kind == "write"]
        assert all("InACall" not in text for text in writes), writes
        assert all("DoNotDisturb" in text for text in writes), writes
        assert graph_shows(world) == ("DoNotDisturb", "DoNotDisturb")


async def test_going_off_queue_while_our_busy_still_fades_writes_nothing_to_genesys() -> None:
    async with running_world(writeback=True) as world:
        await on_a_genesys_call(world)
        world.act(lambda state: state.genesys.end_interaction(media="voice"))
        world.act(lambda state: state.genesys.set_routing("OFF_QUEUE"))  # at once: Graph still shows Busy
        await world.shows("Available")
        world.agent.engine.submit(Command(CommandKind.SYNC_NOW))  # a read inside the fade
        await world.keeps_showing("Available", during=300)
        assert world.api_writes() == 0


async def test_signing_out_of_microsoft_during_a_call_clears_teams() -> None:
    async with running_world(writeback=True) as world:
        await on_a_genesys_call(world)
        world.agent.engine.submit(Command(CommandKind.SIGN_OUT, service=Service.MICROSOFT))
        await world.eventually(lambda: not world.agent.microsoft.signed_in, 60, "signed out of Microsoft")
        assert teams_sessions(world) == [], "cleared before the sign-out, with the token still valid"
        assert calls(world, "clearPresence")


async def test_quitting_during_a_call_clears_teams() -> None:
    async with running_world(writeback=True) as world:
        await on_a_genesys_call(world)
        assert world.engine_task is not None
        world.agent.engine.submit(Command(CommandKind.STOP))
        await asyncio.wait_for(world.engine_task, 30)
        assert teams_sessions(world) == []
