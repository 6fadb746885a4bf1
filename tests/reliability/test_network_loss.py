"""Network loss of 1 s, 60 s and 10 min (simulated): the agent is back in sync within one poll
interval of the network's return, without a storm of requests while it is gone or a burst of
writes when it comes back.

Engine timing here is the product's default rhythm (Graph every 60 s, users/me every 30 s while the
socket is down, 10 s dwell), at 100× real time.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.e2e.harness import FAST_TIMING
from tests.reliability.world import FaultWorld, fault_world

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

TIMING = replace(FAST_TIMING, poll_interval=60.0, genesys_fallback_poll=30.0)
DWELL = 10.0
# Back in sync: the next Graph read within one (jittered) interval, the dwell, and a verified write.
# The interval is checked on the agent's own plan (when it said it would read), not on a stopwatch: at
# 100× a tenth of a real second of scheduling is 10 simulated seconds, so the round trips after the
# plan are checked by what happened in order (a read, the confirming read ``DWELL`` later, one write).
IN_SYNC_WITHIN = TIMING.poll_interval * (1 + TIMING.poll_jitter) + DWELL + 10.0  # reported, not asserted
READ_PLANNED_WITHIN = TIMING.poll_interval * (1 + TIMING.poll_jitter)


def teams_reads(world: FaultWorld, since: float) -> list[float]:
    """When Graph answered the agent's Teams reads (``GET /me/presence``, 200) since ``since``."""
    return [
        entry.at
        for entry in world.requests("graph", since=since)
        if entry.method == "GET" and entry.path.endswith("/me/presence") and entry.status == 200
    ]


async def planned_read_after(world: FaultWorld, back: float) -> tuple[float, float]:
    """When the agent, as the network came back, was to read Teams next, and the moment that plan
    counts from. Taken from the snapshots the engine published (each plan as it was made) and the
    simulator's log, never by sampling the agent now: under load this test's coroutine can run
    after the planned read is done.

    - No read under way at ``back``: the plan in force then, counted from ``back``.
    - A read under way that Graph answered once the network was back (it was still connecting): that
      read, at once.
    - A read under way that failed: the plan made when its failure was answered, counted from that
      answer, which on a loaded machine can be simulated seconds after ``back`` (the agent and this
      test share one event loop).
    """

    def plan() -> tuple[float, float] | None:
        before = [s for s in world.snapshots if s.at <= back]
        if before and before[-1].next_read_at is not None:
            return max(before[-1].next_read_at, back), back
        answered = next((s for s in world.snapshots if s.at > back and s.next_read_at is not None), None)
        if answered is None:
            return None
        succeeded = [at for at in teams_reads(world, since=back) if at <= answered.at]
        if succeeded:
            return succeeded[0], back
        assert answered.next_read_at is not None
        return answered.next_read_at, answered.at

    await world.eventually(lambda: plan() is not None, 600, "the agent plans its next Teams read")
    planned = plan()
    assert planned is not None
    return planned


def timeline(world: FaultWorld, since: float) -> str:
    """The agent's read plans and Graph's answers since ``since``, in order (for a failure's message)."""
    plans = [
        (s.at, f"plan  read at {s.next_read_at:.1f} ({s.next_read_why})" if s.next_read_at else "plan  reading now")
        for s in world.snapshots
        if s.at >= since
    ]
    reads = [(e.at, f"graph {e.method} {e.path} {e.status}") for e in world.requests("graph", since=since)]
    return "\n".join(f"  {at:.1f} {text}" for at, text in sorted(plans + reads))


def most_requests_while_offline(outage: float) -> float:
    """No storm: backing off, each service tries at most 20 times in the first minute offline and
    then once every 5 s on average (reconnect attempts, plus users/me polls that keep Genesys fresh)."""
    return 20 + outage / 5


@pytest.mark.parametrize(("outage", "label"), [(1.0, "1 s"), (60.0, "60 s"), (600.0, "10 min")])
async def test_after_network_loss_the_agent_is_back_in_sync_within_one_poll_interval(outage: float, label: str) -> None:
    async with fault_world(timing=TIMING) as world:
        world.act(lambda state: state.faults.network_down(True))
        went = world.clock.now()
        await world.clock.sleep(outage / 2)
        world.teams("Busy", "InAMeeting")  # the meeting starts while the agent is offline
        await world.clock.sleep(outage / 2)
        world.act(lambda state: state.faults.network_down(False))
        back = world.clock.now()
        planned, counted_from = await planned_read_after(world, back)

        in_sync = await world.time_until(lambda: world.genesys_shows() == "Meeting", within=600)
        aborted = [entry for entry in world.requests(since=went) if entry.status == 0 and entry.at < back]
        patches = world.patches(since=went)
        outcome = (
            f"back in sync {in_sync:.0f} s after the network returned"
            if in_sync is not None
            else "not back in sync within 10 min"
        ) + f"; {len(aborted)} request{'s' if len(aborted) != 1 else ''} while offline"
        met = in_sync is not None and in_sync <= IN_SYNC_WITHIN
        await world.conclude(f"network loss, {label}", outcome, order=1 + outage / 1e4, met=met)

        assert in_sync is not None, f"not back in sync within 10 min\n{world.story()}"
        assert planned - counted_from <= READ_PLANNED_WITHIN, (
            f"the next Teams read was planned {planned - counted_from:.1f} s after the network returned (or "
            f"after the read sent while it was down was answered, {counted_from - back:.1f} s later); expected "
            f"within one poll interval ({READ_PLANNED_WITHIN:.0f} s)\n{world.story()}"
        )
        written = patches[-1].at
        before_write = [at for at in teams_reads(world, since=planned - 1) if at < written]
        # Genesys comes back on its own backoff (at most 60 s): a Teams reading that arrives before it
        # is kept and confirmed once Genesys is known again, so only the reads after that are counted.
        genesys_back = min(
            (e.at for e in world.requests("genesys", since=back) if e.path.endswith("/users/me") and e.status == 200),
            default=written,
        )
        once_both_back = [at for at in before_write if at >= genesys_back]
        assert before_write and len(once_both_back) <= 2, (
            f"reads between the plan ({planned:.1f}, counted from {counted_from:.1f}; the network was back at "
            f"{back:.1f}, Genesys answered again at {genesys_back:.1f}) and the write ({written:.1f}): "
            f"{before_write}\n{timeline(world, back - 120)}\n{world.story()}"
        )
        assert before_write[-1] - before_write[0] >= DWELL or len(before_write) == 1, world.story()
        for service in ("graph", "genesys"):
            tries = sum(entry.service == service for entry in aborted)
            assert tries <= most_requests_while_offline(outage), f"{tries} {service} requests in {label} offline"
        assert len(patches) == 1, f"one write expected after the network returned, saw {len(patches)}"
