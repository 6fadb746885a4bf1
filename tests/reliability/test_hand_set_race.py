"""A status the agent picks by hand moments after Teams changed — before the engine's next Graph read
saw that change — was chosen *after* the change, so it wins (README: "a status the agent sets by
hand wins until Teams changes again").
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.e2e.harness import FAST_TIMING
from tests.reliability.world import fault_world

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


async def test_a_status_set_by_hand_right_after_a_teams_change_is_not_overwritten_by_it() -> None:
    async with fault_world(timing=replace(FAST_TIMING, poll_interval=60.0)) as world:
        reads = len(world.requests("graph"))
        await world.eventually(lambda: len(world.requests("graph")) > reads, 120, "a Graph read")
        # Just after a Graph read: the next one is about a minute away.
        world.teams("Busy", "InAMeeting")  # the agent joins a meeting…
        await world.clock.sleep(3)
        world.by_hand("Training")  # …and picks Training in Genesys for it, seconds later
        overwritten = await world.happens_within(lambda: world.genesys_shows() != "Training", during=200)
        await world.conclude(
            "status set by hand 3 s after a Teams change",
            "kept" if overwritten is None else f"**overwritten with {world.genesys_shows()}**",
            order=9,
            met=overwritten is None,
        )
        assert overwritten is None
