"""The rule table of ``tray_agent/core/rules.py``: one row per case, in the module's order.

Each row gives the situation (Teams and when it was read, Genesys, the memory) at t = 1000 and
what :func:`decide` must say: the status, the write if any, and what it must remember.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest

from tests.core.org import (
    CATALOG,
    TEAMS_AVAILABLE,
    TEAMS_IN_A_CALL,
    TEAMS_IN_A_MEETING,
    TEAMS_OFFLINE,
    catalog_without,
    definition,
    genesys,
    on_queue,
    teams,
)
from tray_agent.core.memory import Candidate, Episode, InFlight, Phase, SyncMemory, Write
from tray_agent.core.presence import GenesysState, PresenceCatalog, TeamsPresence
from tray_agent.core.rules import RULES, Situation, SyncConfig, SyncStatus, confirm_write, decide

NOW = 1000.0
CONFIG = SyncConfig()
MEETING = "Meeting|Busy"
ID = {name: definition(name).id for name in ("Available", "Away", "Busy", "Break", "Meeting", "Training", "On Queue")}

FOLLOWING_AVAILABLE = SyncMemory(phase=Phase.FOLLOWING, acted_signal="Available", seen_presence_id=ID["Available"])
IN_OUR_MEETING = SyncMemory(
    phase=Phase.FOLLOWING,
    acted_signal=MEETING,
    seen_presence_id=ID["Meeting"],
    episode=Episode(ID["Meeting"], ID["Training"], "Available"),
)


@dataclass(frozen=True)
class Row:
    teams: TeamsPresence | None
    genesys: GenesysState | None
    memory: SyncMemory
    status: SyncStatus
    write: str | None = None  # the label written
    restore: bool = False
    read_at: float = NOW - 1  # when Teams was read
    sent_at: float | None = None  # when that read was sent (None: when it came)
    unseen_for: float = 0.0  # Genesys unconfirmed this long before this observation
    catalog: PresenceCatalog = CATALOG
    remembers: Callable[[SyncMemory], bool] = field(default=lambda _: True)


def shows(name: str, **options: object) -> GenesysState:
    return genesys(name, at=NOW, **options)  # type: ignore[arg-type]


def confirmed(memory: SyncMemory, signal: str) -> SyncMemory:
    """A change read once, ``dwell`` ago: this reading confirms it."""
    return replace(memory, candidate=Candidate(signal, NOW - 1 - CONFIG.dwell_seconds))


ROWS = {
    # 1 know_genesys
    "1: no Genesys state → wait": Row(TEAMS_IN_A_MEETING, None, FOLLOWING_AVAILABLE, SyncStatus.WAITING),
    "1: Genesys not confirmed for longer than the staleness → wait": Row(
        TEAMS_IN_A_MEETING, genesys("Available", at=NOW - 121), FOLLOWING_AVAILABLE, SyncStatus.WAITING
    ),
    # 2 recognise_our_write
    "2: Genesys shows the write in flight → it is ours": Row(
        TEAMS_IN_A_MEETING,
        shows("Meeting"),
        replace(
            FOLLOWING_AVAILABLE,
            acted_signal="Available",
            in_flight=InFlight(Write(ID["Meeting"], MEETING, False), ID["Available"]),
        ),
        SyncStatus.SYNCED,
        remembers=lambda m: m.episode == Episode(ID["Meeting"], ID["Available"], "Available") and m.in_flight is None,
    ),
    # 3 someone_else_changed_genesys
    "3: another status than we saw → the agent's; Teams is read again": Row(
        TEAMS_IN_A_MEETING,
        shows("Break"),
        IN_OUR_MEETING,
        SyncStatus.WAITING,
        remembers=lambda m: m.phase is Phase.MANUAL and m.episode is None and m.acknowledge_from == NOW,
    ),
    # 4 hands_off
    "4: On Queue → hands off": Row(TEAMS_IN_A_MEETING, on_queue(at=NOW), FOLLOWING_AVAILABLE, SyncStatus.ON_QUEUE),
    "4: routing not OFF_QUEUE → hands off": Row(
        TEAMS_IN_A_MEETING, shows("Available", routing="INTERACTING"), FOLLOWING_AVAILABLE, SyncStatus.ON_QUEUE
    ),
    "4: Out of Office → hands off": Row(
        TEAMS_IN_A_MEETING, shows("Available", out_of_office=True), FOLLOWING_AVAILABLE, SyncStatus.OUT_OF_OFFICE
    ),
    "4: Offline in Genesys → hands off": Row(
        TEAMS_IN_A_MEETING,
        shows("Offline"),
        replace(FOLLOWING_AVAILABLE, seen_presence_id=ID["Available"]),
        SyncStatus.GENESYS_OFFLINE,
    ),
    "4: Teams read while hands-off is acknowledged (the baseline)": Row(
        TEAMS_IN_A_MEETING,
        on_queue(at=NOW),
        replace(FOLLOWING_AVAILABLE, phase=Phase.HANDS_OFF, seen_presence_id=ID["On Queue"]),
        SyncStatus.ON_QUEUE,
        remembers=lambda m: m.acted_signal == MEETING and m.phase is Phase.HANDS_OFF,
    ),
    # 5 hands_off_ended
    "5: off queue with Teams as it was → the landed-on status is the agent's": Row(
        TEAMS_IN_A_MEETING,
        shows("Available"),
        replace(FOLLOWING_AVAILABLE, phase=Phase.HANDS_OFF, acted_signal=MEETING, seen_presence_id=ID["On Queue"]),
        SyncStatus.MANUAL,
        remembers=lambda m: m.phase is Phase.MANUAL,
    ),
    "5: off queue and Teams changed since the baseline → acted on (after a second reading)": Row(
        TEAMS_IN_A_MEETING,
        shows("Available"),
        confirmed(replace(FOLLOWING_AVAILABLE, phase=Phase.MANUAL, baseline_until=NOW - 30), MEETING),
        SyncStatus.WRITING,
        write="Meeting",
        sent_at=NOW - 2,
    ),
    "5: off queue seen only after Genesys was unseen for long → the next reading is acknowledged": Row(
        TEAMS_IN_A_MEETING,
        shows("Available"),
        replace(FOLLOWING_AVAILABLE, phase=Phase.HANDS_OFF, seen_presence_id=ID["On Queue"]),
        SyncStatus.WAITING,
        unseen_for=1800.0,
        remembers=lambda m: m.phase is Phase.MANUAL and m.acknowledge_from == NOW,
    ),
    "5: a reading sent before hands-off ended (answered after) is still the baseline": Row(
        teams("Away"),
        shows("Available"),
        replace(FOLLOWING_AVAILABLE, phase=Phase.MANUAL, baseline_until=NOW - 5),
        SyncStatus.MANUAL,
        sent_at=NOW - 10,
        remembers=lambda m: m.acted_signal == "Away" and m.baseline_until == NOW - 5,
    ),
    "5: the first reading sent after hands-off ended is judged against the baseline": Row(
        teams("Away"),
        shows("Available"),
        replace(FOLLOWING_AVAILABLE, phase=Phase.MANUAL, baseline_until=NOW - 5),
        SyncStatus.DEBOUNCING,
        sent_at=NOW - 2,
        remembers=lambda m: m.baseline_until is None and m.candidate is not None,
    ),
    # 6 paused, 7 loop_breaker_tripped
    "6: paused → hold": Row(
        TEAMS_IN_A_MEETING, shows("Available"), replace(FOLLOWING_AVAILABLE, paused_until=math.inf), SyncStatus.PAUSED
    ),
    "6: a pause that ended → acted on": Row(
        TEAMS_IN_A_MEETING,
        shows("Available"),
        confirmed(replace(FOLLOWING_AVAILABLE, paused_until=NOW - 1), MEETING),
        SyncStatus.WRITING,
        write="Meeting",
    ),
    "7: loop breaker tripped → hold": Row(
        TEAMS_IN_A_MEETING,
        shows("Available"),
        replace(FOLLOWING_AVAILABLE, tripped_until=NOW + 60),
        SyncStatus.LOOP_BREAKER,
    ),
    # 8 know_teams
    "8: no Teams reading → wait": Row(None, shows("Available"), FOLLOWING_AVAILABLE, SyncStatus.WAITING),
    "8: a reading older than the agent's change → wait for the next": Row(
        TEAMS_IN_A_MEETING,
        shows("Break"),
        replace(FOLLOWING_AVAILABLE, phase=Phase.MANUAL, seen_presence_id=ID["Break"], acknowledge_from=NOW - 0.5),
        SyncStatus.WAITING,
    ),
    "8: the first reading after the agent's change is acknowledged": Row(
        TEAMS_IN_A_MEETING,
        shows("Break"),
        replace(FOLLOWING_AVAILABLE, phase=Phase.MANUAL, seen_presence_id=ID["Break"], acknowledge_from=NOW - 2),
        SyncStatus.MANUAL,
        remembers=lambda m: m.acted_signal == MEETING and m.acknowledge_from is None,
    ),
    "8: a reading too old to act on → wait": Row(
        TEAMS_IN_A_MEETING, shows("Available"), FOLLOWING_AVAILABLE, SyncStatus.WAITING, read_at=NOW - 500
    ),
    # 9 teams_unchanged
    "9: Teams as acted on, Genesys shows it → synced": Row(
        TEAMS_AVAILABLE, shows("Available"), FOLLOWING_AVAILABLE, SyncStatus.SYNCED
    ),
    "9: Teams as acted on, the agent's status → manual": Row(
        TEAMS_AVAILABLE,
        shows("Break"),
        replace(FOLLOWING_AVAILABLE, phase=Phase.MANUAL, seen_presence_id=ID["Break"]),
        SyncStatus.MANUAL,
    ),
    # 10 first_look_at_a_free_teams
    "10: starting with Teams free → keep the agent's status": Row(
        TEAMS_AVAILABLE,
        shows("Break"),
        SyncMemory(),
        SyncStatus.SYNCED,
        remembers=lambda m: m.acted_signal == "Available" and m.phase is Phase.MANUAL,
    ),
    "10: starting in a meeting → a change like any other": Row(
        TEAMS_IN_A_MEETING, shows("Break"), SyncMemory(), SyncStatus.DEBOUNCING
    ),
    # 11 confirm_with_a_second_reading
    "11: the first reading of a change → read again before acting": Row(
        TEAMS_IN_A_MEETING,
        shows("Available"),
        FOLLOWING_AVAILABLE,
        SyncStatus.DEBOUNCING,
        remembers=lambda m: m.candidate == Candidate(MEETING, NOW - 1),
    ),
    "11: a second reading sooner than the dwell → still waiting": Row(
        TEAMS_IN_A_MEETING,
        shows("Available"),
        replace(FOLLOWING_AVAILABLE, candidate=Candidate(MEETING, NOW - 5)),
        SyncStatus.DEBOUNCING,
    ),
    "11: a second reading the dwell later → acted on": Row(
        TEAMS_IN_A_MEETING,
        shows("Available"),
        confirmed(FOLLOWING_AVAILABLE, MEETING),
        SyncStatus.WRITING,
        write="Meeting",
    ),
    "11: 'sync now' acts on one reading": Row(
        TEAMS_IN_A_MEETING,
        shows("Available"),
        replace(FOLLOWING_AVAILABLE, acted_signal=None, force=True),
        SyncStatus.WRITING,
        write="Meeting",
    ),
    # 12 dont_sync, 13 target_exists
    "12: a don't-sync Teams state → Genesys left alone": Row(
        TEAMS_OFFLINE, shows("Available"), confirmed(FOLLOWING_AVAILABLE, ""), SyncStatus.NOT_SYNCED_STATE
    ),
    "13: no presence of that name in the org → hold": Row(
        TEAMS_IN_A_MEETING,
        shows("Available"),
        confirmed(FOLLOWING_AVAILABLE, MEETING),
        SyncStatus.MAPPING_ERROR,
        catalog=catalog_without("Meeting", "Busy"),
    ),
    # 14 already_showing
    "14: Genesys already shows the target → no write": Row(
        teams("Busy"),
        shows("Busy"),
        replace(confirmed(FOLLOWING_AVAILABLE, "Busy"), phase=Phase.MANUAL, seen_presence_id=ID["Busy"]),
        SyncStatus.SYNCED,
        remembers=lambda m: m.phase is Phase.FOLLOWING,
    ),
    # 15 the_agents_choice_outlives_the_episode
    "15: the agent chose a status, then Teams went free → kept": Row(
        TEAMS_AVAILABLE,
        shows("Break"),
        confirmed(replace(IN_OUR_MEETING, phase=Phase.MANUAL, episode=None, seen_presence_id=ID["Break"]), "Available"),
        SyncStatus.MANUAL,
    ),
    "15: the agent chose a status, then a new busy state → followed": Row(
        TEAMS_IN_A_CALL,
        shows("Break"),
        confirmed(replace(FOLLOWING_AVAILABLE, phase=Phase.MANUAL, seen_presence_id=ID["Break"]), "Busy"),
        SyncStatus.WRITING,
        write="Busy",
    ),
    # 16 loop_breaker
    "16: too many writes in the window → trip": Row(
        TEAMS_IN_A_MEETING,
        shows("Available"),
        replace(confirmed(FOLLOWING_AVAILABLE, MEETING), write_times=tuple(NOW - 10 * i for i in range(1, 9))),
        SyncStatus.LOOP_BREAKER,
        remembers=lambda m: m.tripped_until == NOW + CONFIG.loop_cooldown_seconds,
    ),
    "16: writes older than the window do not count": Row(
        TEAMS_IN_A_MEETING,
        shows("Available"),
        replace(confirmed(FOLLOWING_AVAILABLE, MEETING), write_times=tuple(NOW - 700 - i for i in range(8))),
        SyncStatus.WRITING,
        write="Meeting",
    ),
    # 17 write
    "17: the end of our episode restores the agent's earlier status": Row(
        TEAMS_AVAILABLE, shows("Meeting"), confirmed(IN_OUR_MEETING, "Available"), SyncStatus.WRITING, "Training", True
    ),
    "17: a chain of busy states keeps the first restore point": Row(
        TEAMS_IN_A_CALL, shows("Meeting"), confirmed(IN_OUR_MEETING, "Busy"), SyncStatus.WRITING, write="Busy"
    ),
    "17: Teams back to its baseline (not free) ends the episode too": Row(
        teams("Away"),
        shows("Meeting"),
        confirmed(replace(IN_OUR_MEETING, episode=Episode(ID["Meeting"], ID["Training"], "Away")), "Away"),
        SyncStatus.WRITING,
        "Training",
        True,
    ),
    "17: the Meeting|Busy fallback where the org has no Meeting": Row(
        TEAMS_IN_A_MEETING,
        shows("Available"),
        confirmed(FOLLOWING_AVAILABLE, MEETING),
        SyncStatus.WRITING,
        write="Busy",
        catalog=catalog_without("Meeting"),
    ),
}


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_rule(row: Row) -> None:
    read_at = row.read_at if row.teams else None
    situation = Situation(row.teams, read_at, row.genesys, row.catalog, CONFIG, NOW, 130.0, row.sent_at, row.unseen_for)
    decision = decide(situation, row.memory)
    assert decision.status is row.status, decision.reason
    if row.write is None:
        assert decision.write is None
    else:
        assert decision.write is not None
        assert decision.write.presence_id == definition(row.write, row.catalog).id
        assert decision.write.restore is row.restore
    assert row.remembers(decision.memory), decision.memory


def test_the_table_lists_every_rule_in_the_modules_order() -> None:
    import tray_agent.core.rules as rules

    names = [rule.__name__ for rule in RULES]
    listed = [line.split()[1] for line in (rules.__doc__ or "").splitlines() if line[:3].strip().isdigit()]
    assert names == listed


def test_no_rule_is_longer_than_25_lines() -> None:
    import inspect

    for rule in RULES:
        assert len(inspect.getsource(rule).splitlines()) <= 25, rule.__name__


def test_a_confirmed_first_write_opens_an_episode_with_the_agents_status_as_restore_point() -> None:
    memory = confirm_write(FOLLOWING_AVAILABLE, Write(ID["Meeting"], MEETING, False), ID["Training"], NOW)
    assert memory.episode == Episode(ID["Meeting"], ID["Training"], "Available")
    assert memory.phase is Phase.FOLLOWING and memory.write_times == (NOW,)


def test_a_confirmed_restore_ends_the_episode_and_the_status_is_the_agents_again() -> None:
    memory = confirm_write(IN_OUR_MEETING, Write(ID["Training"], "Available", True), ID["Meeting"], NOW)
    assert memory.episode is None and memory.phase is Phase.MANUAL
