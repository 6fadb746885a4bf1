"""The sync protocol as stories: what happens to the agent, end to end, on virtual time.

Each story drives the real :class:`SyncProtocol` through :class:`tests.core.world.World` (a fake
Teams and Genesys). Times are seconds; the default poll interval is 60 s (±10 %), the dwell 10 s.
The first four sections are the everyday cases that used to go wrong.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from tests.core.org import TEAMS_AVAILABLE, genesys, teams
from tests.core.world import World
from tray_agent.core.events import (
    AgentCommandKind,
    GenesysIdentity,
    GenesysObserved,
    GenesysRefreshFailed,
    GenesysSocket,
    Source,
    TeamsRead,
    WriteFailure,
)
from tray_agent.core.mapping import PresenceMapping
from tray_agent.core.memory import Phase
from tray_agent.core.polling import Outcome, PollPolicy
from tray_agent.core.protocol import ProtocolTiming
from tray_agent.core.rules import SyncConfig, SyncStatus

DWELL = 10.0
INTERVAL = 60.0


def in_a_meeting(pre: str = "Available", *, at: float = 200.0) -> World:
    """Synced on Available; the agent picks ``pre`` by hand (if different); a meeting starts and is mirrored."""
    world = World.synced(TEAMS_AVAILABLE, "Available")
    if pre != "Available":
        world.agent_sets(pre, at=150)
    world.teams_shows("Busy", "InAMeeting", at=at)
    world.run_until(at + 2 * INTERVAL)
    assert world.written == ["Meeting"], world.story()
    return world


# =====================================================================================================
# 1. A status picked by hand during a meeting is not overwritten when the meeting ends.
# =====================================================================================================


def test_a_break_picked_during_a_meeting_stands_when_the_meeting_ends() -> None:
    world = in_a_meeting()
    world.agent_sets("Break", at=500)
    world.teams_shows("Available", at=900)
    world.run_until(1200)
    assert world.shows == "Break"
    assert world.written == ["Meeting"], "the end of the meeting wrote over the agent's Break"
    assert world.status is SyncStatus.MANUAL


def test_after_the_agents_choice_a_new_busy_state_is_followed_again() -> None:
    world = in_a_meeting()
    world.agent_sets("Break", at=500)
    world.teams_shows("Available", at=900)
    world.teams_shows("Busy", "InACall", at=1200)
    world.run_until(1400)
    assert world.written == ["Meeting", "Busy"]
    world.teams_shows("Available", at=1500)
    world.run_until(1700)
    assert world.written == ["Meeting", "Busy", "Break"], "the call's end puts back the agent's Break"


def test_a_restore_puts_back_the_status_from_before_the_meeting() -> None:
    world = in_a_meeting("Training")
    world.teams_shows("Available", at=900)
    world.run_until(1100)
    assert world.written == ["Meeting", "Training"]
    assert world.writes[-1].write.restore


def test_teams_free_again_after_a_restore_does_not_override_the_agents_own_status() -> None:
    world = in_a_meeting("Break")
    world.teams_shows("Available", at=900)
    world.run_until(1100)
    world.teams_shows("Offline", "OffWork", at=1200)
    world.teams_shows("Available", at=1500)
    world.run_until(1800)
    assert world.written == ["Meeting", "Break"]
    assert world.shows == "Break"


# =====================================================================================================
# 2. The dwell is a stability check: a change is written only when a second reading confirms it.
# =====================================================================================================


def test_a_brief_teams_flicker_caught_by_one_reading_is_not_written() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    read_at = world.next_read_at
    world.teams_shows("Busy", "Busy", at=read_at - 1)  # Busy for 6 s, and one reading sees it
    world.teams_shows("Available", at=read_at + 5)
    world.run_until(read_at + 300)
    assert [r.teams for r in world.readings_between(read_at - 1, read_at + 1)] == [teams("Busy")]
    assert world.written == []


def test_a_change_is_written_after_a_second_reading_at_least_the_dwell_later() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    read_at = world.next_read_at
    world.teams_shows("Busy", "InAMeeting", at=read_at - 1)
    world.run_until(read_at + 60)
    confirming = [r for r in world.readings if r.why == "confirming a Teams change"]
    assert len(confirming) == 1 and confirming[0].at >= read_at + DWELL
    assert world.written == ["Meeting"]
    assert world.writes[0].at < read_at + DWELL + 3, "the confirming read and the write follow at once"


def test_sync_now_acts_on_one_reading() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.agent_sets("Break", at=200)
    world.command(AgentCommandKind.SYNC_NOW, at=300)
    world.run_until(303)
    assert world.written == ["Available"]


# =====================================================================================================
# 3. A restart remembers: our last write, the restore point, the phase.
# =====================================================================================================


def test_a_restart_during_a_meeting_still_restores_the_agents_earlier_status() -> None:
    world = in_a_meeting("Training")
    world.restart(at=600, downtime=30)
    world.teams_shows("Available", at=900)
    world.run_until(1100)
    assert world.written == ["Meeting", "Training"]
    assert world.shows == "Training"


def test_a_restart_remembers_a_status_the_agent_chose() -> None:
    world = in_a_meeting()
    world.agent_sets("Break", at=500)
    world.restart(at=600)
    world.teams_shows("Available", at=900)
    world.run_until(1100)
    assert world.written == ["Meeting"] and world.shows == "Break"


def test_after_a_restart_a_status_changed_meanwhile_is_the_agents() -> None:
    world = in_a_meeting("Training")
    world.run_until(600)
    stored = world.stored
    world.agent_sets("Break", at=601)  # while the agent is not running: nobody hears of it
    world.stored = stored
    world.restart(at=602, downtime=60)
    world.teams_shows("Available", at=900)
    world.run_until(1100)
    assert world.written == ["Meeting"] and world.shows == "Break"


def test_a_write_sent_just_before_a_crash_is_recognised_as_ours_after_the_restart() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Training")
    world.teams_shows("Busy", "InAMeeting", at=200)
    world.writes_fail = []
    # Stop the world the moment the write is sent: the memory on disk has it in flight.
    for _ in range(400):
        world.run_until(world.now + 0.25)
        if world.protocol.memory.in_flight is not None:
            break
    assert world.stored is not None and world.stored["in_flight"] is not None
    world.run_until(world.now + 1)  # Genesys takes it; the answer is lost with the process
    world.restart(at=world.now)
    world.teams_shows("Available", at=900)
    world.run_until(1100)
    assert world.written == ["Meeting", "Training"]


@pytest.mark.parametrize("age", [12 * 3600 + 1, 48 * 3600])
def test_a_memory_older_than_a_shift_is_not_used(age: float) -> None:
    world = in_a_meeting("Training")
    world.restart(at=600, downtime=age)
    assert world.protocol.memory.phase is Phase.STARTING


# =====================================================================================================
# 4. Leaving hands-off: what Teams already showed is not pushed; what begins afterwards is.
# =====================================================================================================


def test_coming_off_queue_into_a_meeting_shows_meeting() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.goes_on_queue(at=200)
    world.goes_off_queue(at=3600, lands_on="Available")  # the all-hands is about to begin
    world.teams_shows("Busy", "InAMeeting", at=3630)
    world.run_until(3600 + INTERVAL * 1.1 + 2 * DWELL + 5)
    assert world.written == ["Meeting"], world.story()


def test_a_teams_state_already_showing_when_hands_off_ends_is_not_pushed() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.goes_on_queue(at=200)
    world.teams_shows("Busy", "InAMeeting", at=400)  # a meeting the agent does not attend, On Queue
    world.goes_off_queue(at=3600, lands_on="Break")
    world.run_until(4000)
    assert world.written == [] and world.shows == "Break"


def test_while_on_queue_teams_is_read_only_slowly_for_a_baseline() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.goes_on_queue(at=200)
    world.run_until(200 + 3600)
    reads = world.readings_between(200, 3800)
    slow = world.timing.poll.slow_interval
    assert len(reads) <= math.ceil(3600 / (slow * 0.9)) + 1
    assert len(reads) >= math.floor(3600 / (slow * 1.1)) - 1


def test_leaving_hands_off_reads_within_one_interval_not_at_once() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.goes_on_queue(at=200)
    world.goes_off_queue(at=3600)
    world.run_until(3600 + INTERVAL + 1)
    after = world.readings_between(3600, 3600 + INTERVAL + 1)
    assert after and after[0].why == "hands-off ended"


# =====================================================================================================
# Verify, then write; one write at a time; failures.
# =====================================================================================================


def test_every_write_follows_a_fresh_genesys_read() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.teams_shows("Busy", "InAMeeting", at=200)
    world.run_until(400)
    verifying = [r for r in world.reports if r[2].startswith("writing")]
    assert verifying and world.written == ["Meeting"]


@pytest.mark.parametrize("free", ["Idle", "Training"])
def test_a_break_picked_during_a_meeting_stands_when_teams_free_maps_to_another_status(free: str) -> None:
    # The agent's window let them map Teams Available to another presence: "Teams is free again" is
    # what Available maps to now, not the word "Available".
    config = SyncConfig(mapping=PresenceMapping.build({"Available": free}))
    world = World.synced(TEAMS_AVAILABLE, free, config=config)
    world.teams_shows("Busy", "InAMeeting", at=200)
    world.run_until(200 + 2 * INTERVAL)
    assert world.written == ["Meeting"], world.story()
    world.agent_sets("Break", at=500)
    world.teams_shows("Available", at=900)
    world.run_until(1200)
    assert world.shows == "Break" and world.written == ["Meeting"], world.story()
    assert world.status is SyncStatus.MANUAL


def test_a_meeting_ends_back_on_the_status_from_before_when_teams_free_maps_to_another_status() -> None:
    config = SyncConfig(mapping=PresenceMapping.build({"Available": "Idle"}))
    world = World.synced(TEAMS_AVAILABLE, "Idle", config=config)
    world.agent_sets("Training", at=150)
    world.teams_shows("Busy", "InAMeeting", at=200)
    world.teams_shows("Available", at=600)
    world.run_until(900)
    assert world.written == ["Meeting", "Training"], world.story()  # restored, not "Idle"


def test_going_on_queue_between_the_decision_and_the_verify_read_prevents_the_write() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available", latency=5.0)
    world.teams_shows("Busy", "InAMeeting", at=200)
    for _ in range(1000):
        world.run_until(world.now + 0.5)
        if world.status is SyncStatus.WRITING:
            break
    world.goes_on_queue(at=world.now + 0.1)  # lands before the verify read answers
    world.run_until(world.now + 120)
    assert world.written == [] and world.status is SyncStatus.ON_QUEUE


def test_a_long_retry_after_on_a_write_pauses_sync_and_says_so() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.writes_fail = [(WriteFailure.THROTTLED, 600.0)]
    world.teams_shows("Busy", "InAMeeting", at=200)
    world.run_until(400)
    assert world.written == [] and world.status is SyncStatus.PAUSED
    assert any("sync paused" in text for _, kind, text in world.reports if kind == "error")
    world.run_until(1000)
    assert world.written == ["Meeting"]
    assert world.writes[0].at >= 200 + 600


def test_a_long_retry_after_is_said_once_though_calls_meanwhile_meet_the_clients_own_wait() -> None:
    # The 429's answer pauses sync; a re-read during the pause meets the client's gate, which says
    # the time still to wait (about 579 s, 21 s later). The pause is the same: the agent is told once,
    # with what Genesys asked for, and the reason shown is Genesys's, not the agent's.
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.writes_fail = [(WriteFailure.THROTTLED, 600.0)]
    world.teams_shows("Busy", "InAMeeting", at=200)
    while world.status is not SyncStatus.PAUSED and world.now < 300:
        world.run_until(world.now + 1)
    world.run_until(world.now + 21)
    paused_until = world.protocol.memory.paused_until
    assert paused_until is not None
    still_to_wait = paused_until - world.now + 0.5  # the gate's clock, a moment apart from the protocol's
    world.feed(GenesysRefreshFailed(Source.STALE, "throttled", world.now, throttled=True, retry_after=still_to_wait))
    world.run_until(400)
    said = [text for _, kind, text in world.reports if kind == "error" and "sync paused" in text]
    assert said == ["Genesys asked us to wait 600 s: sync paused until then"], world.story()
    assert world.status is SyncStatus.PAUSED and world.protocol.decision is not None
    assert world.protocol.decision.reason == "Genesys asked us to wait: sync paused until then"


def test_a_long_retry_after_never_ends_the_agents_own_pause() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.command(AgentCommandKind.PAUSE, at=150)
    world.run_until(160)
    world.feed(GenesysRefreshFailed(Source.STALE, "throttled", 160.0, throttled=True, retry_after=600.0))
    world.teams_shows("Busy", "InAMeeting", at=300)
    world.run_until(3000)
    assert world.written == [] and world.status is SyncStatus.PAUSED
    assert world.protocol.decision is not None and world.protocol.decision.reason == "sync paused by the agent"
    assert not [text for _, kind, text in world.reports if kind == "error" and "sync paused" in text]


def test_a_longer_retry_after_than_the_agents_pause_for_a_while_outlasts_it_and_says_so() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.command(AgentCommandKind.PAUSE, at=150, seconds=300)
    world.run_until(160)
    world.feed(GenesysRefreshFailed(Source.STALE, "throttled", 160.0, throttled=True, retry_after=900.0))
    world.teams_shows("Busy", "InAMeeting", at=300)
    world.run_until(1000)
    assert world.written == [] and world.status is SyncStatus.PAUSED
    world.run_until(1060 + 2 * INTERVAL)
    assert world.written == ["Meeting"] and world.writes[0].at >= 160 + 900


def test_a_short_retry_after_on_a_write_is_waited_out() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.writes_fail = [(WriteFailure.THROTTLED, 30.0)]
    world.teams_shows("Busy", "InAMeeting", at=200)
    world.run_until(500)
    assert world.written == ["Meeting"]
    failed_at = next(at for at, kind, text in world.reports if text.startswith("writing"))
    assert world.writes[0].at >= failed_at + 30


def test_a_retry_after_met_by_a_background_re_read_holds_back_the_next_write_too() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.run_until(150)
    world.feed(GenesysRefreshFailed(Source.STALE, "throttled", 150.0, throttled=True, retry_after=120.0))
    world.teams_shows("Busy", "InAMeeting", at=160)
    world.run_until(600)
    assert world.written == ["Meeting"]
    assert [at for at, _ in world.verify_reads if at > 150] and all(
        at >= 150 + 120 for at, _ in world.verify_reads if at > 150
    ), world.story()
    assert any("trying again in 120.0 s" in text for _, _, text in world.reports)


def test_no_genesys_read_is_sent_while_a_write_is_on_its_way() -> None:
    # Polling Genesys (the socket is down) and a slow network for the write: a poll sent after the
    # write could overtake it, see a status the agent picks meanwhile, and be overwritten by the write.
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.feed(GenesysSocket(False, world.now))
    world.write_latency = 45.0
    world.teams_shows("Busy", "InAMeeting", at=200)
    world.run_until(600)
    assert world.written == ["Meeting"]
    sent, landed = world.sent_writes[0], world.writes[0].at
    assert [at for at, _ in world.refreshes if sent <= at < landed] == []
    assert [source for at, source in world.refreshes if at >= landed][:1] == [Source.POLL]  # polling goes on


def test_a_failed_write_is_retried_with_backoff() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.writes_fail = [WriteFailure.FAILED, WriteFailure.FAILED]
    world.teams_shows("Busy", "InAMeeting", at=200)
    world.run_until(600)
    assert world.written == ["Meeting"]
    assert any("could not change" in text for _, _, text in world.reports)


def test_a_graph_429_without_retry_after_backs_off_then_stretches_the_following_intervals() -> None:
    timing = ProtocolTiming(poll=PollPolicy(interval=20.0, jitter=0.0, backoff_base=2.0))
    world = World.synced(TEAMS_AVAILABLE, "Available", timing=timing)
    world.graph_fails = [Outcome.THROTTLED]
    throttled_at = world.next_read_at
    world.run_until(throttled_at + 200)
    first, second, third = (r.at for r in world.readings_between(throttled_at, throttled_at + 200)[:3])
    latency = world.latency
    # After the 429: at least the backoff base, then a random share of one interval (no lockstep).
    assert 2.0 <= second - (first + latency) <= 2.0 + 20.0
    # The pressure doubled on the 429 and eased by a tenth on the success: 1.8 intervals.
    assert third - (second + latency) == pytest.approx(1.8 * 20.0)


def test_while_graph_is_unreachable_the_next_read_is_planned_at_most_one_interval_after_each_failure() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.graph_fails = [Outcome.UNREACHABLE] * 12
    first = world.next_read_at
    for _ in range(12):
        world.run_until(world.next_read_at + world.latency)
        planned = world.protocol.next_teams_read_at  # world.now: the failure was just answered
        assert planned is not None and planned - world.now <= INTERVAL * 1.1
    assert world.now > first + 5 * INTERVAL  # the backoff reached its cap of one interval meanwhile


def test_graph_throttling_holds_reads_until_retry_after() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.graph_fails = [Outcome.THROTTLED]
    first = world.next_read_at
    world.run_until(first + 1)
    world.teams_shows("Busy", "InAMeeting", at=first + 2)
    world.run_until(first + 3 * INTERVAL)
    assert world.written == ["Meeting"]


# =====================================================================================================
# Order, freshness, identity.
# =====================================================================================================


def test_a_genesys_event_older_than_what_we_hold_is_dropped() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.agent_sets("Training", at=200)
    world.run_until(201)
    overtaken = genesys("Break", at=150)  # modified before the Training we already know of
    world.feed(GenesysObserved(overtaken, Source.SOCKET, world.now))
    assert world.protocol.genesys is not None
    assert world.label_of(world.protocol.genesys.presence_id) == "Training"


def test_a_far_future_modified_date_does_not_freeze_the_view_of_genesys() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    future = genesys("Break", at=world.now + 10 * 365 * 86400)
    world.feed(GenesysObserved(future, Source.SOCKET, world.now))
    world.agent_sets("Training", at=world.now + 5)
    world.run_until(world.now + 5)
    assert world.protocol.genesys is not None
    assert world.label_of(world.protocol.genesys.presence_id) == "Training"


def test_an_older_graph_reading_is_dropped_once_and_a_second_one_starts_a_new_series() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.feed(TeamsRead(replace(teams("Available"), sequence="0005"), world.now))
    world.feed(TeamsRead(replace(teams("Busy"), sequence="0003"), world.now))
    assert world.protocol.teams == replace(teams("Available"), sequence="0005")
    world.feed(TeamsRead(replace(teams("Busy"), sequence="0004"), world.now))
    assert world.protocol.teams == replace(teams("Busy"), sequence="0004")


def test_another_genesys_user_signing_in_starts_a_fresh_memory() -> None:
    world = in_a_meeting("Training")
    assert world.protocol.memory.episode is not None
    world.feed(GenesysIdentity("someone-else", world.catalog, world.now))
    assert world.protocol.memory.episode is None
    assert world.protocol.memory.user_id == "someone-else"


# =====================================================================================================
# The agent's commands.
# =====================================================================================================


def test_no_reads_while_paused_and_a_change_meanwhile_is_acted_on_at_resume() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.command(AgentCommandKind.PAUSE, at=200)
    world.teams_shows("Busy", "InAMeeting", at=300)
    world.run_until(1200)
    assert world.readings_between(201, 1200) == [] and world.written == []
    world.command(AgentCommandKind.RESUME, at=1200)
    world.run_until(1300)
    assert world.written == ["Meeting"]


def test_a_pause_for_a_while_ends_by_itself() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available")
    world.command(AgentCommandKind.PAUSE, at=200, seconds=900)
    world.teams_shows("Busy", "InAMeeting", at=300)
    world.run_until(1100)
    assert world.written == []
    world.run_until(1100 + 2 * INTERVAL)
    assert world.written == ["Meeting"]


def test_the_loop_breaker_stops_runaway_changes() -> None:
    world = World.synced(TEAMS_AVAILABLE, "Available", config=SyncConfig(loop_max_writes=3, loop_window_seconds=1200))
    at = 200.0
    for _ in range(12):
        world.teams_shows("Busy", "InACall", at=at)
        world.teams_shows("Away", "Away", at=at + 40)
        at += 80
    world.run_until(at + 200)
    config = world.config
    window = [w for w in world.writes if w.at < 200 + config.loop_window_seconds]
    assert len(window) <= config.loop_max_writes
    assert world.status is SyncStatus.LOOP_BREAKER
