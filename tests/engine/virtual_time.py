"""An asyncio event loop on virtual time: whenever nothing is ready to run, time jumps to the
next timer. A simulated day of the engine then runs in milliseconds, and exactly the same way
every time — no sleeps, no wall-clock deadlines.

Only for code that waits on asyncio timers and queues (the engine with fakes). Real sockets would
never be waited for: time would jump past them.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self, start: float = 0.0) -> None:
        super().__init__()
        self._virtual_now = start

    def time(self) -> float:
        return self._virtual_now

    def _run_once(self) -> None:
        # asyncio keeps ready callbacks in ``_ready`` and timers in the heap ``_scheduled``.
        ready: Any = getattr(self, "_ready")  # noqa: B009 - private on purpose
        scheduled: list[asyncio.TimerHandle] = getattr(self, "_scheduled")  # noqa: B009
        while scheduled and scheduled[0].cancelled():
            heapq.heappop(scheduled)
        if not ready and scheduled:
            self._virtual_now = max(self._virtual_now, scheduled[0].when())
        super()._run_once()  # type: ignore[misc]


class LoopClock:
    """The engine's clock on the running loop's (virtual) time, starting at ``epoch``."""

    def __init__(self, epoch: float) -> None:
        self._epoch = epoch

    def now(self) -> float:
        return self._epoch + asyncio.get_event_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def to_real(self, seconds: float) -> float:
        return seconds


def run_virtual(main: Coroutine[Any, Any, T]) -> T:
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main)
    finally:
        loop.close()
