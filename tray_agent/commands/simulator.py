"""``tray-agent simulator``: only the simulator, with its control page (for manual testing)."""

from __future__ import annotations

import argparse
import time
from typing import Any


def register(commands: Any) -> None:
    simulator = commands.add_parser("simulator", help="run only the simulator (with its control page)")
    simulator.add_argument("--port", type=int, default=0)
    simulator.add_argument("--auto-approve", action="store_true", help="approve sign-ins without a page")
    simulator.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tray_agent.simulator import SimulatorThread

    simulator = SimulatorThread(port=args.port, auto_approve=args.auto_approve)
    simulator.start()
    print(f"Simulator on {simulator.base_url}\nControl page: {simulator.control_url}\nCA: {simulator.ca_path}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        simulator.stop()
