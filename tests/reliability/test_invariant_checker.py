"""The invariant checker itself: each rule catches the violation it is for, on a hand-made record,
and a day that keeps the rules passes — so a clean fault test or soak means something."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

from tests.reliability.invariants import Initial, Record, check
from tray_agent.core.rules import SyncConfig
from tray_agent.engine.snapshot import Transition
from tray_agent.simulator.genesys_presence import GenesysEvent
from tray_agent.simulator.request_log import RequestLogEntry

USER = "genesys-user"
IDS = {"Available": "def-available", "Break": "def-break", "Meeting": "def-meeting", "OnQueue": "def-on-queue"}
SYNC = SyncConfig(loop_max_writes=3, loop_window_seconds=600)


@dataclass
class Day:
    """A hand-made simulator record, in the simulator's own shapes."""

    events: list[GenesysEvent] = field(default_factory=list)
    requests: list[RequestLogEntry] = field(default_factory=list)
    teams: list[tuple[float, str, str]] = field(default_factory=lambda: [(0.0, "Available", "Available")])
    transitions: list[Transition] = field(default_factory=list)
    showing: str = "Available"
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _event(self, at: float, kind: str, cause: str, **detail: object) -> None:
        self.events.append(GenesysEvent(next(self._seq), at, kind, USER, cause, None, dict(detail)))  # type: ignore[arg-type]

    def presence(self, at: float, new: str, cause: str) -> None:
        old, self.showing = self.showing, new
        self._event(
            at, "presence_changed", cause, old=old, new=new, old_definition_id=IDS[old], new_definition_id=IDS[new]
        )

    def by_hand(self, at: float, new: str) -> Day:
        self.presence(at, new, "ui")
        return self

    def routing(self, at: float, status: str) -> Day:
        self._event(at, "routing_changed", "control", old="?", new=status)
        if status != "OFF_QUEUE":
            self.presence(at, "OnQueue", "control")
        elif self.showing == "OnQueue":
            self.presence(at, "Available", "control")  # off queue lands on Available (Genesys help)
        return self

    def teams_change(self, at: float, availability: str, activity: str) -> Day:
        self.teams.append((at, availability, activity))
        return self

    def read(self, at: float) -> Day:
        self.requests.append(RequestLogEntry(at, "GET", "/api/v2/users/me", 200, "genesys", USER, None))
        return self

    def write(self, at: float, new: str, *, restore: bool = False, verified: bool = True, status: int = 200) -> Day:
        if verified:
            self.read(at - 0.5)
        path = f"/api/v2/users/{USER}/presences/purecloud"
        self.requests.append(RequestLogEntry(at, "PATCH", path, status, "genesys", USER, None))
        if status == 200:
            self.presence(at, new, "api")
            verb = "restored" if restore else "set"
            self.transitions.append(Transition(at + 0.1, "write", f"Genesys {verb} to {new} (…)"))
        return self

    def verdict(self) -> list[str]:
        record = Record(self.events, self.requests, Initial(IDS["Available"]), USER)
        return check([record], teams_changes=self.teams, transitions=self.transitions, sync=SYNC).violations


def meeting_with_restore() -> Day:
    return (
        Day()
        .by_hand(10, "Break")
        .teams_change(20, "Busy", "InAMeeting")
        .write(40, "Meeting")
        .teams_change(100, "Available", "Available")
        .write(120, "Break", restore=True)
    )


def test_a_day_that_keeps_every_rule_passes() -> None:
    assert meeting_with_restore().verdict() == []


def test_a_write_the_verify_read_knew_was_on_queue_is_a_violation() -> None:
    day = Day().routing(10, "IDLE").teams_change(20, "Busy", "InAMeeting").write(40, "Meeting")
    assert any("showed routing IDLE" in v for v in day.verdict())


def test_on_queue_beginning_between_the_verify_read_and_the_write_is_a_race_not_a_violation() -> None:
    day = (
        Day().teams_change(20, "Busy", "InAMeeting").read(39).routing(39.5, "IDLE").write(40, "Meeting", verified=False)
    )
    record = Record(day.events, day.requests, Initial(IDS["Available"]), USER)
    checked = check([record], teams_changes=day.teams, transitions=day.transitions, sync=SYNC)
    assert checked.races >= 1
    assert not any("showed" in v for v in checked.violations)


