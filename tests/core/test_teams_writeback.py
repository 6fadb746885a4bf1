"""The Genesys → Teams direction: while a Genesys interaction lasts Teams shows the agent busy, and
never afterwards; and nothing our own session shows is ever carried back into Genesys."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from tests.core.org import teams
from tests.core.world import World
from tray_agent.core.events import AgentCommandKind, TeamsWriterPrepared
from tray_agent.core.interactions import BUSY, IN_A_CALL, InteractionSummary, Media, WritebackConfig
from tray_agent.core.memory import decode
from tray_agent.core.presence import GenesysState
from tray_agent.core.teams_writeback import (
    ClearTeamsSession,
    SessionCall,
    SessionResult,
    SetTeamsSession,
    TeamsWriteback,
    wanted,
)
from tray_agent.core.triggers import SignalKind

ON = WritebackConfig(enabled=True)


def on_queue_world(**options: object) -> World:
    options.setdefault("writeback", ON)
    world = World.synced(teams("Available"), "Available", **options)  # type: ignore[arg-type]
    world.goes_on_queue(at=120)
    world.run_until(200)
    return world


def sets(world: World, since: float = 0.0) -> list[tuple[float, SetTeamsSession]]:
    return [(at, call) for at, call in world.session_calls if isinstance(call, SetTeamsSession) and at >= since]


def clears(world: World, since: float = 0.0) -> list[float]:
    return [at for at, call in world.session_calls if isinstance(call, ClearTeamsSession) and at >= since]


def state(routing: str = "IDLE", system: str = "ON_QUEUE") -> GenesysState:
    return GenesysState("id", system, routing, False, 0.0)


# --- what Teams should show (the rule table) -------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "genesys", "summary", "leaving", "expected"),
    [
        (WritebackConfig(), state("INTERACTING"), InteractionSummary.of([Media.VOICE]), False, None),
        (ON, state("INTERACTING"), InteractionSummary.of([Media.VOICE]), True, None),
        (ON, state("INTERACTING", "OFFLINE"), InteractionSummary.of([Media.VOICE]), False, None),
        (ON, state("INTERACTING"), InteractionSummary.of([Media.VOICE]), False, IN_A_CALL),
        (ON, state("INTERACTING"), InteractionSummary.of([Media.EMAIL]), False, IN_A_CALL),
        (ON, state("OFF_QUEUE", "AVAILABLE"), InteractionSummary.of([Media.VOICE]), False, IN_A_CALL),
        (
            replace(ON, media={Media.VOICE: IN_A_CALL}),
            state("INTERACTING"),
            InteractionSummary.of([Media.EMAIL]),
            False,
            None,
        ),
        (ON, state("INTERACTING"), None, False, IN_A_CALL),  # no summary: the routing status stands in
        (ON, state("COMMUNICATING"), None, False, IN_A_CALL),
        (ON, state("IDLE"), None, False, None),
        (ON, state("INTERACTING"), InteractionSummary(), False, None),  # the summary, when known, decides
        (replace(ON, while_on_queue=IN_A_CALL), state("IDLE"), InteractionSummary(), False, IN_A_CALL),
        (replace(ON, while_on_queue=IN_A_CALL), state("OFF_QUEUE", "AVAILABLE"), InteractionSummary(), False, None),
        (replace(ON, preferred=True), state("INTERACTING"), InteractionSummary.of([Media.CHAT]), False, BUSY),
    ],
)
def test_what_teams_should_show(config, genesys, summary, leaving, expected) -> None:  # type: ignore[no-untyped-def]
    assert wanted(config, genesys, summary, leaving=leaving).pair == expected


def test_with_the_genesys_status_unknown_our_session_is_neither_renewed_nor_cleared() -> None:
    assert wanted(ON, None, InteractionSummary.of([Media.VOICE]), leaving=False).hold


# --- set, renew, clear ----------------------------------------------------------------------------


def test_a_voice_interaction_shows_busy_in_a_call_in_teams_until_it_ends() -> None:
    world = on_queue_world()
    world.interaction("voice", at=300)
    world.run_until(302)
    [(at, call)] = sets(world)
    assert (call.availability, call.activity, call.expiration) == ("Busy", "InACall", 300.0)
    assert at == pytest.approx(300.25, abs=0.01)
    assert world.protocol.writeback.describe() == "Busy / InACall – set by sync (Genesys voice interaction)"
    world.interaction("voice", at=400, ended=True)
    world.run_until(410)
    assert clears(world) == [pytest.approx(400.25, abs=0.01)]
    assert world.session_at(410) is None
    assert world.protocol.writeback.describe() is None


def test_a_long_interaction_renews_the_session_before_it_lapses_and_never_lets_it_go_out() -> None:
    world = on_queue_world()
    world.interaction("voice", at=300)
    world.run_until(300 + 3600)
    times = [at for at, _ in sets(world)]
    assert len(times) == 1 + 3600 // 210  # every expiration - renew_before = 210 s
    assert all(later - earlier == pytest.approx(210, abs=1) for earlier, later in itertools.pairwise(times))
    assert all(world.session_at(t) == IN_A_CALL for t in range(301, 3900, 5))


def test_moving_from_a_call_to_an_email_changes_nothing_teams_shows_and_sends_nothing_new() -> None:
    world = on_queue_world()
    world.interaction("voice", at=300)
    world.interaction("email", at=320)
    world.interaction("voice", at=340, ended=True)
    world.run_until(400)
    assert len(sets(world)) == 1 and not clears(world)  # Busy/InACall either way: setPresence has no Busy/Busy


def test_media_left_out_of_the_setting_are_not_shown() -> None:
    world = on_queue_world(writeback=replace(ON, media={Media.VOICE: IN_A_CALL}))
    world.interaction("email", at=300)
    world.run_until(600)
    assert world.session_calls == []


def test_it_policy_can_show_busy_for_as_long_as_the_agent_is_on_queue() -> None:
    world = on_queue_world(writeback=replace(ON, while_on_queue=IN_A_CALL))
    assert [call.why for _, call in sets(world)] == ["On Queue in Genesys"]
    world.goes_off_queue(at=500)
    world.run_until(510)
    assert clears(world) == [pytest.approx(500.25, abs=0.01)]


def test_with_the_preferred_presence_policy_media_other_than_calls_show_plain_busy() -> None:
    world = on_queue_world(writeback=replace(ON, preferred=True))
    world.interaction("chat", at=300)
    world.run_until(310)
    [(_, call)] = sets(world)
    assert (call.availability, call.activity, call.preferred) == ("Busy", "Busy", True)
    world.interaction("chat", at=400, ended=True)
    world.run_until(410)
    [(_, clear)] = [(at, c) for at, c in world.session_calls if isinstance(c, ClearTeamsSession)]
    assert clear.preferred


def test_the_feature_off_never_calls_graph() -> None:
    world = World.synced(teams("Available"), "Available")
    world.goes_on_queue(at=120)
    world.interaction("voice", at=300)
    world.run_until(1000)
    assert world.session_calls == []


# --- leaving, crashing, restarting ----------------------------------------------------------------


def test_quitting_or_signing_out_during_a_call_clears_teams_first() -> None:
    world = on_queue_world()
    world.interaction("voice", at=300)
    world.leaves(at=350)
    world.run_until(352)
    assert clears(world) == [pytest.approx(350, abs=0.01)]
    assert world.session_at(352) is None


def test_a_crashed_agent_leaves_teams_busy_for_the_expiration_at_most() -> None:
    world = on_queue_world()
    world.interaction("voice", at=300)
    world.run_until(305)
    world.protocol = None  # type: ignore[assignment]  # the process is gone: nobody renews
    landed = world.session_history[-1].at
    assert world.session_at(landed + 299) == IN_A_CALL
    assert world.session_at(landed + 300) is None


def test_a_restart_remembers_the_session_and_clears_it_when_the_call_ended_meanwhile() -> None:
    world = on_queue_world()
    world.interaction("voice", at=300)
    world.run_until(310)
    stored = world.stored
    assert stored is not None and decode(stored, 310).teams_session is not None
    world.active_media.clear()  # the call ends while the agent is not running
    world.restart(at=320, downtime=30)
    world.run_until(360)
    assert clears(world, since=350) == [pytest.approx(350, abs=1)]


def test_a_restart_during_a_call_keeps_teams_busy() -> None:
    world = on_queue_world()
    world.interaction("voice", at=300)
    world.restart(at=320, downtime=5)
    world.run_until(700)
    assert not clears(world)
    assert all(world.session_at(t) == IN_A_CALL for t in range(301, 700, 5))


# --- faults ---------------------------------------------------------------------------------------


def test_a_throttled_clear_is_retried_after_retry_after_until_it_gets_through() -> None:
    world = on_queue_world()
    world.interaction("voice", at=300)
    world.run_until(310)
    world.session_fails = [(SessionResult.THROTTLED, 7.0), (SessionResult.FAILED, None)]
    world.interaction("voice", at=400, ended=True)
    world.run_until(500)
    first, second, third = clears(world)
    assert second - first >= 7.0
    assert third > second
    assert world.session_at(500) is None


def test_a_clear_that_never_gets_through_stops_once_the_session_has_lapsed() -> None:
    world = on_queue_world()
    world.interaction("voice", at=300)
    world.run_until(310)
    world.session_fails = [(SessionResult.FAILED, None)] * 1000
    world.interaction("voice", at=400, ended=True)
    world.run_until(2000)
    assert clears(world) and max(clears(world)) < 300.5 + 300
    assert world.protocol.next_wake() is None or world.protocol.writeback.session is None


def test_without_consent_for_presence_read_write_it_says_so_and_stops_asking() -> None:
    world = on_queue_world()
    world.session_fails = [(SessionResult.NOT_CONSENTED, None)]
    world.interaction("voice", at=300)
    world.run_until(1000)
    assert len(sets(world)) == 1
    assert world.protocol.writeback.problem == "refused by the test"  # the writer's words
    assert world.protocol.writeback.describe() is None


def test_a_permission_missing_at_start_is_shown_at_once_and_a_grant_later_lets_it_work() -> None:
    world = on_queue_world()
    world.feed(TeamsWriterPrepared("Presence.ReadWrite is not granted", world.now))
    assert world.protocol.writeback.problem == "Presence.ReadWrite is not granted"
    world.interaction("voice", at=300)
    world.run_until(310)
    assert world.session_calls == []  # blocked: nothing is sent
    world.feed(TeamsWriterPrepared(None, world.now))  # the agent granted it
    world.run_until(320)
    assert world.session_at(320) == IN_A_CALL


@pytest.mark.parametrize("failure", [SessionResult.FAILED, SessionResult.THROTTLED, SessionResult.REJECTED])
def test_a_failing_teams_write_never_holds_back_the_other_direction(failure: SessionResult) -> None:
    world = World.synced(teams("Available"), "Available", writeback=ON)
    world.session_fails = [(failure, 5.0)] * 1000
    world.interaction("voice", at=150)  # an outbound call off queue: Teams should show it, and cannot
    world.teams_shows("Away", at=300)
    world.run_until(500)
    assert world.written == ["Away"]


def test_a_refused_first_set_never_showed_so_busy_readings_are_the_agents_own() -> None:
    world = World.synced(teams("Available"), "Available", writeback=ON)
    world.session_fails = [(SessionResult.REJECTED, None)]
    world.interaction("voice", at=150)
    world.teams_shows("Busy", "InAMeeting", at=300)
    world.run_until(500)
    assert world.written == ["Meeting"]


# --- echo-free ------------------------------------------------------------------------------------


def test_our_own_busy_is_never_carried_back_when_the_agent_goes_off_queue_while_it_fades() -> None:
    world = on_queue_world(graph_lag=20.0)
    world.interaction("voice", at=300)
    world.interaction("voice", at=600, ended=True)
    world.goes_off_queue(at=601)  # Graph still shows our Busy / InACall for 20 s
    world.command(AgentCommandKind.SYNC_NOW, at=605)  # a read inside the fade, even "sync now"
    world.signal(SignalKind.DEVICE_RELEASED, at=610)  # the Genesys softphone's headset: another
    world.run_until(1200)
    assert world.written == []
    assert any(r.teams == teams("Busy", "InACall") for r in world.readings_between(600, 625))


def test_graph_reporting_our_call_as_plain_busy_is_still_recognised_as_ours() -> None:
    world = World.synced(teams("Available"), "Available", writeback=ON)
    world.interaction("voice", at=150)  # off queue: the Teams → Genesys direction is active
    world.run_until(160)
    world.teams_by_hand = None
    world.teams_now = teams("Busy")  # Graph shows Busy / Busy while our session lasts (MS Q&A 2014289)
    world.run_until(1000)
    assert "Busy" not in world.written


def test_a_teams_meeting_right_after_the_call_is_followed_once_our_status_has_faded() -> None:
    world = on_queue_world()
    world.interaction("voice", at=300)
    world.interaction("voice", at=600, ended=True)
    world.goes_off_queue(at=601)
    world.teams_shows("Busy", "InAMeeting", at=602)
    world.run_until(1000)
    assert world.written == ["Meeting"]
    [meeting] = world.writes
    assert meeting.at <= 600.5 + ON.echo_fade + 15  # the read planned for the fade, and its confirmation


def test_the_agents_own_do_not_disturb_in_teams_wins_during_the_call_and_is_theirs_afterwards() -> None:
    world = on_queue_world()
    world.interaction("voice", at=300)
    world.teams_chooses(("DoNotDisturb", "DoNotDisturb"), at=350)  # user-configured beats our session
    world.interaction("voice", at=600, ended=True)
    world.goes_off_queue(at=601)
    world.run_until(1200)
    assert world.protocol.teams == teams("DoNotDisturb")
    assert not world.protocol.teams_is_ours  # their choice, not ours: it is the normal direction's
    assert world.written == []  # as without the feature: Teams' state at the end of hands-off is the baseline


def test_a_status_chosen_by_hand_in_genesys_during_the_fade_stands() -> None:
    world = on_queue_world()
    world.interaction("voice", at=300)
    world.interaction("voice", at=600, ended=True)
    world.agent_sets("Break", at=601)
    world.run_until(1500)
    assert world.written == []
    assert world.shows == "Break"


def test_the_machine_alone_never_sends_two_calls_at_once() -> None:
    machine = TeamsWriteback(ON, random=lambda: 0.5)
    machine.microsoft_ready(True)
    machine.interactions(InteractionSummary.of([Media.VOICE]))
    assert len(machine.step(0.0, state("INTERACTING"))) == 1
    machine.interactions(InteractionSummary())
    assert machine.step(1.0, state("IDLE")) == []  # the set is not answered yet


def test_a_reading_sent_while_the_last_session_fades_is_still_ours_after_the_next_call_starts() -> None:
    machine = TeamsWriteback(ON, random=lambda: 0.5)
    machine.microsoft_ready(True)
    machine.interactions(InteractionSummary.of([Media.VOICE]))
    machine.step(0.0, state("INTERACTING"))
    machine.answered(SessionCall.SET, SessionResult.OK, 0.5, None)
    machine.interactions(InteractionSummary())
    machine.step(100.0, state("IDLE"))
    machine.answered(SessionCall.CLEAR, SessionResult.OK, 100.5, None)
    machine.interactions(InteractionSummary.of([Media.CHAT]))
    machine.step(120.0, state("INTERACTING"))  # the next call, inside the fade of the last
    assert machine.is_ours(teams("Busy", "InACall"), requested_at=110.0)
