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


async def planned_read_after(world: FaultWorld, back: float) -> float:
    """When the agent, once the network was back, said it would read Teams next (the first plan it
    announces: a read under way at that moment is answered first)."""
    protocol = world.agent.engine.protocol
    while (planned := protocol.next_teams_read_at) is None:
        await world.clock.sleep(0.05)
    return max(planned, back)


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
        planned = await planned_read_after(world, back)

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
        assert planned - back <= READ_PLANNED_WITHIN, (
            f"the next Teams read was planned {planned - back:.1f} s after the network returned; expected "
            f"within one poll interval ({READ_PLANNED_WITHIN:.0f} s)\n{world.story()}"
        )
        reads = [
            entry.at
            for entry in world.requests("graph", since=planned - 1)
            if entry.method == "GET" and entry.path.endswith("/me/presence") and entry.status == 200
        ]
        written = patches[-1].at
        before_write = [at for at in reads if at < written]
        assert 1 <= len(before_write) <= 2, f"reads between the plan and the write: {before_write}\n{world.story()}"
        assert before_write[-1] - before_write[0] >= DWELL or len(before_write) == 1, world.story()
        for service in ("graph", "genesys"):
            tries = sum(entry.service == service for entry in aborted)
            assert tries <= most_requests_while_offline(outage), f"{tries} {service} requests in {label} offline"
        assert len(patches) == 1, f"one write expected after the network returned, saw {len(patches)}"
