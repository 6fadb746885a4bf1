"""Teams → Genesys latency through the real engine and simulator (HTTPS + websocket on loopback),
and the engine's own cost per decision."""

from __future__ import annotations

import random
import statistics
import timeit
from dataclasses import dataclass, replace

from tests.e2e.harness import running_world
from tray_agent.config.settings import Timing
from tray_agent.core.memory import Candidate, Phase, SyncMemory
from tray_agent.core.presence import GenesysState, PresenceCatalog, PresenceDefinition, TeamsPresence
from tray_agent.core.rules import Situation, SyncConfig, decide


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
