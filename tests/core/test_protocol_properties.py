"""Properties of the sync protocol over random days: whatever happens, its promises hold.

Hypothesis writes a script of what happens to the agent — Teams changes (brief flickers among
them), statuses picked by hand, going on and off queue, Out of Office — and the world plays it
through the real protocol. The promises are checked on the world's own record of what Teams
showed, who changed Genesys, and what we wrote.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.org import teams
from tests.core.world import World
from tray_agent.core.interactions import IN_A_CALL, WritebackConfig
from tray_agent.core.presence import TeamsPresence
from tray_agent.core.rules import SyncConfig, hands_off_reason
from tray_agent.core.teams_writeback import SessionResult

TEAMS_STATES = [
    teams("Available"),
    teams("Away"),
    teams("Busy"),
    teams("Busy", "InAMeeting"),
    teams("Busy", "InACall"),
    teams("Offline", "OffWork"),
]
BY_HAND = ["Available", "Break", "Training", "Meal", "Busy"]


@dataclass(frozen=True)
class Happening:
    after: float  # seconds after the previous happening
    what: str  # "teams", "by hand", "on queue", "off queue", "ooo on", "ooo off"
    teams: TeamsPresence | None = None
    name: str = ""


happenings = st.one_of(
    st.builds(Happening, st.floats(1, 900), st.just("teams"), st.sampled_from(TEAMS_STATES)),
    st.builds(Happening, st.floats(1, 900), st.just("by hand"), st.none(), st.sampled_from(BY_HAND)),
    st.builds(Happening, st.floats(1, 900), st.sampled_from(["on queue", "off queue", "ooo on", "ooo off"])),
)
days = st.lists(happenings, min_size=1, max_size=25)


@dataclass
class Record:
    """What really happened: Teams' timeline, and every Genesys change the agent or routing made."""

    teams: list[tuple[float, TeamsPresence]]
    by_others: list[float]  # when someone else changed Genesys
    ending_hands_off: set[float]  # those of them that ended On Queue / Out of Office


def play(world: World, day: list[Happening], *, restart_after: int | None = None) -> Record:
    record = Record([(world.now, world.teams_now)], [], set())
    at = world.now
    for index, happening in enumerate(day):
        at += happening.after
        if happening.what == "teams":
            assert happening.teams is not None
            world.teams_shows(happening.teams, at=at)
            record.teams.append((at, happening.teams))
        else:
            world.run_until(at)  # our own writes up to then are not someone else's change
            before = world.genesys_now
            _genesys_happening(world, happening, at)
            shown = (world.genesys_now.presence_id, world.genesys_now.routing_status, world.genesys_now.out_of_office)
            if shown != (before.presence_id, before.routing_status, before.out_of_office):
                record.by_others.append(at)  # picking what already shows changes nothing anyone can see
            if hands_off_reason(before) is not None and hands_off_reason(world.genesys_now) is None:
                record.ending_hands_off.add(at)
        if restart_after == index:
            world.restart(at=at + 0.25)
    world.run_until(at + 1800)
    return record


def _genesys_happening(world: World, happening: Happening, at: float) -> None:
    if happening.what == "by hand":
        world.agent_sets(happening.name, at=at)
    elif happening.what == "on queue":
        world.goes_on_queue(at=at)
    elif happening.what == "off queue":
        world.goes_off_queue(at=at)
    else:
        world.out_of_office(happening.what == "ooo on", at=at)


def teams_at(record: Record, at: float) -> TeamsPresence:
    return [presence for since, presence in record.teams if since <= at][-1]


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(days)
def test_never_writes_what_is_already_showing(day: list[Happening]) -> None:
    world = World.synced(teams("Available"), "Available")
    play(world, day)
    assert all(w.write.presence_id != w.shown_before for w in world.writes), world.story()


@SETTINGS
@given(days)
def test_no_restore_ever_overwrites_a_status_the_agent_chose(day: list[Happening]) -> None:
    world = World.synced(teams("Available"), "Available")
    play(world, day)
    ours = {w.write.presence_id for w in world.writes}
    for previous, restore in zip(world.writes, world.writes[1:], strict=False):
        if restore.write.restore:
            assert restore.shown_before == previous.write.presence_id, world.story()
            assert restore.shown_before in ours


@SETTINGS
@given(days)
def test_a_status_set_by_hand_is_overwritten_only_by_a_teams_state_that_begins_after_it(day: list[Happening]) -> None:
    """After a status picked by hand, Teams is read again at once: only a state that begins after that
    reading may override it. Leaving hands-off (no read at once: the fleet leaves queues together),
    the last reading before it is the baseline: only a state that begins after that reading may."""
    world = World.synced(teams("Available"), "Available")
    record = play(world, day)
    for written in world.writes:
        chosen = [t for t in record.by_others if t < written.at]
        ours_before = [w.at for w in world.writes if w.at < written.at]
        if not chosen or (ours_before and ours_before[-1] > chosen[-1]):
            continue  # Genesys showed our own write: not the agent's choice
        if written.verified is not None and written.verified[0] <= chosen[-1]:
            continue  # chosen inside the write's own round trip: a race (Genesys has no conditional write)
        assert not written.write.restore, world.story()
        since = chosen[-1] - world.latency  # a read in flight when they chose is "before" too
        if chosen[-1] in record.ending_hands_off:
            since = max((r.at for r in world.readings if r.at < chosen[-1]), default=since)
        assert any(began > since for began, _ in record.teams), world.story()


