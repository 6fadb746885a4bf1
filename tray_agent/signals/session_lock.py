"""Session lock and unlock → ``SESSION_LOCKED`` / ``SESSION_UNLOCKED``, polled (every ~2 s).

- **Windows:** ``OpenInputDesktop`` fails while the secure (lock) desktop is shown — the check
  :mod:`tray_agent.signals.workstation` already makes. Polled rather than
  ``WTSRegisterSessionNotification``: that needs a hidden window, a message loop on its own thread
  and a ctypes ``WNDPROC`` callback kept alive for the life of the agent — a crash risk that cannot
  be tested off Windows — for a signal whose first Graph read is 20 s after the lock anyway. The
  poll also sees a UAC prompt on the secure desktop as "locked" while it is shown (one spare read).
- **Linux:** systemd-logind's ``LockedHint`` for this session (``loginctl show-session <id> -p
  LockedHint``). The session is ``$XDG_SESSION_ID``, or the user's graphical session (``Display``
  of ``loginctl show-user <uid>``) when the agent was not started inside one. The desktop's screen
  locker sets the hint; one that never does (some window managers' lockers) gives no signal.
- **macOS:** ``CGSSessionScreenIsLocked`` in this user's entry of ``IOConsoleUsers``
  (``ioreg -n Root -d1 -a``, a property list); a session switched away from the console (fast user
  switching) counts as locked. No native dependency (``com.apple.screenIsLocked`` would need one).
"""

from __future__ import annotations

import os
import plistlib
import re
from collections.abc import Callable
from typing import Any

from tray_agent.signals.commands import CommandRunner, run_command
from tray_agent.signals.polled_source import ReadFailed, Reading, why_not_readable
from tray_agent.signals.workstation import input_desktop_locked, logind_properties

_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # logind's ids ("2", "c1"); never an option


# --- Linux: logind --------------------------------------------------------------------------------


def parse_locked_hint(output: str) -> Reading:
    """``loginctl show-session <id> -p LockedHint`` → locked or not (``yes``/``no``)."""
    value = logind_properties(output).get("LockedHint")
    if value == "yes":
        return Reading(True)
    if value == "no":
        return Reading(False)
    if value is None:
        return Reading(None, ("loginctl gave no LockedHint",))
    return Reading(None, ("loginctl's LockedHint is neither yes nor no",))


def parse_display_session(output: str) -> str | None:
    """``loginctl show-user <uid> -p Display`` → the user's graphical session id (None: none)."""
    value = logind_properties(output).get("Display", "").strip()
    return value if _SESSION_ID.fullmatch(value) else None


class LogindLock:
    """:class:`~tray_agent.signals.polled_source.StateReader`: this session's ``LockedHint``."""

    def __init__(
        self,
        loginctl: str | None,
        session: str | None,
        run: CommandRunner = run_command,
        uid: int | None = None,
    ) -> None:
        self._loginctl = loginctl
        self._session = session
        self._run = run
        self._uid = uid

    async def available(self) -> str | None:
        if self._loginctl is None:
            return "loginctl is not installed (no systemd-logind)"
        try:
            if self._session is None or not _SESSION_ID.fullmatch(self._session):
                self._session = await self._graphical_session()
                if self._session is None:
                    return "this user has no graphical logind session"
            reading = parse_locked_hint(await self._show_session())
        except ReadFailed as error:
            return f"logind does not answer ({error})"
        if reading.state is None:
            return f"logind does not say whether the session is locked ({'; '.join(reading.problems)})"
        return None

    async def read(self) -> Reading:
        return parse_locked_hint(await self._show_session())

    async def _show_session(self) -> str:
        assert self._loginctl is not None and self._session is not None  # noqa: S101 - available() first
        return await self._run([self._loginctl, "show-session", self._session, "-p", "LockedHint"])

    async def _graphical_session(self) -> str | None:
        assert self._loginctl is not None  # noqa: S101
        uid = self._uid if self._uid is not None else os.getuid()  # type: ignore[attr-defined,unused-ignore]
        return parse_display_session(await self._run([self._loginctl, "show-user", str(uid), "-p", "Display"]))


# --- macOS: ioreg ---------------------------------------------------------------------------------


def _console_users(tree: object, depth: int = 0) -> list[Any] | None:
    """The ``IOConsoleUsers`` array, wherever ioreg put it (the root entry or one of its children)."""
    if depth > 4:
        return None
    if isinstance(tree, dict):
        users = tree.get("IOConsoleUsers")
        if isinstance(users, list):
            return users
        children: list[object] = list(tree.values())
    elif isinstance(tree, list):
        children = list(tree)
    else:
        return None
    for child in children:
        found = _console_users(child, depth + 1)
        if found is not None:
            return found
    return None


def parse_ioreg_console_users(output: bytes, uid: int) -> Reading:
    """``ioreg -n Root -d1 -a`` → whether ``uid``'s screen is locked (or its session off the console)."""
    try:
        tree = plistlib.loads(output)
    except Exception:  # InvalidFileException, ExpatError, ValueError…: not ours to tell apart
        return Reading(None, ("ioreg's answer is not a property list",))
    users = _console_users(tree)
    if users is None:
        return Reading(None, ("ioreg's answer has no IOConsoleUsers",))
    for user in users:
        if not isinstance(user, dict):
            continue
        user_id = user.get("kCGSSessionUserIDKey")
        if isinstance(user_id, bool) or not isinstance(user_id, int) or user_id != uid:
            continue
        locked = user.get("CGSSessionScreenIsLocked", False)
        on_console = user.get("kCGSSessionOnConsoleKey", True)
        if not isinstance(locked, bool | int) or not isinstance(on_console, bool | int):
            return Reading(None, ("IOConsoleUsers has a lock flag that is not a boolean",))
        return Reading(bool(locked) or not bool(on_console))
    return Reading(None, ("this user has no console session in IOConsoleUsers",))


class MacScreenLock:
    """:class:`~tray_agent.signals.polled_source.StateReader`: this user's ``CGSSessionScreenIsLocked``."""

    def __init__(self, ioreg: str | None, run: CommandRunner = run_command, uid: int | None = None) -> None:
        self._ioreg = ioreg
        self._run = run
        self._uid = uid if uid is not None else os.getuid()  # type: ignore[attr-defined,unused-ignore]

    async def available(self) -> str | None:
        if self._ioreg is None:
            return "ioreg is not installed"
        return await why_not_readable(self, "ioreg", "ioreg does not say whether the screen is locked")

    async def read(self) -> Reading:
        assert self._ioreg is not None  # noqa: S101 - available() first
        output = await self._run([self._ioreg, "-n", "Root", "-d1", "-a"])
        return parse_ioreg_console_users(output.encode("utf-8", errors="replace"), self._uid)


# --- Windows: the input desktop -------------------------------------------------------------------


class WindowsInputDesktop:
    """:class:`~tray_agent.signals.polled_source.StateReader`: locked while ``OpenInputDesktop`` fails."""

    def __init__(self, locked: Callable[[], bool] = input_desktop_locked) -> None:
        self._locked = locked

    async def available(self) -> str | None:
        return None  # on Windows, always (sources_for_this_workstation builds it only there)

    async def read(self) -> Reading:
        try:
            return Reading(bool(self._locked()))
        except OSError as error:
            raise ReadFailed(f"OpenInputDesktop failed ({type(error).__name__})") from None
