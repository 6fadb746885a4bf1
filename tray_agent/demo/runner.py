"""``tray-agent demo``: the real agent against the embedded simulator.

The simulator runs on its own thread and event loop (as a cloud would run elsewhere); the agent's
engine runs on this one. Sign-in goes through the real OAuth flows with the simulator auto-approving
and :class:`ApprovingBrowser` standing in for the agent's browser.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from tray_agent.agent import Agent, build_agent
from tray_agent.auth.tokens import MemoryTokenStore
from tray_agent.clock import Clock, RealClock, ScaledClock
from tray_agent.config.endpoints import Endpoints
from tray_agent.config.settings import Settings
from tray_agent.core.mapping import PresenceMapping
from tray_agent.core.presence import TeamsPresence
from tray_agent.demo.approving_browser import ApprovingBrowser
from tray_agent.demo.scenarios import SCENARIOS, Step
from tray_agent.demo.simulated_workstation import SimulatedWorkstation
from tray_agent.engine.snapshot import Snapshot, Transition, transition_printer
from tray_agent.simulator import SimulatorThread
from tray_agent.simulator.state import SimulatorState
from tray_agent.simulator.teams_presence import SessionCall

DEMO_TENANT = "11111111-2222-3333-4444-555555555555"
DEMO_MICROSOFT_CLIENT = "0d5e5a4c-8f2b-4c1e-9a7d-3b6f8e2c1a90"
DEMO_GENESYS_CLIENT = "6f1c2b3a-4d5e-4f60-8a9b-0c1d2e3f4a5b"
DAY_START = datetime(2026, 11, 25, 8, 0, tzinfo=UTC).timestamp()
SETTLE = 8 * 60.0  # how long (simulated) the last step gets before its expectation is checked


# Below Linux's ephemeral range (32768-60999): a port the kernel hands out for bind(0) or an outgoing
# connection is never chosen here, so another process on the machine (a second test run beside this
# one) cannot take the redirect port between this probe and the agent's listener binding it.
_PORTS = range(20000, 32000)


def free_port() -> int:
    """A loopback port nothing holds now, for the simulator's registered Genesys redirect port."""
    for _ in range(200):
        port = random.choice(_PORTS)  # noqa: S311 - not a secret
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port between 20000 and 32000")


def demo_settings(redirect_port: int) -> Settings:
    return Settings(
        tenant_id=DEMO_TENANT,
        microsoft_client_id=DEMO_MICROSOFT_CLIENT,
        genesys_client_id=DEMO_GENESYS_CLIENT,
        genesys_redirect_port=redirect_port,
    )


def demo_simulator(clock: Clock, redirect_port: int, *, port: int = 0, **options: Any) -> SimulatorThread:
    """The simulator with the demo's tenant, clients and redirect, sign-ins auto-approved (not started)."""
    return SimulatorThread(
        clock=clock,
        port=port,
        auto_approve=True,
        tenant_id=DEMO_TENANT,
        ms_client_id=DEMO_MICROSOFT_CLIENT,
        genesys_client_id=DEMO_GENESYS_CLIENT,
        genesys_redirect_uris=(f"http://localhost:{redirect_port}/callback",),
        **options,
    )


def start_simulator(clock: Clock, redirect_port: int, *, port: int = 0) -> SimulatorThread:
    simulator = demo_simulator(clock, redirect_port, port=port)
    simulator.start()
    return simulator


@dataclass
class Tally:
    checks: int = 0
    met: int = 0
    faults: int = 0
    misses: list[str] = field(default_factory=list)
    teams_changes: list[float] = field(default_factory=list)  # when what Teams asks for changed
    teams_checks: int = 0  # Genesys → Teams: steps that say whether Teams shows our session
    teams_met: int = 0


async def _sleep_until(clock: Clock, when: float) -> None:
    await clock.sleep(when - clock.now())


def _at(hhmm: str) -> float:
    hours, minutes = hhmm.split(":")
    return DAY_START - 8 * 3600 + int(hours) * 3600 + int(minutes) * 60


async def play(steps: tuple[Step, ...], simulator: SimulatorThread, clock: Clock, out: TextIO) -> Tally:
    tally = Tally()
    mapping = PresenceMapping.build()

    def teams_signal(state: SimulatorState) -> str:
        teams = state.teams.presence()
        return mapping.signal_for(TeamsPresence(teams.availability, teams.activity))

    signal = simulator.call(teams_signal, simulator.state)
    for index, step in enumerate(steps):
        await _sleep_until(clock, _at(step.at))
        out.write(f"\n── {step.at}  {step.story}\n")
        simulator.call(step.act, simulator.state)
        tally.faults += step.fault
        new_signal = simulator.call(teams_signal, simulator.state)
        if new_signal != signal:
            tally.teams_changes.append(clock.now())
            signal = new_signal
        deadline = _at(steps[index + 1].at) - 30 if index + 1 < len(steps) else _at(step.at) + SETTLE
        await _sleep_until(clock, deadline)
        shown = simulator.call(lambda state: state.genesys.current_definition().label, simulator.state)
        tally.checks += 1
        if shown == step.expect:
            tally.met += 1
            out.write(f"   ✓ Genesys shows {shown}\n")
        else:
            tally.misses.append(f"{step.at} {step.story}: expected {step.expect}, Genesys shows {shown}")
            out.write(f"   ✗ expected {step.expect}, Genesys shows {shown}\n")
        if step.teams_session is not None:
            _check_teams_session(step, simulator, tally, out)
        out.flush()
    return tally


