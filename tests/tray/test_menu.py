"""Specification of the tray menu, built with pystray's dummy backend and driven like a backend would."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest

from tray_agent import __version__
from tray_agent.core.presence import TeamsPresence
from tray_agent.core.rules import SyncStatus
from tray_agent.engine.snapshot import Link
from tray_agent.tray.menu import build_menu
from tray_agent.tray.view import TrayView, view_of

from .builders import NOW, in_meeting, snapshot


@dataclass
class RecordingHost:
    view: TrayView
    autostart: bool = False
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def pause(self, seconds: float | None) -> None:
        self.calls.append(("pause", seconds))

    def resume(self) -> None:
        self.calls.append(("resume", None))

    def sync_now(self) -> None:
        self.calls.append(("sync_now", None))

    def sign_in(self, service: str) -> None:
        self.calls.append(("sign_in", service))

    def sign_in_with_code(self) -> None:
        self.calls.append(("sign_in_with_code", None))

    locked: frozenset[str] = frozenset()
    code_allowed: bool = True

    def start_at_login_locked(self) -> bool:
        return "start_at_login" in self.locked

    def device_code_allowed(self) -> bool:
        return self.code_allowed

    def sign_out(self, service: str) -> None:
        self.calls.append(("sign_out", service))

    def open_settings(self) -> None:
        self.calls.append(("open_settings", None))

    def open_log_folder(self) -> None:
        self.calls.append(("open_log_folder", None))

    def start_at_login(self) -> bool:
        return self.autostart

    def toggle_start_at_login(self) -> None:
        self.autostart = not self.autostart
        self.calls.append(("toggle_start_at_login", None))

    window: bool = True

    def window_available(self) -> bool:
        return self.window

    def open_window(self, view: str = "/activity") -> None:
        self.calls.append(("open_window", None))

    def teams_writeback_locked(self) -> bool:
        return "teams_writeback" in self.locked

    def toggle_teams_writeback(self) -> None:
        self.calls.append(("toggle_teams_writeback", None))

    def about(self) -> None:
        self.calls.append(("about", None))

    def quit(self) -> None:
        self.calls.append(("quit", None))


@pytest.fixture
def host() -> RecordingHost:
    return RecordingHost(view_of(in_meeting(), now=NOW))


@pytest.fixture
def menu(pystray_dummy: ModuleType, host: RecordingHost) -> Any:
    return build_menu(pystray_dummy, host)


def rows(menu: Any) -> list[str]:
    return ["---" if item is menu.SEPARATOR else str(item.text) for item in menu]


def item(menu: Any, text: str) -> Any:
    return next(i for i in menu if i is not menu.SEPARATOR and str(i.text) == text)


def test_the_menu_reads_top_down_status_then_sync_then_accounts_then_app(menu: Any) -> None:
    assert rows(menu) == [
        "Teams: In a meeting",
        "Genesys: Meeting – set by sync",
        "In sync",
        "---",
        "Pause sync",
        "Resume sync",
        "Sync now",
        "---",
        "Sign in to Microsoft",
        "Sign out of Microsoft",
        "Sign in to Microsoft with a code…",
        "Sign in to Genesys Cloud",
        "Sign out of Genesys Cloud",
        "---",
        "Activity…",
        "Settings…",
        "Open log folder",
        "Show Genesys calls in Teams",
        "Start at login",
        f"About (version {__version__})",
        "---",
        "Quit",
    ]


def test_status_lines_are_information_not_actions(menu: Any) -> None:
    for text in ("Teams: In a meeting", "Genesys: Meeting – set by sync", "In sync"):
        assert not item(menu, text).enabled


def test_texts_follow_the_current_view_without_rebuilding_the_menu(menu: Any, host: RecordingHost) -> None:
    host.view = view_of(snapshot(status=SyncStatus.ON_QUEUE, set_by="routing", genesys_label="On Queue"))
    assert rows(menu)[:3] == ["Teams: Available", "Genesys: On Queue – hands off", "Hands off: you are On Queue"]


def test_a_detail_row_appears_only_when_there_is_something_to_explain(menu: Any, host: RecordingHost) -> None:
    assert len(rows(menu)) == 22
    host.view = view_of(snapshot(genesys_link=Link.SIGN_IN_NEEDED, genesys=None, last_error="sign-in failed: denied"))
    assert rows(menu)[3] == "sign-in failed: denied"
    assert not item(menu, "sign-in failed: denied").enabled


def enabled(menu: Any) -> set[str]:
    return {str(i.text) for i in menu if i is not menu.SEPARATOR and i.enabled}


ALWAYS = {
    "Activity…",
    "Settings…",
    "Open log folder",
    "Show Genesys calls in Teams",
    "Start at login",
    f"About (version {__version__})",
    "Quit",
}


def test_in_sync_everything_possible_is_enabled(menu: Any) -> None:
    assert enabled(menu) == ALWAYS | {"Pause sync", "Sync now", "Sign out of Microsoft", "Sign out of Genesys Cloud"}


def test_while_paused_resume_replaces_pause_and_sync_now(menu: Any, host: RecordingHost) -> None:
    host.view = view_of(snapshot(status=SyncStatus.PAUSED, paused_until=math.inf))
    assert enabled(menu) == ALWAYS | {"Resume sync", "Sign out of Microsoft", "Sign out of Genesys Cloud"}


def test_signed_out_of_genesys_offers_signing_in_to_it(menu: Any, host: RecordingHost) -> None:
    host.view = view_of(snapshot(genesys_link=Link.SIGN_IN_NEEDED, genesys=None))
    assert enabled(menu) == ALWAYS | {"Pause sync", "Sign out of Microsoft", "Sign in to Genesys Cloud"}


def test_before_the_engine_runs_only_the_app_items_work(menu: Any, host: RecordingHost) -> None:
    host.view = view_of(None)
    assert enabled(menu) == ALWAYS


@pytest.mark.parametrize(
    ("text", "seconds"), [("For 15 minutes", 900.0), ("For 1 hour", 3600.0), ("Until I resume", None)]
)
def test_pause_offers_15_minutes_an_hour_or_until_resumed(
    menu: Any, host: RecordingHost, pystray_dummy: ModuleType, text: str, seconds: float | None
) -> None:
    submenu = item(menu, "Pause sync").submenu
    icon = pystray_dummy.Icon("test")
    item(submenu, text)(icon)
    assert host.calls == [("pause", seconds)]


@pytest.mark.parametrize(
    ("text", "call"),
    [
        ("Resume sync", ("resume", None)),
        ("Sync now", ("sync_now", None)),
        ("Sign in to Microsoft", ("sign_in", "microsoft")),
        ("Sign out of Microsoft", ("sign_out", "microsoft")),
        ("Sign in to Genesys Cloud", ("sign_in", "genesys")),
        ("Sign out of Genesys Cloud", ("sign_out", "genesys")),
        ("Settings…", ("open_settings", None)),
        ("Open log folder", ("open_log_folder", None)),
        (f"About (version {__version__})", ("about", None)),
        ("Quit", ("quit", None)),
    ],
)
def test_each_item_does_its_one_thing(
    menu: Any, host: RecordingHost, pystray_dummy: ModuleType, text: str, call: tuple[str, Any]
) -> None:
    item(menu, text)(pystray_dummy.Icon("test"))
    assert host.calls == [call]


def test_start_at_login_is_a_checkbox_showing_the_current_setting(
    menu: Any, host: RecordingHost, pystray_dummy: ModuleType
) -> None:
    box = item(menu, "Start at login")
    assert box.checked is False
    box(pystray_dummy.Icon("test"))
    assert box.checked is True
    host.autostart = False  # changed elsewhere (e.g. Task Manager): the menu shows the real state
    assert box.checked is False


def test_microsoft_can_be_signed_into_with_a_code_and_the_code_is_shown(menu: Any, host: RecordingHost) -> None:
    host.view = view_of(snapshot(microsoft=Link.SIGN_IN_NEEDED, teams=None))
    assert "Sign in to Microsoft with a code…" in enabled(menu)
    item(menu, "Sign in to Microsoft with a code…")(None)
    assert host.calls[-1] == ("sign_in_with_code", None)
    prompt = "To sign in, open https://microsoft.com/devicelogin and enter the code ABCD-1234."
    host.view = view_of(snapshot(microsoft=Link.STARTING, teams=None, sign_in_prompt=prompt))
    assert prompt[:40] in " ".join(rows(menu))


def test_what_it_policy_decides_cannot_be_changed_from_the_menu(menu: Any, host: RecordingHost) -> None:
    host.locked = frozenset({"start_at_login"})
    host.code_allowed = False
    host.view = view_of(snapshot(microsoft=Link.SIGN_IN_NEEDED, teams=None))
    assert "Start at login" not in enabled(menu)
    assert "Sign in to Microsoft with a code…" not in enabled(menu)
    assert "Sign in to Microsoft" in enabled(menu)


def test_genesys_calls_in_teams_is_a_toggle_the_agent_may_change_unless_it_policy_decides(
    menu: Any, host: RecordingHost
) -> None:
    toggle = item(menu, "Show Genesys calls in Teams")
    assert not toggle.checked
    host.view = view_of(in_meeting(teams_writeback_enabled=True), now=NOW)
    assert toggle.checked
    toggle(None)
    assert host.calls[-1] == ("toggle_teams_writeback", None)
    host.locked = frozenset({"teams_writeback"})
    assert not toggle.enabled


def test_while_a_genesys_call_shows_in_teams_the_teams_line_says_it_is_ours(menu: Any, host: RecordingHost) -> None:
    shown = "Busy / InACall – set by sync (Genesys voice interaction)"
    host.view = view_of(
        snapshot(teams=TeamsPresence("Busy", "InACall"), teams_writeback_enabled=True, teams_writeback=shown)
    )
    assert rows(menu)[0] == f"Teams: {shown}"


def test_when_teams_cannot_be_set_a_line_says_why(menu: Any, host: RecordingHost) -> None:
    why = "Presence.ReadWrite is not granted: ask IT to grant consent for the app, or turn teams_writeback off"
    host.view = view_of(snapshot(teams_writeback_enabled=True, teams_writeback_problem=why))
    line = next(r for r in rows(menu) if r.startswith("Genesys calls not shown in Teams"))
    assert "Presence.ReadWrite is not granted" in line
    assert not item(menu, line).enabled


def test_activity_opens_the_agents_window_when_the_agent_runs(menu: Any, host: RecordingHost) -> None:
    item(menu, "Activity…")(None)
    assert host.calls[-1] == ("open_window", None)
    host.window = False
    assert not item(menu, "Activity…").enabled
