"""A simulated 24 h day for the soak: random but seeded Teams, Genesys and fault events.

:func:`day_plan` turns a seed into a list of :class:`Happening` (what happens when, in seconds after
the start of the day); :func:`play` performs them against a running :class:`FaultWorld`. The plan
depends on the seed only, so a seed that ever breaks a rule replays the same day.

The day looks like a contact-centre agent's: Teams meetings and calls, statuses chosen by hand,
On Queue blocks with ACD calls in them, an Out of Office afternoon, and the cloud misbehaving —
network loss, throttling with and without ``Retry-After``, a ``Retry-After`` long enough to pause
sync, 5xx bursts, slow answers, dropped and closing websockets, silent heartbeats, expired channels,
expired and revoked sign-ins (the agent signs in again a little later) and a restarted cloud.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from tests.reliability.world import FaultWorld
from tray_agent.engine.snapshot import CommandKind, Link
from tray_agent.simulator.state import SimulatorState

DAY = 24 * 3600.0

TEAMS = (
    ("Available", "Available"),
    ("Available", "Available"),
    ("Busy", "InAMeeting"),
    ("Busy", "InAMeeting"),
    ("Busy", "InACall"),
    ("Busy", "InAConferenceCall"),
    ("DoNotDisturb", "Presenting"),
    ("Busy", "Busy"),
    ("Away", "Away"),
    ("BeRightBack", "BeRightBack"),
    ("Offline", "OffWork"),
)
BY_HAND = ("Available", "Break", "Meal", "Lunch", "Training", "Busy", "Away", "Teams call", "Meeting")


@dataclass(frozen=True)
class Happening:
    at: float  # seconds after the start of the day
    kind: str  # "teams", "by hand", "routing", "out of office", "sign in" or "fault: …"
    act: Callable[[FaultWorld], object]

    @property
    def fault(self) -> bool:
        return self.kind.startswith("fault: ")


def _on(fn: Callable[[SimulatorState], object]) -> Callable[[FaultWorld], object]:
    return lambda world: world.act(fn)


def _teams(availability: str, activity: str) -> Callable[[FaultWorld], object]:
    return lambda world: world.teams(availability, activity)


def _sign_in(service: str) -> Callable[[FaultWorld], object]:
    return lambda world: world.command(CommandKind.SIGN_IN, service=service)


def _restart(on_queue: bool) -> Callable[[FaultWorld], object]:
    def restart(world: FaultWorld) -> None:
        world.restart(lambda state: state.genesys.set_routing("IDLE") if on_queue else None)
        world.teams_changes.append((world.clock.now(), "Available", "Available"))  # a fresh Graph, too

    return restart


def _fault(rng: random.Random, at: float) -> list[Happening]:
    kind = rng.choices(
        [
            "network loss",
            "Graph 429",
            "Genesys 429",
            "Genesys 429, long Retry-After",
            "Graph 5xx burst",
            "Genesys 5xx burst",
            "slow answers",
            "websocket dropped",
            "socket_closing",
            "heartbeats stopped",
            "channel expired",
            "Microsoft token expired",
            "Microsoft sign-in revoked",
            "Genesys token expired",
        ],
        weights=[6, 5, 4, 1, 3, 3, 2, 4, 3, 2, 2, 3, 1, 2],
    )[0]
    name = f"fault: {kind}"
    if kind == "network loss":
        seconds = rng.choice([1.0, 5.0, 30.0, 60.0, 90.0, 600.0])
        return [
            Happening(at, name, _on(lambda s: s.faults.network_down(True))),
            Happening(at + seconds, "network back", _on(lambda s: s.faults.network_down(False))),
        ]
    if kind == "Graph 429":
        count, after = rng.randint(1, 3), round(rng.uniform(0.2, 40.0), 3)
        return [Happening(at, name, _on(lambda s: s.faults.throttle_next("graph", count, after)))]
    if kind == "Genesys 429":
        count, wait = rng.randint(1, 2), rng.choice([None, 1.0, 5.0, 30.0])
        return [Happening(at, name, _on(lambda s: s.faults.throttle_next("genesys", count, wait)))]
    if kind == "Genesys 429, long Retry-After":
        wait = float(rng.randint(200, 500))
        return [Happening(at, name, _on(lambda s: s.faults.throttle_next("genesys", 1, wait)))]
    if kind.endswith("5xx burst"):
        service = "graph" if kind.startswith("Graph") else "genesys"
        count, status = rng.randint(1, 6), rng.choice([500, 502, 503, 504])
        return [Happening(at, name, _on(lambda s: s.faults.fail_next(service, count, status)))]
    if kind == "slow answers":
        seconds, lasting = round(rng.uniform(0.5, 5.0), 1), rng.uniform(300, 1800)
        return [
            Happening(at, name, _on(lambda s: s.faults.set_latency("all", seconds))),
            Happening(at + lasting, "answers fast again", _on(lambda s: s.faults.set_latency("all", 0.0))),
        ]
    if kind == "websocket dropped":
        return [Happening(at, name, _on(lambda s: s.faults.drop_websockets()))]
    if kind == "socket_closing":
        return [Happening(at, name, _on(lambda s: s.faults.socket_closing()))]
    if kind == "heartbeats stopped":
        lasting = rng.uniform(300, 1800)
        return [
            Happening(at, name, _on(lambda s: s.faults.stop_heartbeats(True))),
            Happening(at + lasting, "heartbeats back", _on(lambda s: s.faults.stop_heartbeats(False))),
        ]
    if kind == "channel expired":
        return [Happening(at, name, _on(lambda s: s.faults.expire_channels()))]
    if kind == "Microsoft token expired":
        return [Happening(at, name, _on(lambda s: s.faults.expire_tokens("entra")))]
    later = at + rng.uniform(120, 1200)
    if kind == "Microsoft sign-in revoked":
        return [
            Happening(at, name, _on(lambda s: s.faults.expire_tokens("entra", refresh_tokens=True))),
            Happening(later, "sign in", _sign_in("microsoft")),
        ]
    return [
        Happening(at, name, _on(lambda s: s.faults.expire_tokens("genesys"))),
        Happening(later, "sign in", _sign_in("genesys")),
    ]


def day_plan(seed: int, hours: float = 24.0) -> list[Happening]:
    """The seed's day: about one event every four minutes, nearly a third of them faults."""
    rng = random.Random(seed)
    plan: list[Happening] = []
    at = 0.0
    restart_at = rng.uniform(20 / 24, 22 / 24) * hours * 3600  # the evening maintenance window
    while True:
        at += rng.expovariate(1 / 240.0)
        if at >= hours * 3600 - 1800:  # the last half hour is left for the final checks
            break
        roll = rng.random()
        if roll < 0.55:
            plan.append(Happening(at, "teams", _teams(*rng.choice(TEAMS))))
        elif roll < 0.66:
            presence = rng.choice(BY_HAND)
            plan.append(Happening(at, "by hand", lambda world, p=presence: world.by_hand(p)))
        elif roll < 0.70:
            lasting = rng.uniform(600, 2400)
            plan.append(Happening(at, "routing", _on(lambda s: s.genesys.set_routing("IDLE"))))
            for _ in range(rng.randint(0, 3)):
                call = at + rng.uniform(0, lasting)
                plan.append(Happening(call, "routing", _on(lambda s: s.genesys.set_routing("INTERACTING"))))
                plan.append(
                    Happening(call + rng.uniform(60, 400), "routing", _on(lambda s: s.genesys.set_routing("IDLE")))
                )
            plan.append(Happening(at + lasting, "routing", _on(lambda s: s.genesys.set_routing("OFF_QUEUE"))))
        elif roll < 0.705:
            lasting = rng.uniform(600, 3600)
            plan.append(Happening(at, "out of office", _on(lambda s: s.genesys.set_out_of_office(True))))
            plan.append(Happening(at + lasting, "out of office", _on(lambda s: s.genesys.set_out_of_office(False))))
        else:
            plan += _fault(rng, at)
    plan.append(Happening(restart_at, "fault: cloud restarted", _restart(on_queue=rng.random() < 0.5)))
    return sorted((h for h in plan if h.at < hours * 3600 - 1800), key=lambda h: h.at)


