""" "Copy diagnostics": a bundle the helpdesk can read — every setting with where it comes from,
doctor's findings, the recent activity, versions — and never a secret."""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path
from typing import TextIO

import pytest

from tests.config.policy_fakes import TENANT, GivenPolicy
from tray_agent import logs
from tray_agent.commands.diagnostics import build_diagnostics, redact
from tray_agent.config.paths import AgentPaths
from tray_agent.config.policy import RawLayer
from tray_agent.engine.activity import FileActivity
from tray_agent.engine.snapshot import Transition

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZ2VudEBleGFtcGxlLmNvbSJ9.c2lnbmF0dXJlLXRoYXQtaXMtc2VjcmV0"
AUTH_CODE = "0.AXoA-very-secret-authorization-code"
PROXY_PASSWORD = "Pr0xyPassw0rd"
REFRESH = "1.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz"
SECRETS = (JWT, AUTH_CODE, PROXY_PASSWORD, REFRESH, "xyz-state-value")

USERS_FILE = """\
[agent]
dwell_seconds = 20
[mapping]
Away = "Break"
"""


@pytest.fixture
def paths(tmp_path: Path) -> AgentPaths:
    paths = AgentPaths(tmp_path / "config", tmp_path / "state", tmp_path / "logs").ensure()
    paths.settings_file.write_text(USERS_FILE, encoding="utf-8")
    return paths


def policy() -> GivenPolicy:
    return GivenPolicy(
        RawLayer(
            "/etc/xdg/TeamsGenesysPresence/policy.toml", {"tenant_id": TENANT, "mapping": {"InAMeeting": "Meeting"}}
        )
    )


def doctor_that_saw_secrets(out: TextIO) -> None:
    """A doctor whose lines (or a library's error text in them) carry secrets it should not have."""
    out.write("ok      Microsoft sign-in: signed in as ann@example.com\n")
    out.write(f"PROBLEM proxy: http://ann:{PROXY_PASSWORD}@proxy.example:8080 refused — fix: ask IT\n")
    out.write(f"warning refresh_token={REFRESH} access_token: {JWT}\n")


def story() -> list[Transition]:
    return [
        Transition(
            1_800_000_000.0, "link", f"redirect to https://login.example/cb?code={AUTH_CODE}&state=xyz-state-value"
        ),
        Transition(1_800_000_060.0, "write", "Genesys set to Meeting (Teams Busy / InAMeeting)"),
        Transition(1_800_000_120.0, "error", f"Graph said 401 for Bearer {JWT}"),
    ]


def test_the_bundle_has_no_secrets_but_everything_the_helpdesk_needs(paths: AgentPaths) -> None:
    bundle = build_diagnostics(paths=paths, policy_source=policy(), story=story(), doctor=doctor_that_saw_secrets)
    for secret in SECRETS:
        assert secret not in bundle
    assert not re.search(r"eyJ[\w-]+\.[\w-]+", bundle)  # nothing JWT-shaped
    assert not re.search(r"[A-Za-z0-9+/_-]{40,}", bundle)  # nothing key-shaped
    assert not re.search(r"://[^/\s]*:[^/\s]*@", bundle.replace("://<redacted>@", ""))  # no user:password@
    # … and what the helpdesk needs is there
    assert f"tenant_id = '{TENANT}'  [IT policy]" in bundle
    assert "dwell_seconds = 20.0  [your settings file]" in bundle
    assert "poll_interval = 60.0  [default]" in bundle
    assert "[mapping] away = 'Break'  [your settings file]" in bundle
    assert "[mapping] inameeting = 'Meeting'  [IT policy]" in bundle
    assert "signed in as ann@example.com" in bundle  # who it is stays
    assert "redirect to https://login.example/cb?<redacted>" in bundle
    assert "Genesys set to Meeting (Teams Busy / InAMeeting)" in bundle
    assert "tray-agent " in bundle and "httpx " in bundle and "keyring backend:" in bundle


def test_the_activity_comes_from_the_users_file_when_the_window_has_none(paths: AgentPaths) -> None:
    FileActivity(paths.activity_file).append(Transition(1_800_000_000.0, "teams", "Teams is Busy / InACall"))
    assert "Teams is Busy / InACall" in build_diagnostics(paths=paths, policy_source=GivenPolicy())


def test_a_broken_settings_file_and_a_failing_doctor_still_give_a_bundle_that_says_so(paths: AgentPaths) -> None:
    paths.settings_file.write_text("[agent\n", encoding="utf-8")

    def broken_doctor(out: TextIO) -> None:
        raise RuntimeError("boom")

    bundle = build_diagnostics(paths=paths, policy_source=GivenPolicy(), story=[], doctor=broken_doctor)
    assert "not valid TOML" in bundle
    assert "doctor could not finish: RuntimeError" in bundle
    assert "(none)" in bundle


def test_settings_are_listed_by_the_names_in_the_settings_file_and_policy(paths: AgentPaths) -> None:
    paths.settings_file.write_text(
        "[agent]\nloop_window_minutes = 30\nrestore_earlier_status = false\n", encoding="utf-8"
    )
    given = GivenPolicy(RawLayer("/etc/xdg/TeamsGenesysPresence/policy.toml", {"min_poll_interval": 120}))
    bundle = build_diagnostics(paths=paths, policy_source=given, story=[])
    assert "loop_window_minutes = 30.0  [your settings file]" in bundle
    assert "restore_earlier_status = False  [your settings file]" in bundle
    assert "min_poll_interval = 120.0  [IT policy]" in bundle
    assert "loop_window_seconds" not in bundle and "poll_floor" not in bundle


def test_when_the_file_is_broken_the_last_good_copy_in_effect_is_named_as_the_source(paths: AgentPaths) -> None:
    build_diagnostics(paths=paths, policy_source=GivenPolicy(), story=[])  # the file loads: kept as last good
    paths.settings_file.write_text("[agent\n", encoding="utf-8")
    bundle = build_diagnostics(paths=paths, policy_source=GivenPolicy(), story=[])
    assert "in effect instead: the last good copy, settings.toml.last-good" in bundle
    assert "dwell_seconds = 20.0  [your settings file]" in bundle
    assert "settings.toml: settings.toml" not in bundle


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("GET https://graph.example/v1.0/me?$select=x&token=abc", "GET https://graph.example/v1.0/me?<redacted>"),
        ("proxy http://u:p@h:1", "proxy http://<redacted>@h:1"),
        ("client_secret=abc123", "client_secret=<redacted>"),
        ("Teams is Busy / InAMeeting", "Teams is Busy / InAMeeting"),
        (
            "open the page https://microsoft.com/devicelogin and enter the code F7K2QXPLM to authenticate.",
            "open the page https://microsoft.com/devicelogin and enter the code <redacted> to authenticate.",
        ),
        (
            "Open https://microsoft.com/devicelogin and enter F7K2QXPLM",
            "Open https://microsoft.com/devicelogin and enter <redacted>",
        ),
        ("enter the mapping in Settings", "enter the mapping in Settings"),
    ],
)
def test_redaction(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_a_device_code_this_process_was_given_is_masked_in_any_form(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "_NEVER_LOG", deque(maxlen=32))
    logs.never_log("q7k2xplm")
    assert redact("the code was q7k2xplm, typed by hand") == "the code was [redacted], typed by hand"
