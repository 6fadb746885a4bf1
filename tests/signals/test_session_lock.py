"""Session lock and unlock on each OS, from recorded answers of loginctl and ioreg and a fake
OpenInputDesktop; the watchers run on virtual time."""

from __future__ import annotations

import asyncio

import pytest

from tests.engine.virtual_time import run_virtual
from tests.signals.fakes import FakeRunner, follow
from tray_agent.core.triggers import SignalKind
from tray_agent.signals.polled_source import PolledSource, ReadFailed, Reading, StateReader
from tray_agent.signals.session_lock import (
    LogindLock,
    MacScreenLock,
    WindowsInputDesktop,
    parse_display_session,
    parse_ioreg_console_users,
    parse_locked_hint,
)

LOCKED, UNLOCKED = SignalKind.SESSION_LOCKED, SignalKind.SESSION_UNLOCKED
LOGINCTL = "/usr/bin/loginctl"
SHOW_SESSION_2 = (LOGINCTL, "show-session", "2", "-p", "LockedHint")
IOREG = "/usr/sbin/ioreg"
IOREG_ROOT = (IOREG, "-n", "Root", "-d1", "-a")


def watched(reader: StateReader) -> PolledSource:
    return PolledSource("session lock", reader, became_true=LOCKED, became_false=UNLOCKED)


def at(seconds: float, change: dict[tuple[str, ...], str], runner: FakeRunner) -> None:
    asyncio.get_running_loop().call_later(seconds, runner.answers.update, change)


# --- Linux: loginctl ------------------------------------------------------------------------------


def test_logind_says_locked_or_not_with_yes_or_no() -> None:
    assert parse_locked_hint("LockedHint=yes\n") == Reading(True)
    assert parse_locked_hint("LockedHint=no\n") == Reading(False)
    assert parse_locked_hint("LockedHint=no\r\n") == Reading(False)


def test_logind_without_a_locked_hint_or_with_an_odd_one_cannot_tell() -> None:
    assert parse_locked_hint("") == Reading(None, ("loginctl gave no LockedHint",))  # systemd before 230
    assert parse_locked_hint("LockedHint=maybe\n").state is None
    assert parse_locked_hint("garbage without equals\n").state is None


def test_the_users_graphical_session_is_its_display_and_only_a_plain_id_is_taken() -> None:
    assert parse_display_session("Display=2\n") == "2"
    assert parse_display_session("Display=c1\n") == "c1"
    assert parse_display_session("Display=\n") is None  # no graphical session
    assert parse_display_session("Display=--host=evil\n") is None
    assert parse_display_session("") is None


def test_a_logind_lock_then_unlock_is_reported_once_each() -> None:
    runner = FakeRunner({SHOW_SESSION_2: "LockedHint=no\n"})

    async def story() -> list[tuple[float, SignalKind]]:
        at(61, {SHOW_SESSION_2: "LockedHint=yes\n"}, runner)
        at(301, {SHOW_SESSION_2: "LockedHint=no\n"}, runner)
        return (await follow(watched(LogindLock(LOGINCTL, "2", runner)), 600)).signals

    assert run_virtual(story()) == [(62.0, LOCKED), (302.0, UNLOCKED)]
    assert {timeout for _argv, timeout in runner.calls} == {5.0}  # every run has a timeout


def test_without_a_session_in_the_environment_the_users_graphical_session_is_watched() -> None:
    runner = FakeRunner(
        {(LOGINCTL, "show-user", "1000", "-p", "Display"): "Display=2\n", SHOW_SESSION_2: "LockedHint=no\n"}
    )
    assert run_virtual(LogindLock(LOGINCTL, None, runner, uid=1000).available()) is None
    assert runner.calls[-1][0] == SHOW_SESSION_2


def test_a_session_id_that_is_not_a_plain_id_is_never_passed_to_loginctl() -> None:
    runner = FakeRunner({(LOGINCTL, "show-user", "1000", "-p", "Display"): "Display=\n"})
    problem = run_virtual(LogindLock(LOGINCTL, "-H evil.example", runner, uid=1000).available())
    assert problem == "this user has no graphical logind session"
    assert all("-H evil.example" not in argv for argv, _ in runner.calls)


def test_logind_lock_is_not_available_without_loginctl_or_an_answer_or_a_locked_hint() -> None:
    assert run_virtual(LogindLock(None, "2").available()) == "loginctl is not installed (no systemd-logind)"
    broken = FakeRunner({SHOW_SESSION_2: ReadFailed("loginctl exited with status 1")})
    assert run_virtual(LogindLock(LOGINCTL, "2", broken).available()) == (
        "logind does not answer (loginctl exited with status 1)"
    )
    old = FakeRunner({SHOW_SESSION_2: ""})
    assert run_virtual(LogindLock(LOGINCTL, "2", old).available()) == (
        "logind does not say whether the session is locked (loginctl gave no LockedHint)"
    )


