"""The engine beside the tray: its own asyncio loop on a worker thread.

pystray owns the main thread (macOS requires it), so the agent — built on the loop that runs it,
because its httpx clients bind to that loop — lives on ``tray-agent-engine``. The tray talks to it
only through the engine's thread-safe ``submit(Command)`` and the snapshot/transition callbacks.

``stop()`` sends ``Command(STOP)``; the engine's tasks end (the notifications websocket closes), then
the HTTP clients are closed and the loop shuts down its executor before the thread ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from tray_agent.agent import Agent
from tray_agent.engine.snapshot import Command, CommandKind, Snapshot, Transition

log = logging.getLogger(__name__)

OnSnapshot = Callable[[Snapshot], None]
OnTransition = Callable[[Transition], None]
AgentFactory = Callable[[OnSnapshot, OnTransition], Awaitable[Agent]]
Companion = Callable[[Agent], Coroutine[Any, Any, None]]


class EngineThread:
    def __init__(
        self,
        factory: AgentFactory,
        *,
        on_snapshot: OnSnapshot,
        on_transition: OnTransition,
        on_failure: Callable[[str], None],
        companion: Companion | None = None,
    ) -> None:
        self._factory = factory
        self._on_snapshot = on_snapshot
        self._on_transition = on_transition
        self._on_failure = on_failure
        self._companion = companion
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main: asyncio.Task[None] | None = None
        self._agent: Agent | None = None
        self._running = False  # the engine's loop accepts commands
        self._stop_requested = False

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(target=self._run, name="tray-agent-engine")
        self._thread.start()

    def submit(self, command: Command) -> None:
        agent = self._agent
        if agent is not None and self._running:
            agent.engine.submit(command)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 15.0) -> bool:
        """Stop the engine and wait for its thread; ``True`` when everything ended in time."""
        with self._lock:
            self._stop_requested = True
            if self._running and self._agent is not None:
                self._agent.engine.submit(Command(CommandKind.STOP))
            elif self._loop is not None and self._main is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._main.cancel)  # still starting (e.g. signing in)
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    # --- on the engine thread ------------------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except asyncio.CancelledError:
            log.info("engine start-up cancelled")
        except Exception as error:
            log.exception("the engine stopped with an error")
            self._on_failure(f"The agent stopped: {error}")
        log.info("engine thread finished")

    async def _serve(self) -> None:
        with self._lock:
            self._loop = asyncio.get_running_loop()
            self._main = asyncio.current_task()
            if self._stop_requested:
                return
        agent = await self._factory(self._on_snapshot, self._on_transition)
        self._agent = agent
        companion: asyncio.Task[None] | None = None
        try:
            engine = asyncio.create_task(agent.engine.run(), name="engine")
            await asyncio.sleep(0)  # the engine's first step binds its loop: submit() works from now on
            with self._lock:
                self._running = True
                if self._stop_requested:
                    agent.engine.submit(Command(CommandKind.STOP))
            if self._companion is not None:
                companion = asyncio.create_task(self._companion(agent), name="companion")
            await engine
            log.info("engine stopped")
        finally:
            self._running = False
            if companion is not None:
                companion.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await companion
            await agent.aclose()
            log.info("HTTP clients closed")
