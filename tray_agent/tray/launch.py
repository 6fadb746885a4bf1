"""Starting the tray (``tray-agent``): the agent with the user's settings and the cloud services.

:func:`start_instance` takes the per-user lock first (a second start exits with a message) and logs to
the rotating file in the user's log folder; :func:`run_tray` then makes sure the commented default
settings file exists and hands the main thread to :class:`~tray_agent.tray.app.TrayApp`. The demo tray
(``tray-agent demo``, on the embedded simulator) starts the same way from :mod:`tray_agent.demo.demo_tray`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TextIO

from tray_agent import logs
from tray_agent.agent import Agent
from tray_agent.config.layers import load_effective_settings
from tray_agent.config.paths import AgentPaths
from tray_agent.config.settings import Settings
from tray_agent.engine.snapshot import Snapshot, Transition
from tray_agent.tray.app import TrayApp, WindowFactory, block_quit_signals
from tray_agent.tray.autostart import for_this_desktop, may_start_at_login
from tray_agent.tray.single_instance import (
    ALREADY_RUNNING_EXIT,
    INSTANCE_NAME,
    InstanceLock,
    acquire,
)

log = logging.getLogger(__name__)

ALREADY_RUNNING = (
    "Teams → Genesys presence is already running for you: look for its icon in the notification area "
    "(it may be in the overflow)."
)


def missing_settings(settings: Settings) -> list[str]:
    wanted = {
        "tenant_id": settings.tenant_id,
        "microsoft_client_id": settings.microsoft_client_id,
        "genesys_client_id": settings.genesys_client_id,
    }
    return [name for name, value in wanted.items() if not value]


def setup_problem_for(settings: Settings, file_problem: str | None) -> str | None:
    """What stops the agent from starting: only settings it cannot do without. A damaged settings file
    does not (the last good copy or the defaults are in effect); it is shown as a notice instead."""
    missing = missing_settings(settings)
    if not missing:
        return None
    return f"Settings needed from IT: {', '.join(missing)} (menu: Settings…)" + (
        f". {file_problem}" if file_problem else ""
    )


def start_instance(name: str, verbose: bool, out: TextIO) -> tuple[AgentPaths, InstanceLock] | None:
    """Claim the per-user instance ``name`` and log to its file; None (after saying so) if it already runs."""
    block_quit_signals()
    paths = AgentPaths.for_user().ensure()
    logs.configure(paths.log_file, verbose=verbose, console=sys.stderr is not None)
    lock = acquire(name, paths.state_dir)
    if lock is None:
        out.write(ALREADY_RUNNING + "\n")
        out.flush()
        return None
    return paths, lock


def run_tray(
    *, verbose: bool = False, at_login: bool = False, out: TextIO = sys.stderr, window: WindowFactory | None = None
) -> int:
    """``tray-agent``: the agent with the user's settings, the cloud services and the system browser.
    ``at_login``: started by a start-at-login entry (maybe IT's, for every user): exit quietly unless
    policy or this user's own choice says to start."""
    started = start_instance(INSTANCE_NAME, verbose, out)
    if started is None:
        return ALREADY_RUNNING_EXIT
    paths, lock = started
    try:
        layered = load_effective_settings(paths)  # defaults < the agent's file < IT policy
        settings, problem = layered.settings, layered.file_problem
        if at_login and not may_start_at_login(settings.start_at_login, for_this_desktop()):
            log.info("started at sign-in, but start at login is off (by IT policy or your choice): not starting")
            return 0
        setup_problem = setup_problem_for(settings, problem)

        async def factory(
            on_snapshot: Callable[[Snapshot], None], on_transition: Callable[[Transition], None]
        ) -> Agent:
            from tray_agent.agent import build_cloud_agent

            return build_cloud_agent(settings, paths=paths, on_snapshot=on_snapshot, on_transition=on_transition)

        app = TrayApp(
            paths=paths,
            factory=None if setup_problem else factory,
            setup_problem=setup_problem,
            locked=layered.locked,
            policy_problems=layered.policy.problems,
            settings_problems=(problem,) if problem else (),
            allow_device_code=settings.allow_device_code,
            window=window,
        )
        return app.run()
    finally:
        lock.release()
