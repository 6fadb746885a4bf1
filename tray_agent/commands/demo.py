"""``tray-agent demo``: the real agent against the embedded simulator, in the tray or headless."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from tray_agent.commands.demo_extra import DEMO_NOT_INSTALLED_EXIT, demo_installed
from tray_agent.i18n import _


def register(commands: Any) -> None:
    demo = commands.add_parser("demo", help=_("run the agent against the embedded simulator"))
    demo.add_argument("--headless", action="store_true", help=_("no tray icon: print transitions only"))
    demo.add_argument("--scenario", choices=["day"], help=_("play a scripted contact-centre day"))
    demo.add_argument("--speed", type=float, default=None, help=_("simulated seconds per real second"))
    demo.add_argument("--port", type=int, default=0, help=_("simulator port (default: any free port)"))
    demo.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    speed = args.speed if args.speed is not None else (120.0 if args.scenario else 1.0)
    if speed <= 0:
        print(_("--speed must be positive"), file=sys.stderr)
        return 2
    if not demo_installed("demo"):
        return DEMO_NOT_INSTALLED_EXIT
    if not args.headless:
        from tray_agent.demo.demo_tray import run_demo_tray

        return run_demo_tray(scenario=args.scenario, speed=speed, port=args.port, verbose=args.verbose)

    from tray_agent.commands.stopping import stop_on_sigterm
    from tray_agent.demo.runner import run_demo

    stop_on_sigterm()
    try:
        return asyncio.run(run_demo(scenario=args.scenario, speed=speed, port=args.port))
    except KeyboardInterrupt:
        return 0
