"""Genesys notification websocket frames → typed messages (pure; no socket here).

Frames come from the network, so anything unexpected becomes :class:`Ignored` with a reason that is
safe to log — never an exception, never a change to what we know.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tray_agent.clients import bounded_json
from tray_agent.clients.genesys import ACTIVITY_TOPIC, timestamp_or_zero
from tray_agent.clients.genesys_conversations import CONVERSATION_SUMMARY_TOPIC, parse_conversation_summary
from tray_agent.core.interactions import InteractionSummary
from tray_agent.core.presence import GenesysState, normalise_system_presence

MAX_FRAME_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """``channel.metadata`` heartbeat or pong: the channel is alive."""


@dataclass(frozen=True, slots=True)
class SocketClosing:
    """``v2.system.socket_closing``: Genesys is about to close the socket (maintenance)."""


@dataclass(frozen=True, slots=True)
class ChannelGone:
    """``{"result": "404"}``: the channel expired, was replaced, or its token expired."""


@dataclass(frozen=True, slots=True)
class Activity:
    state: GenesysState


@dataclass(frozen=True, slots=True)
class Interactions:
    """``v2.users.{id}.conversationsummary``: the media the agent now has active conversations in."""

    summary: InteractionSummary


@dataclass(frozen=True, slots=True)
class Ignored:
    reason: str


Message = Heartbeat | SocketClosing | ChannelGone | Activity | Interactions | Ignored


def parse_frame(frame: str | bytes, user_id: str, previous: GenesysState | None, now: float) -> Message:
    if len(frame) > MAX_FRAME_BYTES:
        return Ignored("frame too large")
    try:
        body = bounded_json.loads(frame, max_bytes=MAX_FRAME_BYTES)
    except bounded_json.JSONRefused as refused:
        return Ignored(f"frame refused: {refused}")
    except ValueError:
        return Ignored("frame is not JSON")
    if not isinstance(body, dict):
        return Ignored("frame is not a JSON object")
    if str(body.get("result", "")) == "404":
        return ChannelGone()
    topic = body.get("topicName")
    if topic == "channel.metadata":
        return Heartbeat()
    if topic == "v2.system.socket_closing":
        return SocketClosing()
    if topic == CONVERSATION_SUMMARY_TOPIC.format(user_id=user_id):
        return _interactions(body.get("eventBody"), user_id)
    if topic != ACTIVITY_TOPIC.format(user_id=user_id):
        return Ignored(f"topic {str(topic)[:80]!r} is not ours")
    event = body.get("eventBody")
    if not isinstance(event, dict):
        return Ignored("activity event has no eventBody")
    if "id" in event and event.get("id") != user_id:
        return Ignored("activity event is about another user")
    return _activity(event, previous, now)


def _interactions(event: object, user_id: str) -> Message:
    if not isinstance(event, dict):
        return Ignored("conversation summary event has no eventBody")
    if "userId" in event and event.get("userId") != user_id:
        return Ignored("conversation summary event is about another user")
    summary = parse_conversation_summary(event)
    return Ignored("conversation summary event is not a summary") if summary is None else Interactions(summary)


def _activity(event: dict[str, Any], previous: GenesysState | None, now: float) -> Message:
    presence = event.get("presence")
    definition = presence.get("presenceDefinition") if isinstance(presence, dict) else None
    routing = event.get("routingStatus")
    ooo = event.get("outOfOffice")

    if isinstance(definition, dict) and isinstance(definition.get("id"), str) and definition["id"]:
        presence_id = definition["id"]
        system = normalise_system_presence(definition.get("systemPresence"))
        modified = timestamp_or_zero(presence.get("modifiedDate") if isinstance(presence, dict) else None)
    elif previous is not None:
        presence_id, system, modified = previous.presence_id, previous.system_presence, previous.modified_at
    else:
        return Ignored("activity event without a presence, and no earlier state to complete it")

    routing_status = previous.routing_status if previous is not None else "OFF_QUEUE"
    if isinstance(routing, dict) and isinstance(routing.get("status"), str):
        routing_status = routing["status"].upper()
    out_of_office = previous.out_of_office if previous is not None else False
    if isinstance(ooo, dict) and isinstance(ooo.get("active"), bool):
        out_of_office = ooo["active"]

    state = GenesysState(presence_id, system, routing_status, out_of_office, confirmed_at=now, modified_at=modified)
    return Activity(state)
