"""The soak: a whole simulated day (24 h) of random but seeded Teams, Genesys and fault events,
through the real engine and the simulator over real sockets, in well under a minute.

Every rule in :mod:`tests.reliability.invariants` is checked over the simulator's record of the day,
and at the end of the day the agent must still be working: connected to both services and
following Teams again. The figures go to ``assets/reliability/summary.md``.

Time at 2,400× (24 h in 36 s): the engine's and the simulator's intervals are stretched so that each
is still tens of milliseconds of real time — a Graph read, which takes a few real milliseconds, is
then a few simulated seconds, well inside every interval:

- Graph polled every 120 s (50 ms real), a Teams change must be stable 30 s (12 ms real);
- Genesys heartbeats every 240 s (100 ms real); silence is a dead socket after 600 s + a ping;
  the state counts as stale after 900 s, so heartbeats keep it fresh without REST re-reads;
- users/me polled every 60 s while the socket is down; backoff from 4 s, capped at 300 s.

Set ``TRAY_SOAK_SEED`` to play another day. A seed that ever breaks a rule goes into
``REGRESSION_SEEDS`` with the fixed, scripted test that pins down what it found.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from tests.reliability import report
from tests.reliability.soak import census, day_plan, play
from tests.reliability.world import FaultWorld, fault_world
from tray_agent.config.settings import Timing
from tray_agent.core.presence import TeamsPresence
from tray_agent.core.rules import SyncConfig, SyncStatus
from tray_agent.engine.snapshot import CommandKind, Link

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SPEED = 2400.0
SOAK_TIMING = Timing(
    poll_interval=120.0,
    genesys_fallback_poll=60.0,
    heartbeat_timeout=600.0,
    backoff_base=4.0,
    backoff_cap=300.0,
)
SOAK_SYNC = SyncConfig(dwell_seconds=30.0, max_genesys_staleness=900.0)
HEARTBEAT = 240.0
SEED = int(os.environ.get("TRAY_SOAK_SEED", "20261125"))
# Every seed that ever broke a rule, and the fixed (deterministic) test that now pins down what it
# found. A stretch of a random day cannot be replayed to the second at 2,400× (a real millisecond is
# seconds of simulated time, so which side of a Graph read an event falls on varies), so what a seed
# found is rebuilt as a scripted test; ``soak(seed, key, hours)`` replays a stretch while looking.
HAND_SET_RACE = "test_hand_set_race.py::test_a_status_set_by_hand_right_after_a_teams_change_is_not_overwritten_by_it"
CLOUD_RESTART = "test_cloud_restart.py::test_after_a_cloud_restart_teams_changes_are_followed_again"
REGRESSION_SEEDS: dict[int, tuple[str, ...]] = {
    # 13:43, 14:05, 14:23, 16:47: statuses picked by hand moments after a Teams change, overwritten by it;
    # after the evening's cloud restart, Teams no longer followed
    20261125: (HAND_SET_RACE, CLOUD_RESTART),
    1: (HAND_SET_RACE, CLOUD_RESTART),  # 20:02, 20:20 (Meal overwritten with Meeting); the restart
    2: (CLOUD_RESTART,),
    3: (HAND_SET_RACE, CLOUD_RESTART),  # 11:08 in one run, 20:40 in another; the restart
}


async def end_of_day(world: FaultWorld) -> None:
    """Faults cleared, the agent back off queue and signed in: Teams must be followed again."""
    world.act(lambda state: state.faults.clear())
    world.act(lambda state: state.genesys.set_out_of_office(False) if state.genesys.out_of_office() else None)
    world.act(
        lambda state: state.genesys.set_routing("OFF_QUEUE") if state.genesys.routing_status() != "OFF_QUEUE" else None
    )
    links = {"microsoft": world.snapshot.microsoft, "genesys": world.snapshot.genesys_link}
    for service, link in links.items():
        if link is Link.SIGN_IN_NEEDED:
            world.command(CommandKind.SIGN_IN, service=service)
    await world.connected(within=1800)
    # A Teams change that maps to a different target than what Teams shows now (InAConferenceCall →
    # InACall is no change: both mean Busy, and a status the agent picked by hand rightly stays).
    now_showing = world.act(lambda state: state.teams.presence())
    signal = SOAK_SYNC.mapping.signal_for(TeamsPresence(now_showing.availability, now_showing.activity))
    target = ("Away", "Away") if signal == "Busy" else ("Busy", "InACall")
    world.teams(*target)
    await world.shows("Busy" if target[0] == "Busy" else "Away", within=1200)


async def soak(seed: int, key: str, hours: tuple[float, float] = (0.0, 24.0)) -> None:
    start, end = (hour * 3600 for hour in hours)
    plan = [replace(h, at=h.at - start) for h in day_plan(seed) if start <= h.at < end]
    kinds = census(plan)
    started = time.monotonic()
    async with fault_world(
        speed=SPEED, timing=SOAK_TIMING, sync=SOAK_SYNC, seed=seed, heartbeat_interval=HEARTBEAT
    ) as world:
        await play(world, plan, start=world.clock.now())
        try:
            await end_of_day(world)
            stuck = ""
        except AssertionError as error:
            stuck = str(error)
        checked = await world.verdict()
        alive = world.engine_alive()
        snapshot = world.snapshot
    faults = [h for h in plan if h.fault]
    report.record(
        "soak",
        key,
        {
            "seed": seed,
            "hours": hours[1] - hours[0],
            "real_seconds": round(time.monotonic() - started),
            "events": len(plan),
            "teams_changes": checked.teams_changes,
            "genesys_changes": checked.genesys_changes,
            "faults": len(faults),
            "fault_kinds": len({h.kind for h in faults}),
            "writes": checked.writes,
            "restores": checked.restores,
            "hands_off": checked.hands_off_entries,
            "races": checked.races,
            "violations": len(checked.violations),
            "working_at_the_end": not stuck and alive,
            "by_kind": dict(kinds),
        },
    )
    assert checked.violations == [], "\n".join(checked.violations)
    assert alive, "the engine stopped during the day"
    assert not stuck, f"at the end of the day the agent no longer followed Teams: {stuck}"
    assert snapshot.status is not SyncStatus.LOOP_BREAKER


async def test_a_day_of_random_events_and_faults_breaks_no_rule_and_ends_with_the_agent_working() -> None:
    await soak(SEED, "day")


def test_every_seed_that_once_broke_a_rule_is_pinned_down_by_a_fixed_test() -> None:
    here = Path(__file__).parent
    for seed, tests in REGRESSION_SEEDS.items():
        for test in tests:
            module, name = test.split("::")
            assert f"def {name}(" in (here / module).read_text(), f"seed {seed}: {test} is missing"
