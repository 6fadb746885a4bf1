"""The sources built for each OS: always a session lock and a microphone or camera source, each
either working or saying why not; a Linux workstation, faked, reports a lock and a call; and the
calendar, wired to the Microsoft sign-in and Graph, where the agent builder gives it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.engine.virtual_time import LoopClock, run_virtual
from tests.signals.fakes import FakeRunner, follow
from tray_agent.auth.consent import Consent, ConsentOutcome, ConsentRequired
from tray_agent.auth.tokens import MemoryTokenStore
from tray_agent.core.triggers import SignalKind
from tray_agent.signals.for_this_workstation import MACOS_DEVICES, calendar_source, sources_for_this_workstation
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
CALENDAR_DAY = datetime(2026, 11, 25, 8, 0, tzinfo=UTC).timestamp()  # the recorded calendar's day, 08:00 UTC


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


# --- the calendar, where the agent builder gives it --------------------------------------------------


@dataclass
class Microsoft:
    """The Microsoft sign-in as the calendar uses it: consent missing until ``ask_consent`` grants it."""

    consented: bool = False
    signed_in: bool = True
    account_id: str | None = "6e7b768e-07e2-4810-8459-485f84f8f204"
    tokens: list[tuple[tuple[str, ...], bool]] = field(default_factory=list)
    consents: list[tuple[tuple[str, ...], object]] = field(default_factory=list)

    async def token_for(self, scopes: Sequence[str], *, force_refresh: bool = False) -> str:
        self.tokens.append((tuple(scopes), force_refresh))
        if not self.consented:
            raise ConsentRequired(scopes)
        return "calendar-token"

    async def ask_consent(self, scopes: Sequence[str], browser: object, timeout: float = 120.0) -> ConsentOutcome:
        self.consents.append((tuple(scopes), browser))
        self.consented = True
        return ConsentOutcome(Consent.GRANTED, "permission granted: Calendars.ReadBasic")


async def a_browser(url: str) -> None:
    return None


def test_the_calendar_joins_the_workstations_sources_and_says_when_it_is_off() -> None:
    async def story() -> dict[str, str | None]:
        async with httpx.AsyncClient() as http:
            calendar = calendar_source(
                enabled=False,
                microsoft=Microsoft(),
                http=http,
                graph_base="https://graph.microsoft.com",
                clock=LoopClock(CALENDAR_DAY),
                browser=a_browser,
                remember=MemoryTokenStore(),
            )
            sources = sources_for_this_workstation(platform="freebsd14", which=nothing, calendar=calendar)
            assert [source.name for source in sources] == ["session lock", "microphone or camera", "calendar"]
            return {source.name: await source.start() for source in sources}

    assert run_virtual(story())["calendar"] == "calendar triggers are off (setting)"


def test_the_wired_calendar_asks_consent_once_with_the_browser_then_reads_graph_with_its_own_token() -> None:
    microsoft, store = Microsoft(), MemoryTokenStore()
    seen: list[httpx.Request] = []
    page = (Path(__file__).parents[1] / "clients" / "data" / "calendarview-page-2.json").read_bytes()

    def graph(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=page)

    async def story() -> list[tuple[float, SignalKind]]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(graph)) as http:
            calendar = calendar_source(
                enabled=True,
                microsoft=microsoft,
                http=http,
                graph_base="https://graph.microsoft.com",
                clock=LoopClock(CALENDAR_DAY),
                browser=a_browser,
                remember=store,
            )
            followed = await follow(calendar, 10 * 3600)  # 08:00 to 18:00 UTC
            return followed.signals

    signals = run_virtual(story())
    assert microsoft.consents == [(("Calendars.ReadBasic",), a_browser)]
    assert all(scopes == ("Calendars.ReadBasic",) for scopes, _ in microsoft.tokens)
    assert seen and all(request.headers["Authorization"] == "Bearer calendar-token" for request in seen)
    start = 14 * 3600 - 8 * 3600  # the recorded page's meetings, on the loop's clock from 08:00
    assert signals[:2] == [(start, SignalKind.MEETING_STARTS), (start + 3600, SignalKind.MEETING_ENDS)]
