"""doctor's clock and permission checks, in the words IT acts on."""

from __future__ import annotations

import asyncio
import email.utils
import io
import time
from typing import Any

import httpx

from tray_agent.commands.doctor import Report, _check_genesys_permissions, _clock
from tray_agent.config.endpoints import Endpoints


def lines(report: Report) -> list[str]:
    assert isinstance(report.out, io.StringIO)
    return report.out.getvalue().splitlines()


def test_a_clock_minutes_off_is_a_problem_and_seconds_off_is_fine() -> None:
    report = Report(io.StringIO())
    _clock(report, "Microsoft's clock", email.utils.formatdate(time.time() - 600, usegmt=True))
    _clock(report, "Genesys Cloud's clock", email.utils.formatdate(time.time(), usegmt=True))
    _clock(report, "nobody", "not a date")
    first, second = lines(report)
    assert first.startswith("PROBLEM  clock: this computer is 10 min ahead of Microsoft's clock")
    assert "turn on automatic date and time" in first
    assert second.startswith("ok       clock: within ")


class Answers:
    def __init__(self, **status: int) -> None:
        self.status = status

    async def get(self, url: str, **_: Any) -> httpx.Response:
        path = httpx.URL(url).path
        return httpx.Response(self.status["legacy" if path == "/api/v2/presencedefinitions" else "current"])


def test_a_role_without_presence_definition_view_is_a_warning_naming_the_permission() -> None:
    endpoints = Endpoints.cloud("contoso.onmicrosoft.com", "eu_west_1")
    for answers, expected in (
        (Answers(current=200, legacy=200), "ok       Genesys permissions: your role can read presence definitions"),
        (
            Answers(current=403, legacy=200),
            "warning  Genesys permissions: your role lacks presence:presenceDefinition:view",
        ),
        (Answers(current=403, legacy=403), "PROBLEM  Genesys permissions: the presence definitions cannot be read"),
    ):
        report = Report(io.StringIO())
        asyncio.run(_check_genesys_permissions(answers, endpoints, "token", report))
        assert lines(report)[0].startswith(expected), lines(report)
    assert "ask IT to add Presence > Presence Definition > View" in lines(report)[0]


class Source:
    def __init__(self, name: str, reason: str | None = None, fails: bool = False) -> None:
        self.name, self.reason, self.fails = name, reason, fails

    async def start(self) -> str | None:
        if self.fails:
            raise OSError("no such device")
        return self.reason


def test_each_trigger_is_reported_watched_or_why_not_and_none_is_a_problem() -> None:
    from tray_agent.commands.doctor import _check_signals

    report = Report(io.StringIO())
    sources = [
        Source("session lock"),
        Source("microphone or camera", "pw-dump is not installed"),
        Source("x", fails=True),
    ]
    asyncio.run(_check_signals(sources, report))
    assert lines(report) == [
        "ok       trigger: session lock: watched; a change reads Teams at once",
        "warning  trigger: microphone or camera: not watched here: pw-dump is not installed; "
        "the timer reads Teams instead",
        "warning  trigger: x: not watched here: cannot tell whether it works here (OSError); "
        "the timer reads Teams instead",
    ]
    assert report.problems == 0
