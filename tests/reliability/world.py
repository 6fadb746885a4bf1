"""A running world for fault tests: the harness's world, plus what fault tests need on top of it.

- a seeded engine (its jitter comes from ``random.Random(seed)``), so a soak seed replays the same day;
- a clock that can jump forward (sleep and resume), shared by the agent and the simulator;
- every Teams change and every engine transition recorded, for the invariant checker;
- the simulator restarted on the same port with a different state (:meth:`FaultWorld.restart`): same
  CA and server key (the agent keeps trusting it), the same issued tokens (the cloud's sign-ins
  outlive one server), but a fresh world model;
- what each simulator saw (its events and request log) kept across restarts, for the checker.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from unittest import mock

from tests.e2e.harness import FAST_TIMING, Patience, World
from tests.reliability import report
from tests.reliability.invariants import Checked, Initial, Record, check, record_writes
from tray_agent.agent import Agent, build_agent
from tray_agent.auth.tokens import MemoryTokenStore
from tray_agent.clock import ScaledClock
from tray_agent.config.endpoints import Endpoints
from tray_agent.config.settings import Settings, Timing
from tray_agent.core.rules import SyncConfig, SyncStatus
from tray_agent.demo.approving_browser import ApprovingBrowser
from tray_agent.demo.runner import (
    DAY_START,
    DEMO_TENANT,
    demo_settings,
    demo_simulator,
    free_port,
)
from tray_agent.engine.snapshot import Command, CommandKind, Link, Snapshot, Transition
from tray_agent.simulator import SimulatorThread, certificates
from tray_agent.simulator.state import SimulatorState

SPEED = 100.0


class JumpClock:
    """A :class:`ScaledClock` that can jump forward: the machine slept, and the world kept going.

    Shared by the agent and the simulator, as wall time is. Timers already running are not
    shortened by a jump (asyncio's monotonic clock does not count a suspended machine either).
    """

    def __init__(self, speed: float, start: float = DAY_START) -> None:
        self._scaled = ScaledClock(speed, start=start)
        self._offset = 0.0
        self.speed = speed

    def now(self) -> float:
        return self._scaled.now() + self._offset

    async def sleep(self, seconds: float) -> None:
        await self._scaled.sleep(seconds)

    def to_real(self, seconds: float) -> float:
        return self._scaled.to_real(seconds)

    def jump(self, seconds: float) -> None:
        self._offset += seconds


@dataclass
class FaultWorld(World):
    clock: JumpClock  # type: ignore[assignment]  # a ScaledClock that can also jump
    settings: Settings = field(default_factory=Settings)
    transitions: list[Transition] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)  # every one the engine published, in order
    teams_changes: list[tuple[float, str, str]] = field(default_factory=list)
    past: list[Record] = field(default_factory=list)  # what earlier (restarted) simulators saw
    initial: Initial = field(default_factory=Initial)
    simulator_options: dict[str, Any] = field(default_factory=dict)
    tls_dir: Path = field(default_factory=Path)
    engine_task: asyncio.Task[None] | None = None
    restarts: int = 0

    # --- the world --------------------------------------------------------------------------------

    def teams(self, availability: str, activity: str) -> None:
        self.act(lambda state: state.teams.set(availability, activity))
        self.teams_changes.append((self.clock.now(), availability, activity))

    def by_hand_in_genesys(self, presence: str) -> None:
        self.by_hand(presence)

    def command(self, kind: CommandKind, **options: Any) -> None:
        self.agent.engine.submit(Command(kind, **options))

    @property
    def snapshot(self) -> Snapshot:
        snapshot = self.agent.engine.snapshot
        assert snapshot is not None
        return snapshot

    def requests(self, service: str | None = None, since: float = float("-inf")) -> list[Any]:
        return [
            entry
            for entry in self.act(lambda state: list(state.request_log))
            if (service is None or entry.service == service) and entry.at >= since
        ]

    def patches(self, since: float = float("-inf")) -> list[Any]:
        return [entry for entry in self.requests("genesys", since) if entry.method == "PATCH"]

    def engine_alive(self) -> bool:
        return self.engine_task is not None and not self.engine_task.done()

    async def time_until(self, predicate: Callable[[], bool], within: float) -> float | None:
        """Simulated seconds until ``predicate`` holds, or None if it did not within ``within`` (given
        at least ``PATIENCE`` real seconds: a safety net, see tests/e2e/harness.py)."""
        started, patience = self.clock.now(), Patience(self.clock, within)
        while not predicate():
            if patience.run_out():
                return None
            await asyncio.sleep(0.01)
        return self.clock.now() - started

    async def happens_within(self, predicate: Callable[[], bool], during: float) -> float | None:
        """Simulated seconds until ``predicate`` holds, or None if it did not during ``during``: for
        what must *not* happen, so the window is simulated time only (a loaded machine only makes
        the agent do less in it, never more)."""
        started = self.clock.now()
        while not predicate():
            if self.clock.now() - started > during:
                return None
            await asyncio.sleep(0.01)
        return self.clock.now() - started

    async def conclude(self, fault: str, outcome: str, *, order: float, met: bool = True) -> Checked:
        """The invariants over the whole run, recorded as this fault's row of the reliability summary
        (``met``: the test's own expectation held); fails the test on any violation, or if the engine
        stopped."""
        checked = await self.verdict()
        alive = self.engine_alive()
        report.record(
            "faults",
            fault,
            {
                "fault": fault,
                "outcome": outcome if alive else f"{outcome}; **the engine stopped**",
                "writes": checked.writes,
                "violations": len(checked.violations),
                "met": met and alive and not checked.violations,
                "order": order,
            },
        )
        assert checked.violations == [], "\n".join(checked.violations) + f"\nengine story:\n{self.story()}"
        assert alive, "the engine stopped"
        return checked

    async def connected(self, within: float = 300.0) -> None:
        await self.eventually(lambda: _connected(self.agent.engine.snapshot), within, "connected to both services")

    # --- restart ------------------------------------------------------------------------------------

    def record(self) -> Record:
        return _record_of(self.simulator, self.initial)

    def restart(self, prepare: Callable[[SimulatorState], Any] = lambda state: None) -> None:
        """Stop the simulator and start a new one on the same port: same CA, key and issued tokens,
        a fresh world model on which ``prepare`` runs before anyone can connect."""
        old = self.simulator
        tokens = old.call(_issued_tokens, old.state)
        self.past.append(self.record())
        old.stop()
        self.simulator = _start_simulator(self.clock, self.settings, self.tls_dir, old.port, self.simulator_options)

        def seed(state: SimulatorState) -> None:
            for name, issued in tokens.items():
                getattr(state.tokens, name).update(issued)
            prepare(state)

        self.initial = self.act(_initial_of)
        self.act(seed)
        self.restarts += 1

    # --- the invariants ---------------------------------------------------------------------------

    async def verdict(self, within: float = 120.0) -> Checked:
        """The invariants over the whole run, once the engine has reported what the simulator saw
        (a write's answer reaches the engine a moment after the simulator applied it)."""

        def caught_up() -> bool:
            accepted = self.api_writes() + sum(record_writes(record) for record in self.past)
            return sum(t.kind == "write" for t in self.transitions) >= accepted

        with contextlib.suppress(AssertionError):
            await self.eventually(caught_up, within, "the engine reported every write")
        return self.check()

    def check(self) -> Checked:
        return check(
            [*self.past, self.record()],
            teams_changes=[(at, availability, activity) for at, availability, activity in self.teams_changes],
            transitions=self.transitions,
            sync=self.settings.sync,
        )


def _connected(snapshot: Snapshot | None) -> bool:
    return snapshot is not None and snapshot.microsoft is Link.CONNECTED and snapshot.genesys_link is Link.CONNECTED


def _settled(agent: Agent) -> bool:
    """Connected, in sync, and the notifications socket up (see tests/e2e/harness.py's ``_settled``)."""
    snapshot = agent.engine.snapshot
    return (
        _connected(snapshot)
        and snapshot is not None
        and snapshot.status is SyncStatus.SYNCED
        and agent.engine.protocol.genesys_socket_up
    )


def _issued_tokens(state: SimulatorState) -> dict[str, dict[str, Any]]:
    names = ("entra_access_tokens", "entra_refresh_tokens", "genesys_tokens", "genesys_refresh_tokens")
    return {name: dict(getattr(state.tokens, name)) for name in names}


def _initial_of(state: SimulatorState) -> Initial:
    person = state.people.default_user.genesys
    return Initial(person.definition_id, state.genesys.current_definition().system_presence, person.routing_status)


def _record_of(simulator: SimulatorThread, initial: Initial) -> Record:
    def collect(state: SimulatorState) -> Record:
        return Record(
            events=list(state.genesys.events),
            requests=list(state.request_log),
            initial=initial,
            user_id=state.people.default_user.genesys_id,
            counters=replace(state.counters),
        )

    return simulator.call(collect, simulator.state)


def _start_simulator(
    clock: JumpClock, settings: Settings, tls_dir: Path, port: int, options: dict[str, Any]
) -> SimulatorThread:
    """A simulator serving the certificate in ``tls_dir`` (made on first start, reused on restarts)."""

    def same_certificate(directory: Path) -> certificates.TlsFiles:
        files = certificates.TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
        for name in ("ca.pem", "server.pem", "server-key.pem"):
            shutil.copy(tls_dir / name, directory / name)
        return files

    simulator = demo_simulator(clock, settings.genesys_redirect_port, port=port, request_log_size=1_000_000, **options)
    if (tls_dir / "ca.pem").exists():
        with mock.patch.object(certificates, "generate", same_certificate):
            simulator.start()
    else:
        simulator.start()
        for name in ("ca.pem", "server.pem", "server-key.pem"):
            shutil.copy(Path(simulator.ca_path).parent / name, tls_dir / name)
    return simulator


@contextlib.asynccontextmanager
async def fault_world(
    *,
    speed: float = SPEED,
    timing: Timing = FAST_TIMING,
    sync: SyncConfig | None = None,
    seed: int = 0,
    heartbeat_interval: float = 30.0,
    settle: bool = True,
    **simulator_options: Any,
) -> AsyncIterator[FaultWorld]:
    """The real agent (seeded) against the simulator, both on one :class:`JumpClock`."""
    clock = JumpClock(speed)
    settings: Settings = replace(demo_settings(free_port()), timing=timing)
    if sync is not None:
        settings = replace(settings, sync=sync)
    options = {"heartbeat_interval": heartbeat_interval, **simulator_options}
    tls_dir = Path(tempfile.mkdtemp(prefix="tray-agent-reliability-"))
    simulator = _start_simulator(clock, settings, tls_dir, 0, options)
    agent: Agent | None = None
    engine: asyncio.Task[None] | None = None
    world: FaultWorld | None = None
    try:
        transitions: list[Transition] = []
        snapshots: list[Snapshot] = []
        ca = str(tls_dir / "ca.pem")
        browser = ApprovingBrowser(ca)
        agent = build_agent(
            settings,
            Endpoints.simulator(simulator.base_url, DEMO_TENANT, ca),
            clock=clock,
            store=MemoryTokenStore(),
            browser=browser,
            on_transition=transitions.append,
            on_snapshot=snapshots.append,
            rng=random.Random(seed),
        )
        initial = simulator.call(_initial_of, simulator.state)
        await agent.microsoft.sign_in(browser, 30)
        await agent.genesys.sign_in(browser, 30)
        engine = asyncio.create_task(agent.engine.run())
        world = FaultWorld(
            simulator,
            clock,  # type: ignore[arg-type]
            agent,
            settings=settings,
            transitions=transitions,
            snapshots=snapshots,
            initial=initial,
            simulator_options=options,
            tls_dir=tls_dir,
            engine_task=engine,
        )
        world.teams_changes.append((clock.now(), "Available", "Available"))
        ready = _settled if settle else (lambda agent: _connected(agent.engine.snapshot))
        # Start-up takes real time (sign-in sessions, TLS, the first reads): at the soak's 2,400×, 300
        # simulated seconds are an eighth of a real one. Wait at least 3 real seconds.
        within = max(300.0, 3 * getattr(clock, "speed", 1.0))
        await world.eventually(lambda: ready(agent), within, "the engine is connected and settled")
        yield world
    finally:
        if agent is not None:
            await agent.shut_down(engine)
        simulator.stop()
        if world is not None:
            world.simulator.stop()
        shutil.rmtree(tls_dir, ignore_errors=True)
