"""Simulated Genesys notification channels and websockets (real TLS websockets via the `websockets` client)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tray_agent.clock import ScaledClock
from tray_agent.simulator import Simulator
from tray_agent.simulator import definitions as defs
from tray_agent.simulator.notification_channels import MAX_CHANNELS_PER_USER_APP

from .helpers import bearer, genesys_token, next_message, open_channel, ssl_context

pytestmark = pytest.mark.anyio


def activity(sim: Simulator) -> str:
    return f"v2.users.{sim.state.people.default_user.genesys_id}.activity"


async def test_a_presence_patch_arrives_as_an_activity_event_in_upper_snake_casing(sim: Simulator) -> None:
    person = sim.state.people.default_user
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        channel, ws = await open_channel(client, sim, token, [activity(sim)])
        async with ws:
            assert channel["connectUri"] == f"wss://127.0.0.1:{sim.port}/channels/{channel['id']}"
            await client.patch(
                f"{sim.base_url}/api/v2/users/{person.genesys_id}/presences/purecloud",
                headers=bearer(token),
                json={"presenceDefinition": {"id": defs.BUSY.id}},
            )
            event = await next_message(ws)
            sim.state.genesys.set_routing("IDLE")  # control surface changes are pushed too
            queued = await next_message(ws)
    assert event["topicName"] == activity(sim) and event["version"] == "2"
    body = event["eventBody"]
    assert body["id"] == person.genesys_id
    assert body["presence"]["presenceDefinition"] == {"id": defs.BUSY.id, "systemPresence": "BUSY"}
    assert body["routingStatus"]["status"] == "OFF_QUEUE" and body["outOfOffice"]["active"] is False
    assert "CorrelationId" in event["metadata"]
    assert queued["eventBody"]["presence"]["presenceDefinition"]["systemPresence"] == "ON_QUEUE"
    assert queued["eventBody"]["routingStatus"]["status"] == "IDLE"
    assert queued["eventBody"]["activeQueueIds"]


async def test_subscribing_to_someone_elses_topic_is_rejected(sim: Simulator) -> None:
    bob = sim.state.people.add_user("Bob Agent", "bob@contoso.example")
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        channel = (await client.post(f"{sim.base_url}/api/v2/notifications/channels", headers=bearer(token))).json()
        url = f"{sim.base_url}/api/v2/notifications/channels/{channel['id']}/subscriptions"
        result = await client.put(
            url, headers=bearer(token), json=[{"id": activity(sim)}, {"id": f"v2.users.{bob.genesys_id}.activity"}]
        )
        listed = await client.get(url, headers=bearer(token))
        invalid = await client.post(url, headers=bearer(token), json=[{"id": "not a topic"}])
    own, others = result.json()["entities"]
    assert own == {"id": activity(sim), "state": "Permitted"}
    assert others["state"] == "Rejected" and others["rejectionReason"]
    assert [e["id"] for e in listed.json()["entities"]] == [activity(sim)]
    assert invalid.status_code == 400


async def test_heartbeats_follow_the_simulated_clock_and_can_be_stopped() -> None:
    async with Simulator(ScaledClock(speed=1000), auto_approve=True, heartbeat_interval=30) as sim:
        async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
            token = await genesys_token(client, sim)
            _, ws = await open_channel(client, sim, token, [activity(sim)])
        async with ws:
            # 30 simulated seconds = 30 ms of real time at speed 1000
            for _ in range(3):
                heartbeat = await next_message(ws, skip_heartbeats=False, timeout=1.0)
                assert heartbeat == {"topicName": "channel.metadata", "eventBody": {"message": "WebSocket Heartbeat"}}
            sim.state.faults.stop_heartbeats(True)
            await asyncio.sleep(0.05)
            while True:  # drain anything sent before the switch
                try:
                    await asyncio.wait_for(ws.recv(), 0.05)
                except TimeoutError:
                    break
            with pytest.raises(TimeoutError):
                await next_message(ws, skip_heartbeats=False, timeout=0.3)


async def test_client_ping_gets_pong_and_socket_subscribe_is_acknowledged(sim: Simulator) -> None:
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        _, ws = await open_channel(client, sim, token, [])
    async with ws:
        await ws.send(json.dumps({"message": "ping"}))
        assert await next_message(ws) == {"topicName": "channel.metadata", "eventBody": {"message": "pong"}}
        await ws.send(json.dumps({"message": "subscribe", "topics": [activity(sim)], "correlationId": "c-1"}))
        assert await next_message(ws) == {"result": "200", "status": "subscribed", "correlationId": "c-1"}
        sim.state.genesys.set_out_of_office(True)
        event = await next_message(ws)
    assert event["eventBody"]["outOfOffice"]["active"] is True


async def test_socket_closing_announces_maintenance_then_closes(sim: Simulator) -> None:
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        _, ws = await open_channel(client, sim, token, [activity(sim)])
    async with ws:
        sim.state.faults.socket_closing(close_after=0.05)
        assert (await next_message(ws))["topicName"] == "v2.system.socket_closing"
        with pytest.raises(ConnectionClosed):
            await next_message(ws, timeout=2)
    assert ws.close_code == 1000


async def test_dropped_websockets_close_without_a_close_frame(sim: Simulator) -> None:
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        _, ws = await open_channel(client, sim, token, [activity(sim)])
    sim.state.faults.drop_websockets()
    with pytest.raises(ConnectionClosed):
        await next_message(ws, timeout=2)
    assert ws.close_code == 1006


async def test_expired_channels_answer_404_and_their_sockets_get_result_404(sim: Simulator) -> None:
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        channel, ws = await open_channel(client, sim, token, [activity(sim)])
        head_url = f"{sim.base_url}/api/v2/notifications/channels/{channel['id']}"
        assert (await client.head(head_url, headers=bearer(token))).status_code == 200
        async with ws:
            sim.state.faults.expire_channels()
            assert await next_message(ws) == {"result": "404"}
            with pytest.raises(ConnectionClosed):
                await next_message(ws)
        assert (await client.head(head_url, headers=bearer(token))).status_code == 404
    with pytest.raises(InvalidStatus) as refused:
        await connect(channel["connectUri"], ssl=ssl_context(sim))
    assert refused.value.response.status_code == 404


async def test_channels_expire_after_24_simulated_hours_unless_resubscribed() -> None:
    clock = ScaledClock(speed=1000)
    async with Simulator(clock, auto_approve=True) as sim, httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        url = f"{sim.base_url}/api/v2/notifications/channels"
        kept, lapsed = [(await client.post(url, headers=bearer(token))).json()["id"] for _ in range(2)]
        for channel_id in (kept, lapsed):  # as if created 23 h 50 min ago (0.6 s of real time left)
            sim.state.notifications.channels[channel_id].expires = clock.now() + 600
        await client.put(f"{url}/{kept}/subscriptions", headers=bearer(token), json=[{"id": activity(sim)}])
        await clock.sleep(601)
        assert (await client.head(f"{url}/{kept}", headers=bearer(token))).status_code == 200
        assert (await client.head(f"{url}/{lapsed}", headers=bearer(token))).status_code == 404


async def test_the_21st_channel_evicts_the_oldest_unconnected_one(sim: Simulator) -> None:
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        url = f"{sim.base_url}/api/v2/notifications/channels"
        first, ws = await open_channel(client, sim, token, [activity(sim)])
        async with ws:
            created = [
                (await client.post(url, headers=bearer(token))).json()["id"] for _ in range(MAX_CHANNELS_PER_USER_APP)
            ]
            listed = {c["id"] for c in (await client.get(url, headers=bearer(token))).json()["entities"]}
    assert len(listed) == MAX_CHANNELS_PER_USER_APP
    assert first["id"] in listed  # connected: kept
    assert created[0] not in listed  # oldest unconnected: evicted


async def test_a_second_connection_to_a_channel_replaces_the_first(sim: Simulator) -> None:
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        channel, first = await open_channel(client, sim, token, [activity(sim)])
    async with first, await connect(channel["connectUri"], ssl=ssl_context(sim)) as second:
        with pytest.raises(ConnectionClosed):
            await next_message(first)
        sim.state.genesys.set_presence("Away")
        event = await next_message(second)
    assert event["eventBody"]["presence"]["presenceDefinition"]["systemPresence"] == "AWAY"


async def test_network_down_aborts_requests_and_sockets_until_it_comes_back(sim: Simulator) -> None:
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        _, ws = await open_channel(client, sim, token, [activity(sim)])
        sim.state.faults.network_down(True)
        with pytest.raises(httpx.TransportError):
            await client.get(f"{sim.base_url}/api/v2/users/me", headers=bearer(token))
        with pytest.raises(ConnectionClosed):
            await next_message(ws, timeout=2)
        assert sim.state.request_log[-1].status == 0
        sim.state.faults.network_down(False)
        assert (await client.get(f"{sim.base_url}/api/v2/users/me", headers=bearer(token))).status_code == 200


async def test_expiring_the_genesys_token_also_ends_its_channels(sim: Simulator) -> None:
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        _, ws = await open_channel(client, sim, token, [activity(sim)])
    async with ws:
        sim.state.faults.expire_tokens("genesys")
        assert await next_message(ws) == {"result": "404"}