def census(plan: list[Happening]) -> Counter[str]:
    return Counter(h.kind.removeprefix("fault: ") if h.fault else h.kind for h in plan)


SIGN_IN_AGAIN_AFTER = 900.0  # a sign-in that failed (e.g. the network was down) is tried again


async def play(world: FaultWorld, plan: list[Happening], start: float) -> None:
    """Perform each happening at its time (``start`` + ``at``, simulated seconds). Like an agent who
    sees the tray ask for a sign-in, a sign-in still needed 15 min after the last try is tried again."""
    needed_since: dict[str, float] = {}
    tried: dict[str, float] = {}
    for happening in plan:
        wait = start + happening.at - world.clock.now()
        if wait > 0:
            await world.clock.sleep(wait)
        happening.act(world)
        now = world.clock.now()
        if happening.kind == "sign in":
            tried = dict.fromkeys(("microsoft", "genesys"), now)
        snapshot = world.agent.engine.snapshot
        if snapshot is None:
            continue
        for service, link in (("microsoft", snapshot.microsoft), ("genesys", snapshot.genesys_link)):
            if link is not Link.SIGN_IN_NEEDED:
                needed_since.pop(service, None)
            elif now - max(needed_since.setdefault(service, now), tried.get(service, -1.0)) > SIGN_IN_AGAIN_AFTER:
                tried[service] = now
                world.command(CommandKind.SIGN_IN, service=service)
