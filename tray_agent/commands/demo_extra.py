"""The demo and the embedded simulator are not part of the agent IT installs: ``tray-agent demo``,
``tray-agent simulator`` and ``tray-agent run --simulator`` check for them first and, when they are
missing, say how to get them."""

from __future__ import annotations

import importlib
import sys
from typing import TextIO

from tray_agent.i18n import N_, _

#: What those commands need and an installed agent lacks (installers leave all three out; aiohttp is
#: not one of the agent's dependencies, only of the ``demo`` extra).
DEMO_MODULES = ("tray_agent.demo", "tray_agent.simulator", "aiohttp")
DEMO_NOT_INSTALLED_EXIT = 4
NOT_INSTALLED = N_(
    "`tray-agent {command}` needs the embedded simulator, which is not installed here: the agent IT "
    "deploys does not carry it. To try the demo, install the agent with its demo extra in a Python "
    "environment of your own: pip install 'tray-agent[demo]'"
)


def demo_installed(command: str, needs: str = "tray_agent.demo.runner", out: TextIO | None = None) -> bool:
    """True if ``needs`` (by default the demo, which imports the simulator and aiohttp) can be imported;
    else print why not (one paragraph) and say False."""
    try:
        importlib.import_module(needs)
    except ModuleNotFoundError as error:
        name = error.name or ""
        if not any(name == module or name.startswith(module + ".") for module in DEMO_MODULES):
            raise
        print(_(NOT_INSTALLED).format(command=command), file=out or sys.stderr, flush=True)
        return False
    return True