def _check_teams_session(step: Step, simulator: SimulatorThread, tally: Tally, out: TextIO) -> None:
    """Genesys → Teams: whether Teams shows the agent's own session now, as the step expects."""
    sessions = simulator.call(lambda state: state.teams.sessions(), simulator.state)
    live = bool(sessions)
    shown = "Teams shows " + (
        f"{sessions[0].availability} / {sessions[0].activity} set by sync" if live else "no status set by sync"
    )
    tally.teams_checks += 1
    if live == step.teams_session:
        tally.teams_met += 1
        out.write(f"   ✓ {shown}\n")
    else:
        wanted = "a status set by sync" if step.teams_session else "no status set by sync"
        tally.misses.append(f"{step.at} {step.story}: expected {wanted}; {shown}")
        out.write(f"   ✗ expected {wanted}; {shown}\n")


def teams_signal_changes(simulator: SimulatorThread) -> list[float]:
    """When what Teams asks for changed, from the simulator's own record of the Teams client: the
    changes made by hand and those Teams made itself (Away after a lock, a calendar meeting)."""
    mapping = PresenceMapping.build()

    def collect(state: SimulatorState) -> list[float]:
        times, signal = [], None
        for change in state.teams.changes():
            new = mapping.signal_for(TeamsPresence(change.availability, change.activity))
            if new != signal:
                times.append(change.at)
                signal = new
        return times

    return list(simulator.call(collect, simulator.state))


def invariant_violations(simulator: SimulatorThread, teams_changes: list[float]) -> list[str]:
    """Rules checked on the simulator's own record of who changed what.

    - the app never took the agent off queue (the simulator records it if a PATCH did);
    - every write changed something;
    - no write overwrote a status the agent chose by hand unless Teams asked for something new since;
    - Genesys → Teams: every set of our Teams session came while a Genesys interaction was active (or
      within a moment after it ended), and none is left at the end of the day.
    """

    def collect(state: SimulatorState) -> list[str]:
        problems = [f"agent app took the agent off queue at {e.at:.0f}" for e in state.genesys.violations]
        problems += teams_session_problems(state)
        last_manual = -1.0
        current = None
        for event in state.genesys.events:
            if event.kind != "presence_changed":
                continue
            new = event.detail.get("new_definition_id")  # ids: Busy → "Teams call" (also Busy) is a change
            if event.cause == "api":
                if new == current:
                    problems.append(f"a write at {event.at:.0f} did not change anything")
                if last_manual >= 0 and not any(last_manual < t <= event.at for t in teams_changes):
                    problems.append(f"a write at {event.at:.0f} overwrote a status the agent set by hand")
            elif event.cause == "ui":
                last_manual = event.at
            current = new
        return problems

    return list(simulator.call(collect, simulator.state))


def teams_session_problems(state: SimulatorState) -> list[str]:
    """Our Teams session is set only while a Genesys interaction lasts, and none is left at the end.

    A renewal sent as the interaction ends lands just after it, however fast the network: that one is
    fine when it renews a session that was showing at the end and our next call clears it. Decided by
    order, not by a time margin (a margin would time this machine's scheduler at the demo's speed)."""
    spans: list[tuple[float, float]] = []
    started: dict[str, float] = {}
    for event in state.genesys.events:
        conversation = event.detail.get("id")
        if event.kind == "interaction_connected" and isinstance(conversation, str):
            started[conversation] = event.at
        elif event.kind == "interaction_ended" and isinstance(conversation, str) and conversation in started:
            spans.append((started.pop(conversation), event.at))
    spans += [(at, float("inf")) for at in started.values()]
    calls = [call for call in state.teams.session_calls() if call.call in ("setPresence", "clearPresence")]
    problems = [
        f"Teams was set to {call.availability}/{call.activity} at {call.at:.0f} with no Genesys interaction"
        for index, call in enumerate(calls)
        if call.call == "setPresence"
        and not any(a <= call.at <= b for a, b in spans)
        and not _renewal_overtaken_by_the_end(calls, index, spans)
    ]
    if not started and state.teams.sessions():
        problems.append("a Teams status set by sync is still showing at the end of the day")
    return problems


