"""“Start at login”, per user, the way each desktop expects it — and on top of IT's machine-wide entry.

- Windows: a value under ``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run``. Task Manager's
  "Startup apps" does not delete that value; it marks it disabled under ``Explorer\\StartupApproved\\Run``
  (first byte odd = disabled). The menu shows that effective state, and switching it on from the menu
  is the agent's explicit choice, so it clears such a mark. Where the MSI wrote the machine-wide
  ``HKLM\\…\\Run`` entry (every user), switching off writes the same "disabled" mark a user's Task
  Manager writes (``03 00 00 00`` + FILETIME) instead of a second entry, and switching on removes it.
- Linux and other XDG desktops: ``$XDG_CONFIG_HOME/autostart/tray-agent.desktop`` (``Hidden=true`` or
  ``X-GNOME-Autostart-enabled=false`` in that file mean disabled); over IT's ``/etc/xdg/autostart``
  entry, a ``Hidden=true`` file of the same name.
- macOS: a LaunchAgent plist in ``~/Library/LaunchAgents`` with ``RunAtLoad``; over IT's
  ``/Library/LaunchAgents`` plist (same label), ``launchctl disable|enable gui/<uid>/<label>``.

Every entry starts the agent with ``--at-login``; :func:`may_start_at_login` then checks policy and
this user's choice again, so an opt-out holds even where the OS would start IT's entry anyway.

The menu's checkbox always reads the OS state (never a cached flag), so it is right even after the
agent or IT changed it elsewhere.
"""

from __future__ import annotations

import os
import plistlib
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from tray_agent.config.paths import write_private

ENTRY_NAME = "TeamsGenesysPresence"
DESKTOP_FILE = "tray-agent.desktop"
LAUNCH_AGENT_LABEL = "com.trayagent.teams-genesys-presence"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
APPROVED_KEY = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
AT_LOGIN_FLAG = "--at-login"
SYSTEM_LAUNCH_AGENT = Path("/Library/LaunchAgents") / f"{LAUNCH_AGENT_LABEL}.plist"


class Autostart(Protocol):
    def enabled(self) -> bool: ...

    def set_enabled(self, enabled: bool) -> None: ...


def launch_command() -> list[str]:
    """How the OS should start the tray at login: the frozen app, else this interpreter (windowless)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, AT_LOGIN_FLAG]
    python = Path(sys.executable)
    windowless = python.with_name("pythonw.exe")
    if sys.platform == "win32" and windowless.exists():
        python = windowless
    return [str(python), "-m", "tray_agent", AT_LOGIN_FLAG]


def may_start_at_login(policy_start_at_login: bool | None, autostart: Autostart) -> bool:
    """Whether a start by the OS at sign-in (``--at-login``) should go on: IT's policy decides where it
    is set; otherwise this user's choice as the OS shows it. A start from the menu never asks."""
    if policy_start_at_login is not None:
        return policy_start_at_login
    try:
        return autostart.enabled()
    except OSError:
        return True  # cannot tell: starting is the safer mistake (the agent is visible and can be quit)


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


Runner = Callable[[list[str]], str]


def _run(args: list[str]) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=10).stdout  # noqa: S603 — fixed argv


class LaunchAgent:
    """The user's ``~/Library/LaunchAgents`` plist; over IT's ``/Library/LaunchAgents`` plist of the same
    label (the .pkg installs one), launchd's per-user disabled flag, set with ``launchctl``."""

    def __init__(
        self,
        command: list[str],
        home: Path | None = None,
        system_plist: Path = SYSTEM_LAUNCH_AGENT,
        run: Runner = _run,
        uid: int | None = None,
    ) -> None:
        self._command = command
        self.path = (home or Path.home()) / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"
        self._system_plist = system_plist
        self._run = run
        self._uid = uid if uid is not None else getattr(os, "getuid", lambda: 0)()

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
        if self._system_plist.is_file():
            return not self._disabled_by_launchd()
        try:
            data = plistlib.loads(self.path.read_bytes())
        except (OSError, plistlib.InvalidFileException):
            return False
        return bool(data.get("RunAtLoad")) and not data.get("Disabled", False)

    def set_enabled(self, enabled: bool) -> None:
        if self._system_plist.is_file():
            self.path.unlink(missing_ok=True)  # one job per label: IT's plist is the one that runs
            verb = "enable" if enabled else "disable"
            self._launchctl(verb, f"gui/{self._uid}/{LAUNCH_AGENT_LABEL}")
        elif enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_bytes(self.plist())
        else:
            self.path.unlink(missing_ok=True)

    def _disabled_by_launchd(self) -> bool:
        """``launchctl print-disabled gui/<uid>`` lists ``"label" => disabled|enabled`` (macOS 11+), or
        ``=> true|false`` (older releases)."""
        listing = self._launchctl("print-disabled", f"gui/{self._uid}")
        match = re.search(rf'"{re.escape(LAUNCH_AGENT_LABEL)}"\s*=>\s*(\w+)', listing)
        return match is not None and match.group(1).lower() in ("disabled", "true")

    def _launchctl(self, *args: str) -> str:
        try:
            return self._run(["/bin/launchctl", *args])
        except (subprocess.SubprocessError, FileNotFoundError) as error:
            raise OSError(f"launchctl {args[0]} failed: {error}") from None


