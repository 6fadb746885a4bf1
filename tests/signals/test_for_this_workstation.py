"""The sources built for each OS: always a session lock and a microphone or camera source, each
either working or saying why not; a Linux workstation, faked, reports a lock and a call."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.engine.virtual_time import run_virtual
from tests.signals.fakes import FakeRunner, follow
from tray_agent.core.triggers import SignalKind
from tray_agent.signals.for_this_workstation import MACOS_DEVICES, sources_for_this_workstation
from tray_agent.signals.source import SignalSource

LINUX_TOOLS = {"loginctl": "/usr/bin/loginctl", "pw-dump": "/usr/bin/pw-dump", "pactl": "/usr/bin/pactl"}
LOCKED_HINT = ("/usr/bin/loginctl", "show-session", "2", "-p", "LockedHint")
PW_DUMP = ("/usr/bin/pw-dump",)
IDLE_DUMP = json.dumps(
    [
        {
            "id": 91,
            "type": "PipeWire:Interface:Node",
            "info": {"state": "suspended", "props": {"media.class": "Stream/Input/Audio"}},
        }
    ]
)
CALL_DUMP = IDLE_DUMP.replace("suspended", "running")


def started(sources: list[SignalSource]) -> dict[str, str | None]:
    async def start_all() -> dict[str, str | None]:
        return {source.name: await source.start() for source in sources}

    return run_virtual(start_all())


def nothing(_name: str) -> str | None:
    return None


def test_every_os_gets_the_same_two_sources_by_name() -> None:
    for platform in ("win32", "linux", "darwin", "freebsd14"):
        names = [source.name for source in sources_for_this_workstation(platform=platform, which=nothing)]
        assert names == ["session lock", "microphone or camera"]


def test_a_linux_workstation_with_logind_and_pipewire_watches_both(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_SESSION_ID", "2")
    runner = FakeRunner({LOCKED_HINT: "LockedHint=no\n", PW_DUMP: IDLE_DUMP})
    sources = sources_for_this_workstation(run=runner, platform="linux", which=LINUX_TOOLS.get)
    assert started(sources) == {"session lock": None, "microphone or camera": None}


def test_a_linux_workstation_without_the_tools_says_why_for_each(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_SESSION_ID", "2")
    assert started(sources_for_this_workstation(run=FakeRunner({}), platform="linux", which=nothing)) == {
        "session lock": "loginctl is not installed (no systemd-logind)",
        "microphone or camera": "pw-dump is not installed; pactl is not installed",
    }


def test_macos_watches_the_lock_with_ioreg_but_says_why_not_the_microphone() -> None:
    sources = sources_for_this_workstation(run=FakeRunner({}), platform="darwin", which=nothing)
    assert started(sources[1:]) == {"microphone or camera": MACOS_DEVICES}


def test_an_os_that_is_not_supported_says_so_for_each_source() -> None:
    assert started(sources_for_this_workstation(platform="freebsd14", which=nothing)) == {
        "session lock": "the session lock is not watched on freebsd14",
        "microphone or camera": "the microphone and camera are not watched on freebsd14",
    }


def test_on_a_faked_linux_workstation_a_lock_and_a_call_each_report_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_SESSION_ID", "2")
    runner = FakeRunner({LOCKED_HINT: "LockedHint=no\n", PW_DUMP: IDLE_DUMP})
    lock, devices = sources_for_this_workstation(run=runner, platform="linux", which=LINUX_TOOLS.get)

    async def story() -> tuple[list[tuple[float, SignalKind]], list[tuple[float, SignalKind]]]:
        loop = asyncio.get_running_loop()
        loop.call_later(40, runner.answers.update, {PW_DUMP: CALL_DUMP})
        loop.call_later(80, runner.answers.update, {PW_DUMP: IDLE_DUMP})
        loop.call_later(100, runner.answers.update, {LOCKED_HINT: "LockedHint=yes\n"})
        followed = await asyncio.gather(follow(lock, 200), follow(devices, 200))
        return followed[0].signals, followed[1].signals

    lock_signals, device_signals = run_virtual(story())
    assert lock_signals == [(100.0, SignalKind.SESSION_LOCKED)]
    assert device_signals == [(40.0, SignalKind.DEVICE_IN_USE), (80.0, SignalKind.DEVICE_RELEASED)]