@SETTINGS
@given(days)
def test_nothing_is_written_without_a_confirming_second_reading(day: list[Happening]) -> None:
    world = World.synced(teams("Available"), "Available")
    play(world, day)
    dwell = world.config.dwell_seconds
    mapping = world.config.mapping
    for written in world.writes:
        run: list[float] = []  # the latest readings before the write that all ask for its target
        for reading in world.readings:
            if reading.at >= written.at or reading.teams is None:
                continue
            run = [*run, reading.at] if mapping.signal_for(reading.teams) == written.write.signal else []
        assert len(run) >= 2 and run[-1] - run[0] >= dwell, world.story()


@SETTINGS
@given(days)
def test_never_more_writes_than_the_loop_breaker_allows(day: list[Happening]) -> None:
    config = SyncConfig(loop_max_writes=4)
    world = World.synced(teams("Available"), "Available", config=config)
    play(world, day)
    times = [w.at for w in world.writes]
    for i, start in enumerate(times):
        inside = [t for t in times[i:] if t - start < config.loop_window_seconds]
        assert len(inside) <= config.loop_max_writes


@SETTINGS
@given(days)
def test_no_write_while_genesys_was_hands_off_at_its_verify_read(day: list[Happening]) -> None:
    world = World.synced(teams("Available"), "Available")
    record = play(world, day)
    for written in world.writes:
        verified = written.verified
        assert verified is not None and hands_off_reason(verified[1]) is None, world.story()
        assert written.at - verified[0] <= 2 * world.latency, "the verify read came just before the write"
        # Genesys hands-off when the write lands: only if it changed inside that round trip (a race
        # the real service has too).
        if hands_off_reason(written.state_before) is not None:
            assert any(verified[0] <= t <= written.at for t in record.by_others), world.story()


slow_days = st.lists(
    st.one_of(
        st.builds(Happening, st.floats(300, 900), st.just("teams"), st.sampled_from(TEAMS_STATES)),
        st.builds(Happening, st.floats(300, 900), st.just("by hand"), st.none(), st.sampled_from(BY_HAND)),
        st.builds(Happening, st.floats(300, 900), st.sampled_from(["on queue", "off queue"])),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(slow_days, st.data())
def test_after_a_restart_at_any_point_the_writes_are_the_same(day: list[Happening], data: st.DataObject) -> None:
    """States last long enough for any schedule to see them (≥ 300 s), so the two runs are comparable."""
    restart_after = data.draw(st.integers(0, len(day) - 1))
    without = World.synced(teams("Available"), "Available")
    play(without, day)
    with_restart = World.synced(teams("Available"), "Available")
    play(with_restart, day, restart_after=restart_after)
    assert with_restart.written == without.written, f"{with_restart.story()}\n--- without ---\n{without.story()}"


# --- the Genesys → Teams direction: no write to Genesys is ever caused by our own Teams session ------

MEDIA = ["voice", "chat", "email"]
writeback_happenings = st.one_of(
    st.builds(Happening, st.floats(1, 900), st.sampled_from(["connect", "end"]), st.none(), st.sampled_from(MEDIA)),
    st.builds(Happening, st.floats(1, 900), st.just("by hand"), st.none(), st.sampled_from(BY_HAND)),
    st.builds(Happening, st.floats(1, 900), st.sampled_from(["on queue", "off queue", "restart", "clear fails"])),
)


@SETTINGS
@given(
    st.lists(writeback_happenings, min_size=1, max_size=25),
    st.floats(0, 50),
    st.sampled_from([WritebackConfig(enabled=True), WritebackConfig(enabled=True, while_on_queue=IN_A_CALL)]),
)
def test_nothing_our_own_teams_session_shows_is_ever_written_to_genesys(
    day: list[Happening], graph_lag: float, config: WritebackConfig
) -> None:
    """The Teams client itself shows Available all day: whatever Teams shows beyond that is our own
    session (seen up to ``graph_lag`` late, cleared late when Graph fails), so no write may follow."""
    world = World.synced(teams("Available"), "Available", writeback=config, graph_lag=graph_lag)
    at = world.now
    for happening in day:
        at += happening.after
        if happening.what in ("connect", "end"):
            world.interaction(happening.name, at=at, ended=happening.what == "end")
        elif happening.what == "restart":
            world.restart(at=at, downtime=5)
        elif happening.what == "clear fails":
            world.run_until(at)
            world.session_fails = [(SessionResult.FAILED, None)] * 3
        else:
            world.run_until(at)
            _genesys_happening(world, happening, at)
    world.run_until(at + 1800)
    assert world.writes == [], world.story()
