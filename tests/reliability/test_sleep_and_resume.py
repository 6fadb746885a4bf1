"""The computer sleeps and wakes up (the clock jumps forward; the sockets did not survive): before
anything is written, what both services show *now* is read again — a Teams read from before the
sleep is no reason to write, and a hands-off that began meanwhile is respected.

The clock is shared by the agent and the simulator, as wall time is; timers already running are not
shortened by the jump (asyncio's monotonic clock does not count a suspended machine either).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from tests.e2e.harness import FAST_TIMING
from tests.reliability.world import FaultWorld, fault_world
from tray_agent.core.rules import SyncStatus

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

TIMING = replace(FAST_TIMING, poll_interval=60.0)  # dwell 10 s: the next Graph read is well after it ends


def sleep_for(world: FaultWorld, seconds: float, meanwhile: Callable[[], None] = lambda: None) -> float:
    """The machine sleeps: its connections die, ``meanwhile`` happens while it sleeps (stamped at its
    start, so Graph, a few seconds behind Teams, has long caught up on waking), and it wakes ``seconds``
    later. Returns the wake time."""
    world.act(lambda state: state.faults.drop_websockets())
    meanwhile()
    world.clock.jump(seconds)
    return world.clock.now()


def writes_without_a_fresh_read(world: FaultWorld, woke: float) -> list[str]:
    """Writes after waking that were not preceded (after waking) by a Graph read and a users/me read."""
    problems = []
    requests = world.requests(since=woke)
    for write in world.patches(since=woke):
        before = [entry for entry in requests if entry.at < write.at and entry.status == 200]
        if not any(entry.service == "graph" for entry in before):
            problems.append(f"write at +{write.at - woke:.0f} s before Teams was read again")
        if not any(entry.path == "/api/v2/users/me" for entry in before):
            problems.append(f"write at +{write.at - woke:.0f} s before Genesys was read again")
    return problems


async def test_a_teams_change_read_just_before_sleep_is_not_written_after_waking_if_it_is_over() -> None:
    async with fault_world(timing=TIMING) as world:
        world.teams("Busy", "InAMeeting")
        await world.eventually(lambda: world.snapshot.status is SyncStatus.DEBOUNCING, 120, "the meeting was read")
        # the meeting ended while the machine slept
        woke = sleep_for(world, 2 * 3600, meanwhile=lambda: world.teams("Available", "Available"))
        shown = await world.happens_within(lambda: world.genesys_shows() != "Available", during=300)
        unverified = writes_without_a_fresh_read(world, woke)
        await world.conclude(
            "sleep 2 h during a Teams change (clock jump)",
            "nothing written"
            if shown is None
            else f"**wrote {world.genesys_shows()} from a read taken before the sleep**",
            order=7,
            met=shown is None and not unverified,
        )
        assert unverified == [], f"{unverified}\n{world.story()}"
        assert shown is None, f"Genesys changed to {world.genesys_shows()} after waking\n{world.story()}"


async def test_an_on_queue_that_began_during_sleep_is_respected_on_waking() -> None:
    async with fault_world(timing=TIMING) as world:
        world.teams("Busy", "InAMeeting")
        await world.shows("Meeting", within=200)
        woke = sleep_for(world, 3600)
        world.act(lambda state: state.genesys.set_routing("IDLE"))  # on queue from the agent's phone meanwhile
        world.teams("Available", "Available")  # and the meeting is over
        await world.keeps_showing("On Queue", during=300)
        await world.eventually(lambda: world.snapshot.status is SyncStatus.ON_QUEUE, 60, "hands off")
        await world.conclude(
            "sleep 1 h, On Queue meanwhile (clock jump)", "resynced, hands off, nothing written", order=7
        )
        assert world.patches(since=woke) == []