def test_a_write_without_a_verify_read_is_a_violation() -> None:
    day = Day().teams_change(20, "Busy", "InAMeeting").write(40, "Meeting", verified=False)
    assert any("not preceded by a read" in v for v in day.verdict())


def test_a_write_over_a_status_set_by_hand_needs_a_teams_change_after_it() -> None:
    day = Day().teams_change(20, "Busy", "InAMeeting").by_hand(30, "Break").write(60, "Meeting")
    assert any("overwrote a status set by hand" in v for v in day.verdict())
    allowed = Day().by_hand(10, "Break").teams_change(20, "Busy", "InAMeeting").write(60, "Meeting")
    assert allowed.verdict() == []


def test_the_landing_status_after_on_queue_counts_as_set_by_hand() -> None:
    day = Day().teams_change(20, "Busy", "InAMeeting").routing(10, "IDLE").routing(30, "OFF_QUEUE").write(60, "Meeting")
    assert any("overwrote a status set by hand" in v for v in day.verdict())


@pytest.mark.parametrize(
    ("story", "complaint"),
    [
        (
            lambda d: (
                d.teams_change(20, "Busy", "InAMeeting")
                .write(40, "Meeting")
                .by_hand(50, "Break")
                .teams_change(100, "Available", "Available")
                .write(120, "Available", restore=True)
            ),
            "replaced a status the app had not written",
        ),
        (
            lambda d: (
                d.by_hand(10, "Break")
                .teams_change(20, "Busy", "InAMeeting")
                .write(40, "Meeting")
                .teams_change(100, "Available", "Available")
                .write(120, "Available", restore=True)
            ),
            "not the status before our first write",
        ),
    ],
)
def test_a_restore_puts_back_only_the_agents_own_status_over_our_own_write(story: object, complaint: str) -> None:
    assert any(complaint in v for v in story(Day()).verdict())  # type: ignore[operator]


def test_more_writes_than_the_loop_breaker_allows_is_a_violation() -> None:
    day = Day()
    for n, (availability, activity, shown) in enumerate(
        [("Busy", "InAMeeting", "Meeting"), ("Available", "Available", "Available")] * 2
    ):
        day.teams_change(100 * n + 10, availability, activity).write(100 * n + 40, shown)
    assert any("the loop breaker allows 3" in v for v in day.verdict())


def test_a_write_of_the_status_already_showing_is_a_violation() -> None:
    day = Day().teams_change(20, "Busy", "InAMeeting").write(40, "Available")
    assert any("already showing" in v for v in day.verdict())


def test_the_engines_story_must_match_what_the_simulator_accepted() -> None:
    day = meeting_with_restore()
    day.transitions.append(Transition(200, "write", "Genesys set to Busy (…)"))
    assert any("engine reported 3 writes, the simulator accepted 2" in v for v in day.verdict())


def across_a_cloud_restart(before: Day, after: Day) -> list[str]:
    records = [Record(day.events, day.requests, Initial(IDS["Available"]), USER) for day in (before, after)]
    teams = [*before.teams, *after.teams[1:]]
    return check(
        records, teams_changes=teams, transitions=[*before.transitions, *after.transitions], sync=SYNC
    ).violations


def test_a_write_on_its_way_when_the_cloud_restarted_races_the_restart_however_long_it_was_down() -> None:
    before = Day().teams_change(20, "Busy", "InAMeeting").read(39)  # the verify read; then the cloud restarts
    after = Day().teams_change(20, "Busy", "InAMeeting").write(900, "Meeting", verified=False)  # down for 14 min
    assert across_a_cloud_restart(before, after) == []


def test_after_a_restart_only_the_write_that_was_on_its_way_may_come_without_a_verify_read() -> None:
    before = Day().teams_change(20, "Busy", "InAMeeting").read(39)
    after = Day().teams_change(20, "Busy", "InAMeeting").write(900, "Meeting", verified=False)
    after.teams_change(950, "Available", "Available").write(1000, "Available", verified=False)
    assert any("not preceded by a read of users/me" in v for v in across_a_cloud_restart(before, after))


def test_a_write_without_a_verify_read_after_a_restart_whose_last_read_had_its_write_is_a_violation() -> None:
    before = Day().teams_change(20, "Busy", "InAMeeting").write(40, "Meeting")  # read, then its write
    after = Day().teams_change(100, "Available", "Available").write(900, "Available", verified=False)
    assert any("not preceded by a read of users/me" in v for v in across_a_cloud_restart(before, after))
