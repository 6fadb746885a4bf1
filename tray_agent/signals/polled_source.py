"""A signal source that polls a yes/no state of the workstation and reports each change once.

A :class:`StateReader` reads the state (is the session locked? is the microphone or camera in use?)
from the OS; :class:`PolledSource` asks it every ``interval`` seconds and turns a change into a
:class:`~tray_agent.signals.source.Signal`. The rules, the same for every OS:

- **The first reading is the baseline, not a change.** The agent reads Graph when it starts anyway.
- **Data it cannot make sense of is ignored, and said once.** A reading with ``state=None`` ("cannot
  tell this time") keeps the last known state; each distinct problem in the data is logged the
  first time it is seen and never again (a poll every two seconds must not fill the log). Problems
  never carry the data itself (executable paths hold user names).
- **A reader that fails is retried, then given up.** The OS not answering (a command that fails or
  times out, a registry key that cannot be opened) may be momentary: PipeWire restarts after a
  resume, ``loginctl`` times out on a busy machine. So up to ``failures_allowed`` failures in a row
  are retried at the usual interval, keeping the last known state; after that the watch ends
  quietly (the engine goes on without this trigger; its timer remains the safety net). No exception
  from a reader ever escapes :meth:`PolledSource.watch`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from tray_agent.core.triggers import SignalKind
from tray_agent.signals.source import Signal

log = logging.getLogger(__name__)

POLL_INTERVAL = 2.0
FAILURES_ALLOWED = 5  # in a row: ten seconds of a broken reader at the usual interval
_PROBLEMS_REMEMBERED = 32  # distinct problems logged per source; more are not logged at all


class ReadFailed(Exception):
    """The OS did not answer: a command failed or timed out, a registry key could not be read."""


@dataclass(frozen=True, slots=True)
class Reading:
    state: bool | None  # None: cannot tell this time (the data made no sense)
    problems: tuple[str, ...] = ()  # what was odd in the data, without the data itself


class StateReader(Protocol):
    async def available(self) -> str | None:
        """Why this reader cannot work here (None: it can). Called once, before any :meth:`read`."""
        ...

    async def read(self) -> Reading:
        """The state now; raises :class:`ReadFailed` (or anything else) when the OS does not answer."""
        ...


Sleep = Callable[[float], Awaitable[None]]


async def why_not_readable(reader: StateReader, program: str, unclear: str) -> str | None:
    """An ``available()`` probe: one reading through ``reader``; why it cannot be used (None: it can).
    ``unclear`` opens the reason given when ``program`` answers something that says nothing."""
    try:
        reading = await reader.read()
    except ReadFailed as error:
        return f"{program} does not answer ({error})"
    if reading.state is None:
        return f"{unclear} ({'; '.join(reading.problems)})"
    return None


class PolledSource:
    """:class:`~tray_agent.signals.source.SignalSource` over a :class:`StateReader`: ``became_true``
    when the state turns true, ``became_false`` when it turns false, each change reported once."""

    def __init__(
        self,
        name: str,
        reader: StateReader,
        *,
        became_true: SignalKind,
        became_false: SignalKind,
        interval: float = POLL_INTERVAL,
        sleep: Sleep = asyncio.sleep,
        failures_allowed: int = FAILURES_ALLOWED,
    ) -> None:
        self._name = name
        self._reader = reader
        self._became_true = became_true
        self._became_false = became_false
        self._interval = interval
        self._sleep = sleep
        self._failures_allowed = failures_allowed
        self._state: bool | None = None
        self._logged: set[str] = set()

    @property
    def name(self) -> str:
        return self._name

    async def start(self) -> str | None:
        try:
            problem = await self._reader.available()
        except Exception as error:  # a reader that cannot even say whether it works: it does not
            return f"cannot tell whether it works here ({type(error).__name__})"
        if problem is not None:
            return problem
        reading = await self._read()  # the baseline: a failure here is retried by watch()
        if reading is not None:
            self._take(reading)
        return None

    async def watch(self) -> AsyncIterator[Signal]:
        failures = 0
        while True:
            await self._sleep(self._interval)
            reading = await self._read()
            if reading is None:
                failures += 1
                if failures >= self._failures_allowed:
                    log.warning("%s: no answer %d times in a row; watching stops", self._name, failures)
                    return
                continue
            failures = 0
            change = self._take(reading)
            if change is not None:
                yield Signal(change)

    async def _read(self) -> Reading | None:
        """A reading, or None when the reader failed (logged once per kind of failure)."""
        try:
            return await self._reader.read()
        except ReadFailed as error:  # its message is ours: no data, no paths
            self._log_once(f"the OS did not answer ({error})", "trying again")
        except Exception as error:  # never out of watch(): OSError, a bug in a parser…
            self._log_once(f"reading failed ({type(error).__name__})", "trying again")
        return None

    def _take(self, reading: Reading) -> SignalKind | None:
        for problem in reading.problems:
            self._log_once(problem)
        if reading.state is None:
            return None
        before, self._state = self._state, reading.state
        if before is None or before == reading.state:
            return None
        return self._became_true if reading.state else self._became_false

    def _log_once(self, problem: str, then: str = "ignored") -> None:
        if problem in self._logged or len(self._logged) >= _PROBLEMS_REMEMBERED:
            return
        self._logged.add(problem)
        log.warning("%s: %s — %s", self._name, problem, then)


class Unavailable:
    """A source that cannot work on this OS at all: :meth:`start` says why, and that is all."""

    def __init__(self, name: str, reason: str) -> None:
        self._name = name
        self._reason = reason

    @property
    def name(self) -> str:
        return self._name

    async def start(self) -> str | None:
        return self._reason

    async def watch(self) -> AsyncIterator[Signal]:
        return
        yield  # pragma: no cover - makes this an async generator
