"""429 and 5xx answers from both services: waited out as the service says, backed off with a cap and
jitter otherwise, and a Retry-After longer than 3 min pauses sync for that long and says so.

Timing: the harness's fast rhythm (Graph every 10 s, 10 s dwell) at 100× real time; request times
are taken from the simulator's request log, so the gaps are what the services saw.

At 100×, a tenth of a real second of scheduling delay on a loaded machine is 10 simulated seconds,
so no test bounds a measured gap from above. The backoff law is checked on the waits the agent
announces ("trying again in N s"), and the gaps the services saw must be at least those waits.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

import pytest

from tests.e2e.harness import FAST_TIMING
from tests.reliability.world import FaultWorld, fault_world
from tray_agent.core.rules import SyncStatus

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

ANNOUNCED_WAIT = re.compile(r"trying again in (\d+(?:\.\d+)?) s")
ROUNDING = 0.05  # the announcement has one decimal


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def announced_waits(world: FaultWorld, kinds: tuple[str, ...]) -> list[float]:
    """The waits the agent told the agent about, in order, from its story."""
    found = (ANNOUNCED_WAIT.search(t.text) for t in world.transitions if t.kind in kinds)
    return [float(match.group(1)) for match in found if match]


def assert_waited_at_least(seen: list[float], announced: list[float]) -> None:
    assert len(seen) == len(announced), (seen, announced)
    for gap, wait in zip(seen, announced, strict=True):
        assert gap >= wait - ROUNDING, (seen, announced)


async def test_graph_429_with_a_fractional_retry_after_is_waited_out_to_the_millisecond() -> None:
    async with fault_world() as world:
        started = world.clock.now()
        world.act(lambda state: state.faults.throttle_next("graph", 2, 7.25))
        world.teams("Busy", "InACall")
        in_sync = await world.time_until(lambda: world.genesys_shows() == "Busy", within=300)
        reads = [entry for entry in world.requests("graph", since=started)]
        throttled = [entry for entry in reads if entry.status == 429]
        await world.conclude(
            "Graph 429, Retry-After 7.25 s (×2)",
            f"each retry ≥ 7.25 s after its 429; in sync after {in_sync or 0:.0f} s",
            order=2,
        )
        assert in_sync is not None and len(throttled) == 2
        for throttle, following in itertools.pairwise(reads[: len(throttled) + 1]):
            assert following.at - throttle.at >= 7.25, (throttle, following)
        await world.eventually(lambda: world.snapshot.microsoft.value == "connected", 60, "Microsoft connected")


async def test_genesys_429_with_retry_after_is_honoured_before_the_write_is_tried_again() -> None:
    async with fault_world() as world:
        started = world.clock.now()  # before the fault: any call may meet it, even one already under way
        world.act(lambda state: state.faults.throttle_next("genesys", 1, 30.0))
        world.teams("Busy", "InAMeeting")
        in_sync = await world.time_until(lambda: world.genesys_shows() == "Meeting", within=300)
        calls = world.requests("genesys", since=started)
        throttled = next(entry for entry in calls if entry.status == 429)
        retried = next(entry for entry in calls if entry.at > throttled.at)
        await world.conclude(
            "Genesys 429 too.many.requests.retry.after, 30 s",
            f"retried {retried.at - throttled.at:.0f} s later; not paused",
            order=3,
        )
        assert in_sync is not None
        assert retried.at - throttled.at >= 30.0
        assert world.snapshot.paused_until is None


async def test_genesys_429_without_retry_after_waits_at_least_the_sdks_3_s() -> None:
    async with fault_world() as world:
        started = world.clock.now()
        world.act(lambda state: state.faults.throttle_next("genesys", 2, None))
        world.teams("Busy", "InAMeeting")
        in_sync = await world.time_until(lambda: world.genesys_shows() == "Meeting", within=300)
        calls = world.requests("genesys", since=started)
        waits = [later.at - earlier.at for earlier, later in itertools.pairwise(calls) if earlier.status == 429]
        await world.conclude(
            "Genesys 429 too.many.requests (no Retry-After, ×2)",
            f"retried after {', '.join(f'{w:.0f} s' for w in waits)}",
            order=3,
        )
        assert in_sync is not None and len(waits) == 2
        assert all(wait >= 3.0 for wait in waits), waits


async def test_a_genesys_retry_after_over_3_minutes_pauses_sync_for_that_long_and_reports_it() -> None:
    async with fault_world() as world:
        world.act(lambda state: state.faults.throttle_next("genesys", 1, 600.0))
        world.teams("Busy", "InAMeeting")
        await world.eventually(lambda: world.snapshot.status is SyncStatus.PAUSED, 120, "sync paused")
        throttled = next(entry for entry in world.requests("genesys") if entry.status == 429)
        paused = next(s for s in world.snapshots if s.status is SyncStatus.PAUSED)  # as the tray first showed it
        requests_while_paused = len(world.requests(since=throttled.at + 1))
        await world.keeps_showing("Available", during=480)
        in_sync = await world.time_until(lambda: world.genesys_shows() == "Meeting", within=300)
        written = world.patches()[0].at - throttled.at if world.patches() else None
        await world.conclude(
            "Genesys 429, Retry-After 600 s (> 3 min)",
            f"sync paused and reported; written {written or 0:.0f} s after the 429",
            order=3,
        )
        # From the answer's arrival: not before the 429 was sent, and with only a round trip after it
        # (generous: at 100×, scheduling delay under load is multiplied a hundredfold).
        assert paused.paused_until is not None and 0 <= paused.paused_until - (throttled.at + 600) < 60
        # The 429 may meet any Genesys call (the identity, the conversation summary); the client holds
        # every call back till then, and sync hears of it at its next call: it says the time still to wait.
        told = re.fullmatch(r"Genesys asked us to wait (\d+) s: sync paused until then", paused.last_error)
        assert told is not None and paused.reason == "Genesys asked us to wait: sync paused until then"
        assert int(told[1]) <= 600 and abs(int(told[1]) - (paused.paused_until - paused.at)) < 2, paused
        # Calls during the pause meet the client's own wait: the pause is told once, never again shorter.
        said = {s.last_error for s in world.snapshots if s.last_error and "sync paused until then" in s.last_error}
        assert said == {paused.last_error}, said
        assert in_sync is not None and written is not None and written >= 600
        # Paused means quiet: no Graph reads; Genesys only keeps its socket (no REST calls to speak of).
        assert requests_while_paused <= 3, world.requests(since=throttled.at + 1)


def assert_capped_exponential_with_jitter(waits: list[float], base: float, cap: float) -> None:
    """Each wait is in the upper half of min(cap, base·2ⁿ) (the product's backoff), and they differ."""
    for n, wait in enumerate(waits):
        ceiling = min(cap, base * 2**n)
        assert ceiling / 2 - ROUNDING <= wait <= ceiling + ROUNDING, (n, wait, waits)
    # Jitter: each wait is a random share of its ceiling, so the shares spread (without jitter they would
    # all be ~1.0). Two waits may land close together, so no distinctness check.
    shares = [wait / min(cap, base * 2**n) for n, wait in enumerate(waits)]
    assert max(shares) - min(shares) > 0.1, f"no jitter: {waits}"


async def test_a_genesys_5xx_burst_is_retried_with_capped_exponential_backoff_and_jitter() -> None:
    timing = replace(FAST_TIMING, backoff_base=2.0, backoff_cap=20.0)
    async with fault_world(timing=timing, seed=11) as world:
        started = world.clock.now()
        world.act(lambda state: state.faults.fail_next("genesys_users_me", 7, 503))  # the sync's re-reads
        world.teams("Busy", "InAMeeting")
        in_sync = await world.time_until(lambda: world.genesys_shows() == "Meeting", within=600)
        calls = [entry for entry in world.requests("genesys", since=started) if entry.path == "/api/v2/users/me"]
        failed = [entry.at for entry in calls if entry.status == 503]
        seen = gaps([*failed, *(entry.at for entry in calls if entry.status == 200)][: len(failed) + 1])
        waits = announced_waits(world, ("genesys", "error"))
        await world.conclude(
            "Genesys 503 ×7 on the write path",
            "waits " + ", ".join(f"{wait:.0f}" for wait in waits) + " s (base 2 s, cap 20 s)",
            order=4,
        )
        assert in_sync is not None and len(failed) == 7
        assert_capped_exponential_with_jitter(waits, base=2.0, cap=20.0)
        assert_waited_at_least(seen, waits)
        assert len(world.patches()) == 1


async def test_a_graph_5xx_burst_is_retried_with_capped_exponential_backoff_and_jitter() -> None:
    timing = replace(FAST_TIMING, backoff_base=2.0, backoff_cap=20.0)
    async with fault_world(timing=timing, seed=5) as world:
        reads_before = len(world.requests("graph"))
        await world.eventually(lambda: len(world.requests("graph")) > reads_before, 60, "a Graph read")
        world.act(lambda state: state.faults.fail_next("graph", 6, 502))
        world.teams("Busy", "InAMeeting")
        in_sync = await world.time_until(lambda: world.genesys_shows() == "Meeting", within=600)
        reads = world.requests("graph")
        first = next(index for index, entry in enumerate(reads) if entry.status == 502)
        seen = gaps([entry.at for entry in reads[first : first + 7]])
        waits = announced_waits(world, ("teams",))
        await world.conclude(
            "Graph 502 ×6",
            "waits " + ", ".join(f"{wait:.0f}" for wait in waits) + " s (base 2 s, cap 20 s)",
            order=4,
        )
        assert in_sync is not None
        assert [entry.status for entry in reads[first : first + 7]] == [502] * 6 + [200]
        assert_capped_exponential_with_jitter(waits, base=2.0, cap=20.0)
        assert_waited_at_least(seen, waits)
