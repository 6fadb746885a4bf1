"""``tray-agent`` with no command: the tray app (pystray owns the main thread, the engine runs beside it)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tray_agent.engine.snapshot import Command
    from tray_agent.window.opener import AgentWindow


def run(args: argparse.Namespace) -> int:
    from tray_agent.commands.diagnostics import build_diagnostics, doctor_checks
    from tray_agent.config.paths import AgentPaths
    from tray_agent.config.settings_file import UserSettingsFile
    from tray_agent.engine.activity import FileActivity
    from tray_agent.tray.launch import run_tray
    from tray_agent.window.opener import AgentWindow

    def window(submit: Callable[[Command], None]) -> AgentWindow:
        """The window starts with the story kept before this start (the engine adds to it from here)."""
        paths = AgentPaths.for_user()
        story = FileActivity(paths.activity_file).load()
        settings = UserSettingsFile(paths.settings_file)

        def bundle() -> str:
            return build_diagnostics(paths=paths, story=agent_window.story(), doctor=doctor_checks())

        agent_window = AgentWindow(submit, story=story, settings=settings, diagnostics=bundle)
        return agent_window

    return run_tray(verbose=args.verbose, at_login=args.at_login, window=window)
