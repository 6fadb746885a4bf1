"""Specification of the tray shell (with a recording stand-in for pystray's icon) and of the engine thread."""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tray_agent.config.paths import AgentPaths
from tray_agent.config.settings import DEFAULT_SETTINGS_TOML
from tray_agent.core.rules import SyncStatus
from tray_agent.core.service import Service
from tray_agent.engine.snapshot import Command, CommandKind, Link, Snapshot, Transition
from tray_agent.tray.app import TrayApp
from tray_agent.tray.desktop_notifications import MIN_INTERVAL, RateLimiter
from tray_agent.tray.engine_thread import EngineThread
from tray_agent.tray.icon import tray_image
from tray_agent.tray.view import IconKey, Look, Tone

from .builders import NOW, in_meeting, snapshot


class RecordingIcon:
    """Records what the app pushes to pystray's icon."""

    HAS_NOTIFICATION = True

    def __init__(self) -> None:
        self.images: list[Any] = []
        self.titles: list[str] = []
        self.menu_updates = 0
        self.notifications: list[tuple[str, str]] = []
        self.stopped = False

    @property
    def icon(self) -> Any:
        return self.images[-1] if self.images else None

    @icon.setter
    def icon(self, image: Any) -> None:
        self.images.append(image)

    @property
    def title(self) -> str:
        return self.titles[-1] if self.titles else ""

    @title.setter
    def title(self, text: str) -> None:
        self.titles.append(text)

    def update_menu(self) -> None:
        self.menu_updates += 1

    def notify(self, message: str, title: str | None = None) -> None:
        self.notifications.append((title or "", message))

    def stop(self) -> None:
        self.stopped = True


class FakeAutostart:
    def __init__(self) -> None:
        self.on = False

    def enabled(self) -> bool:
        return self.on

    def set_enabled(self, enabled: bool) -> None:
        self.on = enabled


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.paths = AgentPaths(tmp_path / "config", tmp_path / "state", tmp_path / "logs")
        self.real = Clock()
        self.opened: list[tuple[Path, bool]] = []
        self.open_fails = False
        self.autostart = FakeAutostart()
        self.app = TrayApp(
            paths=self.paths,
            factory=None,
            now=lambda: NOW,
            autostart=self.autostart,
            open_path=self._open,
            limiter=RateLimiter(clock=self.real),
        )
        self.icon = RecordingIcon()

    def _open(self, path: Path, text: bool) -> None:
        if self.open_fails:
            raise OSError("no application")
        self.opened.append((path, text))

    def show(self, s: Snapshot) -> None:
        self.app.on_snapshot(s)
        self.app.refresh(self.icon)

    def titles_of_notifications(self) -> list[str]:
        return [title for title, _ in self.icon.notifications]


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_a_snapshot_becomes_the_icon_the_tooltip_and_the_menu(world: World) -> None:
    world.show(in_meeting())
    assert world.icon.images == [tray_image(IconKey(Look.SYNCED, Tone.BUSY))]
    assert world.icon.titles == ["Teams → Genesys presence: In sync · Genesys Meeting"]
    assert world.icon.menu_updates == 1
    assert world.app.view.genesys_line == "Genesys: Meeting – set by sync"


def test_nothing_is_redrawn_while_the_visible_state_stays_the_same(world: World) -> None:
    world.show(in_meeting())
    world.show(in_meeting(writes=7, at=NOW + 60))  # new snapshot, same picture
    world.app.refresh(world.icon)  # a tick with nothing new
    assert len(world.icon.images) == 1
    assert len(world.icon.titles) == 1
    assert world.icon.menu_updates == 1


def test_a_new_status_redraws_only_what_changed(world: World) -> None:
    world.show(in_meeting())
    world.show(in_meeting(set_by="you"))  # same icon and tooltip, different menu line
    assert (len(world.icon.images), len(world.icon.titles), world.icon.menu_updates) == (1, 1, 2)
    world.show(snapshot(status=SyncStatus.PAUSED, paused_until=math.inf))
    assert world.icon.images[-1] is tray_image(IconKey(Look.PAUSED))


def test_pause_and_resume_are_notified_but_never_spammed(world: World) -> None:
    world.show(snapshot())
    world.show(snapshot(paused_until=NOW + 900))
    world.show(snapshot())
    world.show(snapshot(paused_until=NOW + 900))  # the agent toggles again at once
    world.show(snapshot())
    assert world.titles_of_notifications() == ["Presence sync paused", "Presence sync resumed"]
    world.real.now += MIN_INTERVAL
    world.show(snapshot(paused_until=NOW + 900))
    assert world.titles_of_notifications()[-1] == "Presence sync paused"


