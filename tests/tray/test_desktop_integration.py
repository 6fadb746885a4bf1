"""Specification of the OS integration: start at login, one instance per session, opening files."""

from __future__ import annotations

import os
import plistlib
import subprocess
import sys
from pathlib import Path

import pytest

from tray_agent.tray.autostart import (
    APPROVED_KEY,
    AT_LOGIN_FLAG,
    ENTRY_NAME,
    LAUNCH_AGENT_LABEL,
    RUN_KEY,
    LaunchAgent,
    WindowsRunKey,
    XdgAutostart,
    desktop_exec,
    launch_command,
    may_start_at_login,
)
from tray_agent.tray.desktop import open_command
from tray_agent.tray.single_instance import acquire

COMMAND = ["/opt/Tray Agent/bin/python", "-m", "tray_agent"]


# --- start at login: Linux (XDG autostart) ---------------------------------------------------


def test_xdg_start_at_login_writes_and_removes_a_desktop_entry(tmp_path: Path) -> None:
    autostart = XdgAutostart(COMMAND, config_home=tmp_path, system_dirs=[])
    assert not autostart.enabled()
    autostart.set_enabled(True)
    assert autostart.path == tmp_path / "autostart" / "tray-agent.desktop"
    text = autostart.path.read_text(encoding="utf-8")
    assert text.startswith("[Desktop Entry]\nType=Application\n")
    assert 'Exec="/opt/Tray Agent/bin/python" -m tray_agent\n' in text
    assert autostart.enabled()
    autostart.set_enabled(False)
    assert not autostart.path.exists()
    assert not autostart.enabled()


