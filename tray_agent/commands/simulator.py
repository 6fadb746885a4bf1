"""``tray-agent simulator``: only the simulator, with its control page, for manual testing.

It plays the demo's tenant and clients, with sign-ins approved automatically, so that
``tray-agent run --simulator URL --ca CA.pem`` can be started, killed and started again against it
while it keeps its state. ``--speed`` runs its clock faster (the agent follows it).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from tray_agent.commands.demo_extra import DEMO_NOT_INSTALLED_EXIT, demo_installed
from tray_agent.commands.stopping import stop_on_sigterm
from tray_agent.i18n import _


def register(commands: Any) -> None:
    simulator = commands.add_parser("simulator", help=_("run only the simulator (with its control page)"))
    simulator.add_argument("--port", type=int, default=0)
    simulator.add_argument("--speed", type=float, default=1.0, help=_("simulated seconds per real second"))
    simulator.add_argument(
        "--redirect-port", type=int, default=8765, help=_("the Genesys sign-in redirect port agents will use")
    )
    simulator.add_argument(
        "--teams-away-after-lock",
        type=float,
        default=10.0,
        help=_("simulated seconds after a workstation lock until Teams shows Away (default 10)"),
    )
    simulator.add_argument(
        "--graph-propagation-delay",
        type=float,
        default=3.0,
        help=_("simulated seconds Graph's GET /me/presence lags the Teams client (default 3)"),
    )
    simulator.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.speed <= 0:
        print(_("--speed must be positive"), file=sys.stderr)
        return 2
    if not (0 <= args.teams_away_after_lock < float("inf") and 0 <= args.graph_propagation_delay < float("inf")):
        print(_("--teams-away-after-lock and --graph-propagation-delay must be seconds >= 0"), file=sys.stderr)
        return 2
    if not demo_installed("simulator"):
        return DEMO_NOT_INSTALLED_EXIT
    from tray_agent.clock import RealClock, ScaledClock
    from tray_agent.demo.runner import DAY_START, demo_simulator

    stop_on_sigterm()
    clock = ScaledClock(args.speed, start=DAY_START) if args.speed != 1 else RealClock()
    simulator = demo_simulator(
        clock,
        args.redirect_port,
        port=args.port,
        teams_away_after_lock=args.teams_away_after_lock,
        graph_propagation_delay=args.graph_propagation_delay,
    )
    simulator.start()
    try:
        print(
            _(
                "Simulator on {url}\nControl page: {control}\nCA: {ca}\n"
                "Agent: tray-agent run --simulator {url} --ca {ca}"
            ).format(url=simulator.base_url, control=simulator.control_url, ca=simulator.ca_path),
            flush=True,
        )
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        simulator.stop()
