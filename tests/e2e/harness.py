"""A running world for end-to-end tests: the simulator on its own thread, the real agent on the
test's event loop, an accelerated clock shared by both, real HTTPS and websockets on 127.0.0.1.

Budgets are safety nets, not measurements. At 100×, a tenth of a real second of scheduling delay
(a loaded CI machine, a second suite beside it) is ten simulated seconds, so a condition is given
its budget in simulated seconds *and* at least :data:`PATIENCE` real seconds before a test fails.
How fast the agent is, is measured by the deterministic core tests and by ``python -m tests.bench``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

from tray_agent.agent import Agent, build_agent
from tray_agent.auth.tokens import MemoryTokenStore
from tray_agent.clock import ScaledClock
from tray_agent.config.endpoints import Endpoints
from tray_agent.config.settings import Settings, Timing
from tray_agent.core.rules import SyncConfig, SyncStatus
from tray_agent.demo.approving_browser import ApprovingBrowser
from tray_agent.demo.runner import DAY_START, DEMO_TENANT, demo_settings, free_port, start_simulator
from tray_agent.demo.simulated_workstation import SimulatedWorkstation
from tray_agent.engine.snapshot import Link, Snapshot, Transition
from tray_agent.signals.workstation import AlwaysPresent, Workstation
from tray_agent.simulator import SimulatorThread
from tray_agent.simulator.state import SimulatorState

SPEED = 100.0  # simulated seconds per real second
FAST_TIMING = Timing(poll_interval=10.0, genesys_fallback_poll=10.0, heartbeat_timeout=75.0)
PATIENCE = 30.0  # real seconds: the least any eventual condition is given (see the module docstring)


class Patience:
    """Runs out once ``within`` simulated seconds and :data:`PATIENCE` real seconds have both passed."""

    def __init__(self, clock: ScaledClock, within: float) -> None:
        self._clock = clock
        self._simulated_deadline = clock.now() + within
        self._real_deadline = time.monotonic() + PATIENCE

    def run_out(self) -> bool:
        return self._clock.now() > self._simulated_deadline and time.monotonic() > self._real_deadline


@dataclass
class World:
    simulator: SimulatorThread
    clock: ScaledClock
    agent: Agent
    engine_task: asyncio.Task[None] | None = None

    def act(self, action: Callable[[SimulatorState], Any]) -> Any:
        return self.simulator.call(action, self.simulator.state)

    def teams(self, availability: str, activity: str) -> None:
        self.act(lambda state: state.teams.set(availability, activity))

    def by_hand(self, presence: str) -> None:
        """The agent picks ``presence`` (a system presence or a secondary label) in the Genesys UI."""

        def pick(state: SimulatorState) -> None:
            by_label = {d.label: d.id for d in state.definitions.values() if not d.deactivated}
            state.genesys.set_presence(by_label.get(presence, presence), cause="ui")

        self.act(pick)

    def genesys_shows(self) -> str:
        return str(self.act(lambda state: state.genesys.current_definition().label))

    def api_writes(self) -> int:
        return int(
            self.act(lambda state: sum(e.kind == "presence_changed" and e.cause == "api" for e in state.genesys.events))
        )

    def violations(self) -> list[Any]:
        return list(self.act(lambda state: list(state.genesys.violations)))

    def story(self) -> str:
        return "\n".join(f"  {t.kind:<8} {t.text}" for t in list(self.agent.engine.history)[-25:])

    async def eventually(self, predicate: Callable[[], bool], within: float, what: str) -> None:
        """``predicate`` becomes true within ``within`` simulated seconds (or :data:`PATIENCE`)."""
        patience = Patience(self.clock, within)
        while not predicate():
            if patience.run_out():
                raise AssertionError(f"not within {within:g} simulated s: {what}\nengine story:\n{self.story()}")
            await asyncio.sleep(0.02)

    async def stays(self, predicate: Callable[[], bool], during: float, what: str) -> None:
        """``predicate`` holds for the whole of ``during`` simulated seconds."""
        deadline = self.clock.now() + during
        while self.clock.now() < deadline:
            if not predicate():
                raise AssertionError(f"stopped holding: {what}\nengine story:\n{self.story()}")
            await asyncio.sleep(0.02)

    async def shows(self, label: str, within: float = 120.0) -> None:
        await self.eventually(lambda: self.genesys_shows() == label, within, f"Genesys shows {label}")

    async def took_in_the_choice(self, label: str, within: float = 120.0) -> None:
        """The engine saw ``label`` set by hand and then took in a fresh Teams reading (WAITING while it
        re-reads, then MANUAL). A Teams change before that reading is indistinguishable from one the
        agent reacted to, and is kept as theirs; only one after it is a new Teams state to follow."""

        def knows() -> bool:
            snapshot = self.agent.engine.snapshot
            return snapshot is not None and (snapshot.genesys_label, snapshot.status, snapshot.set_by) == (
                label,
                SyncStatus.MANUAL,
                "you",
            )

        await self.eventually(knows, within, f"the engine took in {label} as the agent's choice")

    async def keeps_showing(self, label: str, during: float = 120.0) -> None:
        await self.stays(lambda: self.genesys_shows() == label, during, f"Genesys keeps showing {label}")


def _settled(agent: Agent) -> bool:
    """Both links up, in sync, and the notifications socket up: until it is, the agent polls Genesys,
    and a test that injects "the next N Genesys failures" would see some land on those polls."""
    snapshot = agent.engine.snapshot
    return (
        snapshot is not None
        and snapshot.microsoft is Link.CONNECTED
        and snapshot.genesys_link is Link.CONNECTED
        and snapshot.status is SyncStatus.SYNCED
        and agent.engine.protocol.genesys_socket_up
    )


@contextlib.asynccontextmanager
async def running_world(
    *,
    speed: float = SPEED,
    timing: Timing = FAST_TIMING,
    sync: SyncConfig | None = None,
    settle: bool = True,
    workstation: Workstation | None = None,
    role: str = "agent",
    genesys_idle_timeout: float | None = None,
    local_signals: bool = False,
    calendar: list[dict[str, Any]] | None = None,
    writeback: bool = False,
    on_snapshot: Callable[[Snapshot], None] | None = None,
    on_transition: Callable[[Transition], None] | None = None,
) -> AsyncIterator[World]:
    """``settle=False``: only wait for Genesys (for worlds in which Teams is deliberately not read).
    ``role``: the agent's Genesys role (simulator.identity.ROLE_PERMISSIONS). ``local_signals``: the
    agent follows the simulator's workstation (lock, microphone, camera) as the demo does, and the
    world is ready once it does. ``calendar``: the agent's meetings (``state.workstation.set_calendar``),
    in place before it starts, with its calendar trigger on (consent is given in the browser).
    ``writeback``: Genesys interactions show in Teams (Presence.ReadWrite consented in the browser).
    ``on_snapshot``/``on_transition``: the engine's callbacks, as the tray gives them (e.g. to the window)."""
    clock = ScaledClock(speed, start=DAY_START)
    redirect_port = free_port()
    simulator = start_simulator(clock, redirect_port)
    simulator.call(setattr, simulator.state.people.default_user, "role", role)
    simulator.call(
        setattr, simulator.state.tokens, "genesys_idle_timeout", genesys_idle_timeout
    )  # the org's, from the start
    agent: Agent | None = None
    engine: asyncio.Task[None] | None = None
    try:
        settings: Settings = replace(demo_settings(redirect_port), timing=timing, teams_writeback=writeback)
        if sync is not None:
            settings = replace(settings, sync=sync)
        if calendar is not None:
            simulator.call(simulator.state.workstation.set_calendar, calendar)
            settings = replace(settings, calendar_triggers=True)
        browser = ApprovingBrowser(simulator.ca_path)
        simulated = SimulatedWorkstation(simulator.base_url, simulator.ca_path) if local_signals else None
        agent = build_agent(
            settings,
            Endpoints.simulator(simulator.base_url, DEMO_TENANT, simulator.ca_path),
            clock=clock,
            store=MemoryTokenStore(),
            browser=browser,
            workstation=workstation or simulated or AlwaysPresent(),
            signals=[simulated] if simulated else (),
            on_snapshot=on_snapshot,
            on_transition=on_transition,
        )
        await agent.microsoft.sign_in(browser, 30)
        await agent.genesys.sign_in(browser, 30)
        engine = asyncio.create_task(agent.engine.run())
        world = World(simulator, clock, agent, engine)
        if settle:
            await world.eventually(lambda: _settled(agent), 120, "the engine is connected to both services and settled")
        else:
            await world.eventually(
                lambda: agent.engine.snapshot is not None and agent.engine.snapshot.genesys_link is Link.CONNECTED,
                120,
                "the engine follows Genesys",
            )
        following = {simulated.name} if simulated is not None else set()
        if calendar is not None:
            following.add("calendar")
        if following:
            await world.eventually(
                lambda: following <= agent.engine.signal_sources, 120, f"the engine follows {sorted(following)}"
            )
        yield world
    finally:
        if agent is not None:
            await agent.shut_down(engine)
        simulator.stop()