def test_losing_a_sign_in_is_notified_but_signing_out_yourself_is_not(world: World) -> None:
    world.show(snapshot())
    world.app.sign_out(Service.GENESYS)
    world.show(snapshot(genesys_link=Link.SIGN_IN_NEEDED, genesys=None))
    assert world.icon.notifications == []
    world.app.sign_in(Service.GENESYS)
    world.show(snapshot())
    world.show(snapshot(genesys_link=Link.SIGN_IN_NEEDED, genesys=None))
    assert world.titles_of_notifications() == ["Sign in to Genesys Cloud"]


def test_a_genesys_sign_in_about_to_end_is_announced_once(world: World) -> None:
    world.show(snapshot(genesys_expires_at=NOW + 300))
    world.app.refresh(world.icon)  # the controller's periodic tick
    assert world.titles_of_notifications() == ["Genesys Cloud sign-in ends soon"]
    assert world.app.view.sign_in_possible(Service.GENESYS)


def test_backends_without_notifications_are_simply_not_asked(world: World) -> None:
    world.icon.HAS_NOTIFICATION = False
    world.show(snapshot())
    world.show(snapshot(status=SyncStatus.LOOP_BREAKER))
    assert world.icon.notifications == []
    assert world.app.view.icon == IconKey(Look.ERROR)


def test_settings_opens_the_commented_default_file_in_a_text_editor(world: World) -> None:
    world.app.open_settings()
    assert world.opened == [(world.paths.settings_file, True)]
    assert world.paths.settings_file.read_text(encoding="utf-8") == DEFAULT_SETTINGS_TOML


def test_open_log_folder_opens_the_folder(world: World) -> None:
    world.app.open_log_folder()
    assert world.opened == [(world.paths.log_dir, False)]
    assert world.paths.log_dir.is_dir()


def test_when_nothing_can_open_the_file_the_agent_is_told_where_it_is(world: World) -> None:
    world.app.refresh(world.icon)
    world.app._icon = world.icon
    world.open_fails = True
    world.app.open_settings()
    [(title, message)] = world.icon.notifications
    assert title == "Could not open the settings file"
    assert str(world.paths.settings_file) in message


def test_start_at_login_toggles_the_os_setting(world: World) -> None:
    assert not world.app.start_at_login()
    world.app.toggle_start_at_login()
    assert world.autostart.on and world.app.start_at_login()
    world.app.toggle_start_at_login()
    assert not world.autostart.on


def test_quit_stops_the_icon(world: World) -> None:
    world.app._icon = world.icon
    world.app.quit()
    assert world.icon.stopped


# --- the engine thread ------------------------------------------------------------------------


class FakeEngine:
    def __init__(self, on_snapshot: Any) -> None:
        self._on_snapshot = on_snapshot
        self.commands: list[Command] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[Command] | None = None
        self.thread: threading.Thread | None = None

    async def run(self) -> None:
        self._loop, self._queue = asyncio.get_running_loop(), asyncio.Queue()
        self.thread = threading.current_thread()
        self._on_snapshot(snapshot())
        while True:
            command = await self._queue.get()
            self.commands.append(command)
            if command.kind is CommandKind.STOP:
                return

    def submit(self, command: Command) -> None:
        if self._loop is not None and self._queue is not None:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, command)


class FakeAgent:
    def __init__(self, on_snapshot: Any) -> None:
        self.engine = FakeEngine(on_snapshot)
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True


def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_engine_runs_on_its_own_thread_takes_commands_and_stops_cleanly() -> None:
    agents: list[FakeAgent] = []
    snapshots: list[Snapshot] = []

    async def factory(on_snapshot: Any, on_transition: Any) -> Any:
        agents.append(FakeAgent(on_snapshot))
        return agents[-1]

    runner = EngineThread(factory, on_snapshot=snapshots.append, on_transition=lambda t: None, on_failure=print)
    runner.start()
    wait_for(lambda: snapshots)
    runner.submit(Command(CommandKind.PAUSE, seconds=900))
    wait_for(lambda: agents[0].engine.commands)
    assert runner.stop(timeout=5)
    agent = agents[0]
    assert [c.kind for c in agent.engine.commands] == [CommandKind.PAUSE, CommandKind.STOP]
    assert agent.closed
    assert agent.engine.thread is not threading.current_thread()
    assert not runner.alive


def test_quitting_while_still_signing_in_cancels_the_start() -> None:
    started, cancelled = threading.Event(), threading.Event()

    async def slow_factory(on_snapshot: Any, on_transition: Any) -> Any:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    runner = EngineThread(slow_factory, on_snapshot=lambda s: None, on_transition=lambda t: None, on_failure=print)
    runner.start()
    assert started.wait(5)
    assert runner.stop(timeout=5)
    assert cancelled.is_set()


