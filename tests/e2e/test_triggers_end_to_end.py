"""Each local trigger end to end: the simulator's workstation (lock, microphone) and the agent's
calendar (Graph calendarView, Calendars.ReadBasic consented in the browser) make the real agent read
Teams, and the change reaches Genesys long before the timer would have found it.

With triggers the timer is only a safety net (every 300 s at least), so a write inside that time
after the change, with the engine saying which signal asked for the read, is the trigger's work.
The clock runs at 20× here: the 300 s margin is 15 real seconds, far beyond any scheduling delay.
"""

from __future__ import annotations

import pytest

from tests.e2e.harness import World, running_world
from tray_agent.config.settings import Timing
from tray_agent.core.triggers import SignalKind, TriggerTiming
from tray_agent.demo.runner import DAY_START
from tray_agent.simulator.state import SimulatorState

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SPEED = 20.0
TIMER_AT_LEAST = TriggerTiming().timer_interval
TIMING = Timing()  # the shipped timing: with triggers, the timer is only a safety net


def first_write_at_or_after(world: World, label: str, since: float) -> float:
    def find(state: SimulatorState) -> float:
        for event in state.genesys.events:
            written = event.kind == "presence_changed" and event.cause == "api" and event.at >= since
            if written and state.definitions[event.detail["new_definition_id"]].label == label:
                return float(event.at)
        raise AssertionError(f"no write of {label} since {since}")

    return float(world.act(find))


def engine_said(world: World, text: str) -> bool:
    return any(text in entry.text for entry in world.agent.engine.history)


async def test_locking_the_pc_turns_genesys_away_and_unlocking_brings_the_agent_back() -> None:
    async with running_world(speed=SPEED, timing=TIMING, local_signals=True) as world:
        await world.shows("Available")
        locked_at = world.clock.now()
        world.act(lambda state: state.workstation.lock())
        await world.shows("Away", within=TIMER_AT_LEAST)
        assert first_write_at_or_after(world, "Away", locked_at) - locked_at < TIMER_AT_LEAST
        assert engine_said(world, SignalKind.SESSION_LOCKED.value)
        unlocked_at = world.clock.now()
        world.act(lambda state: state.workstation.unlock())
        await world.shows("Available", within=TIMER_AT_LEAST)
        assert first_write_at_or_after(world, "Available", unlocked_at) - unlocked_at < TIMER_AT_LEAST
        assert world.violations() == []


async def test_an_ad_hoc_call_with_the_microphone_shows_busy_and_its_end_restores_available() -> None:
    async with running_world(speed=SPEED, timing=TIMING, local_signals=True) as world:
        await world.shows("Available")
        started = world.clock.now()
        world.act(lambda state: (state.teams.set("Busy", "InACall"), state.workstation.set_devices(microphone=True)))
        await world.shows("Busy", within=TIMER_AT_LEAST)
        assert first_write_at_or_after(world, "Busy", started) - started < TIMER_AT_LEAST
        assert engine_said(world, SignalKind.DEVICE_IN_USE.value)
        ended = world.clock.now()
        world.act(
            lambda state: (state.teams.set("Available", "Available"), state.workstation.set_devices(microphone=False))
        )
        await world.shows("Available", within=TIMER_AT_LEAST)
        assert first_write_at_or_after(world, "Available", ended) - ended < TIMER_AT_LEAST


async def test_the_microphone_alone_reads_teams_but_writes_nothing() -> None:
    async with running_world(speed=SPEED, timing=TIMING, local_signals=True) as world:
        await world.shows("Available")
        writes = world.api_writes()
        world.act(lambda state: state.workstation.set_devices(camera=True))  # another app took the camera
        await world.eventually(lambda: engine_said(world, SignalKind.DEVICE_IN_USE.value), 60, "the signal")
        await world.keeps_showing("Available", during=60)
        assert world.api_writes() == writes


async def test_a_calendar_meeting_shows_meeting_at_its_start_and_its_end_restores_available() -> None:
    start = DAY_START + 1800.0 + 120.0  # 08:32: off the quarter hours (not spread like a fleet's storm)
    end = start + 600.0
    meeting = {"subject": "Coaching", "start": start, "end": end, "attendees": 2}
    async with running_world(speed=SPEED, timing=TIMING, local_signals=True, calendar=[meeting]) as world:
        await world.shows("Available")
        assert world.clock.now() < start - 60, "the world took too long to start for this story"
        await world.shows("Meeting", within=start - world.clock.now() + TIMER_AT_LEAST)
        assert first_write_at_or_after(world, "Meeting", start) - start < TIMER_AT_LEAST
        assert engine_said(world, SignalKind.MEETING_STARTS.value)
        await world.shows("Available", within=end - world.clock.now() + TIMER_AT_LEAST)
        assert first_write_at_or_after(world, "Available", end) - end < TIMER_AT_LEAST
        assert engine_said(world, SignalKind.MEETING_ENDS.value)
        consented = world.act(lambda state: state.request_log)
        assert any("calendarView" in entry.path for entry in consented)


async def test_without_the_users_consent_the_calendar_stays_off_and_sign_in_is_unaffected() -> None:
    meeting = {"subject": "Coaching", "start": DAY_START + 3600.0, "end": DAY_START + 4200.0}
    async with running_world(speed=SPEED, timing=TIMING, local_signals=True, calendar=None) as world:
        await world.shows("Available")
        assert "calendar" not in world.agent.engine.signal_sources  # off by setting: never asked
        world.act(lambda state: state.workstation.set_calendar([meeting]))
        assert world.agent.microsoft.signed_in
