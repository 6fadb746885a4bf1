"""“Start at login”, per user, the way each desktop expects it.

- Windows: a value under ``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run``. Task Manager's
  "Startup apps" does not delete that value; it marks it disabled under ``Explorer\\StartupApproved\\Run``
  (first byte odd = disabled). The menu shows that effective state, and switching it on from the menu
  is the agent's explicit choice, so it clears such a mark.
- Linux and other XDG desktops: ``$XDG_CONFIG_HOME/autostart/tray-agent.desktop`` (``Hidden=true`` or
  ``X-GNOME-Autostart-enabled=false`` in that file mean disabled).
- macOS: a LaunchAgent plist in ``~/Library/LaunchAgents`` with ``RunAtLoad``.

The menu's checkbox always reads the OS state (never a cached flag), so it is right even after the
agent or IT changed it elsewhere.
"""

from __future__ import annotations

import os
import plistlib
import subprocess
import sys
from pathlib import Path
from typing import Protocol

from tray_agent.paths import write_private

ENTRY_NAME = "TeamsGenesysPresence"
DESKTOP_FILE = "tray-agent.desktop"
LAUNCH_AGENT_LABEL = "com.trayagent.teams-genesys-presence"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
APPROVED_KEY = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"


class Autostart(Protocol):
    def enabled(self) -> bool: ...

    def set_enabled(self, enabled: bool) -> None: ...


def launch_command() -> list[str]:
    """How the OS should start the tray at login: the frozen app, else this interpreter (windowless)."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    python = Path(sys.executable)
    windowless = python.with_name("pythonw.exe")
    if sys.platform == "win32" and windowless.exists():
        python = windowless
    return [str(python), "-m", "tray_agent"]


# --- XDG (Linux and friends) -------------------------------------------------------------------

_EXEC_SPECIAL = set(" \t\n\"'\\><~|&;$*?#()`")


def desktop_exec(args: list[str]) -> str:
    """An ``Exec=`` value (Desktop Entry spec: quote reserved characters, escape ``" ` $ \\``, ``%`` → ``%%``)."""
    out = []
    for arg in args:
        arg = arg.replace("%", "%%")
        if arg and not (_EXEC_SPECIAL & set(arg)):
            out.append(arg)
            continue
        escaped = "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg)
        out.append(f'"{escaped}"')
    return " ".join(out)


def _desktop_escape(value: str) -> str:
    """Desktop Entry string escaping: backslash first, then newline, tab, carriage return."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


class XdgAutostart:
    """The user's ``~/.config/autostart`` entry. When IT installed a machine-wide entry (the .deb puts
    one in ``/etc/xdg/autostart``), the user's file of the same name overrides it (XDG Autostart
    spec): switching off writes ``Hidden=true`` there, switching on removes that override."""

    def __init__(
        self, command: list[str], config_home: Path | None = None, system_dirs: list[Path] | None = None
    ) -> None:
        self._command = command
        home = config_home or Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        self.path = home / "autostart" / DESKTOP_FILE
        dirs = system_dirs if system_dirs is not None else _xdg_config_dirs()
        self._system_entries = [folder / "autostart" / DESKTOP_FILE for folder in dirs]

    def _system_entry(self) -> bool:
        return any(entry.is_file() for entry in self._system_entries)

    def entry(self) -> str:
        return (
            "[Desktop Entry]\n"
            "Type=Application\n"
            "Name=Teams → Genesys presence\n"
            "Comment=Mirrors your Microsoft Teams presence into Genesys Cloud\n"
            f"Exec={_desktop_escape(desktop_exec(self._command))}\n"
            "Terminal=false\n"
            "X-GNOME-Autostart-enabled=true\n"
        )

    def enabled(self) -> bool:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return self._system_entry()
        values = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
        return (
            values.get("Hidden", "false").strip().lower() != "true"
            and values.get("X-GNOME-Autostart-enabled", "true").strip().lower() != "false"
        )

    def set_enabled(self, enabled: bool) -> None:
        if self._system_entry():
            if enabled:
                self.path.unlink(missing_ok=True)  # the machine-wide entry starts it
            else:
                write_private(
                    self.path, "[Desktop Entry]\nType=Application\nName=Teams → Genesys presence\nHidden=true\n"
                )
        elif enabled:
            write_private(self.path, self.entry())
        else:
            self.path.unlink(missing_ok=True)


def _xdg_config_dirs() -> list[Path]:
    return [Path(folder) for folder in (os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":") if folder]


# --- macOS ------------------------------------------------------------------------------------


class LaunchAgent:
    def __init__(self, command: list[str], home: Path | None = None) -> None:
        self._command = command
        self.path = (home or Path.home()) / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"

    def plist(self) -> bytes:
        return plistlib.dumps(
            {
                "Label": LAUNCH_AGENT_LABEL,
                "ProgramArguments": self._command,
                "RunAtLoad": True,
                "ProcessType": "Interactive",
                "LimitLoadToSessionType": "Aqua",
            }
        )

    def enabled(self) -> bool:
        try:
            data = plistlib.loads(self.path.read_bytes())
        except (OSError, plistlib.InvalidFileException):
            return False
        return bool(data.get("RunAtLoad")) and not data.get("Disabled", False)

    def set_enabled(self, enabled: bool) -> None:
        if enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_bytes(self.plist())
        else:
            self.path.unlink(missing_ok=True)


# --- Windows ----------------------------------------------------------------------------------


class Registry(Protocol):
    """The few HKCU operations needed (a dict-backed fake in tests, winreg on Windows)."""

    def read(self, key: str, name: str) -> str | bytes | None: ...

    def write_string(self, key: str, name: str, value: str) -> None: ...

    def delete(self, key: str, name: str) -> None: ...


class WindowsRunKey:
    def __init__(self, command: list[str], registry: Registry) -> None:
        self._command = command
        self._registry = registry

    def command_line(self) -> str:
        return subprocess.list2cmdline(self._command)

    def enabled(self) -> bool:
        if not isinstance(self._registry.read(RUN_KEY, ENTRY_NAME), str):
            return False
        approval = self._registry.read(APPROVED_KEY, ENTRY_NAME)
        return not (isinstance(approval, bytes) and approval[:1] and approval[0] & 1)

    def set_enabled(self, enabled: bool) -> None:
        if enabled:
            self._registry.write_string(RUN_KEY, ENTRY_NAME, self.command_line())
        else:
            self._registry.delete(RUN_KEY, ENTRY_NAME)
        self._registry.delete(APPROVED_KEY, ENTRY_NAME)


if sys.platform == "win32":
    import winreg

    class WinRegistry:
        def read(self, key: str, name: str) -> str | bytes | None:
            try:
                with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key) as handle:
                    value, _kind = winreg.QueryValueEx(handle, name)
            except OSError:
                return None
            return value if isinstance(value, str | bytes) else None

        def write_string(self, key: str, name: str, value: str) -> None:
            with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, key, 0, winreg.KEY_SET_VALUE) as handle:
                winreg.SetValueEx(handle, name, 0, winreg.REG_SZ, value)

        def delete(self, key: str, name: str) -> None:
            try:
                with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key, 0, winreg.KEY_SET_VALUE) as handle:
                    winreg.DeleteValue(handle, name)
            except FileNotFoundError:
                pass

    def for_this_desktop(command: list[str] | None = None) -> Autostart:
        return WindowsRunKey(command or launch_command(), WinRegistry())

else:

    def for_this_desktop(command: list[str] | None = None) -> Autostart:
        if sys.platform == "darwin":
            return LaunchAgent(command or launch_command())
        return XdgAutostart(command or launch_command())