@pytest.mark.parametrize("line", ["Hidden=true", "X-GNOME-Autostart-enabled=false"])
def test_an_entry_disabled_by_the_desktop_counts_as_off(tmp_path: Path, line: str) -> None:
    autostart = XdgAutostart(COMMAND, config_home=tmp_path, system_dirs=[])
    autostart.set_enabled(True)
    autostart.path.write_text(autostart.path.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")
    assert not autostart.enabled()


def test_with_a_machine_wide_entry_from_it_switching_off_overrides_it_and_on_removes_the_override(
    tmp_path: Path,
) -> None:
    system = tmp_path / "etc-xdg"
    (system / "autostart").mkdir(parents=True)
    (system / "autostart" / "tray-agent.desktop").write_text("[Desktop Entry]\nType=Application\nExec=tray-agent\n")
    autostart = XdgAutostart(COMMAND, config_home=tmp_path / "home", system_dirs=[system])
    assert autostart.enabled()  # IT's entry starts it
    autostart.set_enabled(False)
    assert "Hidden=true" in autostart.path.read_text(encoding="utf-8")
    assert not autostart.enabled()
    assert (system / "autostart" / "tray-agent.desktop").exists()  # IT's file is never touched
    autostart.set_enabled(True)
    assert not autostart.path.exists() and autostart.enabled()


def test_xdg_config_home_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert XdgAutostart(COMMAND).path == tmp_path / "autostart" / "tray-agent.desktop"


@pytest.mark.parametrize(
    ("args", "exec_line"),
    [
        (["/usr/bin/tray-agent"], "/usr/bin/tray-agent"),
        (["/home/a b/tray-agent"], '"/home/a b/tray-agent"'),
        (["/x/$HOME/`id`"], '"/x/\\$HOME/\\`id\\`"'),
        (["/x", "100%"], "/x 100%%"),
    ],
)
def test_exec_lines_follow_the_desktop_entry_quoting_rules(args: list[str], exec_line: str) -> None:
    assert desktop_exec(args) == exec_line


def test_the_login_command_starts_this_agent_without_a_console_and_says_it_is_at_login() -> None:
    command = launch_command()
    assert command[-3:] == ["-m", "tray_agent", AT_LOGIN_FLAG]
    assert Path(command[0]).name.startswith("python")


class SwitchedAutostart:
    def __init__(self, on: bool | None) -> None:
        self.on = on

    def enabled(self) -> bool:
        if self.on is None:
            raise OSError("cannot read it")
        return self.on

    def set_enabled(self, enabled: bool) -> None:
        self.on = enabled


@pytest.mark.parametrize(
    ("policy", "users_choice", "starts"),
    [
        (None, True, True),
        (None, False, False),  # switched off by this user, over IT's machine-wide entry
        (True, False, True),  # IT's policy decides where it is set
        (False, True, False),  # IT switched it off after the install wrote a Run entry
        (None, None, True),  # cannot tell: start (the agent is visible and can be quit)
    ],
)
def test_a_start_at_sign_in_goes_on_only_if_policy_or_the_users_choice_allows(
    policy: bool | None, users_choice: bool | None, starts: bool
) -> None:
    assert may_start_at_login(policy, SwitchedAutostart(users_choice)) is starts


def test_started_at_sign_in_against_the_users_choice_the_tray_exits_quietly_before_starting(tmp_path: Path) -> None:
    # A real process, as the desktop starts it: this user has no autostart entry of their own (they
    # switched it off), so a start at sign-in — say from IT's machine-wide entry — ends at once.
    environment = {
        **os.environ,
        "TRAY_AGENT_HOME": str(tmp_path / "agent"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_CONFIG_DIRS": str(tmp_path / "no-system-entries"),
        "DISPLAY": "",  # it must not get as far as needing a display
    }
    done = subprocess.run(
        [sys.executable, "-m", "tray_agent", AT_LOGIN_FLAG],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    log = (tmp_path / "agent" / "logs" / "tray-agent.log").read_text(encoding="utf-8")
    assert "start at login is off" in log


# --- start at login: macOS (LaunchAgent) -------------------------------------------------------


def test_macos_start_at_login_is_a_launch_agent_that_runs_at_load(tmp_path: Path) -> None:
    agent = LaunchAgent(COMMAND, home=tmp_path, system_plist=tmp_path / "none.plist")
    assert not agent.enabled()
    agent.set_enabled(True)
    assert agent.path.parent == tmp_path / "Library" / "LaunchAgents"
    plist = plistlib.loads(agent.path.read_bytes())
    assert plist["ProgramArguments"] == COMMAND
    assert plist["RunAtLoad"] is True
    assert agent.enabled()
    agent.set_enabled(False)
    assert not agent.enabled()


class FakeLaunchd:
    """``launchctl`` as far as the agent uses it: print-disabled, enable, disable (macOS 11+ wording)."""

    def __init__(self, old_wording: bool = False) -> None:
        self.disabled: set[str] = set()
        self.calls: list[list[str]] = []
        self.words = ("true", "false") if old_wording else ("disabled", "enabled")

    def __call__(self, args: list[str]) -> str:
        self.calls.append(args)
        verb, target = args[1], args[2]
        if verb == "print-disabled":
            lines = [f'\t"{label}" => {self.words[0]}' for label in sorted(self.disabled)]
            return "disabled services = {\n" + "\n".join([*lines, '\t"com.apple.x" => ' + self.words[1]]) + "\n}\n"
        label = target.split("/")[-1]
        (self.disabled.add if verb == "disable" else self.disabled.discard)(label)
        return ""


@pytest.mark.parametrize("old_wording", [False, True])
def test_over_its_machine_wide_launch_agent_a_user_switches_off_with_launchctl(
    tmp_path: Path, old_wording: bool
) -> None:
    system = tmp_path / "Library-LaunchAgents.plist"
    system.write_bytes(plistlib.dumps({"Label": LAUNCH_AGENT_LABEL, "RunAtLoad": True}))
    launchd = FakeLaunchd(old_wording)
    agent = LaunchAgent(COMMAND, home=tmp_path / "home", system_plist=system, run=launchd, uid=501)
    assert agent.enabled()  # IT's plist starts it
    agent.set_enabled(False)
    assert launchd.calls[-1] == ["/bin/launchctl", "disable", f"gui/501/{LAUNCH_AGENT_LABEL}"]
    assert not agent.enabled() and not agent.path.exists()  # never a second job with the same label
    agent.set_enabled(True)
    assert launchd.calls[-1] == ["/bin/launchctl", "enable", f"gui/501/{LAUNCH_AGENT_LABEL}"]
    assert agent.enabled() and system.exists()


def test_a_launchctl_failure_is_an_os_error_the_menu_reports(tmp_path: Path) -> None:
    system = tmp_path / "system.plist"
    system.write_bytes(b"")

    def broken(args: list[str]) -> str:
        raise subprocess.CalledProcessError(5, args)

    agent = LaunchAgent(COMMAND, home=tmp_path, system_plist=system, run=broken)
    with pytest.raises(OSError, match="launchctl print-disabled failed"):
        agent.enabled()


# --- start at login: Windows (HKCU Run) --------------------------------------------------------


class FakeRegistry:
    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str | bytes] = {}

    def read(self, key: str, name: str) -> str | bytes | None:
        return self.values.get((key, name))

    def write_string(self, key: str, name: str, value: str) -> None:
        self.values[(key, name)] = value

    def write_bytes(self, key: str, name: str, value: bytes) -> None:
        self.values[(key, name)] = value

    def delete(self, key: str, name: str) -> None:
        self.values.pop((key, name), None)


def test_windows_start_at_login_is_a_quoted_hkcu_run_value() -> None:
    registry = FakeRegistry()
    run = WindowsRunKey([r"C:\Program Files\Tray Agent\tray-agent.exe"], registry)
    assert not run.enabled()
    run.set_enabled(True)
    assert registry.values[(RUN_KEY, ENTRY_NAME)] == r'"C:\Program Files\Tray Agent\tray-agent.exe"'
    assert run.enabled()
    run.set_enabled(False)
    assert (RUN_KEY, ENTRY_NAME) not in registry.values


def test_disabled_in_task_manager_shows_as_off_and_switching_on_clears_that() -> None:
    registry = FakeRegistry()
    run = WindowsRunKey(["tray-agent.exe"], registry)
    run.set_enabled(True)
    registry.values[(APPROVED_KEY, ENTRY_NAME)] = bytes([3]) + bytes(11)  # Task Manager: disabled
    assert not run.enabled()
    run.set_enabled(True)  # the agent's explicit choice in our menu
    assert run.enabled()
    assert (APPROVED_KEY, ENTRY_NAME) not in registry.values
    registry.values[(APPROVED_KEY, ENTRY_NAME)] = bytes([2]) + bytes(11)  # enabled there
    assert run.enabled()


def test_over_its_machine_wide_run_entry_a_user_switches_off_as_task_manager_does() -> None:
    user, machine = FakeRegistry(), FakeRegistry()
    machine.values[(RUN_KEY, ENTRY_NAME)] = '"C:\\Program Files\\TrayAgent\\TeamsGenesysPresence.exe" --at-login'
    run = WindowsRunKey(["tray-agent.exe"], user, machine=machine, now=lambda: 1_700_000_000.0)
    assert run.enabled()  # IT's entry starts it for every user
    run.set_enabled(False)
    mark = user.values[(APPROVED_KEY, ENTRY_NAME)]
    assert isinstance(mark, bytes) and mark[:4] == b"\x03\x00\x00\x00" and len(mark) == 12
    assert int.from_bytes(mark[4:], "little") == (1_700_000_000 + 11_644_473_600) * 10_000_000  # FILETIME
    assert not run.enabled()
    assert (RUN_KEY, ENTRY_NAME) not in user.values  # never a second, per-user entry
    run.set_enabled(True)
    assert run.enabled() and user.values == {}
    assert machine.values == {(RUN_KEY, ENTRY_NAME): machine.values[(RUN_KEY, ENTRY_NAME)]}  # HKLM untouched


def test_a_machine_wide_entry_disabled_for_the_machine_shows_as_off() -> None:
    user, machine = FakeRegistry(), FakeRegistry()
    machine.values[(RUN_KEY, ENTRY_NAME)] = "x.exe --at-login"
    machine.values[(APPROVED_KEY, ENTRY_NAME)] = bytes([3]) + bytes(11)
    assert not WindowsRunKey(["tray-agent.exe"], user, machine=machine).enabled()


# --- one instance per session ------------------------------------------------------------------


def test_a_second_instance_is_refused_until_the_first_releases(tmp_path: Path) -> None:
    first = acquire("Test.Instance", tmp_path)
    assert first is not None
    assert acquire("Test.Instance", tmp_path) is None
    assert acquire("Test.Other", tmp_path) is not None  # the demo has its own lock
    first.release()
    again = acquire("Test.Instance", tmp_path)
    assert again is not None
    again.release()


def test_the_lock_is_held_across_processes_and_freed_when_the_holder_dies(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pathlib; from tray_agent.tray.single_instance import acquire;"
            f"lock = acquire('Test.Instance', pathlib.Path({str(tmp_path)!r}));"
            "print('held' if lock else 'refused', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert acquire("Test.Instance", tmp_path) is None
    finally:
        holder.kill()  # no clean release: the OS drops the lock with the process
        holder.wait()
    assert acquire("Test.Instance", tmp_path) is not None


# --- opening the settings file and the log folder ---------------------------------------------


@pytest.mark.parametrize(
    ("platform", "text_file", "command"),
    [
        ("win32", True, [r"C:\Windows\System32\notepad.exe", "/p/settings.toml"]),  # never a notepad.exe on PATH
        ("win32", False, None),  # os.startfile: Explorer
        ("darwin", True, ["open", "-t", "/p/settings.toml"]),
        ("darwin", False, ["open", "/p/settings.toml"]),
        ("linux", True, ["xdg-open", "/p/settings.toml"]),
        ("linux", False, ["xdg-open", "/p/settings.toml"]),
    ],
)
def test_each_desktop_opens_files_its_own_way(platform: str, text_file: bool, command: list[str] | None) -> None:
    assert open_command(Path("/p/settings.toml"), text_file=text_file, platform=platform) == command
