"""Specification of the OS integration: start at login, one instance per session, opening files."""

from __future__ import annotations

import plistlib
import subprocess
import sys
from pathlib import Path

import pytest

from tray_agent.tray.autostart import (
    APPROVED_KEY,
    ENTRY_NAME,
    RUN_KEY,
    LaunchAgent,
    WindowsRunKey,
    XdgAutostart,
    desktop_exec,
    launch_command,
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


def test_the_login_command_starts_this_agent_without_a_console() -> None:
    command = launch_command()
    assert command[-2:] == ["-m", "tray_agent"]
    assert Path(command[0]).name.startswith("python")


# --- start at login: macOS (LaunchAgent) -------------------------------------------------------


def test_macos_start_at_login_is_a_launch_agent_that_runs_at_load(tmp_path: Path) -> None:
    agent = LaunchAgent(COMMAND, home=tmp_path)
    assert not agent.enabled()
    agent.set_enabled(True)
    assert agent.path.parent == tmp_path / "Library" / "LaunchAgents"
    plist = plistlib.loads(agent.path.read_bytes())
    assert plist["ProgramArguments"] == COMMAND
    assert plist["RunAtLoad"] is True
    assert agent.enabled()
    agent.set_enabled(False)
    assert not agent.enabled()


# --- start at login: Windows (HKCU Run) --------------------------------------------------------


class FakeRegistry:
    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str | bytes] = {}

    def read(self, key: str, name: str) -> str | bytes | None:
        return self.values.get((key, name))

    def write_string(self, key: str, name: str, value: str) -> None:
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
        ("win32", True, ["notepad.exe", "/p/settings.toml"]),
        ("win32", False, None),  # os.startfile: Explorer
        ("darwin", True, ["open", "-t", "/p/settings.toml"]),
        ("darwin", False, ["open", "/p/settings.toml"]),
        ("linux", True, ["xdg-open", "/p/settings.toml"]),
        ("linux", False, ["xdg-open", "/p/settings.toml"]),
    ],
)
def test_each_desktop_opens_files_its_own_way(platform: str, text_file: bool, command: list[str] | None) -> None:
    assert open_command(Path("/p/settings.toml"), text_file=text_file, platform=platform) == command
