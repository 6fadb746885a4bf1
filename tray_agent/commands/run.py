"""``tray-agent run``: the agent without the tray, printing what it does.

With ``--simulator URL --ca CA.pem`` it runs against a simulator started on its own
(``tray-agent simulator``), follows the simulator's clock and keeps its sync memory in the user's
state folder — so a tester can kill it and start it again while the simulator keeps its state.
Without, it uses the user's settings and the cloud services, like the tray.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, TextIO
from urllib.parse import urlparse

from tray_agent.commands.demo_extra import DEMO_NOT_INSTALLED_EXIT, demo_installed
from tray_agent.i18n import _

ALREADY_RUNNING_EXIT = 3


def register(commands: Any) -> None:
    run = commands.add_parser("run", help=_("run the agent without the tray, printing what it does"))
    run.add_argument("--simulator", metavar="URL", help=_("a simulator started with `tray-agent simulator`"))
    run.add_argument("--ca", metavar="CA.pem", help=_("the simulator's CA (added to the trusted set)"))
    run.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    if bool(args.simulator) != bool(args.ca):
        print(_("--simulator and --ca go together"), file=sys.stderr)
        return 2
    if args.simulator and not demo_installed("run --simulator", needs="tray_agent.demo.approving_browser"):
        return DEMO_NOT_INSTALLED_EXIT
    from tray_agent import logs
    from tray_agent.commands.stopping import stop_on_sigterm
    from tray_agent.config.paths import AgentPaths
    from tray_agent.tray.single_instance import INSTANCE_NAME, acquire

    stop_on_sigterm()
    paths = AgentPaths.for_user().ensure()
    logs.configure(paths.log_file, verbose=args.verbose, console=True)
    lock = acquire(INSTANCE_NAME, paths.state_dir)
    if lock is None:
        print(_("the agent is already running for you"), file=sys.stderr)
        return ALREADY_RUNNING_EXIT
    try:
        runner = on_simulator(args.simulator, args.ca, paths) if args.simulator else on_cloud(paths)
        return asyncio.run(runner)
    except KeyboardInterrupt:
        return 0
    finally:
        lock.release()


async def on_simulator(base_url: str, ca_file: str, paths: Any, out: TextIO = sys.stdout) -> int:
    import httpx

    from tray_agent.agent import build_agent
    from tray_agent.auth.tokens import MemoryTokenStore
    from tray_agent.clients.http import tls_context
    from tray_agent.clock import RealClock, ScaledClock
    from tray_agent.config.endpoints import Endpoints
    from tray_agent.config.settings import Settings
    from tray_agent.demo.approving_browser import ApprovingBrowser
    from tray_agent.demo.simulated_workstation import SimulatedWorkstation
    from tray_agent.engine.memory_store import FileMemory
    from tray_agent.engine.snapshot import transition_printer

    async with httpx.AsyncClient(verify=tls_context(ca_file), timeout=15) as http:
        setup = (await http.get(f"{base_url.rstrip('/')}/control/api/setup")).raise_for_status().json()
    speed = float(setup["speed"])
    clock = ScaledClock(speed, start=float(setup["now"])) if speed != 1 else RealClock()
    redirect_port = urlparse(setup["genesysRedirectUris"][0]).port or 8765
    settings = Settings(
        tenant_id=setup["tenantId"],
        microsoft_client_id=setup["msClientId"],
        genesys_client_id=setup["genesysClientId"],
        genesys_redirect_port=redirect_port,
    )
    browser = ApprovingBrowser(ca_file)
    workstation = SimulatedWorkstation(base_url, ca_file)  # the simulator's lock and devices, not this machine's
    agent = build_agent(
        settings,
        Endpoints.simulator(base_url.rstrip("/"), setup["tenantId"], ca_file),
        clock=clock,
        store=MemoryTokenStore(),
        browser=browser,
        on_transition=transition_printer(out),
        memory=FileMemory(paths.state_dir / "sync-memory.json"),
        workstation=workstation,
        signals=[workstation],
    )
    out.write(_("Agent on {url} (clock ×{speed}); Ctrl-C or SIGTERM to stop.").format(url=base_url, speed=f"{speed:g}"))
    out.write("\n")
    out.flush()
    await agent.microsoft.sign_in(browser, 30)
    await agent.genesys.sign_in(browser, 30)
    return await _run(agent)


async def on_cloud(paths: Any, out: TextIO = sys.stdout) -> int:
    from tray_agent.agent import build_cloud_agent
    from tray_agent.auth.keyrings import KeyringRefused
    from tray_agent.config.layers import load_effective_settings
    from tray_agent.config.settings import SettingsError
    from tray_agent.engine.snapshot import transition_printer

    settings = load_effective_settings(paths).settings
    try:
        agent = build_cloud_agent(settings, paths=paths, on_transition=transition_printer(out))
    except (SettingsError, KeyringRefused) as error:
        print(_("cannot start: {error}").format(error=error), file=sys.stderr)
        return 2
    return await _run(agent)


async def _run(agent: Any) -> int:
    engine = asyncio.create_task(agent.engine.run())
    try:
        await engine
    finally:
        await agent.shut_down(engine)
    return 0
