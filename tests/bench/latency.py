"""Teams → Genesys latency through the real engine and simulator (HTTPS + websocket on loopback),
and the engine's own cost per decision.

:func:`trigger_latencies` measures each kind of change the issue names, with the shipped timing,
the agent following the simulator's workstation (lock, microphone) and calendar as in the demo:
the time from the moment Teams shows the change (the client, not Graph: Graph lags it by the
simulator's propagation delay) to the Genesys write that follows it."""

from __future__ import annotations

import random
import statistics
import timeit
from collections.abc import Callable
from dataclasses import dataclass, replace

from tests.e2e.harness import World, running_world
from tray_agent.config.settings import Timing
from tray_agent.core.memory import Candidate, Phase, SyncMemory
from tray_agent.core.presence import GenesysState, PresenceCatalog, PresenceDefinition, TeamsPresence
from tray_agent.core.rules import Situation, SyncConfig, decide
from tray_agent.demo.runner import DAY_START
from tray_agent.simulator.state import SimulatorState


@dataclass
class Latency:
    samples: list[float]
    interval: float
    dwell: float

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


async def teams_to_genesys_latency(samples: int = 20, *, speed: float = 60.0, dwell: float = 10.0) -> Latency:
    """Time from a Teams change to the Genesys PATCH that follows it, in simulated seconds."""
    timing = Timing()  # the shipped defaults: 60 s interval with jitter
    rng = random.Random(3)
    latencies: list[float] = []
    async with running_world(speed=speed, timing=timing, sync=SyncConfig(dwell_seconds=dwell)) as world:
        meeting = True
        for _ in range(samples):
            await world.clock.sleep(rng.uniform(20, 90))  # changes land anywhere in the poll cycle
            writes_before = world.api_writes()
            changed_at = world.clock.now()
            if meeting:
                world.teams("Busy", "InAMeeting")
            else:
                world.teams("Available", "Available")
            await world.eventually(lambda before=writes_before: world.api_writes() > before, 300, "a write")
            written_at = world.act(
                lambda state: [e.at for e in state.genesys.events if e.kind == "presence_changed" and e.cause == "api"][
                    -1
                ]
            )
            latencies.append(written_at - changed_at)
            meeting = not meeting
    return Latency(latencies, timing.poll_interval, dwell)


def _last_write_at(world: World) -> float:
    return float(
        world.act(
            lambda state: [e.at for e in state.genesys.events if e.kind == "presence_changed" and e.cause == "api"][-1]
        )
    )


async def _written_after(world: World, act: Callable[[SimulatorState], object], teams_changes_at: float) -> float:
    """Do ``act``; the seconds from ``teams_changes_at`` (simulated) to the write that follows."""
    writes_before = world.api_writes()
    world.act(act)
    await world.eventually(lambda: world.api_writes() > writes_before, 900, "a write")
    return _last_write_at(world) - teams_changes_at


async def trigger_latencies(samples: int = 8, *, speed: float = 40.0, seed: int = 5) -> dict[str, Latency]:
    """(a) a calendar meeting, (b) an ad-hoc call with the microphone, (c) a change with no trigger,
    (d) lock → Away: ``samples`` of each (a, b and c: starts and ends alike)."""
    timing = Timing()  # shipped defaults: with triggers, the timer is only a safety net
    rng = random.Random(seed)
    found: dict[str, list[float]] = {name: [] for name in KINDS}
    # The day's meetings are in the calendar before the agent starts, as on a real morning (the
    # calendar is read a few times a day, not before every meeting).
    first = DAY_START + 600.0
    meetings = [(first + i * 900.0 + rng.uniform(0, 300), 300.0) for i in range((samples + 1) // 2)]
    calendar = [{"subject": f"Meeting {i}", "start": at, "end": at + lasts} for i, (at, lasts) in enumerate(meetings)]
    async with running_world(speed=speed, timing=timing, local_signals=True, calendar=calendar) as world:
        away_delay = float(world.act(lambda state: state.teams.away_after_lock))
        for at, lasts in meetings:  # Teams shows each at its start and end, whether joined or not
            for boundary in (at, at + lasts):
                await world.clock.sleep(boundary - world.clock.now() - 1.0)
                found[CALENDAR].append(await _written_after(world, lambda state: None, boundary))

        def call(on: bool) -> Callable[[SimulatorState], object]:
            teams = ("Busy", "InACall") if on else ("Available", "Available")
            return lambda state: (state.teams.set(*teams), state.workstation.set_devices(microphone=on))

        def teams(availability: str) -> Callable[[SimulatorState], object]:
            return lambda state: state.teams.set(availability, availability)

        for _ in range((samples + 1) // 2):
            for on in (True, False):
                await world.clock.sleep(rng.uniform(120, 300))  # apart, or the loop breaker rightly steps in
                found[CALL].append(await _written_after(world, call(on), world.clock.now()))
        for _ in range(samples):
            await world.clock.sleep(rng.uniform(120, 300))
            locked_at = world.clock.now()
            found[LOCK].append(
                await _written_after(world, lambda state: state.workstation.lock(), locked_at + away_delay)
            )
            await world.clock.sleep(rng.uniform(120, 300))
            await _written_after(world, lambda state: state.workstation.unlock(), world.clock.now())
        for _ in range((samples + 1) // 2):
            for availability in ("DoNotDisturb", "Available"):  # set by hand in Teams: nothing local shows it
                await world.clock.sleep(rng.uniform(120, 420))  # anywhere in the timer's cycle
                found[UNTRIGGERED].append(await _written_after(world, teams(availability), world.clock.now()))
    return {name: Latency(values, timing.poll_interval, 0.0) for name, values in found.items()}


CALENDAR = "(a) a calendar meeting starts or ends"
CALL = "(b) an ad-hoc call, microphone trigger"
UNTRIGGERED = "(c) a Teams change with no trigger"
LOCK = "(d) lock → Away, from Teams showing Away"
KINDS = (CALENDAR, CALL, UNTRIGGERED, LOCK)


def decision_cost_microseconds() -> float:
    """One ``decide()`` on a realistic input, down to a write (the protocol runs it once per event)."""
    definitions = [
        PresenceDefinition("available", "AVAILABLE", "Available"),
        PresenceDefinition("busy", "BUSY", "Busy"),
        PresenceDefinition("meeting", "MEETING", "Meeting"),
        PresenceDefinition("away", "AWAY", "Away"),
    ]
    catalog = PresenceCatalog(definitions)
    config = SyncConfig()
    teams = TeamsPresence("Busy", "InAMeeting", "0001")
    genesys = GenesysState("available", "AVAILABLE", "OFF_QUEUE", False, confirmed_at=1000.0)
    memory = replace(
        SyncMemory(),
        phase=Phase.FOLLOWING,
        acted_signal="Available",
        seen_presence_id="available",
        candidate=Candidate("Meeting|Busy", 990.0),
    )
    situation = Situation(teams, 1004.0, genesys, catalog, config, 1005.0, 130.0)
    runs = 20000
    seconds = timeit.timeit(lambda: decide(situation, memory), number=runs)
    return seconds / runs * 1e6
