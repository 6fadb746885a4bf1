"""The sync decision (tray_agent/core/decide.py): one table per rule of its docstring, then stories.

The fixture org and the engine-like driver are in ``sync_world.py``. Times are seconds; the default
config debounces for 10 s, re-reads Genesys after 120 s and allows 8 writes per 10 minutes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from sync_world import (
    CATALOG,
    TEAMS_AVAILABLE,
    TEAMS_AWAY,
    TEAMS_BUSY,
    TEAMS_IN_A_CALL,
    TEAMS_IN_A_MEETING,
    TEAMS_OFFLINE,
    UNCHANGED,
    Driver,
    Written,
    catalog_with_deactivated,
    catalog_without,
    definition,
    drive,
    genesys,
    on_queue,
    teams,
)

from tray_agent.core.decide import SyncConfig, SyncMemory, SyncStatus, Write, decide
from tray_agent.core.mapping import DEFAULT_MAPPING, PresenceMapping
from tray_agent.core.presence import GenesysState, PresenceCatalog, TeamsPresence

DWELL = SyncConfig().dwell_seconds
MEETING_STARTS = 100.0
MEETING_WRITTEN = MEETING_STARTS + DWELL
MEETING_ENDS = 1000.0
MEETING_END_SETTLED = MEETING_ENDS + DWELL


def write_of(name: str, signal: str, *, restore: bool = False) -> Write:
    return Write(definition(name).id, signal, restore)


def in_a_meeting_after(
    pre: str,
    *,
    teams_before: TeamsPresence = TEAMS_AVAILABLE,
    synced_on: str = "Available",
    config: SyncConfig | None = None,
) -> Driver:
    """Synced on ``synced_on``; the agent picks ``pre`` by hand (if different); a meeting starts and is mirrored."""
    d = Driver.synced(teams_before, synced_on, config=config)
    if pre != synced_on:
        d.agent_sets(pre, at=20)
    d.teams_shows(TEAMS_IN_A_MEETING, at=MEETING_STARTS)
    d.wait(at=MEETING_WRITTEN)
    assert d.written == ["Meeting"] and d.shows == "Meeting", d.story()
    return d


# =====================================================================================================
# Rule 1. No Genesys state, or state older than max_genesys_staleness → hold (never write blind).
# =====================================================================================================


@pytest.mark.parametrize(
    ("teams_now", "genesys_now"),
    [
        pytest.param(TEAMS_IN_A_MEETING, None, id="no Genesys state"),
        pytest.param(None, genesys("Available", at=110), id="no Teams state"),
        pytest.param(None, None, id="neither"),
    ],
)
def test_rule1_without_both_states_nothing_is_written(
    teams_now: TeamsPresence | None, genesys_now: GenesysState | None
) -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    d.teams_shows(TEAMS_IN_A_MEETING, at=MEETING_STARTS)
    decision = d.step(MEETING_WRITTEN, teams=teams_now, genesys=genesys_now)
    assert decision.status is SyncStatus.WAITING
    assert decision.write is None


@pytest.mark.parametrize(
    ("age", "writes"),
    [
        pytest.param(0.0, True, id="just confirmed"),
        pytest.param(60.0, True, id="confirmed a minute ago"),
        pytest.param(120.0, True, id="exactly max_genesys_staleness is recent enough"),
        pytest.param(120.5, False, id="just older than max_genesys_staleness"),
        pytest.param(3600.0, False, id="an hour old"),
    ],
)
def test_rule1_a_genesys_state_older_than_max_staleness_is_re_read_before_acting(age: float, writes: bool) -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    d.teams_shows(TEAMS_IN_A_MEETING, at=MEETING_STARTS)
    seen = genesys("Available", at=MEETING_WRITTEN + 300 - age)
    decision = d.step(MEETING_WRITTEN + 300, genesys=seen)
    if writes:
        assert decision.status is SyncStatus.WRITING
        assert decision.write == write_of("Meeting", "Meeting|Busy")
    else:
        assert decision.status is SyncStatus.WAITING
        assert decision.write is None


def test_rule1_a_stale_genesys_state_holds_even_when_it_looks_on_queue() -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    decision = d.step(500, genesys=on_queue(at=0))
    assert decision.status is SyncStatus.WAITING


# =====================================================================================================
# Rule 2. If Genesys no longer shows the status we wrote, someone else changed it: the episode ends
#         and we own nothing (so nothing of theirs is ever "restored" over).
# =====================================================================================================


@pytest.mark.parametrize(
    ("picked", "written_at_meeting_end"),
    [
        pytest.param("Available", [], id="agent picks Available: Teams' Available is already shown"),
        pytest.param("Away", [write_of("Available", "Available")], id="agent picks Away"),
        pytest.param("Lunch", [write_of("Available", "Available")], id="agent picks a secondary"),
        pytest.param("Training", [write_of("Available", "Available")], id="agent picks Training"),
        pytest.param("Busy", [write_of("Available", "Available")], id="agent picks Busy"),
    ],
)
def test_rule2_once_someone_else_changes_our_write_we_own_nothing_and_restore_nothing(
    picked: str, written_at_meeting_end: list[Write]
) -> None:
    d = in_a_meeting_after("Break")
    decision = d.agent_sets(picked, at=500)
    assert decision.status is SyncStatus.MANUAL
    assert decision.write is None
    assert decision.memory.owned_presence_id is None
    assert decision.memory.restore_presence_id is None

    d.teams_shows(TEAMS_AVAILABLE, at=MEETING_ENDS)
    d.wait(at=MEETING_END_SETTLED + 600)
    assert [w.write for w in d.writes_since(MEETING_ENDS)] == written_at_meeting_end, d.story()
    assert "Break" not in d.written


# =====================================================================================================
# Rule 3. Hands off while On Queue (routing ≠ OFF_QUEUE or presence On Queue), Out of Office, or
#         Offline in Genesys. Teams changes seen meanwhile are acknowledged, so the status the agent
#         lands on when hands-off ends is theirs.
# =====================================================================================================

StateAt = Callable[[float], GenesysState]
HANDS_OFF = [
    pytest.param(lambda at: on_queue(at=at, routing="IDLE"), SyncStatus.ON_QUEUE, id="On Queue, idle"),
    pytest.param(lambda at: on_queue(at=at, routing="INTERACTING"), SyncStatus.ON_QUEUE, id="On Queue, interacting"),
    pytest.param(
        lambda at: on_queue(at=at, routing="OFF_QUEUE"),
        SyncStatus.ON_QUEUE,
        id="presence On Queue before routing catches up",
    ),
    pytest.param(
        lambda at: genesys("Available", at=at, routing="INTERACTING"),
        SyncStatus.ON_QUEUE,
        id="routing INTERACTING under Available",
    ),
    pytest.param(
        lambda at: genesys("Busy", at=at, routing="COMMUNICATING"),
        SyncStatus.ON_QUEUE,
        id="routing COMMUNICATING under Busy",
    ),
    pytest.param(
        lambda at: genesys("Available", at=at, routing="NOT_RESPONDING"),
        SyncStatus.ON_QUEUE,
        id="routing NOT_RESPONDING",
    ),
    pytest.param(
        lambda at: genesys("Available", at=at, out_of_office=True), SyncStatus.OUT_OF_OFFICE, id="Out of Office"
    ),
    pytest.param(
        lambda at: genesys("Busy", at=at, out_of_office=True), SyncStatus.OUT_OF_OFFICE, id="Out of Office over Busy"
    ),
    pytest.param(lambda at: genesys("Offline", at=at), SyncStatus.GENESYS_OFFLINE, id="Offline"),
]


@pytest.mark.parametrize(("hands_off_state", "status"), HANDS_OFF)
def test_rule3_hands_off_means_no_write_whatever_teams_does(hands_off_state: StateAt, status: SyncStatus) -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    first = d.step(50, genesys=hands_off_state(50))
    assert first.status is status and status.hands_off
    for at, value in [(100, TEAMS_IN_A_MEETING), (300, TEAMS_IN_A_CALL), (500, TEAMS_AWAY), (700, TEAMS_BUSY)]:
        d.step(at, teams=value, genesys=hands_off_state(at))
        decision = d.step(at + 60, genesys=hands_off_state(at + 60))
        assert decision.status is status
        assert decision.write is None
    assert d.writes == []


@pytest.mark.parametrize(("hands_off_state", "status"), HANDS_OFF)
def test_rule3_after_hands_off_the_status_the_agent_lands_on_is_theirs_until_teams_changes(
    hands_off_state: StateAt, status: SyncStatus
) -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    d.step(50, genesys=hands_off_state(50))
    d.step(100, teams=TEAMS_IN_A_MEETING, genesys=hands_off_state(100))
    d.step(200, genesys=hands_off_state(200))

    landed = d.step(600, genesys=genesys("Away", at=600))
    assert landed.status is SyncStatus.MANUAL
    assert d.wait(at=5000).write is None
    assert d.writes == [] and d.shows == "Away"

    d.teams_shows(TEAMS_AVAILABLE, at=6000)
    d.wait(at=6000 + DWELL)
    assert d.written == ["Available"], d.story()


@pytest.mark.parametrize(("hands_off_state", "status"), HANDS_OFF)
def test_rule3_hands_off_ends_the_episode_so_nothing_is_restored_afterwards(
    hands_off_state: StateAt, status: SyncStatus
) -> None:
    d = in_a_meeting_after("Break")
    d.step(500, genesys=hands_off_state(500))
    back = d.step(600, genesys=genesys("Meeting", at=600))  # e.g. Genesys puts back the status from before the queue
    assert back.status is SyncStatus.MANUAL
    d.teams_shows(TEAMS_AVAILABLE, at=MEETING_ENDS)
    d.wait(at=MEETING_END_SETTLED)
    assert [w.write for w in d.writes_since(MEETING_ENDS)] == [write_of("Available", "Available")], d.story()


def test_rule3_when_hands_off_ends_while_teams_is_unreadable_teams_is_read_before_anything_else() -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    d.goes_on_queue(at=50)
    d.teams_is_unknown(at=60)
    assert d.goes_off_queue(at=300, lands_on="Break").status is SyncStatus.WAITING
    assert d.teams_shows(TEAMS_IN_A_MEETING, at=400).status is SyncStatus.MANUAL  # what Teams shows now is not news
    d.wait(at=2000)
    assert d.writes == [] and d.shows == "Break"
    d.teams_shows(TEAMS_AVAILABLE, at=3000)
    d.wait(at=3000 + DWELL)
    assert d.written == ["Available"], d.story()


@pytest.mark.parametrize("routing", ["", "UNKNOWN_NEW_STATUS"])
def test_rule3_a_routing_status_other_than_off_queue_is_never_taken_as_off_queue(routing: str) -> None:
    # Rule 3 says hands off while "routing status ≠ OFF_QUEUE"; an empty/unread routing status is not OFF_QUEUE.
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    d.teams_shows(TEAMS_IN_A_MEETING, at=MEETING_STARTS)
    decision = d.step(MEETING_WRITTEN, genesys=genesys("Available", at=MEETING_WRITTEN, routing=routing))
    assert decision.write is None, decision


# =====================================================================================================
# Rule 4. Paused by the agent, or the loop breaker tripped → hold.
# =====================================================================================================


@pytest.mark.parametrize(
    ("hold", "status", "recheck_at"),
    [
        pytest.param(lambda d: d.pause(at=50), SyncStatus.PAUSED, None, id="paused until resumed"),
        pytest.param(lambda d: d.pause(at=50, until=3000), SyncStatus.PAUSED, 3000, id="paused for a while"),
        pytest.param(
            lambda d: setattr(d, "memory", replace(d.memory, tripped_until=4000.0)),
            SyncStatus.LOOP_BREAKER,
            4000,
            id="loop breaker tripped",
        ),
    ],
)
def test_rule4_paused_or_tripped_means_hold(
    hold: Callable[[Driver], object], status: SyncStatus, recheck_at: float | None
) -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    hold(d)
    d.teams_shows(TEAMS_IN_A_MEETING, at=MEETING_STARTS)
    for at in (MEETING_WRITTEN, 500, 2999):
        decision = d.step(at)
        assert decision.status is status
        assert decision.write is None
        assert decision.recheck_at == recheck_at
    assert d.writes == []


def test_rule4_a_timed_pause_ends_by_itself_and_the_missed_change_is_then_acted_on() -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    d.pause(at=50, until=3000)
    d.teams_shows(TEAMS_IN_A_MEETING, at=MEETING_STARTS)
    d.wait(at=2999)
    assert d.writes == []
    d.wait(at=3000 + DWELL)
    assert d.written == ["Meeting"], d.story()


# =====================================================================================================
# Rule 5. Sync is edge-triggered on Teams: only a change of what Teams asks for (its mapped target)
#         can cause a write. A status the agent sets by hand therefore wins until Teams changes again.
#         The first look at Teams after start-up is a change only if Teams is not "free" (not
#         Available): starting the app never overrides the agent's status with Available.
# =====================================================================================================


@pytest.mark.parametrize(
    ("teams_at_start", "genesys_at_start", "written"),
    [
        pytest.param(TEAMS_AVAILABLE, "Break", [], id="Teams free: the agent's Break stays"),
        pytest.param(TEAMS_AVAILABLE, "Lunch", [], id="Teams free: the agent's secondary stays"),
        pytest.param(TEAMS_AVAILABLE, "Busy", [], id="Teams free: the agent's Busy stays"),
        pytest.param(teams("available", "AVAILABLE"), "Away", [], id="Teams free in another casing"),
        pytest.param(TEAMS_IN_A_MEETING, "Available", ["Meeting"], id="a meeting in progress is mirrored"),
        pytest.param(TEAMS_IN_A_MEETING, "Break", ["Meeting"], id="a meeting in progress beats Break"),
        pytest.param(TEAMS_AWAY, "Available", ["Away"], id="Teams Away is mirrored"),
        pytest.param(TEAMS_OFFLINE, "Break", [], id="Teams offline is not synced"),
        pytest.param(TEAMS_IN_A_MEETING, "Meeting", [], id="already shown"),
    ],
)
def test_rule5_at_start_up_only_a_teams_state_that_is_not_free_counts_as_a_change(
    teams_at_start: TeamsPresence, genesys_at_start: str, written: list[str]
) -> None:
    d = drive([(teams_at_start, genesys(genesys_at_start, at=0), 0)])
    d.wait(at=3600)
    assert d.written == written, d.story()
    assert d.shows == (written[-1] if written else genesys_at_start)


def test_rule5_after_a_free_start_up_the_next_teams_change_is_synced_and_later_restored() -> None:
    d = drive([(TEAMS_AVAILABLE, genesys("Break", at=0), 0)])
    d.teams_shows(TEAMS_IN_A_MEETING, at=MEETING_STARTS)
    d.teams_shows(TEAMS_AVAILABLE, at=MEETING_ENDS)
    d.wait(at=5000)
    assert d.written == ["Meeting", "Break"], d.story()


def test_rule5_which_teams_targets_are_free_is_configurable() -> None:
    config = SyncConfig(restore_signals=("Available", "Away"))
    d = drive([(TEAMS_AWAY, genesys("Break", at=0), 0)], config=config)
    d.wait(at=3600)
    assert d.writes == []


def test_rule5_sync_now_at_start_up_applies_a_free_teams_state_too() -> None:
    d = drive([(TEAMS_AVAILABLE, genesys("Break", at=0), 0)])
    d.wait(at=600)
    assert d.sync_now(at=600).write == write_of("Available", "Available")


@pytest.mark.parametrize(
    ("teams_before", "synced_on", "teams_later"),
    [
        pytest.param(TEAMS_AVAILABLE, "Available", TEAMS_AVAILABLE, id="Teams unchanged"),
        pytest.param(TEAMS_AVAILABLE, "Available", teams("available", "AVAILABLE"), id="Teams re-cased"),
        pytest.param(TEAMS_BUSY, "Busy", TEAMS_IN_A_CALL, id="Busy → in a call (both Busy)"),
        pytest.param(TEAMS_BUSY, "Busy", teams("DoNotDisturb", "Presenting"), id="Busy → presenting (both Busy)"),
        pytest.param(TEAMS_BUSY, "Busy", teams("DoNotDisturb", "Focusing"), id="Busy → focusing (both Busy)"),
        pytest.param(TEAMS_AWAY, "Away", teams("BeRightBack"), id="Away → be right back (both Away)"),
    ],
)
def test_rule5_a_status_the_agent_sets_by_hand_wins_while_teams_asks_for_the_same_target(
    teams_before: TeamsPresence, synced_on: str, teams_later: TeamsPresence
) -> None:
    d = Driver.synced(teams_before, synced_on)
    manual = d.agent_sets("Break", at=50)
    assert manual.status is SyncStatus.MANUAL
    d.teams_shows(teams_later, at=100)
    for at in (110, 1000, 86_400):
        decision = d.wait(at=at)
        assert decision.status is SyncStatus.MANUAL
        assert decision.write is None
    assert d.writes == [] and d.shows == "Break"


def test_a_status_the_agent_sets_by_hand_wins_until_teams_changes_again() -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    d.agent_sets("Break", at=50)
    d.wait(at=5000)
    assert d.writes == []
    d.teams_shows(TEAMS_IN_A_MEETING, at=6000)
    d.wait(at=6000 + DWELL)
    assert d.written == ["Meeting"]


def test_a_manual_change_seen_while_teams_is_unknown_acknowledges_the_next_teams_reading() -> None:
    # The engine drops its Teams reading when someone else changes Genesys and re-reads it at once:
    # what that read shows was already there when the agent chose, so it must not override the choice.
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    d.teams_is_unknown(at=100)
    d.agent_sets("Training", at=101)
    d.teams_shows(TEAMS_IN_A_MEETING, at=102)
    d.wait(at=102 + DWELL)
    assert d.writes == []
    d.teams_shows(TEAMS_AVAILABLE, at=500)  # a later Teams change does count
    d.wait(at=500 + DWELL)
    assert d.written == ["Available"]


def test_a_manual_status_that_teams_comes_to_agree_with_is_no_longer_reported_as_set_by_hand() -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    d.agent_sets("Away", at=50)
    assert d.wait(at=100).status is SyncStatus.MANUAL
    d.teams_shows(TEAMS_AWAY, at=200)
    d.wait(at=200 + DWELL)
    assert d.writes == []
    assert d.wait(at=1000).status is SyncStatus.SYNCED


@pytest.mark.parametrize("write_fails", [False, True], ids=["while Teams' change settles", "while our write fails"])
def test_rule5_a_status_set_by_hand_after_teams_changed_wins_over_that_change(write_fails: bool) -> None:
    # Teams changes first, the agent picks a status by hand afterwards: the agent's choice is the later one.
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    d.teams_shows(TEAMS_IN_A_MEETING, at=MEETING_STARTS)
    if write_fails:
        d.writes_fail = True
        assert d.wait(at=MEETING_WRITTEN).write is not None
        d.writes_fail = False
        d.agent_sets("Break", at=MEETING_WRITTEN + 30)
    else:
        d.agent_sets("Break", at=MEETING_STARTS + 5)
    d.wait(at=MEETING_STARTS + 600)
    assert d.writes == [], d.story()
    assert d.shows == "Break"


# =====================================================================================================
# Rule 6. A change must be stable for dwell_seconds (debounce) before we act on it.
# =====================================================================================================


@pytest.mark.parametrize(
    ("held_for", "written_at"),
    [
        pytest.param(0.0, None, id="an instant"),
        pytest.param(5.0, None, id="half the dwell"),
        pytest.param(9.99, None, id="just under the dwell"),
        pytest.param(10.0, 110.0, id="exactly the dwell"),
        pytest.param(60.0, 110.0, id="a minute"),
    ],
)
def test_rule6_a_teams_change_is_written_only_once_it_has_held_for_the_dwell(
    held_for: float, written_at: float | None
) -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    first = d.teams_shows(TEAMS_BUSY, at=100)
    assert first.status is SyncStatus.DEBOUNCING
    assert first.write is None
    assert first.recheck_at == 100 + DWELL
    d.teams_shows(TEAMS_AVAILABLE, at=100 + held_for)
    d.wait(at=1000)
    busy_writes = [w.at for w in d.writes if w.write.signal == "Busy"]
    assert busy_writes == ([written_at] if written_at is not None else []), d.story()


def test_rule6_every_new_teams_target_restarts_the_dwell() -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    d.teams_shows(TEAMS_BUSY, at=100)
    d.teams_shows(TEAMS_AWAY, at=105)
    decision = d.teams_shows(TEAMS_BUSY, at=108)
    assert decision.status is SyncStatus.DEBOUNCING
    assert decision.recheck_at == 108 + DWELL
    d.wait(at=1000)
    assert [(w.at, d.label_of(w.presence_id)) for w in d.writes] == [(118, "Busy")]


def test_rule6_a_same_target_teams_change_does_not_restart_the_dwell() -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    d.teams_shows(TEAMS_BUSY, at=100)
    decision = d.teams_shows(TEAMS_IN_A_CALL, at=105)  # still Busy
    assert decision.recheck_at == 100 + DWELL
    d.wait(at=1000)
    assert [(w.at, d.label_of(w.presence_id)) for w in d.writes] == [(110, "Busy")]


def test_rule6_a_teams_change_that_reverted_is_debounced_afresh_when_it_comes_back() -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    d.teams_shows(TEAMS_BUSY, at=100)  # a 3-second blip …
    d.teams_shows(TEAMS_AVAILABLE, at=103)
    decision = d.teams_shows(TEAMS_BUSY, at=500)  # … and, minutes later, the same change again
    assert decision.status is SyncStatus.DEBOUNCING, decision
    assert decision.write is None
    assert decision.recheck_at == 500 + DWELL


# =====================================================================================================
# Rule 7. "Don't sync" targets (Offline, Unknown by default) leave Genesys alone.
# =====================================================================================================

DONT_SYNC_STATES = [
    pytest.param(teams("Offline", "OffWork"), id="appear offline"),
    pytest.param(teams("Offline"), id="Offline"),
    pytest.param(teams("PresenceUnknown"), id="PresenceUnknown"),
    pytest.param(teams("AvailableIdle"), id="AvailableIdle"),
    pytest.param(teams("BusyIdle"), id="BusyIdle"),
    pytest.param(teams("Available", "Inactive"), id="Available, inactive"),
    pytest.param(teams("OutOfOffice"), id="OutOfOffice"),
    pytest.param(teams("SomethingNew"), id="a value Graph adds later"),
]


@pytest.mark.parametrize("dont_sync", DONT_SYNC_STATES)
@pytest.mark.parametrize("genesys_shows", ["Available", "Busy", "Break"])
def test_rule7_a_dont_sync_teams_state_leaves_genesys_alone(dont_sync: TeamsPresence, genesys_shows: str) -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    if genesys_shows != "Available":
        d.agent_sets(genesys_shows, at=50)
    d.teams_shows(dont_sync, at=100)
    decision = d.wait(at=100 + DWELL)
    assert decision.status is SyncStatus.NOT_SYNCED_STATE
    d.wait(at=5000)
    assert d.writes == [] and d.shows == genesys_shows


@pytest.mark.parametrize("dont_sync", DONT_SYNC_STATES)
def test_rule7_the_not_synced_status_lasts_as_long_as_teams_stays_in_that_state(dont_sync: TeamsPresence) -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    d.teams_shows(dont_sync, at=100)
    d.wait(at=100 + DWELL)
    later = d.wait(at=200)
    assert later.status is SyncStatus.NOT_SYNCED_STATE, later


def test_rule7_coming_back_from_a_dont_sync_state_to_what_genesys_shows_writes_nothing() -> None:
    d = Driver.synced(TEAMS_BUSY, "Busy")
    d.teams_shows(TEAMS_OFFLINE, at=100)
    d.teams_shows(TEAMS_BUSY, at=500)
    assert d.wait(at=1000).status is SyncStatus.SYNCED
    assert d.writes == []


def test_a_target_the_org_does_not_have_is_reported_as_a_mapping_error_and_not_written() -> None:
    config = SyncConfig(mapping=PresenceMapping.build({"InAMeeting": "Webinar|Seminar"}))
    d = Driver.synced(TEAMS_AVAILABLE, "Available", config=config)
    d.teams_shows(TEAMS_IN_A_MEETING, at=100)
    assert d.wait(at=100 + DWELL).status is SyncStatus.MAPPING_ERROR
    assert d.writes == []


def test_the_mapping_error_status_lasts_as_long_as_teams_asks_for_that_target() -> None:
    config = SyncConfig(mapping=PresenceMapping.build({"InAMeeting": "Webinar|Seminar"}))
    d = Driver.synced(TEAMS_AVAILABLE, "Available", config=config)
    d.teams_shows(TEAMS_IN_A_MEETING, at=100)
    d.wait(at=100 + DWELL)
    later = d.wait(at=200)
    assert later.status is SyncStatus.MAPPING_ERROR, later


# =====================================================================================================
# Rule 8. When the Teams state that caused our writes ends — Teams returns to what it asked for before
#         our first write, or to a "free" target (restore_signals, default Available) — and our write is
#         still current, the agent's earlier status is restored instead of the mapped one. A chain of
#         busy states (meeting → call) keeps the original restore point.
# =====================================================================================================


@pytest.mark.parametrize(
    ("teams_before", "synced_on", "pre"),
    [
        pytest.param(TEAMS_AVAILABLE, "Available", "Available", id="Available, as Teams asked"),
        pytest.param(TEAMS_AVAILABLE, "Available", "Break", id="Break: restore beats the mapped Available"),
        pytest.param(TEAMS_AVAILABLE, "Available", "Lunch", id="a secondary presence"),
        pytest.param(TEAMS_AVAILABLE, "Available", "Training", id="Training"),
        pytest.param(TEAMS_AVAILABLE, "Available", "Idle", id="Idle"),
        pytest.param(TEAMS_AWAY, "Away", "Away", id="Away, as Teams asked"),
        pytest.param(TEAMS_AWAY, "Away", "Meal", id="Meal while Teams is Away"),
    ],
)
def test_rule8_when_the_meeting_ends_the_agents_earlier_status_is_restored(
    teams_before: TeamsPresence, synced_on: str, pre: str
) -> None:
    d = in_a_meeting_after(pre, teams_before=teams_before, synced_on=synced_on)
    d.teams_shows(teams_before, at=MEETING_ENDS)
    d.wait(at=MEETING_END_SETTLED)
    signal = PresenceMapping.build().signal_for(teams_before)
    assert d.writes_since(MEETING_ENDS) == [Written(MEETING_END_SETTLED, write_of(pre, signal, restore=True))]
    assert d.shows == pre
    assert d.memory.owned_presence_id is None and d.memory.restore_presence_id is None


@pytest.mark.parametrize(
    ("busy_with", "restored"),
    [
        pytest.param(TEAMS_IN_A_CALL, True, id="a call"),
        pytest.param(teams("DoNotDisturb", "Presenting"), True, id="presenting"),
        pytest.param(teams("DoNotDisturb"), True, id="do not disturb"),
    ],
)
def test_rule8_restore_works_for_any_episode_not_only_meetings(busy_with: TeamsPresence, restored: bool) -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    d.agent_sets("Break", at=20)
    d.teams_shows(busy_with, at=100)
    d.teams_shows(TEAMS_AVAILABLE, at=1000)
    d.wait(at=2000)
    assert d.written == ["Busy", "Break"], d.story()
    assert d.writes[-1].write.restore is restored


@pytest.mark.parametrize(
    ("teams_after", "written_after", "shows"),
    [
        pytest.param(TEAMS_AWAY, ["Away"], "Away", id="Away: the mapped status, no restore"),
        pytest.param(TEAMS_BUSY, ["Busy"], "Busy", id="Busy: the mapped status, no restore"),
        pytest.param(TEAMS_OFFLINE, [], "Meeting", id="offline: don't sync, nothing written"),
    ],
)
def test_rule8_a_teams_state_that_is_neither_the_earlier_one_nor_free_does_not_restore(
    teams_after: TeamsPresence, written_after: list[str], shows: str
) -> None:
    d = in_a_meeting_after("Break")
    d.teams_shows(teams_after, at=MEETING_ENDS)
    d.wait(at=MEETING_END_SETTLED + 100)
    assert [d.label_of(w.presence_id) for w in d.writes_since(MEETING_ENDS)] == written_after
    assert not any(w.write.restore for w in d.writes)
    assert d.shows == shows


@pytest.mark.parametrize(
    ("busy_states", "restore_signals", "written_last"),
    [
        pytest.param([TEAMS_IN_A_MEETING], ("Available",), "Break", id="Away → meeting → Available"),
        pytest.param(
            [TEAMS_IN_A_MEETING, TEAMS_IN_A_CALL], ("Available",), "Break", id="Away → meeting → call → Available"
        ),
        pytest.param([TEAMS_IN_A_MEETING], (), "Available", id="no free targets: Available is only mapped"),
    ],
)
def test_rule8_teams_becoming_free_also_ends_the_episode(
    busy_states: list[TeamsPresence], restore_signals: tuple[str, ...], written_last: str
) -> None:
    d = Driver.synced(TEAMS_AWAY, "Away", config=SyncConfig(restore_signals=restore_signals))
    d.agent_sets("Break", at=20)
    for i, busy in enumerate(busy_states):
        d.teams_shows(busy, at=100 + 300 * i)
    d.teams_shows(TEAMS_AVAILABLE, at=MEETING_ENDS)
    d.wait(at=5000)
    assert d.written[-1] == written_last, d.story()
    assert d.writes[-1].write.restore is (written_last == "Break")


def test_rule8_a_meeting_mirrored_at_start_up_gives_back_the_status_the_agent_had_then() -> None:
    d = drive([(TEAMS_IN_A_MEETING, genesys("Break", at=0), 0)])
    d.teams_shows(TEAMS_AVAILABLE, at=MEETING_ENDS)
    d.wait(at=5000)
    assert d.written == ["Meeting", "Break"], d.story()
    assert d.writes[-1].write.restore


# =====================================================================================================
# Rule 9. Never write when the target equals the current status.
# =====================================================================================================


@pytest.mark.parametrize(
    ("teams_now", "genesys_shows", "catalog", "mapping"),
    [
        pytest.param(TEAMS_AVAILABLE, "Available", None, None, id="Available already"),
        pytest.param(TEAMS_BUSY, "Busy", None, None, id="Busy already"),
        pytest.param(TEAMS_AWAY, "Away", None, None, id="Away already"),
        pytest.param(teams("BeRightBack"), "Away", None, None, id="be right back → Away already"),
        pytest.param(TEAMS_IN_A_MEETING, "Meeting", None, None, id="Meeting already"),
        pytest.param(
            TEAMS_IN_A_MEETING,
            "Busy",
            catalog_with_deactivated("Meeting"),
            None,
            id="Busy already, Meeting deactivated",
        ),
        pytest.param(TEAMS_IN_A_CALL, "Teams call", None, {"InACall": "Teams call"}, id="secondary already"),
    ],
)
def test_rule9_nothing_is_written_when_genesys_already_shows_the_target(
    teams_now: TeamsPresence,
    genesys_shows: str,
    catalog: PresenceCatalog | None,
    mapping: dict[str, object] | None,
) -> None:
    config = SyncConfig(mapping=PresenceMapping.build(mapping))
    d = Driver.synced(TEAMS_OFFLINE, "Training", config=config, catalog=catalog or CATALOG)
    d.step(50, genesys=genesys(genesys_shows, at=50, catalog=d.catalog))
    d.teams_shows(teams_now, at=100)
    decision = d.wait(at=100 + DWELL)
    assert decision.status is SyncStatus.SYNCED
    assert decision.write is None
    assert d.writes == []


def test_rule9_the_agent_already_on_what_teams_now_asks_for_is_left_alone() -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    d.agent_sets("Busy", at=50)
    d.teams_shows(TEAMS_IN_A_CALL, at=100)
    d.wait(at=1000)
    assert d.writes == []


# =====================================================================================================
# Rule 10. More than loop_max_writes writes in loop_window_seconds → trip the loop breaker.
# =====================================================================================================


def flap(d: Driver, *, start: float, times: int, every: float) -> None:
    """Teams flips between Busy and Available ``times`` times, ``every`` seconds apart."""
    for i in range(times):
        d.teams_shows(TEAMS_BUSY if i % 2 == 0 else TEAMS_AVAILABLE, at=start + i * every)
        d.wait(at=start + i * every + DWELL)


@pytest.mark.parametrize("max_writes", [1, 3, 8])
def test_rule10_the_write_after_loop_max_writes_in_the_window_trips_the_breaker(max_writes: int) -> None:
    config = SyncConfig(loop_max_writes=max_writes, loop_window_seconds=600, loop_cooldown_seconds=1800)
    d = Driver.synced(TEAMS_AVAILABLE, "Available", config=config)
    flap(d, start=100, times=max_writes + 1, every=20)
    assert len(d.writes) == max_writes, d.story()
    tripped = d.steps[-1].decision
    tripped_at = 100 + max_writes * 20 + DWELL
    assert tripped.status is SyncStatus.LOOP_BREAKER
    assert tripped.write is None
    assert tripped.recheck_at == tripped_at + 1800


@pytest.mark.parametrize(
    ("max_writes", "window", "every"),
    [
        pytest.param(2, 100, 60, id="2 per 100s, a write a minute"),
        pytest.param(3, 600, 201, id="3 per 10min, a write every 201s"),
        pytest.param(1, 60, 60, id="1 per minute, a write a minute"),
    ],
)
def test_rule10_writes_spread_wider_than_the_window_never_trip(max_writes: int, window: float, every: float) -> None:
    config = SyncConfig(loop_max_writes=max_writes, loop_window_seconds=window)
    d = Driver.synced(TEAMS_AVAILABLE, "Available", config=config)
    flap(d, start=100, times=12, every=every)
    assert len(d.writes) == 12
    assert all(s.decision.status is not SyncStatus.LOOP_BREAKER for s in d.steps)


def tripped_driver() -> tuple[Driver, float]:
    config = SyncConfig(loop_max_writes=3, loop_window_seconds=600, loop_cooldown_seconds=1800)
    d = Driver.synced(TEAMS_AVAILABLE, "Available", config=config)
    flap(d, start=100, times=4, every=20)  # Busy, Available, Busy written; the 4th (Available) trips
    assert d.steps[-1].decision.status is SyncStatus.LOOP_BREAKER
    return d, d.now


def test_rule10_the_tripped_breaker_holds_through_teams_changes() -> None:
    d, tripped_at = tripped_driver()
    changes = [(tripped_at + 60, TEAMS_AWAY), (tripped_at + 900, TEAMS_AVAILABLE), (tripped_at + 1799, TEAMS_AWAY)]
    for at, value in changes:
        decision = d.teams_shows(value, at=at)
        assert decision.status is SyncStatus.LOOP_BREAKER
        assert decision.recheck_at == tripped_at + 1800
    assert len(d.writes) == 3


def test_rule10_the_breaker_clears_after_the_cooldown() -> None:
    d, tripped_at = tripped_driver()
    d.wait(at=tripped_at + 1800 + DWELL)
    assert d.written == ["Busy", "Available", "Busy", "Available"], d.story()


def test_rule10_resume_clears_the_breaker_at_once() -> None:
    d, tripped_at = tripped_driver()
    d.resume(at=tripped_at + 60)
    d.wait(at=tripped_at + 60 + DWELL)
    assert d.written == ["Busy", "Available", "Busy", "Available"], d.story()


def test_rule10_a_status_set_by_hand_while_the_breaker_is_tripped_is_not_overwritten_when_it_clears() -> None:
    d, tripped_at = tripped_driver()  # Genesys shows our Busy; Teams asks for Available
    d.agent_sets("Break", at=tripped_at + 300)
    d.wait(at=tripped_at + 1800 + 600)
    assert d.written == ["Busy", "Available", "Busy"], d.story()
    assert d.shows == "Break"


# =====================================================================================================
# The default mapping, end to end through decide().
# =====================================================================================================

EXPECTED_DEFAULT = {
    "Available": "Available",
    "Away": "Away",
    "BeRightBack": "Away",
    "Busy": "Busy",
    "DoNotDisturb": "Busy",
    "InACall": "Busy",
    "InAConferenceCall": "Busy",
    "InAMeeting": "Meeting",
    "Presenting": "Busy",
    "Focusing": "Busy",
    "UrgentInterruptionsOnly": "Busy",
    "AvailableIdle": None,
    "BusyIdle": None,
    "Inactive": None,
    "Offline": None,
    "OffWork": None,
    "PresenceUnknown": None,
}


def test_the_end_to_end_table_covers_the_default_mapping() -> None:
    assert set(EXPECTED_DEFAULT) == set(DEFAULT_MAPPING)


@pytest.mark.parametrize(("value", "expected"), EXPECTED_DEFAULT.items(), ids=list(EXPECTED_DEFAULT))
def test_each_default_teams_value_is_written_as_its_genesys_presence(value: str, expected: str | None) -> None:
    d = Driver.synced(TEAMS_OFFLINE, "Training")
    d.teams_shows(teams(value), at=100)
    d.wait(at=100 + DWELL)
    assert d.written == ([expected] if expected else []), d.story()
    assert d.shows == (expected or "Training")


@pytest.mark.parametrize(
    ("catalog", "expected"),
    [
        pytest.param(None, "Meeting", id="org has Meeting"),
        pytest.param(catalog_with_deactivated("Meeting"), "Busy", id="Meeting deactivated"),
        pytest.param(catalog_without("Meeting"), "Busy", id="Meeting missing"),
    ],
)
def test_in_a_meeting_is_written_as_meeting_where_the_org_has_it_else_busy(
    catalog: PresenceCatalog | None, expected: str
) -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available", catalog=catalog or CATALOG)
    d.teams_shows(TEAMS_IN_A_MEETING, at=100)
    d.wait(at=100 + DWELL)
    assert d.written == [expected]


@pytest.mark.parametrize(
    ("teams_now", "written"),
    [
        pytest.param(teams("Busy", "inAMeeting"), "Meeting", id="inAMeeting"),
        pytest.param(teams("BUSY", "BUSY"), "Busy", id="BUSY"),
        pytest.param(teams("DoNotDisturb", "Focusing"), "Busy", id="Focusing"),
        pytest.param(teams("Busy", "SomethingNew"), "Busy", id="unknown activity, Busy availability"),
        pytest.param(teams("SomethingNew"), None, id="SomethingNew: not synced"),
    ],
)
def test_differently_cased_and_unknown_graph_values_through_decide(
    teams_now: TeamsPresence, written: str | None
) -> None:
    d = Driver.synced(TEAMS_OFFLINE, "Training")
    d.teams_shows(teams_now, at=100)
    d.wait(at=100 + DWELL)
    assert d.written == ([written] if written else [])


def test_a_secondary_presence_named_in_an_override_is_written() -> None:
    config = SyncConfig(mapping=PresenceMapping.build({"InACall": "Teams call"}))
    d = Driver.synced(TEAMS_AVAILABLE, "Available", config=config)
    d.teams_shows(TEAMS_IN_A_CALL, at=100)
    d.wait(at=100 + DWELL)
    assert d.written == ["Teams call"]
    assert d.genesys is not None and d.genesys.system_presence == "BUSY"


# =====================================================================================================
# Stories.
# =====================================================================================================


def test_a_meeting_is_mirrored_and_afterwards_the_agents_earlier_status_comes_back() -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    assert d.teams_shows(TEAMS_IN_A_MEETING, at=MEETING_STARTS).status is SyncStatus.DEBOUNCING
    written = d.wait(at=MEETING_WRITTEN)
    assert written.status is SyncStatus.WRITING
    assert d.shows == "Meeting"
    assert d.wait(at=500).status is SyncStatus.SYNCED
    d.teams_shows(TEAMS_AVAILABLE, at=MEETING_ENDS)
    restored = d.wait(at=MEETING_END_SETTLED)
    assert restored.write == write_of("Available", "Available", restore=True)
    assert d.shows == "Available"
    assert d.wait(at=5000).status is SyncStatus.SYNCED
    assert d.written == ["Meeting", "Available"]


def test_after_a_meeting_the_agents_break_comes_back_rather_than_the_mapped_available() -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    d.agent_sets("Break", at=30)
    d.teams_shows(TEAMS_IN_A_MEETING, at=MEETING_STARTS)
    d.teams_shows(TEAMS_AVAILABLE, at=MEETING_ENDS)
    d.wait(at=5000)
    assert d.written == ["Meeting", "Break"], d.story()
    assert d.shows == "Break"
    assert d.steps[-1].decision.status is SyncStatus.MANUAL  # Break is the agent's own again


def test_a_meeting_that_becomes_a_call_and_back_keeps_the_status_from_before_the_meeting() -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    d.agent_sets("Break", at=30)
    d.teams_shows(TEAMS_IN_A_MEETING, at=100)
    d.teams_shows(TEAMS_IN_A_CALL, at=300)
    d.teams_shows(TEAMS_IN_A_MEETING, at=600)
    d.teams_shows(TEAMS_AVAILABLE, at=1000)
    d.wait(at=5000)
    assert d.written == ["Meeting", "Busy", "Meeting", "Break"], d.story()
    assert [w.write.restore for w in d.writes] == [False, False, False, True]


def test_a_status_changed_by_hand_during_a_meeting_is_not_restored_over() -> None:
    d = in_a_meeting_after("Break")
    d.agent_sets("Training", at=500)
    d.teams_shows(TEAMS_AVAILABLE, at=MEETING_ENDS)
    d.wait(at=5000)
    assert d.written == ["Meeting", "Available"], d.story()
    assert not any(w.write.restore for w in d.writes)


@pytest.mark.parametrize(
    "queue_at",
    [
        pytest.param(50.0, id="before the meeting"),
        pytest.param(105.0, id="while the meeting start settles"),
        pytest.param(500.0, id="during the meeting"),
        pytest.param(1005.0, id="while the meeting end settles"),
    ],
)
def test_going_on_queue_at_any_point_means_no_write_and_no_restore(queue_at: float) -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    d.agent_sets("Break", at=30)
    for at, event in sorted(
        [
            (MEETING_STARTS, lambda at: d.teams_shows(TEAMS_IN_A_MEETING, at=at)),
            (MEETING_ENDS, lambda at: d.teams_shows(TEAMS_AVAILABLE, at=at)),
            (queue_at, lambda at: d.goes_on_queue(at=at)),
        ],
        key=lambda pair: pair[0],
    ):
        event(at)
    before_queue = list(d.writes)
    d.wait(at=3000)
    assert d.writes == before_queue, d.story()
    assert all(s.decision.write is None for s in d.steps if s.genesys and s.genesys.on_queue)

    d.goes_off_queue(at=3000, lands_on="Available")
    d.wait(at=9000)
    assert d.writes == before_queue, d.story()  # no write until Teams changes again …
    d.teams_shows(TEAMS_AWAY, at=9000)
    d.wait(at=9000 + DWELL)
    assert d.writes[-1] == Written(9000 + DWELL, write_of("Away", "Away"))  # … and then no restore either


def test_out_of_office_in_genesys_means_hands_off_and_the_agent_comes_back_to_their_own_status() -> None:
    d = in_a_meeting_after("Break")
    assert d.out_of_office(True, at=500).status is SyncStatus.OUT_OF_OFFICE
    d.teams_shows(TEAMS_AVAILABLE, at=MEETING_ENDS)
    d.wait(at=3000)
    assert d.out_of_office(False, at=3000).status is SyncStatus.MANUAL
    d.wait(at=9000)
    assert d.written == ["Meeting"], d.story()
    d.teams_shows(TEAMS_BUSY, at=9000)
    d.wait(at=9000 + DWELL)
    assert d.written == ["Meeting", "Busy"]


def test_genesys_offline_is_hands_off_and_the_agent_is_never_brought_online() -> None:
    d = Driver.synced(TEAMS_OFFLINE, "Available")
    assert d.agent_sets("Offline", at=100).status is SyncStatus.GENESYS_OFFLINE  # logged out of Genesys
    d.teams_shows(TEAMS_AVAILABLE, at=8 * 3600)  # Teams comes up in the morning before Genesys
    d.teams_shows(TEAMS_IN_A_MEETING, at=8 * 3600 + 900)
    decision = d.wait(at=9 * 3600)
    assert decision.status is SyncStatus.GENESYS_OFFLINE
    assert d.writes == []
    assert d.agent_sets("Available", at=9 * 3600).status is SyncStatus.MANUAL
    d.wait(at=10 * 3600)
    assert d.writes == []


def test_while_paused_nothing_is_written_and_resume_acts_on_the_change_missed_meanwhile() -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    assert d.pause(at=50).status is SyncStatus.PAUSED
    d.teams_shows(TEAMS_IN_A_MEETING, at=100)
    d.wait(at=3000)
    assert d.writes == []
    d.resume(at=3000)
    d.wait(at=3000 + DWELL)
    assert d.written == ["Meeting"], d.story()


def test_sync_now_applies_the_current_teams_state_at_once_even_over_a_manual_status() -> None:
    d = Driver.synced(TEAMS_IN_A_MEETING, "Meeting")
    d.agent_sets("Break", at=50)
    assert d.wait(at=500).status is SyncStatus.MANUAL
    decision = d.sync_now(at=600)
    assert decision.status is SyncStatus.WRITING
    assert decision.write == write_of("Meeting", "Meeting|Busy")
    assert d.writes == [Written(600, write_of("Meeting", "Meeting|Busy"))]


def test_sync_now_when_genesys_already_agrees_writes_nothing() -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    assert d.sync_now(at=600).status is SyncStatus.SYNCED
    assert d.writes == []


def test_sync_now_pressed_while_on_queue_does_not_skip_the_dwell_for_a_later_change() -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    d.goes_on_queue(at=50)
    assert d.sync_now(at=60).status is SyncStatus.ON_QUEUE
    d.goes_off_queue(at=300, lands_on="Available")
    decision = d.teams_shows(TEAMS_BUSY, at=3000)  # hours later: an ordinary change
    assert decision.status is SyncStatus.DEBOUNCING, decision
    assert decision.write is None


def test_a_blip_shorter_than_the_dwell_never_writes_and_the_core_asks_to_look_again_when_it_would_end() -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    blip = d.teams_shows(TEAMS_IN_A_CALL, at=100)
    assert blip.status is SyncStatus.DEBOUNCING
    assert blip.recheck_at == 100 + DWELL
    assert d.teams_shows(TEAMS_AVAILABLE, at=104).status is SyncStatus.SYNCED
    d.wait(at=5000)
    assert d.writes == []


def test_the_loop_breaker_trips_holds_and_clears() -> None:
    config = SyncConfig(loop_max_writes=8, loop_window_seconds=600, loop_cooldown_seconds=1800)
    d = Driver.synced(TEAMS_AVAILABLE, "Available", config=config)
    flap(d, start=100, times=11, every=15)  # ends on Busy
    assert len(d.writes) == 8
    trip = next(s for s in d.steps if s.decision.status is SyncStatus.LOOP_BREAKER)
    assert trip.now == 100 + 8 * 15 + DWELL
    assert all(s.decision.write is None for s in d.steps if s.now >= trip.now)
    d.wait(at=trip.now + 1800 + DWELL)
    assert len(d.writes) == 9  # back in business after the cooldown, acting on what Teams says now
    assert d.shows == "Busy"


def test_a_stale_genesys_state_is_not_acted_on_until_it_is_confirmed_again() -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")  # Genesys last confirmed at t=0
    for at in (200.0, 210.0, 290.0):
        decision = d.step(at, teams=TEAMS_IN_A_MEETING, reconfirm=False)
        assert decision.status is SyncStatus.WAITING
        assert decision.write is None
    d.wait(at=300)  # the engine re-read it
    d.wait(at=300 + DWELL)
    assert [(w.at, d.label_of(w.presence_id)) for w in d.writes] == [(310, "Meeting")], d.story()


def test_a_failed_write_is_simply_tried_again() -> None:
    d = Driver.synced(TEAMS_AVAILABLE, "Available")
    d.teams_shows(TEAMS_IN_A_MEETING, at=100)
    d.writes_fail = True
    assert d.wait(at=110).write == write_of("Meeting", "Meeting|Busy")
    d.writes_fail = False
    assert d.wait(at=115).write == write_of("Meeting", "Meeting|Busy")
    assert d.written == ["Meeting"]
    d.teams_shows(TEAMS_AVAILABLE, at=1000)
    d.wait(at=1010)
    assert d.written == ["Meeting", "Available"] and d.writes[-1].write.restore


def test_the_drive_helper_runs_plain_steps() -> None:
    d = drive(
        [
            (TEAMS_AVAILABLE, genesys("Available", at=0), 0),
            (UNCHANGED, UNCHANGED, 10),
            (TEAMS_IN_A_MEETING, UNCHANGED, 100),
            (UNCHANGED, UNCHANGED, 110),
            (TEAMS_AVAILABLE, UNCHANGED, 1000),
            (UNCHANGED, UNCHANGED, 1010),
        ]
    )
    assert [s.decision.status for s in d.steps] == [
        SyncStatus.SYNCED,  # start-up with Teams Available: acknowledged at once, nothing to write
        SyncStatus.SYNCED,
        SyncStatus.DEBOUNCING,
        SyncStatus.WRITING,
        SyncStatus.DEBOUNCING,
        SyncStatus.WRITING,
    ]
    assert d.written == ["Meeting", "Available"]


def test_decide_leaves_the_memory_it_was_given_alone() -> None:
    memory = SyncMemory(acted_signal="Available")
    before = replace(memory)
    decide(TEAMS_BUSY, genesys("Available", at=0), Driver().catalog, memory, SyncConfig(), 20)
    assert memory == before
