"""An agent whose Genesys role lacks presence:presenceDefinition:view still syncs, end to end: the
agent reads the legacy presence definitions (which need no permission) instead of failing on 403."""

from __future__ import annotations

import pytest

from tests.e2e.harness import running_world

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


async def test_an_agent_without_presence_definition_view_syncs_teams_to_genesys() -> None:
    async with running_world(role="agent_without_presence_view") as world:
        world.teams("Busy", "InAMeeting")
        await world.shows("Meeting")
        world.teams("Away", "Away")
        await world.shows("Away")
        refused = world.act(
            lambda state: [
                entry
                for entry in state.request_log
                if entry.path == "/api/v2/presence/definitions" and entry.status == 403
            ]
        )
        assert refused, "the simulator refused the permission-gated list at least once"
        assert world.violations() == []
