"""The demo tray (``tray-agent demo``): the same tray as ``tray-agent``, with the real agent signed in to
the embedded simulator and, with ``--scenario``, a scripted day played beside it.

It starts like the real tray (:func:`~tray_agent.tray.launch.start_instance`: its own per-user lock and
log file), so a demo and the real agent can run side by side. Its window (Activity…, Settings…) edits
the demo's own settings file, written fresh at each start, so trying the editor in the demo never
changes the agent's real settings.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from typing import TextIO

from tray_agent.agent import Agent
from tray_agent.clock import Clock
from tray_agent.config.layers import default_settings_text, layer_settings
from tray_agent.config.paths import AgentPaths, write_private
from tray_agent.config.policy import Policy, read_policy
from tray_agent.config.settings import Settings
from tray_agent.core.rules import SyncConfig
from tray_agent.demo.runner import (
    build_demo_agent,
    demo_agent_settings,
    demo_clock,
    free_port,
    play,
    report_tally,
    sign_in_demo,
    start_simulator,
)
from tray_agent.demo.scenarios import SCENARIOS
from tray_agent.engine.snapshot import Snapshot, Transition, transition_printer
from tray_agent.simulator import SimulatorThread
from tray_agent.tray.app import TrayApp, WindowFactory
from tray_agent.tray.engine_thread import AgentFactory
from tray_agent.tray.launch import start_instance
from tray_agent.tray.single_instance import ALREADY_RUNNING_EXIT, DEMO_INSTANCE_NAME
from tray_agent.window.opener import AgentWindow


def run_demo_tray(
    *, scenario: str | None, speed: float, port: int = 0, verbose: bool = False, out: TextIO = sys.stdout
) -> int:
    """``tray-agent demo``: the same tray, with the real agent signed in to the embedded simulator."""
    started = start_instance(DEMO_INSTANCE_NAME, verbose, out)
    if started is None:
        return ALREADY_RUNNING_EXIT
    paths, lock = started
    try:
        clock = demo_clock(scenario, speed)
        redirect_port = free_port()
        simulator = start_simulator(clock, redirect_port, port=port)
        try:
            out.write(f"Simulator: {simulator.base_url}   control page: {simulator.control_url}\n")
            out.write(f"CA: {simulator.ca_path}\n")
            out.write("Signing in to Microsoft and Genesys (the simulator approves automatically)…\n")
            out.flush()
            demo_paths, sync = demo_settings_file(paths)
            settings = replace(demo_agent_settings(redirect_port, scenario), sync=sync)

            async def play_scenario(agent: Agent) -> None:
                assert scenario is not None  # noqa: S101 - only passed with a scenario
                tally = await play(SCENARIOS[scenario], simulator, clock, out)
                report_tally(simulator, agent, tally, out)

            app = TrayApp(
                paths=paths,
                factory=_signed_in_agent(simulator, clock, settings, out),
                now=clock.now,
                companion=play_scenario if scenario else None,
                on_transition=transition_printer(out),
                name="tray-agent-demo",
                window=demo_window(demo_paths),
            )
            return app.run()
        finally:
            simulator.stop()
    finally:
        lock.release()


def demo_settings_file(paths: AgentPaths, policy: Callable[[], Policy] = read_policy) -> tuple[AgentPaths, SyncConfig]:
    """The demo's own settings file, written fresh (so trying the editor never changes the real
    settings), and the sync settings in effect from it under this machine's IT policy: the demo's
    engine starts on what its window shows, locked rows included."""
    demo_paths = AgentPaths(paths.state_dir / "demo", paths.state_dir / "demo", paths.log_dir).ensure()
    in_force = policy()
    write_private(demo_paths.settings_file, default_settings_text(in_force))
    return demo_paths, layer_settings(demo_paths.settings_file, in_force).settings.sync


def demo_window(demo_paths: AgentPaths) -> WindowFactory:
    """The agent's window over the demo's settings file (:func:`demo_settings_file`). Diagnostics leave
    doctor out: it checks the real sign-ins, and the demo's are the simulator's, in memory."""
    from tray_agent.commands.tray import agent_window
    from tray_agent.engine.snapshot import Command

    def window(submit: Callable[[Command], None]) -> AgentWindow:
        return agent_window(submit, demo_paths)

    return window


def _signed_in_agent(simulator: SimulatorThread, clock: Clock, settings: Settings, out: TextIO) -> AgentFactory:
    """What the tray calls to get its agent: one signed in to the simulator (approved automatically)."""

    async def factory(on_snapshot: Callable[[Snapshot], None], on_transition: Callable[[Transition], None]) -> Agent:
        agent, browser = build_demo_agent(
            simulator, clock, settings, on_snapshot=on_snapshot, on_transition=on_transition
        )
        try:
            await sign_in_demo(agent, browser)
        except BaseException:
            await agent.aclose()
            raise
        out.write("Signed in. The tray icon follows the agent; quit from its menu (or Ctrl-C).\n")
        out.flush()
        return agent

    return factory
