"""Fakes for the engine's seams: Teams, Genesys REST, the notifications websocket, sign-ins.

They answer at once (or after a virtual ``latency``) and keep a record of what was asked, so the
engine's loop can be tested on virtual time (:mod:`tests.engine.virtual_time`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import websockets

from tests.core.org import DEFINITIONS, definition
from tray_agent.auth.tokens import BrowserOpener
from tray_agent.clients.errors import ServiceError
from tray_agent.clients.genesys import ACTIVITY_TOPIC, Channel, GenesysUser
from tray_agent.clients.genesys_conversations import CONVERSATION_SUMMARY_TOPIC
from tray_agent.clock import Clock, iso
from tray_agent.core.interactions import InteractionSummary
from tray_agent.core.presence import OFF_QUEUE, GenesysState, PresenceDefinition, TeamsPresence

USER = "user-1"


class FakeAuth:
    def __init__(self, service: str) -> None:
        self.service = service
        self.signed_in = True
        self.expires_at: float | None = None

    async def access_token(self) -> str:
        return "token"

    def invalidate(self) -> None:
        pass

    async def sign_in(self, browser: BrowserOpener, timeout: float) -> None:
        self.signed_in = True

    async def sign_out(self) -> None:
        self.signed_in = False


@dataclass
class FakeTeams:
    clock: Clock
    shows: TeamsPresence = field(default_factory=lambda: TeamsPresence("Available", "Available"))
    latency: float = 0.3
    reads: list[float] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)

    async def read(self) -> TeamsPresence:
        self.reads.append(self.clock.now())
        await asyncio.sleep(self.latency)
        if self.failures:
            raise self.failures.pop(0)
        return self.shows


class FakeGenesys:
    """Genesys REST and its notifications websocket, for one user."""

    def __init__(self, clock: Clock, shows: str = "Available", latency: float = 0.2) -> None:
        self.clock = clock
        self.latency = latency
        self.state = self._state(shows, OFF_QUEUE)
        self.writes: list[tuple[float, str]] = []
        self.write_failures: list[Exception] = []
        self.read_failures: list[Exception] = []  # the next users/me reads fail like this, in order
        self.sockets: list[asyncio.Queue[str]] = []
        self.user_id = USER
        self.written_for: list[str] = []
        self.subscribed: list[str] = []
        self.refuse = False  # refuse the conversation summary topic (as an org's permissions may)
        self.summary = InteractionSummary()
        self.summary_reads = 0
        self.summary_failures: list[Exception] = []
        self.subscriptions: list[list[str]] = []

    def _state(self, name: str, routing: str) -> GenesysState:
        shown = definition(name)
        now = self.clock.now()
        return GenesysState(shown.id, shown.system_presence, routing, False, confirmed_at=now, modified_at=now)

    # --- what the engine calls ---

    async def me(self, now: float) -> GenesysUser:
        await asyncio.sleep(self.latency)
        if self.read_failures:
            raise self.read_failures.pop(0)
        return GenesysUser(self.user_id, "Agent One", replace(self.state, confirmed_at=self.clock.now()))

    async def presence_definitions(self) -> list[PresenceDefinition]:
        return list(DEFINITIONS)

    async def set_my_presence(self, user_id: str, definition_id: str) -> tuple[str, str, float]:
        await asyncio.sleep(self.latency)
        if self.write_failures:
            raise self.write_failures.pop(0)
        self.written_for.append(user_id)
        shown = next(d for d in DEFINITIONS if d.id == definition_id)
        self._change(replace(self.state, presence_id=shown.id, system_presence=shown.system_presence))
        self.writes.append((self.clock.now(), shown.label))
        return shown.id, shown.system_presence, self.state.modified_at

    async def create_channel(self) -> Channel:
        return Channel("channel-1", "wss://fake/channel-1", self.clock.now() + 24 * 3600)

    async def subscribe(
        self, channel_id: str, topics: list[str], *, optional: Collection[str] = ()
    ) -> dict[str, str] | None:
        self.subscriptions.append(list(topics))
        self.subscribed.extend(topics)
        summary_topic = CONVERSATION_SUMMARY_TOPIC.format(user_id=self.user_id)
        if self.refuse and summary_topic in topics:
            assert summary_topic in optional
            return {summary_topic: "Not authorized"}
        return {}

    async def conversation_summary(self, user_id: str) -> InteractionSummary:
        assert user_id == self.user_id
        self.summary_reads += 1
        if self.summary_failures:
            raise self.summary_failures.pop(0)
        return self.summary

    def handles(self, *media: str) -> None:
        """Genesys sends the summary event: ``media`` are the summary fields now active."""
        body: dict[str, Any] = {"userId": self.user_id}
        for name in ("call", "callback", "chat", "message", "email", "video", "socialExpression"):
            body[name] = {"contactCenter": {"active": int(name in media), "acw": 0}, "enterprise": {"active": 0}}
        self._send({"topicName": CONVERSATION_SUMMARY_TOPIC.format(user_id=self.user_id), "eventBody": body})

    @asynccontextmanager
    async def connect(self, uri: str, **options: Any) -> AsyncIterator[_FakeSocket]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        self.sockets.append(queue)
        try:
            yield _FakeSocket(queue)
        finally:
            self.sockets.remove(queue)

    # --- what the test does ---

    def another_person_signs_in(self, user_id: str, shows: str) -> None:
        """From now on the token belongs to someone else, whose Genesys shows ``shows``."""
        self.user_id, self.state = user_id, self._state(shows, OFF_QUEUE)

    def agent_sets(self, name: str) -> None:
        shown = definition(name)
        self._change(
            replace(self.state, presence_id=shown.id, system_presence=shown.system_presence, routing_status=OFF_QUEUE)
        )

    def goes_on_queue(self) -> None:
        shown = definition("On Queue")
        self._change(
            replace(self.state, presence_id=shown.id, system_presence=shown.system_presence, routing_status="IDLE")
        )

    def heartbeat(self) -> None:
        self._send({"topicName": "channel.metadata", "eventBody": {"message": "WebSocket Heartbeat"}})

    def _change(self, state: GenesysState) -> None:
        self.state = replace(state, modified_at=self.clock.now())
        body = {
            "id": self.user_id,
            "presence": {
                "presenceDefinition": {"id": self.state.presence_id, "systemPresence": self.state.system_presence},
                "modifiedDate": iso(self.state.modified_at),
            },
            "routingStatus": {"status": self.state.routing_status},
        }
        self._send({"topicName": ACTIVITY_TOPIC.format(user_id=self.user_id), "eventBody": body})

    def _send(self, frame: dict[str, Any]) -> None:
        for socket in self.sockets:
            socket.put_nowait(json.dumps(frame))

    @property
    def shows(self) -> str:
        return next(d.label for d in DEFINITIONS if d.id == self.state.presence_id)


_CLOSED = "\x00closed"


class _FakeSocket:
    def __init__(self, queue: asyncio.Queue[str]) -> None:
        self._queue = queue
        self.sent: list[str] = []
        self.closed = False

    async def recv(self) -> str:
        frame = await self._queue.get()
        if frame is _CLOSED:
            raise websockets.ConnectionClosedOK(None, None)
        return frame

    async def send(self, message: str) -> None:
        self.sent.append(message)

    async def close(self) -> None:
        self.closed = True
        self._queue.put_nowait(_CLOSED)


class Unavailable(ServiceError):
    def __init__(self) -> None:
        super().__init__("Genesys Cloud", "service error (503)")


class SummaryGenesys(FakeGenesys):
    """The fake Genesys whose subscription may refuse the conversation summary topic."""

    def __init__(self, clock: Clock, *, refuse: bool = False) -> None:
        super().__init__(clock)
        self.refuse = refuse
