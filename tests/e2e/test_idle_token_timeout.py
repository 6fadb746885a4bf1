"""The org's Idle Token Timeout (5 min here): an agent that only listens on the websocket (On Queue
all morning) stays signed in, because the engine keeps its token alive, and can write afterwards."""

from __future__ import annotations

import pytest

from tests.e2e.harness import running_world
from tray_agent.engine.snapshot import Link

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

IDLE_TIMEOUT = 300.0


async def test_an_agent_on_queue_for_20_minutes_is_still_signed_in_and_can_write() -> None:
    async with running_world(genesys_idle_timeout=IDLE_TIMEOUT) as world:
        world.act(lambda state: state.genesys.set_routing("IDLE"))
        await world.shows("On Queue")
        await world.clock.sleep(4 * IDLE_TIMEOUT)  # websocket traffic does not count as use
        keepalives = [e for e in world.act(lambda state: list(state.request_log)) if e.path == "/api/v2/tokens/me"]
        assert keepalives, "the token was kept alive with tokens/me"
        world.act(lambda state: state.genesys.set_routing("OFF_QUEUE"))
        await world.shows("Available")
        world.teams("Busy", "InAMeeting")
        await world.shows("Meeting")
        assert world.agent.engine.snapshot is not None
        assert world.agent.engine.snapshot.genesys_link is not Link.SIGN_IN_NEEDED
