"""``tray-agent`` with no command: the tray app (pystray owns the main thread, the engine runs beside it)."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from tray_agent.tray.launch import run_tray
    from tray_agent.window.opener import AgentWindow

    return run_tray(verbose=args.verbose, at_login=args.at_login, window=AgentWindow)
