"""The command line's half of :mod:`tray_agent.auth.session`: the hidden options that point the
sign-in, sign-out and doctor commands at the embedded simulator instead of the cloud.

``--simulator https://127.0.0.1:PORT --ca /path/to/ca.pem`` (see docs/tray.md). The CA is *added* to
the trust store; verification stays on.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from tray_agent.i18n import _

if TYPE_CHECKING:  # imported when used: building the parser stays quick
    from tray_agent.auth.session import Target
    from tray_agent.config.endpoints import Endpoints


def add_target_options(parser: argparse.ArgumentParser) -> None:
    """``--simulator URL`` and ``--ca FILE``: talk to the embedded simulator instead of the cloud."""
    parser.add_argument("--simulator", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--ca", metavar="FILE", help=argparse.SUPPRESS)


def endpoints_for(target: Target, args: argparse.Namespace) -> Endpoints:
    """The cloud's endpoints for ``target``'s settings, or the simulator's; raises SettingsError saying why."""
    from tray_agent.config.endpoints import Endpoints
    from tray_agent.config.settings import SettingsError

    simulator: str | None = getattr(args, "simulator", None)
    ca: str | None = getattr(args, "ca", None)
    if ca and not simulator:
        raise SettingsError(_("--ca is only for --simulator (the cloud uses the system's trusted CAs)"))
    if simulator:
        if not simulator.startswith("https://"):
            raise SettingsError(_("--simulator must be the simulator's https:// address"))
        if not ca or not Path(ca).is_file():
            raise SettingsError(_("--simulator needs --ca with the simulator's CA file"))
        return Endpoints.simulator(simulator.rstrip("/"), target.settings.tenant_id, ca)
    return target.endpoints()
