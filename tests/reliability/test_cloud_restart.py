"""The cloud restarts with a different state (the simulator is stopped and a new one started on the
same port, with the same certificate and the sign-ins it had issued, but a fresh world): the agent
reconnects, reads everything again, and neither writes on what it knew before nor stops following.
"""

from __future__ import annotations

import pytest

from tests.reliability.world import fault_world
from tray_agent.core.rules import SyncStatus
from tray_agent.engine.snapshot import Link

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


async def test_a_restarted_cloud_with_the_agent_on_queue_is_resynced_and_nothing_is_written() -> None:
    async with fault_world() as world:
        world.teams("Busy", "InAMeeting")
        await world.shows("Meeting")
        world.restart(lambda state: state.genesys.set_routing("IDLE"))  # the new world: On Queue, Teams Available
        world.teams_changes.append((world.clock.now(), "Available", "Available"))
        await world.eventually(lambda: world.snapshot.status is SyncStatus.ON_QUEUE, 300, "hands off")
        await world.keeps_showing("On Queue", during=200)
        await world.conclude("cloud restarted, agent On Queue", "resynced, hands off, nothing written", order=8)
        assert world.patches() == []
        await world.eventually(lambda: world.snapshot.genesys_link is Link.CONNECTED, 60, "Genesys connected")


async def test_after_a_cloud_restart_teams_changes_are_followed_again() -> None:
    async with fault_world() as world:
        for availability, activity in [("Busy", "InAMeeting"), ("Available", "Available"), ("Away", "Away")]:
            world.teams(availability, activity)
            await world.clock.sleep(40)
        await world.shows("Away")
        world.restart()  # a fresh Graph and Genesys: Teams Available, Genesys Available
        world.teams_changes.append((world.clock.now(), "Available", "Available"))
        await world.eventually(lambda: world.snapshot.genesys_label == "Available", 300, "Genesys read again")
        # The restart looks like someone else changing Genesys, so the engine re-reads Teams at once and
        # acknowledges that reading (a Teams change inside that round trip cannot be ordered and is not
        # acted on). The change below comes after that re-read, as it would in real life.
        await world.eventually(
            lambda: world.snapshot.teams is not None and world.snapshot.status is not SyncStatus.WAITING,
            300,
            "Teams read again",
        )
        world.teams("Busy", "InACall")
        in_sync = await world.time_until(lambda: world.genesys_shows() == "Busy", within=300)
        await world.conclude(
            "cloud restarted, fresh state",
            f"following Teams again after {in_sync:.0f} s" if in_sync is not None else "**Teams no longer followed**",
            order=8,
            met=in_sync is not None,
        )
        assert in_sync is not None, f"Teams changes after the restart are ignored\n{world.story()}"
        await world.eventually(lambda: world.snapshot.microsoft is Link.CONNECTED, 60, "Microsoft connected")