def test_an_agent_that_cannot_start_is_reported_to_the_tray() -> None:
    failures: list[str] = []

    async def failing_factory(on_snapshot: Any, on_transition: Any) -> Any:
        raise RuntimeError("the tenant's sign-in configuration is unavailable")

    runner = EngineThread(
        failing_factory, on_snapshot=lambda s: None, on_transition=lambda t: None, on_failure=failures.append
    )
    runner.start()
    wait_for(lambda: not runner.alive)
    assert failures == ["The agent stopped: the tenant's sign-in configuration is unavailable"]


def test_a_companion_task_runs_beside_the_engine_and_ends_with_it() -> None:
    seen: list[str] = []

    async def factory(on_snapshot: Any, on_transition: Any) -> Any:
        return FakeAgent(on_snapshot)

    async def companion(agent: Any) -> None:
        seen.append("started")
        try:
            await asyncio.sleep(3600)
        finally:
            seen.append("ended")

    runner = EngineThread(
        factory, on_snapshot=lambda s: None, on_transition=lambda t: None, on_failure=print, companion=companion
    )
    runner.start()
    wait_for(lambda: seen)
    assert runner.stop(timeout=5)
    assert seen == ["started", "ended"]


def test_transitions_reach_the_demo_printer(tmp_path: Path) -> None:
    printed: list[Transition] = []
    app = TrayApp(
        paths=AgentPaths(tmp_path, tmp_path, tmp_path),
        factory=None,
        autostart=FakeAutostart(),
        on_transition=printed.append,
    )
    transition = Transition(NOW, "teams", "Teams is Busy")
    app._on_transition(transition)
    assert printed == [transition]


def test_an_engine_failure_turns_the_tray_to_stopped_with_the_reason(world: World) -> None:
    world.show(snapshot())
    world.app._on_failure("The agent stopped: the keyring is not secure")  # the engine thread's callback
    world.app.refresh(world.icon)
    assert world.app.view.headline == "Stopped"
    assert world.icon.images[-1] is tray_image(IconKey(Look.ERROR))


def test_without_a_desktop_session_the_tray_says_so_instead_of_crashing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "PYSTRAY_BACKEND")}
    env["TRAY_AGENT_HOME"] = str(tmp_path)
    result = subprocess.run(
        [str(Path(sys.executable).with_name("tray-agent"))], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "needs a desktop session with a notification area" in result.stderr
    assert "tray-agent demo --headless" in result.stderr
    assert "Traceback" not in result.stderr


def test_showing_genesys_calls_in_teams_is_saved_in_the_settings_file_with_its_comments(world: World) -> None:
    settings = world.paths.settings_file
    settings.parent.mkdir(parents=True)
    settings.write_text("# my notes\n[agent]\n# keep this\npoll_interval = 90\n", encoding="utf-8")
    submitted: list[Command] = []
    world.app._submit = submitted.append  # type: ignore[method-assign,assignment]
    world.app.toggle_teams_writeback()
    assert settings.read_text(encoding="utf-8") == (
        "# my notes\n[agent]\n# keep this\npoll_interval = 90\nteams_writeback = true\n"
    )
    assert submitted == [Command(CommandKind.SET_WRITEBACK, enabled=True)]
    world.show(snapshot(teams_writeback_enabled=True))
    world.app.toggle_teams_writeback()
    assert "teams_writeback = false" in settings.read_text(encoding="utf-8")
    assert submitted[-1] == Command(CommandKind.SET_WRITEBACK, enabled=False)


def test_a_settings_file_that_is_not_toml_is_left_alone_and_the_agent_is_told(world: World) -> None:
    settings = world.paths.settings_file
    settings.parent.mkdir(parents=True)
    settings.write_text("[agent\npoll_interval = ", encoding="utf-8")
    world.app._icon = world.icon
    world.app.toggle_teams_writeback()
    assert settings.read_text(encoding="utf-8") == "[agent\npoll_interval = "
    [(title, message)] = world.icon.notifications
    assert title == "Show Genesys calls in Teams" and "not valid TOML" in message


def test_when_it_policy_decides_genesys_calls_in_teams_the_toggle_does_nothing(tmp_path: Path) -> None:
    paths = AgentPaths(tmp_path / "config", tmp_path / "state", tmp_path / "logs")
    app = TrayApp(paths=paths, factory=None, now=lambda: NOW, locked=frozenset({"teams_writeback"}))
    app.toggle_teams_writeback()
    assert not paths.settings_file.exists()
