"""Genesys notification websockets (``wss://.../channels/{channelId}``) and the hub that feeds them.

The hub is the world model's :class:`~tray_agent.simulator.notification_channels.StateObserver`: the
state publishes topic events and channel removals; the hub turns them into websocket messages. Each
connection has one writer task (so messages keep their order) and one heartbeat task driven by the injected clock.

Real behaviour unknown, and what we chose:

* Connecting to an unknown or expired channel: the upgrade is refused with HTTP 404 (an ErrorBody).
* A channel that expires, is evicted (21st channel) or whose token dies while connected: the socket gets
  ``{"result":"404"}`` (the genesys-notifications library's reading of that message) and is then closed.
* One connection per channel: a new connection closes the previous one (close code 1000).
* ``v2.system.socket_closing`` event body text.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from typing import Any

from aiohttp import WSMsgType, web

from .context import identify, state_of
from .error_answers import genesys_error
from .state import SimulatorState

HEARTBEAT: dict[str, Any] = {"topicName": "channel.metadata", "eventBody": {"message": "WebSocket Heartbeat"}}
PONG: dict[str, Any] = {"topicName": "channel.metadata", "eventBody": {"message": "pong"}}


class _Connection:
    def __init__(self, channel_id: str, ws: web.WebSocketResponse, transport: asyncio.Transport | None) -> None:
        self.channel_id = channel_id
        self.ws = ws
        self.transport = transport
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.closed = False

    def send(self, payload: dict[str, Any]) -> None:
        if not self.closed:
            self.queue.put_nowait(json.dumps(payload, separators=(",", ":")))

    def close_after_pending(self) -> None:
        """Close (with a close frame) once everything already queued has been sent."""
        if not self.closed:
            self.queue.put_nowait(None)

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (the client sees 1006)."""
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


class NotificationHub:
    def __init__(self, state: SimulatorState) -> None:
        self.state = state
        self.connections: dict[str, _Connection] = {}
        self._background: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ StateObserver

    def publish(self, topic: str, body: dict[str, Any]) -> None:
        message: dict[str, Any] | None = None
        for channel_id in self.state.notifications.subscribers(topic):
            connection = self.connections.get(channel_id)
            if connection is None:
                continue
            if message is None:
                message = {
                    "topicName": topic,
                    "version": "2",
                    "eventBody": body,
                    "metadata": {"CorrelationId": str(uuid.uuid4())},
                }
            connection.send(message)

    def channel_removed(self, channel_id: str) -> None:
        connection = self.connections.get(channel_id)
        if connection is not None:
            connection.send({"result": "404"})
            connection.close_after_pending()

    def drop_all_sockets(self) -> None:
        for connection in list(self.connections.values()):
            connection.abort()

    def socket_closing(self, delay: float) -> None:
        for connection in list(self.connections.values()):
            connection.send({"topicName": "v2.system.socket_closing", "eventBody": {"message": "Socket is closing"}})
            self._spawn(self._close_later(connection, delay))

    # ------------------------------------------------------------ plumbing

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _close_later(self, connection: _Connection, delay: float) -> None:
        await self.state.clock.sleep(delay)
        connection.close_after_pending()

    async def shutdown(self) -> None:
        """Close every socket (1001 going away) — used when the simulator stops."""
        for task in list(self._background):
            task.cancel()
        for connection in list(self.connections.values()):
            connection.closed = True
            try:
                await asyncio.wait_for(connection.ws.close(code=1001, message=b"Server shutting down"), 1.0)
            except (TimeoutError, ConnectionError, RuntimeError):
                connection.abort()

    async def _writer(self, connection: _Connection) -> None:
        while True:
            item = await connection.queue.get()
            if item is None:
                connection.closed = True
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await connection.ws.close(code=1000)
                return
            try:
                await connection.ws.send_str(item)
            except (ConnectionError, RuntimeError):
                connection.closed = True
                return

    async def _heartbeat(self, connection: _Connection) -> None:
        state = self.state
        while not connection.closed:
            await state.clock.sleep(state.heartbeat_interval)
            if connection.closed:
                return
            # Lazily notices expiry (24 h, or the token died): the removal sends {"result":"404"} and closes.
            if state.notifications.live_channel(connection.channel_id) is None:
                return
            if not state.faults.heartbeats_stopped:
                connection.send(HEARTBEAT)

    def _on_text(self, connection: _Connection, data: str) -> None:
        state = self.state
        try:
            message = json.loads(data)
        except json.JSONDecodeError:
            connection.send({"result": "400", "message": "Invalid JSON"})
            return
        kind = message.get("message") if isinstance(message, dict) else None
        channel = state.notifications.live_channel(connection.channel_id)
        if channel is None:
            return
        channel.last_used = state.clock.now()
        correlation = {"correlationId": message["correlationId"]} if "correlationId" in message else {}
        if kind == "ping":
            connection.send(PONG)
        elif kind in ("subscribe", "unsubscribe"):
            topics = message.get("topics")
            if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
                connection.send({"result": "400", "status": "error", "message": "topics must be a list", **correlation})
                return
            if kind == "unsubscribe":
                state.notifications.unsubscribe(channel, topics)
                connection.send({"result": "200", "status": "unsubscribed", **correlation})
                return
            bad = [t for t in topics if state.notifications.check_topic(channel, t) is None]
            if bad:
                # real behaviour unknown: the socket's reply to an invalid topic
                connection.send(
                    {"result": "400", "status": "error", "message": f"Invalid topic(s): {bad}", **correlation}
                )
                return
            state.notifications.subscribe(channel, topics, replace=False)
            connection.send({"result": "200", "status": "subscribed", **correlation})
        else:
            connection.send({"result": "400", "message": "Unsupported message", **correlation})

    # ------------------------------------------------------------ the websocket route

    async def handle(self, request: web.Request) -> web.StreamResponse:
        state = state_of(request)
        channel_id = request.match_info["channelId"]
        channel = state.notifications.live_channel(channel_id)
        if channel is None:
            return genesys_error(request, 404, "not.found", "The channel does not exist or has expired.")
        identify(request, channel.user_id, channel.client_id)
        ws = web.WebSocketResponse(autoping=True, heartbeat=None, max_msg_size=1 << 20)
        await ws.prepare(request)
        previous = self.connections.get(channel_id)
        if previous is not None:
            previous.close_after_pending()
        connection = _Connection(channel_id, ws, request.transport)
        self.connections[channel_id] = connection
        state.notifications.set_connected(channel_id, True)
        state.counters.websocket_connections += 1
        loop = asyncio.get_running_loop()
        tasks = (loop.create_task(self._writer(connection)), loop.create_task(self._heartbeat(connection)))
        try:
            async for frame in ws:
                if frame.type == WSMsgType.TEXT:
                    self._on_text(connection, frame.data)
                elif frame.type == WSMsgType.ERROR:
                    break
        finally:
            connection.closed = True
            for task in tasks:
                task.cancel()
            if self.connections.get(channel_id) is connection:
                del self.connections[channel_id]
                state.notifications.set_connected(channel_id, False)
        return ws


def add_routes(app: web.Application, hub: NotificationHub) -> None:
    app.router.add_get("/channels/{channelId}", hub.handle, allow_head=False)
