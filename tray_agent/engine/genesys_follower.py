"""Follows the agent's Genesys state over the notifications websocket (``v2.users.{id}.activity``).

Lifecycle: read ``users/me`` and the presence definitions → create a channel → subscribe → connect →
read ``users/me`` again (closes the gap between the first read and the subscription) → relay events.
Heartbeats confirm the state we hold; silence past ``heartbeat_timeout`` (after one ping) means a dead
socket. ``v2.system.socket_closing`` and ``{"result":"404"}`` start a fresh channel. Whether the
socket is up goes to the sync protocol (``GenesysSocket``), which polls ``users/me`` while it is down.
The channel is re-subscribed an hour before its 24 h expiry, which extends it.

With ``on_interactions`` (the Genesys → Teams direction; None by default, and then nothing here
changes), the channel also carries ``v2.users.{id}.conversationsummary``: the summary is read once
after each connect (``GET …/conversations/summary``, as ``users/me`` is) and each event after that is
handed to ``on_interactions(summary, now)``. If Genesys rejects that topic, it is logged once and the
channel follows the activity alone.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import ssl
from collections.abc import Callable, Collection
from typing import Any, Protocol

import websockets

from tray_agent.auth.tokens import SignInRequired, TokenSource
from tray_agent.clients.errors import AuthenticationRequired, ServiceError, Throttled
from tray_agent.clients.genesys import ACTIVITY_TOPIC, Channel, GenesysUser
from tray_agent.clients.genesys_conversations import CONVERSATION_SUMMARY_TOPIC
from tray_agent.clients.genesys_notifications import (
    MAX_FRAME_BYTES,
    Activity,
    ChannelGone,
    Heartbeat,
    Ignored,
    Interactions,
    SocketClosing,
    parse_frame,
)
from tray_agent.clock import Clock
from tray_agent.config.settings import Timing
from tray_agent.core.backoff import Backoff
from tray_agent.core.events import GenesysHeartbeat, GenesysObserved, GenesysSocket, Source
from tray_agent.core.interactions import InteractionSummary
from tray_agent.core.presence import GenesysState, PresenceCatalog, PresenceDefinition
from tray_agent.core.service import Service
from tray_agent.engine.inbox import GenesysSignedIn, Inbox, LinkChanged
from tray_agent.engine.snapshot import Link

log = logging.getLogger(__name__)

RENEW_BEFORE_EXPIRY = 3600.0

# The hook the Genesys → Teams direction is fed through: (what the agent is handling, the clock's now).
InteractionsHook = Callable[[InteractionSummary, float], None]


class GenesysApi(Protocol):
    """The Genesys REST calls the engine makes (:class:`~tray_agent.clients.genesys.GenesysClient`)."""

    async def me(self, now: float) -> GenesysUser: ...

    async def presence_definitions(self) -> list[PresenceDefinition]: ...

    async def set_my_presence(self, user_id: str, definition_id: str) -> tuple[str, str, float]: ...

    async def create_channel(self) -> Channel: ...

    async def subscribe(
        self, channel_id: str, topics: list[str], *, optional: Collection[str] = ()
    ) -> dict[str, str] | None: ...

    async def conversation_summary(self, user_id: str) -> InteractionSummary:
        """Only called with ``on_interactions`` (the Genesys → Teams direction)."""
        ...


class Socket(Protocol):
    async def recv(self) -> str | bytes: ...

    async def send(self, message: str) -> None: ...

    async def close(self) -> None: ...


class Connect(Protocol):
    """Opens the notifications websocket (``websockets.connect``; a fake in the engine tests)."""

    def __call__(self, uri: str, **options: Any) -> Any: ...


class _Reconnect(Exception):
    """The socket should be replaced (closing notice, expired channel, silence)."""

    def __init__(self, why: str, *, at_once: bool = False) -> None:
        super().__init__(why)
        self.at_once = at_once


class GenesysFollower:
    def __init__(
        self,
        genesys: GenesysApi,
        auth: TokenSource,
        clock: Clock,
        timing: Timing,
        inbox: Inbox,
        ssl_context: ssl.SSLContext | None,
        current_state: Callable[[], GenesysState | None],
        rng: random.Random | None = None,
        connect: Connect = websockets.connect,
        proxy_for: Callable[[str], str | None] | None = None,
        *,
        on_interactions: InteractionsHook | None = None,
    ) -> None:
        """``on_interactions``: subscribe to the conversation summary too and hand each one over (the
        Genesys → Teams direction); None (the default): the channel carries the activity topic alone."""
        self._genesys = genesys
        self._auth = auth
        self._clock = clock
        self._timing = timing
        self._inbox = inbox
        self._ssl = ssl_context
        self._connect = connect
        self._proxy_for = proxy_for  # the agent's one proxy resolver (clients/proxy.py); None: environment
        self._current = current_state
        self._rng = rng or random.Random()  # noqa: S311 - jitter
        self._backoff = Backoff(timing.backoff_base, min(timing.backoff_cap, 60.0), self._rng)
        self._user: GenesysUser | None = None
        self._socket: Socket | None = None
        self._user_switched = False
        self._signed_in = asyncio.Event()
        self._signed_in.set()
        self._on_interactions = on_interactions
        self._summary_refused = False  # Genesys rejected the summary topic: follow without it (logged once)
        self.connections = 0
        self.connected = False

    @property
    def user_id(self) -> str | None:
        return self._user.id if self._user else None

    async def signed_in_again(self) -> None:
        """After a Genesys sign-in: whoever signed in is read again and followed on a fresh channel
        (the one we have follows the previous sign-in's user)."""
        self._user = None
        self._summary_refused = False  # another user's role may allow the topic
        self._signed_in.set()
        if self._socket is not None:
            self._user_switched = True
            await self._socket.close()

    async def refresh(self, source: Source = Source.REST) -> GenesysUser:
        """Read ``users/me`` and report it; raises ServiceError / SignInRequired."""
        user = await self._genesys.me(self._clock.now())
        if self._user is None or self._user.id != user.id:
            catalog = PresenceCatalog(await self._genesys.presence_definitions())
            await self._inbox.put(GenesysSignedIn(user.id, user.name, catalog))
        self._user = user
        await self._inbox.put(GenesysObserved(user.state, source, self._clock.now()))
        return user

    async def run(self) -> None:
        while True:
            await self._signed_in.wait()
            try:
                await self._follow_once()
            except (SignInRequired, AuthenticationRequired) as error:
                if isinstance(error, AuthenticationRequired):
                    self._auth.invalidate()
                self._signed_in.clear()
                await self._inbox.put(LinkChanged(Service.GENESYS, Link.SIGN_IN_NEEDED, "Genesys sign-in needed"))
                continue
            except Throttled as error:
                delay = self._backoff.next_delay(at_least=error.retry_after or 0.0)
                await self._inbox.put(LinkChanged(Service.GENESYS, Link.THROTTLED, str(error)))
            except (ServiceError, _Reconnect, OSError, websockets.WebSocketException, TimeoutError) as error:
                at_once = isinstance(error, _Reconnect) and error.at_once
                delay = self._rng.uniform(0.0, 2.0) if at_once else self._backoff.next_delay()
                detail = str(error) if isinstance(error, ServiceError | _Reconnect) else error.__class__.__name__
                log.info("Genesys notifications: %s; reconnecting in %.0f s", detail, delay)
                await self._inbox.put(LinkChanged(Service.GENESYS, Link.DEGRADED, detail))
            except Exception as error:  # a bug must not end following Genesys: report it, back off, go on
                log.exception("unexpected error while following Genesys")
                delay = self._backoff.next_delay()
                await self._inbox.put(
                    LinkChanged(Service.GENESYS, Link.DEGRADED, f"unexpected error ({error.__class__.__name__})")
                )
            else:
                delay = 0.0
            finally:
                if self.connected:
                    await self._inbox.put(GenesysSocket(False, self._clock.now()))  # the protocol polls meanwhile
                self.connected = False
            await self._clock.sleep(delay)

    async def _follow_once(self) -> None:
        user = self._user or await self.refresh()
        channel = await self._genesys.create_channel()
        await self._subscribe(channel.id, user.id)
        async with self._connect(
            channel.connect_uri,
            ssl=self._ssl if channel.connect_uri.startswith("wss://") else None,
            open_timeout=15,
            ping_interval=None,  # Genesys has its own ping/heartbeat protocol
            max_size=MAX_FRAME_BYTES,
            close_timeout=2,
            **({"proxy": self._proxy_for(channel.connect_uri)} if self._proxy_for is not None else {}),
        ) as socket:
            self._socket, self._user_switched = socket, False
            self.connections += 1
            self.connected = True
            await self._inbox.put(GenesysSocket(True, self._clock.now()))
            await self.refresh()
            await self._read_interactions(user.id)
            self._backoff.reset()
            await self._inbox.put(LinkChanged(Service.GENESYS, Link.CONNECTED))
            try:
                await self._relay(socket, channel)
            except websockets.ConnectionClosed:
                if self._user_switched:
                    raise _Reconnect("signed in again: following on a fresh channel", at_once=True) from None
                raise
            finally:
                self._socket = None

    @property
    def follows_interactions(self) -> bool:
        """The channel carries the conversation summary (asked for, and not rejected by Genesys)."""
        return self._on_interactions is not None and not self._summary_refused

    async def _subscribe(self, channel_id: str, user_id: str) -> None:
        """The activity topic, and the conversation summary when asked for; a rejected summary topic is
        logged once and left out from then on (the activity topic being rejected stays an error)."""
        topics = [ACTIVITY_TOPIC.format(user_id=user_id)]
        if not self.follows_interactions:
            await self._genesys.subscribe(channel_id, topics)
            return
        summary_topic = CONVERSATION_SUMMARY_TOPIC.format(user_id=user_id)
        refused = await self._genesys.subscribe(channel_id, [*topics, summary_topic], optional=[summary_topic])
        if refused and summary_topic in refused:
            self._summary_refused = True
            log.warning(
                "Genesys refused the conversation summary topic (%s): Teams write-back follows the routing "
                "status alone",
                refused[summary_topic],
            )

    async def _read_interactions(self, user_id: str) -> None:
        """After a connect: the summary as it is now (events only say what changes after the subscription)."""
        if not self.follows_interactions:
            return
        try:
            summary = await self._genesys.conversation_summary(user_id)
        except AuthenticationRequired:
            raise
        except ServiceError as error:  # the activity is followed regardless; the next event brings the summary
            log.info("Genesys conversation summary could not be read: %s", error)
            return
        self._hand_over(summary)

    def _hand_over(self, summary: InteractionSummary) -> None:
        hook = self._on_interactions
        if hook is None:
            return
        try:
            hook(summary, self._clock.now())
        except Exception:  # the hook's bug must not end following Genesys
            log.exception("the conversation summary hook failed")

    async def _relay(self, socket: Socket, channel: Channel) -> None:
        assert self._user is not None  # noqa: S101 - set by refresh() in _follow_once
        user_id = self._user.id
        pinged = False
        while True:
            if channel.expires and self._clock.now() > channel.expires - RENEW_BEFORE_EXPIRY:
                await self._subscribe(channel.id, user_id)
                channel = Channel(channel.id, channel.connect_uri, self._clock.now() + 24 * 3600)
            try:
                frame = await asyncio.wait_for(
                    socket.recv(), timeout=self._clock.to_real(self._timing.heartbeat_timeout)
                )
            except TimeoutError:
                if pinged:
                    raise _Reconnect("no heartbeat from Genesys") from None
                pinged = True
                await socket.send(json.dumps({"message": "ping"}))
                continue
            pinged = False
            message = parse_frame(frame, user_id, self._current(), self._clock.now())
            if isinstance(message, Heartbeat):
                await self._inbox.put(GenesysHeartbeat(self._clock.now()))
            elif isinstance(message, Activity):
                await self._inbox.put(GenesysObserved(message.state, Source.SOCKET, self._clock.now()))
            elif isinstance(message, Interactions):
                if self.follows_interactions:
                    self._hand_over(message.summary)
            elif isinstance(message, SocketClosing):
                raise _Reconnect("Genesys is closing the socket (maintenance)", at_once=True)
            elif isinstance(message, ChannelGone):
                raise _Reconnect("the notification channel expired", at_once=True)
            elif isinstance(message, Ignored):
                log.debug("ignored a notification frame: %s", message.reason)