# --- Windows ----------------------------------------------------------------------------------


class RegistryReader(Protocol):
    def read(self, key: str, name: str) -> str | bytes | None: ...


class Registry(RegistryReader, Protocol):
    """The few HKCU operations needed (a dict-backed fake in tests, winreg on Windows)."""

    def write_string(self, key: str, name: str, value: str) -> None: ...

    def write_bytes(self, key: str, name: str, value: bytes) -> None: ...

    def delete(self, key: str, name: str) -> None: ...


def _disabled_mark(now: float) -> bytes:
    """What Task Manager writes to switch a Run entry off for one user: ``03 00 00 00`` and the time
    (a FILETIME: 100 ns ticks since 1601)."""
    ticks = int((now + 11_644_473_600) * 10_000_000)
    return b"\x03\x00\x00\x00" + ticks.to_bytes(8, "little")


def _approved(reader: RegistryReader) -> bool:
    approval = reader.read(APPROVED_KEY, ENTRY_NAME)
    return not (isinstance(approval, bytes) and approval[:1] and approval[0] & 1)


class WindowsRunKey:
    """The user's ``HKCU\\…\\Run`` value, or — where the MSI wrote IT's ``HKLM\\…\\Run`` value for
    every user — this user's ``StartupApproved`` mark over it (``machine`` reads HKLM)."""

    def __init__(
        self,
        command: list[str],
        registry: Registry,
        machine: RegistryReader | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._command = command
        self._registry = registry
        self._machine = machine
        self._now = now

    def command_line(self) -> str:
        return subprocess.list2cmdline(self._command)

    def _machine_entry(self) -> RegistryReader | None:
        """HKLM, when IT's Run value is there."""
        if self._machine is not None and isinstance(self._machine.read(RUN_KEY, ENTRY_NAME), str):
            return self._machine
        return None

    def enabled(self) -> bool:
        machine = self._machine_entry()
        if machine is not None:
            return _approved(self._registry) and _approved(machine)
        return isinstance(self._registry.read(RUN_KEY, ENTRY_NAME), str) and _approved(self._registry)

    def set_enabled(self, enabled: bool) -> None:
        if self._machine_entry() is not None:
            self._registry.delete(RUN_KEY, ENTRY_NAME)  # IT's entry starts it; never a second one
            if enabled:
                self._registry.delete(APPROVED_KEY, ENTRY_NAME)
            else:
                self._registry.write_bytes(APPROVED_KEY, ENTRY_NAME, _disabled_mark(self._now()))
            return
        if enabled:
            self._registry.write_string(RUN_KEY, ENTRY_NAME, self.command_line())
        else:
            self._registry.delete(RUN_KEY, ENTRY_NAME)
        self._registry.delete(APPROVED_KEY, ENTRY_NAME)


if sys.platform == "win32":
    import winreg

    class WinRegistry:
        def __init__(self, hive: int = winreg.HKEY_CURRENT_USER) -> None:
            self._hive = hive

        def read(self, key: str, name: str) -> str | bytes | None:
            try:
                with winreg.OpenKey(self._hive, key, 0, winreg.KEY_READ | winreg.KEY_WOW64_64KEY) as handle:
                    value, _kind = winreg.QueryValueEx(handle, name)
            except OSError:
                return None
            return value if isinstance(value, str | bytes) else None

        def write_string(self, key: str, name: str, value: str) -> None:
            with winreg.CreateKeyEx(self._hive, key, 0, winreg.KEY_SET_VALUE) as handle:
                winreg.SetValueEx(handle, name, 0, winreg.REG_SZ, value)

        def write_bytes(self, key: str, name: str, value: bytes) -> None:
            with winreg.CreateKeyEx(self._hive, key, 0, winreg.KEY_SET_VALUE) as handle:
                winreg.SetValueEx(handle, name, 0, winreg.REG_BINARY, value)

        def delete(self, key: str, name: str) -> None:
            try:
                with winreg.OpenKey(self._hive, key, 0, winreg.KEY_SET_VALUE) as handle:
                    winreg.DeleteValue(handle, name)
            except FileNotFoundError:
                pass

    def for_this_desktop(command: list[str] | None = None) -> Autostart:
        return WindowsRunKey(command or launch_command(), WinRegistry(), machine=WinRegistry(winreg.HKEY_LOCAL_MACHINE))

else:

    def for_this_desktop(command: list[str] | None = None) -> Autostart:
        if sys.platform == "darwin":
            return LaunchAgent(command or launch_command())
        return XdgAutostart(command or launch_command())
