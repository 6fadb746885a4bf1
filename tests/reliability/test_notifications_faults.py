"""The Genesys notifications websocket misbehaving: dropped without a close frame, heartbeats gone
quiet, ``v2.system.socket_closing`` for maintenance, and the channel expiring (``{"result":"404"}``).

Whatever happens to the socket, a status the agent picks by hand meanwhile is seen (the engine
re-reads users/me as it reconnects) and stands until Teams changes, and the next Teams change is
still followed.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.reliability.world import fault_world
from tray_agent.core.rules import SyncStatus
from tray_agent.simulator.state import SimulatorState

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SOCKET_FAULTS: list[tuple[str, Callable[[SimulatorState], object]]] = [
    ("websocket dropped (no close frame)", lambda state: state.faults.drop_websockets()),
    ("v2.system.socket_closing", lambda state: state.faults.socket_closing()),
    ('channel expired ({"result":"404"})', lambda state: state.faults.expire_channels()),
]


@pytest.mark.parametrize(("label", "fault"), SOCKET_FAULTS, ids=["dropped", "socket_closing", "channel-404"])
async def test_after_the_socket_goes_a_status_set_by_hand_meanwhile_is_seen_and_kept(
    label: str, fault: Callable[[SimulatorState], object]
) -> None:
    async with fault_world() as world:
        connections = world.act(lambda state: state.counters.websocket_connections)
        world.teams("Busy", "InAMeeting")
        await world.shows("Meeting")
        world.act(fault)
        world.by_hand("Break")  # while the socket is going or gone
        await world.eventually(
            lambda: world.act(lambda state: state.counters.websocket_connections) > connections,
            300,
            "a new socket",
        )
        # A condition, not a look at one moment: the engine re-reads Teams on seeing the change
        # (WAITING meanwhile), then settles on MANUAL.
        await world.eventually(
            lambda: (
                (world.snapshot.genesys_label, world.snapshot.status, world.snapshot.set_by)
                == ("Break", SyncStatus.MANUAL, "you")
            ),
            120,
            "the engine knows it is the agent's",
        )
        await world.keeps_showing("Break", during=120)  # Teams has not changed since: the agent's choice stands
        world.teams("Away", "Away")
        await world.shows("Away")
        reconnects = world.act(lambda state: state.counters.websocket_connections) - connections
        await world.conclude(label, f"reconnected ({reconnects} new socket), the agent's Break kept", order=6)


async def test_missed_heartbeats_are_covered_by_a_ping_and_sync_goes_on_without_reconnecting() -> None:
    async with fault_world() as world:
        world.act(lambda state: state.faults.stop_heartbeats(True))
        connections = world.act(lambda state: state.counters.websocket_connections)
        channels = world.act(lambda state: state.counters.channels_created)
        await world.clock.sleep(400)  # more than five heartbeat intervals of silence
        world.teams("Busy", "InAMeeting")
        await world.shows("Meeting", within=120)
        world.by_hand("Training")
        await world.eventually(lambda: world.snapshot.genesys_label == "Training", 60, "seen over the socket")
        stale_rereads = [t for t in world.transitions if "not confirmed recently" in t.text]
        same_socket = world.act(lambda state: state.counters.websocket_connections) == connections
        await world.conclude(
            "heartbeats stopped for 400 s",
            "answered our ping; " + ("same socket" if same_socket else "reconnected"),
            order=6,
        )
        assert same_socket and world.act(lambda state: state.counters.channels_created) == channels
        assert stale_rereads == [], "the pong confirms the state: no REST re-reads needed"
