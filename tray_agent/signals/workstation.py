"""Is the agent at the workstation? Where the OS tells us: a locked or long-idle session means
nobody is there to take a call, so Teams is not polled (the tenant's Graph budget is shared).

- Windows: ``GetLastInputInfo`` (idle time) and ``OpenInputDesktop`` (fails while the secure
  lock desktop is shown).
- Linux: systemd-logind's ``LockedHint``/``IdleHint`` for this session (``loginctl``).
- Elsewhere, or when the OS does not answer: "present" — never a reason to stop syncing by mistake.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import shutil
import sys
from typing import Protocol

log = logging.getLogger(__name__)


class Workstation(Protocol):
    async def away(self) -> bool: ...


class AlwaysPresent:
    async def away(self) -> bool:
        return False


class LogindSession:
    def __init__(self, session_id: str, loginctl: str) -> None:
        self._session = session_id
        self._loginctl = loginctl

    async def away(self) -> bool:
        try:
            process = await asyncio.create_subprocess_exec(
                self._loginctl,
                "show-session",
                self._session,
                "-p",
                "LockedHint",
                "-p",
                "IdleHint",
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
            output, _ = await asyncio.wait_for(process.communicate(), timeout=2.0)
        except (OSError, TimeoutError):
            return False
        return parse_logind(output.decode(errors="replace"))


def logind_properties(output: str) -> dict[str, str]:
    """``loginctl show-session … -p Name`` output (``Name=value`` lines) as a dict."""
    return dict(line.strip().split("=", 1) for line in output.splitlines() if "=" in line)


def parse_logind(output: str) -> bool:
    """``LockedHint=yes`` or ``IdleHint=yes`` → away."""
    values = logind_properties(output)
    return values.get("LockedHint") == "yes" or values.get("IdleHint") == "yes"


class WindowsSession:  # pragma: no cover - Windows only
    def __init__(self, idle_after: float) -> None:
        self._idle_after = idle_after

    async def away(self) -> bool:
        return self._locked() or self._idle_seconds() >= self._idle_after

    @staticmethod
    def _idle_seconds() -> float:
        class LastInputInfo(ctypes.Structure):
            _fields_ = [("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint)]

        info = LastInputInfo()
        info.cbSize = ctypes.sizeof(info)
        windll = ctypes.windll  # type: ignore[attr-defined,unused-ignore]
        if not windll.user32.GetLastInputInfo(ctypes.byref(info)):
            return 0.0
        return float((windll.kernel32.GetTickCount() - info.dwTime) & 0xFFFFFFFF) / 1000.0

    @staticmethod
    def _locked() -> bool:
        return input_desktop_locked()


def input_desktop_locked() -> bool:  # pragma: no cover - Windows only
    """Windows: the input desktop cannot be opened while the secure (lock) desktop is shown."""
    user32 = ctypes.windll.user32  # type: ignore[attr-defined,unused-ignore]
    desktop = user32.OpenInputDesktop(0, False, 0x0100)  # DESKTOP_SWITCHDESKTOP
    if not desktop:
        return True
    user32.CloseDesktop(desktop)
    return False


def for_this_session(idle_after: float = 900.0) -> Workstation:
    if sys.platform == "win32":
        return WindowsSession(idle_after)
    session = os.environ.get("XDG_SESSION_ID")
    loginctl = shutil.which("loginctl")
    if sys.platform.startswith("linux") and session and loginctl:
        return LogindSession(session, loginctl)
    return AlwaysPresent()
