"""The local signal sources of this workstation, for ``Engine(signals=...)``.

Always the same two sources, whatever the OS, so that the tray and ``doctor`` can say for each why
it does not work here (:meth:`~tray_agent.signals.source.SignalSource.start`'s reason), and the
calendar as a third where the agent builder gives it (:func:`calendar_source`: it needs the
Microsoft sign-in and Graph, and says itself when it is off). Every tool is looked up once, by
absolute path; nothing needs admin rights.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from typing import Protocol

import httpx

from tray_agent.auth.consent import ConsentOutcome, Remember
from tray_agent.auth.microsoft import CALENDAR_SCOPES
from tray_agent.auth.tokens import BrowserOpener
from tray_agent.clients.graph_calendar import GraphCalendarClient
from tray_agent.clock import Clock
from tray_agent.core.triggers import SignalKind
from tray_agent.signals.calendar import CalendarAuth, CalendarSource
from tray_agent.signals.commands import CommandRunner, run_command
from tray_agent.signals.devices import (
    ConsentStoreReader,
    FirstThatWorks,
    PipeWireCapture,
    PulseCapture,
    this_users_registry,
)
from tray_agent.signals.polled_source import POLL_INTERVAL, PolledSource, Sleep, StateReader, Unavailable
from tray_agent.signals.session_lock import LogindLock, MacScreenLock, WindowsInputDesktop
from tray_agent.signals.source import SignalSource

SESSION_LOCK = "session lock"
MICROPHONE_OR_CAMERA = "microphone or camera"
MACOS_DEVICES = (
    "macOS tells whether the microphone or camera is in use only through CoreAudio and CoreMediaIO "
    "(a native helper the agent does not have)"
)
MACOS_IOREG = "/usr/sbin/ioreg"

Which = Callable[[str], str | None]


def _lock_reader(platform: str, which: Which, run: CommandRunner) -> StateReader | str:
    if platform == "win32":
        return WindowsInputDesktop()
    if platform == "darwin":
        return MacScreenLock(which("ioreg") or (MACOS_IOREG if os.path.exists(MACOS_IOREG) else None), run)
    if platform.startswith("linux"):
        return LogindLock(which("loginctl"), os.environ.get("XDG_SESSION_ID") or None, run)
    return f"the session lock is not watched on {platform}"


def _device_reader(platform: str, which: Which, run: CommandRunner) -> StateReader | str:
    if platform == "win32":
        return ConsentStoreReader(this_users_registry())
    if platform == "darwin":
        return MACOS_DEVICES
    if platform.startswith("linux"):
        return FirstThatWorks([PipeWireCapture(which("pw-dump"), run), PulseCapture(which("pactl"), run)])
    return f"the microphone and camera are not watched on {platform}"


class ConsentingAuth(CalendarAuth, Protocol):
    """:class:`~tray_agent.auth.microsoft.MicrosoftAuth`: a calendar token, and the consent step for it."""

    async def ask_consent(
        self, scopes: Sequence[str], browser: BrowserOpener, timeout: float = 120.0
    ) -> ConsentOutcome: ...


def calendar_source(
    *,
    enabled: bool,
    microsoft: ConsentingAuth,
    http: httpx.AsyncClient,
    graph_base: str,
    clock: Clock,
    browser: BrowserOpener | None,
    remember: Remember | None,
) -> CalendarSource:
    """The calendar source, wired: Graph's calendarView with a ``Calendars.ReadBasic`` token (never the
    sign-in's), and the consent asked once through ``browser`` (None: never asked here, only reported).
    ``enabled`` is ``Settings.calendar_triggers`` (the user's choice under IT policy ``CalendarTriggers``)."""
    client = GraphCalendarClient(http, lambda: microsoft.token_for(CALENDAR_SCOPES), graph_base)

    async def ask_consent() -> ConsentOutcome:
        assert browser is not None  # noqa: S101 - only handed over when there is one
        return await microsoft.ask_consent(CALENDAR_SCOPES, browser)

    return CalendarSource(
        enabled=enabled,
        auth=microsoft,
        calendar=client,
        clock=clock,
        ask_consent=ask_consent if browser is not None else None,
        remember=remember,
    )


def sources_for_this_workstation(
    run: CommandRunner = run_command,
    sleep: Sleep = asyncio.sleep,
    interval: float = POLL_INTERVAL,
    platform: str = sys.platform,
    which: Which = shutil.which,
    calendar: SignalSource | None = None,
) -> list[SignalSource]:
    """The session lock and the microphone or camera, each polled every ``interval`` seconds; then
    ``calendar`` (:func:`calendar_source`) when given."""
    sources: list[SignalSource] = []
    for name, reader, on, off in (
        (SESSION_LOCK, _lock_reader(platform, which, run), SignalKind.SESSION_LOCKED, SignalKind.SESSION_UNLOCKED),
        (
            MICROPHONE_OR_CAMERA,
            _device_reader(platform, which, run),
            SignalKind.DEVICE_IN_USE,
            SignalKind.DEVICE_RELEASED,
        ),
    ):
        if isinstance(reader, str):
            sources.append(Unavailable(name, reader))
        else:
            sources.append(PolledSource(name, reader, became_true=on, became_false=off, interval=interval, sleep=sleep))
    if calendar is not None:
        sources.append(calendar)
    return sources
