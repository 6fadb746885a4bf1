"""The seam every local signal source sits behind, and what a source reports.

A source watches one thing on this workstation (the session lock, the microphone or camera, the
agent's calendar) and reports a :class:`Signal` when it changes. Where the OS or the tenant does
not provide it, :meth:`SignalSource.start` says so and the agent runs without that trigger: a
missing source is never an error, and a signal only ever asks for a Graph read
(:mod:`tray_agent.core.triggers`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from tray_agent.core.triggers import SignalKind


@dataclass(frozen=True, slots=True)
class Signal:
    kind: SignalKind
    attendees: int | None = None  # a calendar meeting: how many people are invited


class SignalSource(Protocol):
    @property
    def name(self) -> str:
        """What it watches, for the log and ``doctor`` ("session lock", "microphone", "calendar")."""
        ...

    async def start(self) -> str | None:
        """Gets ready to watch; returns why it cannot work here (None: it can)."""
        ...

    def watch(self) -> AsyncIterator[Signal]:
        """The signals as they happen; ends when the source stops working (it is then left off)."""
        ...