def _renewal_overtaken_by_the_end(calls: list[SessionCall], index: int, spans: list[tuple[float, float]]) -> bool:
    if index == 0 or index + 1 >= len(calls):
        return False
    before, renewal, after = calls[index - 1], calls[index], calls[index + 1]
    same = before.call == "setPresence" and (before.availability, before.activity) == (
        renewal.availability,
        renewal.activity,
    )
    showing_at_the_end = any(a <= before.at <= b < renewal.at for a, b in spans)
    return same and showing_at_the_end and after.call == "clearPresence"


def demo_clock(scenario: str | None, speed: float) -> Clock:
    """Simulated time from 08:00 when a scenario plays or the speed is not 1; else wall time."""
    return ScaledClock(speed, start=DAY_START) if (scenario or speed != 1) else RealClock()


def demo_agent_settings(redirect_port: int, scenario: str | None) -> Settings:
    """The demo shows both directions: Genesys interactions show in Teams (``teams_writeback``)."""
    return dataclasses.replace(demo_settings(redirect_port), teams_writeback=True)


def build_demo_agent(
    simulator: SimulatorThread,
    clock: Clock,
    settings: Settings,
    *,
    on_snapshot: Callable[[Snapshot], None] | None = None,
    on_transition: Callable[[Transition], None] | None = None,
    local_signals: bool = True,
) -> tuple[Agent, ApprovingBrowser]:
    """The real agent wired to the simulator (call on the loop that will run the engine); its lock
    and device signals come from the simulator's workstation, not this machine's (``local_signals``
    False: none, the timer alone, as the bench's "triggers off" row)."""
    endpoints = Endpoints.simulator(simulator.base_url, DEMO_TENANT, simulator.ca_path)
    browser = ApprovingBrowser(simulator.ca_path)
    workstation = SimulatedWorkstation(simulator.base_url, simulator.ca_path)
    agent = build_agent(
        settings,
        endpoints,
        clock=clock,
        store=MemoryTokenStore(),
        browser=browser,
        on_snapshot=on_snapshot,
        on_transition=on_transition,
        workstation=workstation,
        signals=[workstation] if local_signals else (),
    )
    return agent, browser


async def sign_in_demo(agent: Agent, browser: ApprovingBrowser) -> None:
    """Both real sign-in flows, approved by the simulator."""
    await agent.microsoft.sign_in(browser, 30)
    await agent.genesys.sign_in(browser, 30)


def report_tally(simulator: SimulatorThread, agent: Agent, tally: Tally, out: TextIO) -> int:
    """Print the scenario's tally; 0 when every expected state was reached and no rule was broken."""
    violations = invariant_violations(simulator, sorted({*tally.teams_changes, *teams_signal_changes(simulator)}))
    snapshot = agent.engine.snapshot
    writes = snapshot.writes if snapshot else 0
    counters = simulator.call(lambda state: state.counters, simulator.state)
    out.write(
        f"\nTally: {tally.met}/{tally.checks} expected Genesys states reached, "
        f"{tally.teams_met}/{tally.teams_checks} expected Teams states reached, {writes} writes, "
        f"{tally.faults} faults injected, {counters.graph_presence_requests} Graph reads, "
        f"{counters.graph_presence_writes} Graph presence writes, {counters.graph_throttled} throttled, "
        f"{len(violations)} invariant violations\n"
    )
    for line in [*tally.misses, *violations]:
        out.write(f"  ✗ {line}\n")
    out.flush()
    return 0 if not tally.misses and not violations else 1


async def run_demo(
    *, scenario: str | None, speed: float, out: TextIO = sys.stdout, port: int = 0, local_signals: bool = True
) -> int:
    clock = demo_clock(scenario, speed)
    redirect_port = free_port()
    simulator = start_simulator(clock, redirect_port, port=port)
    try:
        settings = demo_agent_settings(redirect_port, scenario)
        agent, browser = build_demo_agent(
            simulator, clock, settings, on_transition=transition_printer(out), local_signals=local_signals
        )
        out.write(f"Simulator: {simulator.base_url}   control page: {simulator.control_url}\n")
        out.write(f"Simulator CA: {simulator.ca_path}\n")
        out.write("Signing in to Microsoft and Genesys (the simulator approves automatically)…\n")
        await sign_in_demo(agent, browser)
        engine = asyncio.create_task(agent.engine.run())
        try:
            if scenario is None:
                out.write("Running. Change Teams or Genesys on the control page; Ctrl-C to stop.\n")
                out.flush()
                await engine
                return 0
            tally = await play(SCENARIOS[scenario], simulator, clock, out)
        finally:
            await agent.shut_down(engine)
        return report_tally(simulator, agent, tally, out)
    finally:
        simulator.stop()
