"""Command line: ``tray-agent demo``, ``tray-agent simulator``, ``tray-agent --version``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time

from tray_agent import __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tray-agent", description="Mirror your Microsoft Teams presence into Genesys Cloud."
    )
    parser.add_argument("--version", action="version", version=f"tray-agent {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log engine details to stderr")
    commands = parser.add_subparsers(dest="command")

    demo = commands.add_parser("demo", help="run the agent against the embedded simulator")
    demo.add_argument("--headless", action="store_true", help="no tray icon: print transitions only")
    demo.add_argument("--scenario", choices=["day"], help="play a scripted contact-centre day, then exit")
    demo.add_argument("--speed", type=float, default=None, help="simulated seconds per real second")
    demo.add_argument("--port", type=int, default=0, help="simulator port (default: any free port)")

    simulator = commands.add_parser("simulator", help="run only the simulator (with its control page)")
    simulator.add_argument("--port", type=int, default=0)
    simulator.add_argument("--auto-approve", action="store_true", help="approve sign-ins without a page")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.command == "demo":
        from tray_agent.demo.runner import run_demo

        speed = args.speed if args.speed is not None else (120.0 if args.scenario else 1.0)
        if speed <= 0:
            print("--speed must be positive", file=sys.stderr)
            return 2
        try:
            return asyncio.run(run_demo(scenario=args.scenario, speed=speed, port=args.port))
        except KeyboardInterrupt:
            return 0
    if args.command == "simulator":
        return _run_simulator(args.port, args.auto_approve)
    print(
        "The tray app is not part of this build yet. Try:  tray-agent demo --headless --scenario day",
        file=sys.stderr,
    )
    return 2


def _run_simulator(port: int, auto_approve: bool) -> int:
    from tray_agent.simulator import SimulatorThread

    simulator = SimulatorThread(port=port, auto_approve=auto_approve)
    simulator.start()
    print(f"Simulator on {simulator.base_url}\nControl page: {simulator.control_url}\nCA: {simulator.ca_path}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        simulator.stop()
