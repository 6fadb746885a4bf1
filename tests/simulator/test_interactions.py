"""Genesys interactions: what the agent handles (ACD from a queue, or direct), the routing status that
follows them, and the conversation summary (REST, users/me expand, the conversationsummary topic)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tray_agent.simulator import Simulator, SimulatorState

from .helpers import ManualClock, bearer, genesys_token, next_message, open_channel, ssl_context


def world() -> tuple[SimulatorState, ManualClock]:
    clock = ManualClock()
    return Simulator(clock, auto_approve=True).state, clock


def counts(summary: dict[str, Any], field: str) -> tuple[int, int]:
    """(contactCenter active, enterprise active) of one media field."""
    return summary[field]["contactCenter"]["active"], summary[field]["enterprise"]["active"]


# ---------------------------------------------------------------------------------------- routing status


def test_an_acd_interaction_makes_an_idle_agent_interacting_until_all_end() -> None:
    state, clock = world()
    state.genesys.set_routing("IDLE")
    call = state.genesys.connect_interaction("voice")
    assert state.genesys.routing_status() == "INTERACTING"
    clock.advance(10)
    chat = state.genesys.connect_interaction("chat")
    state.genesys.end_interaction(call.id)
    assert state.genesys.routing_status() == "INTERACTING"  # the chat is still ACD
    clock.advance(5)
    state.genesys.end_interaction(chat.id)
    assert state.genesys.routing_status() == "IDLE"
    assert state.people.default_user.genesys.routing_start == clock.now()
    routing = [(e.detail["old"], e.detail["new"], e.cause) for e in state.genesys.events if e.kind == "routing_changed"]
    assert routing == [
        ("OFF_QUEUE", "IDLE", "control"),
        ("IDLE", "INTERACTING", "system"),
        ("INTERACTING", "IDLE", "system"),
    ]
    assert state.genesys.system_presence() == "OnQueue" and state.genesys.violations == []


def test_a_non_acd_interaction_on_queue_is_communicating_and_acd_wins_over_it() -> None:
    state, _ = world()
    state.genesys.set_routing("IDLE")
    direct = state.genesys.connect_interaction("voice", acd=False)
    assert state.genesys.routing_status() == "COMMUNICATING"
    queued = state.genesys.connect_interaction("email")
    assert state.genesys.routing_status() == "INTERACTING"
    state.genesys.end_interaction(queued.id)
    assert state.genesys.routing_status() == "COMMUNICATING"
    state.genesys.end_interaction(direct.id)
    assert state.genesys.routing_status() == "IDLE"


def test_off_queue_stays_off_queue_and_acd_cannot_reach_it() -> None:
    state, _ = world()
    assert state.genesys.routing_status() == "OFF_QUEUE"
    direct = state.genesys.connect_interaction("voice", acd=False)
    assert state.genesys.routing_status() == "OFF_QUEUE"
    with pytest.raises(ValueError, match="OFF_QUEUE"):
        state.genesys.connect_interaction("voice")
    assert state.genesys.interactions() == [direct]
    state.genesys.end_interaction(direct.id)
    assert state.genesys.routing_status() == "OFF_QUEUE"


def test_going_on_queue_during_an_interaction_shows_it_at_once() -> None:
    state, _ = world()
    state.genesys.connect_interaction("voice", acd=False)
    state.genesys.set_routing("IDLE")
    assert state.genesys.routing_status() == "COMMUNICATING"


def test_ending_names_an_id_or_the_latest_of_a_media_and_bad_input_changes_nothing() -> None:
    state, _ = world()
    state.genesys.set_routing("IDLE")
    first = state.genesys.connect_interaction("chat")
    second = state.genesys.connect_interaction("chat")
    assert state.genesys.end_interaction(media="chat") == second
    for bad in (
        lambda: state.genesys.end_interaction("no-such-id"),
        lambda: state.genesys.end_interaction(media="email"),
        lambda: state.genesys.end_interaction(),
        lambda: state.genesys.connect_interaction("fax"),
        lambda: state.genesys.connect_interaction("voice", conversation_id=first.id),
    ):
        with pytest.raises(ValueError):
            bad()
    assert state.genesys.interactions() == [first] and state.genesys.routing_status() == "INTERACTING"


def test_the_summary_counts_acd_under_contact_center_and_the_others_under_enterprise() -> None:
    state, _ = world()
    state.genesys.set_routing("IDLE")
    state.genesys.connect_interaction("voice")
    state.genesys.connect_interaction("voice", acd=False)
    state.genesys.connect_interaction("callback")
    state.genesys.connect_interaction("message", acd=False)
    summary = state.genesys.conversation_summary()
    assert summary["userId"] == state.people.default_user.genesys_id
    assert set(summary) == {"userId", "call", "callback", "email", "message", "chat", "socialExpression", "video"}
    assert counts(summary, "call") == (1, 1) and counts(summary, "callback") == (1, 0)
    assert counts(summary, "message") == (0, 1) and counts(summary, "chat") == (0, 0)
    assert summary["email"] == {"contactCenter": {"active": 0, "acw": 0}, "enterprise": {"active": 0, "acw": 0}}


# ---------------------------------------------------------------------------------------- REST and topic


@pytest.mark.anyio
async def test_the_summary_over_rest_for_the_own_user_only(sim: Simulator) -> None:
    me = sim.state.people.default_user
    bob = sim.state.people.add_user("Bob Agent", "bob@contoso.example")
    sim.state.genesys.set_routing("IDLE")
    sim.state.genesys.connect_interaction("voice")
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        api = f"{sim.base_url}/api/v2/users"
        own = await client.get(f"{api}/{me.genesys_id}/conversations/summary", headers=bearer(token))
        other = await client.get(f"{api}/{bob.genesys_id}/conversations/summary", headers=bearer(token))
        unknown = await client.get(f"{api}/me/conversations/summary", headers=bearer(token))
        anonymous = await client.get(f"{api}/{me.genesys_id}/conversations/summary")
        user_me = await client.get(
            f"{api}/me", params={"expand": "presence,conversationSummary"}, headers=bearer(token)
        )
        plain_me = await client.get(f"{api}/me", headers=bearer(token))
        someone = await client.get(
            f"{api}/{me.genesys_id}", params={"expand": "conversationSummary"}, headers=bearer(token)
        )
    assert own.status_code == 200 and counts(own.json(), "call") == (1, 0)
    assert other.status_code == 403 and other.json()["code"] == "missing.permissions"
    assert unknown.status_code == 404 and anonymous.status_code == 401
    assert user_me.status_code == 200 and user_me.json()["conversationSummary"] == own.json()
    assert "presence" in user_me.json()
    assert "conversationSummary" not in plain_me.json() and "conversationSummary" not in someone.json()


@pytest.mark.anyio
async def test_each_change_of_the_counts_is_published_on_the_conversationsummary_topic(sim: Simulator) -> None:
    me = sim.state.people.default_user
    summary_topic = f"v2.users.{me.genesys_id}.conversationsummary"
    routing_topic = f"v2.users.{me.genesys_id}.routingStatus"
    sim.state.genesys.set_routing("IDLE")
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        _, ws = await open_channel(client, sim, token, [summary_topic, routing_topic])
        async with ws:
            call = sim.state.genesys.connect_interaction("voice")
            routing = await next_message(ws)
            connected = await next_message(ws)
            sim.state.genesys.end_interaction(call.id)
            await next_message(ws)  # routing back to IDLE
            ended = await next_message(ws)
    assert routing["topicName"] == routing_topic and routing["eventBody"]["routingStatus"]["status"] == "INTERACTING"
    assert connected["topicName"] == summary_topic
    assert connected["eventBody"]["userId"] == me.genesys_id
    assert set(connected["eventBody"]) == set(sim.state.genesys.conversation_summary())  # the REST shape
    assert counts(connected["eventBody"], "call") == (1, 0) and counts(ended["eventBody"], "call") == (0, 0)


@pytest.mark.anyio
async def test_someone_elses_summary_topic_is_rejected(sim: Simulator) -> None:
    bob = sim.state.people.add_user("Bob Agent", "bob@contoso.example")
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        channel = (await client.post(f"{sim.base_url}/api/v2/notifications/channels", headers=bearer(token))).json()
        result = await client.put(
            f"{sim.base_url}/api/v2/notifications/channels/{channel['id']}/subscriptions",
            headers=bearer(token),
            json=[{"id": f"v2.users.{bob.genesys_id}.conversationsummary"}],
        )
    assert result.status_code == 200 and result.json()["entities"][0]["state"] == "Rejected"


# ---------------------------------------------------------------------------------------- control surface


@pytest.mark.anyio
async def test_the_control_api_connects_and_ends_interactions(sim: Simulator) -> None:
    api = f"{sim.base_url}/control/api/genesys"
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        refused = await client.post(f"{api}/interaction", json={"media": "voice", "state": "connected"})
        await client.post(f"{api}/routing", json={"status": "IDLE"})
        connected = await client.post(f"{api}/interaction", json={"media": "voice", "state": "connected"})
        direct = await client.post(f"{api}/interaction", json={"media": "chat", "state": "connected", "acd": False})
        state = (await client.get(f"{sim.base_url}/control/api/state")).json()
        bad = [
            await client.post(f"{api}/interaction", json=body)
            for body in (
                {"media": "fax", "state": "connected"},
                {"media": "voice", "state": "ringing"},
                {"media": "voice", "state": "connected", "acd": "yes"},
                {"state": "connected"},
                {"state": "ended"},
                {"state": "ended", "id": "nope"},
                {"media": "voice", "state": "connected", "user": "nobody@contoso.example"},
            )
        ]
        ended = await client.post(f"{api}/interaction", json={"state": "ended", "id": connected.json()["id"]})
        by_media = await client.post(f"{api}/interaction", json={"state": "ended", "media": "chat"})
    assert refused.status_code == 400 and "OFF_QUEUE" in refused.json()["error"]
    assert connected.status_code == 200 and connected.json()["routingStatus"] == "INTERACTING"
    assert direct.json()["acd"] is False
    listed = state["users"][0]["genesys"]["interactions"]
    assert [(i["media"], i["acd"]) for i in listed] == [("voice", True), ("chat", False)]
    assert [r.status_code for r in bad] == [400] * len(bad)
    assert all(r.json()["error"] for r in bad)
    assert ended.status_code == 200 and ended.json()["routingStatus"] == "COMMUNICATING"
    assert by_media.json()["id"] == direct.json()["id"] and by_media.json()["routingStatus"] == "IDLE"
    assert sim.state.genesys.interactions() == []
