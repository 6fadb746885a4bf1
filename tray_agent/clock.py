"""Injectable clocks, so a simulated contact-centre day can run in seconds.

Everything time-dependent (the engine's timers, the simulator's token expiry, throttle windows and
heartbeats) reads time and sleeps through a :class:`Clock`. ``RealClock`` is wall time;
``ScaledClock`` runs ``speed`` simulated seconds per real second. Both are safe to share between
threads: they hold no mutable state after construction.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch, in this clock's (possibly simulated) time."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep for ``seconds`` of this clock's time."""
        ...

    def to_real(self, seconds: float) -> float:
        """How many real seconds ``seconds`` of this clock's time take (for socket timeouts)."""
        ...


class RealClock:
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def to_real(self, seconds: float) -> float:
        return seconds


class ScaledClock:
    """Simulated time that starts at ``start`` (epoch seconds) and runs ``speed`` times faster."""

    def __init__(self, speed: float, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._start = time.time() if start is None else start
        self._real_origin = time.monotonic()

    def now(self) -> float:
        return self._start + (time.monotonic() - self._real_origin) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    def to_real(self, seconds: float) -> float:
        return seconds / self.speed


def iso(epoch: float) -> str:
    """ISO-8601 UTC with milliseconds and a ``Z``, as both services write timestamps."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> float:
    """Parse an ISO-8601 timestamp (``Z`` or offset) into epoch seconds; raises ValueError."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()
