"""Fakes for the signal sources: a reader whose state follows a timeline, a command runner with
recorded answers, a registry of dicts, and a way to follow a source on virtual time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tray_agent.core.triggers import SignalKind
from tray_agent.signals.polled_source import ReadFailed, Reading
from tray_agent.signals.source import SignalSource

Step = Reading | bool | None | BaseException


class TimelineReader:
    """The state is the last step at or before the loop's (virtual) time; an exception is raised."""

    def __init__(self, *timeline: tuple[float, Step], unavailable: str | None = None) -> None:
        self._timeline = sorted(timeline, key=lambda step: step[0])
        self._unavailable = unavailable
        self.reads = 0

    def from_now(self, step: Step) -> None:
        """The state from now on (the loop's time)."""
        self._timeline.append((asyncio.get_running_loop().time(), step))

    async def available(self) -> str | None:
        return self._unavailable

    async def read(self) -> Reading:
        self.reads += 1
        now = asyncio.get_running_loop().time()
        current: Step = None
        for at, step in self._timeline:
            if at <= now:
                current = step
        if isinstance(current, BaseException):
            raise current
        if isinstance(current, Reading):
            return current
        return Reading(current)


class FakeRunner:
    """Answers commands from a dict (argv tuple → output, or an exception to raise); records each call."""

    def __init__(self, answers: Mapping[tuple[str, ...], str | BaseException]) -> None:
        self.answers = dict(answers)
        self.calls: list[tuple[tuple[str, ...], float]] = []

    async def __call__(self, argv: Sequence[str], timeout: float = 5.0) -> str:
        key = tuple(argv)
        self.calls.append((key, timeout))
        answer = self.answers.get(key, ReadFailed(f"{argv[0]} exited with status 1"))
        if isinstance(answer, BaseException):
            raise answer
        return answer


@dataclass
class DictRegistry:
    """:class:`~tray_agent.signals.devices.RegistryTree` over ``{key path: {value name: data}}``."""

    keys: dict[str, dict[str, object]] = field(default_factory=dict)
    broken: bool = False  # every read raises OSError (a profile that cannot be read)

    def _check(self) -> None:
        if self.broken:
            raise PermissionError("access denied")

    def subkeys(self, key: str) -> list[str] | None:
        self._check()
        prefix = key.lower() + "\\"
        names = {path[len(prefix) :].split("\\", 1)[0] for path in self.keys if path.lower().startswith(prefix)}
        if not names and key.lower() not in {path.lower() for path in self.keys}:
            return None
        return sorted(names)

    def values(self, key: str) -> dict[str, object] | None:
        self._check()
        for path, values in self.keys.items():
            if path.lower() == key.lower():
                return dict(values)
        return None


@dataclass
class Followed:
    signals: list[tuple[float, SignalKind]]
    ended: bool  # the watch ended by itself (did not have to be cancelled)
    error: BaseException | None  # what escaped the watch, if anything


async def follow(source: SignalSource, seconds: float) -> Followed:
    """Starts ``source`` (it must work) and follows its signals for ``seconds`` of virtual time."""
    loop = asyncio.get_running_loop()
    problem = await source.start()
    assert problem is None, problem
    signals: list[tuple[float, SignalKind]] = []

    async def watch() -> None:
        async for signal in source.watch():
            signals.append((loop.time(), signal.kind))

    task = asyncio.create_task(watch())
    await asyncio.sleep(seconds)
    ended = task.done()
    error = None
    if ended:
        error = task.exception()
    else:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return Followed(signals, ended, error)
