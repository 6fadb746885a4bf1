"""Sync settings saved while the agent runs (the window's mapping editor) apply at once, from the
next Teams change: saving never writes by itself and never overwrites a status chosen by hand."""

from __future__ import annotations

from dataclasses import replace

from tests.core.org import TEAMS_AVAILABLE
from tests.core.world import World
from tray_agent.core.mapping import PresenceMapping
from tray_agent.core.rules import SyncConfig

INTERVAL = 60.0


def mapping(**entries: str) -> SyncConfig:
    return SyncConfig(mapping=PresenceMapping.build(entries))


def test_the_next_teams_change_follows_the_new_mapping() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.saves_settings(mapping(InAMeeting="Training"), at=150)
    world.teams_shows("Busy", "InAMeeting", at=200)
    world.run_until(200 + 3 * INTERVAL)
    assert world.written == ["Training"]


def test_saving_a_mapping_for_what_teams_shows_now_writes_nothing_by_itself() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.teams_shows("Busy", "InAMeeting", at=200)
    world.run_until(200 + 3 * INTERVAL)
    assert world.written == ["Meeting"]
    world.saves_settings(mapping(InAMeeting="Training"), at=500)
    world.run_until(500 + 5 * INTERVAL)
    assert world.written == ["Meeting"]  # the meeting under way is left as it is


def test_saving_the_mapping_never_overwrites_a_status_the_agent_chose() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.agent_sets("Break", at=150)
    world.saves_settings(mapping(Available="Training"), at=200)
    world.run_until(200 + 5 * INTERVAL)
    assert world.written == [] and world.shows == "Break"


def test_a_change_waiting_for_its_confirming_reading_is_confirmed_under_the_new_mapping() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    read_at = world.next_read_at
    world.teams_shows("Busy", "InAMeeting", at=read_at - 1)
    world.run_until(read_at + 1)  # one reading saw the meeting: it waits for a second one
    assert world.written == []
    world.saves_settings(mapping(InAMeeting="Training"), at=read_at + 2)
    world.run_until(read_at + 3 * INTERVAL)
    assert world.written == ["Training"]


def test_a_new_dont_sync_entry_leaves_genesys_alone_at_the_next_change() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.saves_settings(mapping(InAMeeting=""), at=150)
    world.teams_shows("Busy", "InAMeeting", at=200)
    world.run_until(200 + 3 * INTERVAL)
    assert world.written == []


def test_with_restore_off_the_end_of_a_meeting_follows_the_mapping_instead_of_the_earlier_status() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.agent_sets("Training", at=150)
    world.saves_settings(replace(SyncConfig(), restore_earlier=False), at=160)
    world.teams_shows("Busy", "InAMeeting", at=200)
    world.run_until(200 + 3 * INTERVAL)
    world.teams_shows("Available", at=900)
    world.run_until(1100)
    assert world.written == ["Meeting", "Available"]
    assert not world.writes[-1].write.restore


def test_with_restore_on_the_earlier_status_comes_back() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.agent_sets("Training", at=150)
    world.teams_shows("Busy", "InAMeeting", at=200)
    world.run_until(200 + 3 * INTERVAL)
    world.teams_shows("Available", at=900)
    world.run_until(1100)
    assert world.written == ["Meeting", "Training"]
