"""Genesys notification channels: creating them, subscribing them to topics, and publishing changes.

A channel belongs to one user and one OAuth client, lives 24 h (extended by each subscription) and dies
with the token that created it. Publishing goes to the :class:`StateObserver` (the websocket hub in
:mod:`.genesys_notifications` registers itself), which delivers to the connected channels.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Protocol

from tray_agent.clock import Clock

from . import notification_topics as topics
from .definitions import PresenceDefinitions
from .directory import SimUser
from .issued_tokens import GenesysToken, Tokens
from .request_log import Counters

CHANNEL_LIFETIME = 24 * 3600.0
MAX_CHANNELS_PER_USER_APP = 20
MAX_TOPICS_PER_CHANNEL = 1000


@dataclass
class Channel:
    id: str
    user_id: str
    client_id: str
    token: str
    created: float
    expires: float
    last_used: float
    topics: dict[str, None] = field(default_factory=dict)  # ordered set
    connected: bool = False


class TopicResult(NamedTuple):
    id: str
    state: Literal["Permitted", "Rejected"]
    rejection_reason: str | None = None


class StateObserver(Protocol):
    """What the world tells the notification hub (implemented in genesys_notifications.py)."""

    def publish(self, topic: str, body: dict[str, Any]) -> None: ...

    def channel_removed(self, channel_id: str) -> None: ...

    def drop_all_sockets(self) -> None: ...

    def socket_closing(self, delay: float) -> None: ...


class _NoObserver:
    def publish(self, topic: str, body: dict[str, Any]) -> None:
        pass

    def channel_removed(self, channel_id: str) -> None:
        pass

    def drop_all_sockets(self) -> None:
        pass

    def socket_closing(self, delay: float) -> None:
        pass


class NotificationChannels:
    def __init__(self, clock: Clock, tokens: Tokens, definitions: PresenceDefinitions, counters: Counters) -> None:
        self._clock = clock
        self._tokens = tokens
        self._definitions = definitions
        self._counters = counters
        self.observer: StateObserver = _NoObserver()
        self.channels: dict[str, Channel] = {}
        self._channels_by_owner: dict[tuple[str, str], dict[str, None]] = {}
        self._topic_index: dict[str, set[str]] = {}

    # ------------------------------------------------------------------ channels

    def create_channel(self, token: GenesysToken) -> Channel:
        now = self._clock.now()
        owned = self._channels_by_owner.setdefault((token.user_id, token.client_id), {})
        for channel_id in [c for c in owned if not self._alive(self.channels[c], now)]:
            self.remove_channel(channel_id)
        while len(owned) >= MAX_CHANNELS_PER_USER_APP:
            # "Creating a 21st channel will remove the channel with oldest last used date. Channels without
            # an active connection will be removed first."
            victim = min((self.channels[c] for c in owned), key=lambda c: (c.connected, c.last_used))
            self.remove_channel(victim.id)
        channel = Channel(
            id=f"streaming-0-{secrets.token_hex(13)}",
            user_id=token.user_id,
            client_id=token.client_id,
            token=token.token,
            created=now,
            expires=now + CHANNEL_LIFETIME,
            last_used=now,
        )
        self.channels[channel.id] = channel
        owned[channel.id] = None
        self._counters.channels_created += 1
        return channel

    def _alive(self, channel: Channel, now: float) -> bool:
        if now >= channel.expires:
            return False
        status, _ = self._tokens.genesys_token_status(channel.token)
        return status == "ok"

    def live_channel(self, channel_id: str) -> Channel | None:
        """The channel if it exists and has not expired (expired ones are removed on sight)."""
        channel = self.channels.get(channel_id)
        if channel is None:
            return None
        if not self._alive(channel, self._clock.now()):
            self.remove_channel(channel_id)
            return None
        return channel

    def channels_of(self, user_id: str, client_id: str, token: str | None = None) -> list[Channel]:
        owned = self._channels_by_owner.get((user_id, client_id), {})
        alive = [c for c in (self.live_channel(cid) for cid in list(owned)) if c is not None]
        return [c for c in alive if token is None or c.token == token]

    def remove_channel(self, channel_id: str) -> None:
        channel = self.channels.pop(channel_id, None)
        if channel is None:
            return
        owned = self._channels_by_owner.get((channel.user_id, channel.client_id))
        if owned is not None:
            owned.pop(channel_id, None)
        for topic in channel.topics:
            self._unindex(topic, channel_id)
        self.observer.channel_removed(channel_id)

    def remove_channels_of_token(self, token: GenesysToken) -> None:
        """A revoked token's channels die with it (O(channels of that user))."""
        for channel_id in list(self._channels_by_owner.get((token.user_id, token.client_id), {})):
            if self.channels[channel_id].token == token.token:
                self.remove_channel(channel_id)

    def expire_all_channels(self) -> None:
        for channel_id in list(self.channels):
            self.remove_channel(channel_id)

    def close_channels_of_dead_tokens(self) -> None:
        now = self._clock.now()
        for channel in list(self.channels.values()):
            if not self._alive(channel, now):
                self.remove_channel(channel.id)

    def set_connected(self, channel_id: str, connected: bool) -> None:
        channel = self.channels.get(channel_id)
        if channel is not None:
            channel.connected = connected
            channel.last_used = self._clock.now()

    # ------------------------------------------------------------------ subscriptions

    def check_topic(self, channel: Channel, topic: str) -> TopicResult | None:
        """None if the topic is not a topic name at all; else Permitted/Rejected."""
        match = topics.USER_TOPIC.match(topic)
        if match is None:
            return None
        # Every own-user topic needs no permission beyond the token (real behaviour unknown for
        # v2.users.{id}.conversationsummary too: undocumented; no extra permission is asked for).
        if match.group(1) != channel.user_id:
            # real behaviour unknown: the exact rejection text for someone else's user topic
            return TopicResult(topic, "Rejected", "Permission denied: you may only subscribe to your own user topics")
        return TopicResult(topic, "Permitted")

    def subscribe(self, channel: Channel, topic_names: Iterable[str], *, replace: bool) -> list[TopicResult]:
        """Subscribe (``replace`` = PUT semantics). Caller validates topic names first."""
        results = [r for r in (self.check_topic(channel, t) for t in topic_names) if r is not None]
        if replace:
            self.unsubscribe(channel, None)
        for result in results:
            if result.state == "Permitted" and result.id not in channel.topics:
                channel.topics[result.id] = None
                self._topic_index.setdefault(result.id, set()).add(channel.id)
        now = self._clock.now()
        channel.expires = now + CHANNEL_LIFETIME  # re-subscribing extends the 24 h lifetime
        channel.last_used = now
        return results

    def unsubscribe(self, channel: Channel, topic_names: Iterable[str] | None) -> None:
        for topic in list(channel.topics) if topic_names is None else list(topic_names):
            if topic in channel.topics:
                del channel.topics[topic]
                self._unindex(topic, channel.id)

    def _unindex(self, topic: str, channel_id: str) -> None:
        subscribers = self._topic_index.get(topic)
        if subscribers is not None:
            subscribers.discard(channel_id)
            if not subscribers:
                del self._topic_index[topic]

    def subscribers(self, topic: str) -> Iterator[str]:
        return iter(tuple(self._topic_index.get(topic, ())))

    # ------------------------------------------------------------------ publishing

    def announce(self, person: SimUser, *, presence: bool = False, routing: bool = False, ooo: bool = False) -> None:
        """Publish the change on every topic that carries it (only topics somebody subscribed to)."""
        gid = person.genesys_id
        if self._topic_index.get(topic := f"v2.users.{gid}.activity"):
            self._publish(topic, topics.activity_body(person, self._definitions))
        if presence and self._topic_index.get(topic := f"v2.users.{gid}.presence"):
            self._publish(topic, topics.presence_body(person, self._definitions))
        if routing and self._topic_index.get(topic := f"v2.users.{gid}.routingStatus"):
            self._publish(topic, topics.routing_status_body(person))
        if ooo and self._topic_index.get(topic := f"v2.users.{gid}.outofoffice"):
            self._publish(topic, topics.out_of_office_body(person))

    def announce_summary(self, person: SimUser, body: dict[str, Any]) -> None:
        """Publish a new conversation summary on ``v2.users.{id}.conversationsummary`` (if subscribed)."""
        if self._topic_index.get(topic := f"v2.users.{person.genesys_id}.conversationsummary"):
            self._publish(topic, body)

    def _publish(self, topic: str, body: dict[str, Any]) -> None:
        self._counters.events_published += 1
        self.observer.publish(topic, body)
