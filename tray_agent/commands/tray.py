"""``tray-agent`` with no command: the tray app (pystray owns the main thread, the engine runs beside it)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tray_agent.commands.diagnostics import DoctorChecks
    from tray_agent.config.paths import AgentPaths
    from tray_agent.engine.snapshot import Command, Transition
    from tray_agent.window.opener import AgentWindow


def run(args: argparse.Namespace) -> int:
    from tray_agent.commands.diagnostics import doctor_checks
    from tray_agent.config.paths import AgentPaths
    from tray_agent.engine.activity import FileActivity
    from tray_agent.tray.launch import run_tray

    def window(submit: Callable[[Command], None]) -> AgentWindow:
        """The window starts with the story kept before this start (the engine adds to it from here)."""
        paths = AgentPaths.for_user()
        story = FileActivity(paths.activity_file).load()
        return agent_window(submit, paths, story=story, doctor=doctor_checks())

    return run_tray(verbose=args.verbose, at_login=args.at_login, window=window)


def agent_window(
    submit: Callable[[Command], None],
    paths: AgentPaths,
    *,
    story: Iterable[Transition] = (),
    doctor: DoctorChecks | None = None,
) -> AgentWindow:
    """The agent's window over ``paths.settings_file``, its Help's bundle built from ``paths``, the
    window's own story and ``doctor`` (None: left out)."""
    from tray_agent.commands.diagnostics import build_diagnostics
    from tray_agent.config.settings_file import UserSettingsFile
    from tray_agent.window.opener import AgentWindow

    def bundle() -> str:
        return build_diagnostics(paths=paths, story=window.story(), doctor=doctor)

    window = AgentWindow(submit, story=story, settings=UserSettingsFile(paths.settings_file), diagnostics=bundle)
    return window