# --- macOS: ioreg ---------------------------------------------------------------------------------


def ioreg_root(user: str) -> bytes:
    """``ioreg -n Root -d1 -a`` as macOS 14 writes it (shortened), with one console user."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>IOConsoleLocked</key>
	<false/>
	<key>IOConsoleUsers</key>
	<array>
		<dict>
			<key>kCGSSessionAuditIDKey</key>
			<integer>100015</integer>
			<key>kCGSSessionGroupIDKey</key>
			<integer>20</integer>
			<key>kCGSSessionIDKey</key>
			<integer>257</integer>
			{user}
			<key>kCGSSessionUserNameKey</key>
			<string>agent</string>
			<key>kCGSessionLoginDoneKey</key>
			<true/>
			<key>kSCSecuritySessionID</key>
			<integer>100015</integer>
		</dict>
	</array>
	<key>IOKitBuildVersion</key>
	<string>Darwin Kernel Version 23.4.0</string>
	<key>IORegistryEntryName</key>
	<string>Root</string>
</dict>
</plist>
""".encode()


UID = "<key>kCGSSessionUserIDKey</key><integer>501</integer>"
ON_CONSOLE = "<key>kCGSSessionOnConsoleKey</key><true/>"
UNLOCKED_USER = UID + ON_CONSOLE
LOCKED_USER = UID + ON_CONSOLE + "<key>CGSSessionScreenIsLocked</key><true/>"


def test_macos_says_the_screen_is_locked_in_the_users_console_entry() -> None:
    assert parse_ioreg_console_users(ioreg_root(UNLOCKED_USER), uid=501) == Reading(False)
    assert parse_ioreg_console_users(ioreg_root(LOCKED_USER), uid=501) == Reading(True)


def test_a_macos_session_switched_away_from_the_console_counts_as_locked() -> None:
    off_console = UID + "<key>kCGSSessionOnConsoleKey</key><false/>"
    assert parse_ioreg_console_users(ioreg_root(off_console), uid=501) == Reading(True)


def test_macos_cannot_tell_for_another_user_or_from_a_broken_answer() -> None:
    assert parse_ioreg_console_users(ioreg_root(UNLOCKED_USER), uid=502).state is None
    assert parse_ioreg_console_users(b"<plist><dict><key>IOConsoleUsers", uid=501) == Reading(
        None, ("ioreg's answer is not a property list",)
    )
    assert parse_ioreg_console_users(b"", uid=501).state is None
    no_users = ioreg_root(UNLOCKED_USER).replace(b"IOConsoleUsers", b"SomethingElse")
    assert parse_ioreg_console_users(no_users, uid=501) == Reading(None, ("ioreg's answer has no IOConsoleUsers",))
    odd_flag = UID + "<key>CGSSessionScreenIsLocked</key><string>yes</string>"
    assert parse_ioreg_console_users(ioreg_root(odd_flag), uid=501).state is None


def test_a_macos_lock_is_reported_once() -> None:
    runner = FakeRunner({IOREG_ROOT: ioreg_root(UNLOCKED_USER).decode()})

    async def story() -> list[tuple[float, SignalKind]]:
        at(31, {IOREG_ROOT: ioreg_root(LOCKED_USER).decode()}, runner)
        return (await follow(watched(MacScreenLock(IOREG, runner, uid=501)), 120)).signals

    assert run_virtual(story()) == [(32.0, LOCKED)]


def test_macos_lock_is_not_available_without_ioreg_or_a_console_session() -> None:
    assert run_virtual(MacScreenLock(None, uid=501).available()) == "ioreg is not installed"
    ssh_only = FakeRunner({IOREG_ROOT: ioreg_root(UNLOCKED_USER).decode()})
    problem = run_virtual(MacScreenLock(IOREG, ssh_only, uid=777).available())
    assert problem is not None and "no console session" in problem


# --- Windows: the input desktop -------------------------------------------------------------------


def test_a_windows_lock_then_unlock_is_reported_once_each() -> None:
    async def story() -> list[tuple[float, SignalKind]]:
        loop = asyncio.get_running_loop()
        return (await follow(watched(WindowsInputDesktop(lambda: 100 <= loop.time() < 200)), 300)).signals

    assert run_virtual(story()) == [(100.0, LOCKED), (200.0, UNLOCKED)]


def test_an_input_desktop_check_that_raises_is_a_read_failure() -> None:
    def broken() -> bool:
        raise OSError("access denied")

    with pytest.raises(ReadFailed, match=r"^OpenInputDesktop failed \(OSError\)$"):
        run_virtual(WindowsInputDesktop(broken).read())
