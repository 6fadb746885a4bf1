"""An error nobody planned for — a library raising something new, a bug — in one of the engine's
I/O tasks: it is logged (without secrets, like everything else), and that task carries on, so the
agent never silently stops following Teams or Genesys while the tray still shows it connected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.agent_logging import agent_logging
from tests.reliability.world import fault_world
from tray_agent.clients import graph
from tray_agent.engine import genesys_follower

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SECRET = "access_token=eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.c2VjcmV0LXBheWxvYWQtZm9yLXRlc3Rz.sig"


def failing_once(real: Any) -> Any:
    calls = []

    def once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError(f"something nobody planned for ({SECRET})")
        return real(*args, **kwargs)

    return once


async def test_after_an_unexpected_error_reading_teams_teams_is_still_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with agent_logging(tmp_path / "tray-agent.log") as log_file:
        async with fault_world() as world:
            monkeypatch.setattr(graph, "parse_presence", failing_once(graph.parse_presence))
            await world.clock.sleep(30)  # the next Graph read fails in an unplanned way
            world.teams("Busy", "InAMeeting")
            in_sync = await world.time_until(lambda: world.genesys_shows() == "Meeting", within=300)
            await world.conclude(
                "unexpected error in a Graph read",
                "Teams followed again" if in_sync is not None else "**Teams never read again (poller task died)**",
                order=10,
                met=in_sync is not None,
            )
    text = log_file.read_text()
    assert in_sync is not None, "the Teams poller died: Teams is never read again"
    assert "something nobody planned for" in text and "c2VjcmV0LXBheWxvYWQtZm9yLXRlc3Rz" not in text


async def test_after_an_unexpected_error_on_the_socket_genesys_is_followed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with agent_logging(tmp_path / "tray-agent.log") as log_file:
        async with fault_world() as world:
            connections = world.act(lambda state: state.counters.websocket_connections)
            monkeypatch.setattr(genesys_follower, "parse_frame", failing_once(genesys_follower.parse_frame))
            world.by_hand("Break")  # its event is the frame that fails
            reconnected = await world.time_until(
                lambda: world.act(lambda state: state.counters.websocket_connections) > connections, within=300
            )
            await world.conclude(
                "unexpected error on the notifications socket",
                "socket followed again" if reconnected is not None else "**socket never followed again**",
                order=10,
                met=reconnected is not None,
            )
    text = log_file.read_text()
    assert reconnected is not None, "the Genesys follower died: no socket any more"
    assert "something nobody planned for" in text and "c2VjcmV0LXBheWxvYWQtZm9yLXRlc3Rz" not in text
