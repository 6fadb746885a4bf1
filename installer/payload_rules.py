"""What the installers leave out of the agent they ship: the embedded simulator and the demo.

They are developer tools (``tray-agent demo``, ``tray-agent simulator``, the tests) that IT never needs
on a desktop; an installed agent's ``tray-agent demo`` says how to get them instead
(``pip install 'tray-agent[demo]'``). Used by the PyInstaller specs (Windows, macOS) and by
``linux/build_deb.py``; standard library only.

aiohttp is left out too: it is the simulator's web server, and nothing else needs it (the agent's own
sign-in redirect listener, ``tray_agent/auth/loopback.py``, is standard library). It is not one of the
agent's dependencies, only of its ``demo`` extra; ``tests/installer/test_payloads.py`` checks that no
shipped module imports it.
"""

from __future__ import annotations

#: Packages of tray_agent that no installer ships (with everything under them).
DEMO_ONLY_PACKAGES = ("tray_agent.simulator", "tray_agent.demo")
#: Other packages that only they need (the ``demo`` extra), left out of every payload too.
DEMO_ONLY_DEPENDENCIES = ("aiohttp",)


def ships(module: str) -> bool:
    """False for the demo-only packages and dependencies, and their modules (a filter for ``collect_submodules``)."""
    return not any(
        module == package or module.startswith(package + ".")
        for package in (*DEMO_ONLY_PACKAGES, *DEMO_ONLY_DEPENDENCIES)
    )
