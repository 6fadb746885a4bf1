"""Run a :class:`Simulator` on its own thread and event loop (for the demo, and tests whose agent has its own loop)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

from .server import Simulator
from .state import SimulatorState

T = TypeVar("T")


class SimulatorThread:
    """``SimulatorThread(**Simulator kwargs)``; ``start()`` blocks until listening; ``stop()``; context manager.

    State lives on the simulator's loop: mutate it with ``call(fn, *args)``, e.g.
    ``sim.call(sim.state.teams.set, "Busy", "InACall")``.
    """

    def __init__(self, **kwargs: Any) -> None:
        self.simulator = Simulator(**kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._error: BaseException | None = None

    def start(self, timeout: float = 30.0) -> None:
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(target=self._run, name="tray-agent-simulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("simulator did not start in time")
        if self._error is not None:
            raise RuntimeError("simulator failed to start") from self._error

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        try:
            await self.simulator.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            await self.simulator.stop()

    def stop(self, timeout: float = 30.0) -> None:
        loop, thread, stopping = self._loop, self._thread, self._stopping
        if loop is None or thread is None or stopping is None:
            return
        if thread.is_alive():
            loop.call_soon_threadsafe(stopping.set)
            thread.join(timeout)
        self._thread = None

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` on the simulator's loop and return its result (or raise its error)."""
        loop = self._loop
        if loop is None or not self._ready.is_set():
            raise RuntimeError("simulator not started")
        if threading.current_thread() is self._thread:
            return fn(*args, **kwargs)
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # Same read-only properties as Simulator.
    @property
    def state(self) -> SimulatorState:
        return self.simulator.state

    @property
    def base_url(self) -> str:
        return self.simulator.base_url

    @property
    def port(self) -> int:
        return self.simulator.port

    @property
    def ca_path(self) -> str:
        return self.simulator.ca_path

    @property
    def authority(self) -> str:
        return self.simulator.authority

    @property
    def control_url(self) -> str:
        return self.simulator.control_url

    @property
    def tenant_id(self) -> str:
        return self.simulator.tenant_id

    @property
    def ms_client_id(self) -> str:
        return self.simulator.ms_client_id

    @property
    def genesys_client_id(self) -> str:
        return self.simulator.genesys_client_id
