"""Graph presence sessions: an app writes the person's Teams presence (setPresence, clearPresence,
setUserPreferredPresence, clearUserPreferredPresence), and what Teams shows is the aggregation of the
Teams client, the app sessions and the user-configured presence."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tray_agent.simulator import Simulator, SimulatorState
from tray_agent.simulator.graph_api import parse_duration
from tray_agent.simulator.teams_presence import TeamsChange

from .helpers import DAY, ManualClock, bearer, ssl_context

APP = "8a1d4c2e-6b3f-4e5a-9c7d-0e1f2a3b4c5d"  # the simulator's default Entra client id
OTHER_APP = "0c0c0c0c-1111-2222-3333-444444444444"
WRITE_SCOPES = ("Presence.Read", "Presence.ReadWrite", "User.Read")


def world(**options: float) -> tuple[SimulatorState, ManualClock]:
    clock = ManualClock()
    return Simulator(clock, auto_approve=True, **options).state, clock


def shown(state: SimulatorState, user: Any = None) -> tuple[str, str]:
    teams = state.teams.presence(user)
    return teams.availability, teams.activity


# ---------------------------------------------------------------------------------------- aggregation


def test_an_app_session_shows_while_it_lives_and_is_gone_when_it_expires() -> None:
    state, clock = world()
    state.teams.set_session(APP, "Busy", "InACall", 600)
    assert shown(state) == ("Busy", "InACall")
    [session] = state.teams.sessions()
    assert (session.session_id, session.availability, session.activity) == (APP, "Busy", "InACall")
    assert (session.created, session.renewed, session.expires_at) == (DAY, DAY, DAY + 600)
    clock.advance(599)
    assert shown(state) == ("Busy", "InACall")
    clock.advance(1)
    assert shown(state) == ("Available", "Available") and state.teams.sessions() == []
    assert state.teams.changes()[-1] == TeamsChange(DAY + 600, "Available", "Available", "app_session")


def test_among_sessions_do_not_disturb_beats_busy_beats_available_beats_away() -> None:
    state, _ = world()
    state.teams.set("Away", "Away")  # the Teams client session
    state.teams.set_session(APP, "Available", "Available", 3600)
    assert shown(state) == ("Available", "Available")  # Available > Away
    state.teams.set_session(OTHER_APP, "Busy", "InACall", 3600)
    assert shown(state) == ("Busy", "InACall")  # Busy > Available
    state.teams.set("DoNotDisturb", "DoNotDisturb")
    assert shown(state) == ("DoNotDisturb", "DoNotDisturb")  # the client's DND > the app's Busy
    state.teams.set("Available", "Available")
    state.teams.set_session(APP, "DoNotDisturb", "Presenting", 3600)
    assert shown(state) == ("DoNotDisturb", "Presenting")


def test_a_busy_tie_shows_the_clients_own_activity() -> None:
    state, _ = world()
    state.workstation.set_calendar([{"subject": "Sync", "start": DAY - 60, "end": DAY + 600}])
    state.teams.set_session(APP, "Busy", "InACall", 3600)
    assert shown(state) == ("Busy", "InAMeeting")  # undocumented tie: the client's own activity
    state.workstation.set_calendar([])
    assert shown(state) == ("Busy", "InACall")


def test_a_status_chosen_by_hand_in_teams_beats_every_app_session_until_reset() -> None:
    state, _ = world()
    state.teams.set_session(APP, "DoNotDisturb", "Presenting", 3600)
    state.teams.set("BeRightBack", "BeRightBack", by_hand=True)
    assert shown(state) == ("BeRightBack", "BeRightBack")
    preferred = state.teams.preferred()
    assert preferred is not None and (preferred.by, preferred.expires_at) == ("teams", None)
    assert state.teams.changes()[-1].reason == "set"
    state.teams.reset_status()
    assert shown(state) == ("DoNotDisturb", "Presenting") and state.teams.preferred() is None


def test_only_the_pairs_of_teams_own_menu_can_be_chosen_by_hand() -> None:
    state, _ = world()
    for pair in [("Busy", "Busy"), ("DoNotDisturb", "DoNotDisturb"), ("Away", "Away"), ("Offline", "OffWork")]:
        state.teams.set(*pair, by_hand=True)
        assert shown(state) == pair
    with pytest.raises(ValueError, match="Busy/InACall"):
        state.teams.set("Busy", "InACall", by_hand=True)


def test_without_sessions_and_preference_the_client_shows_as_set() -> None:
    state, _ = world()
    state.teams.set("Offline", "OffWork")
    assert shown(state) == ("Offline", "OffWork")
    assert state.teams.client_status() == ("Offline", "OffWork")


def test_a_client_showing_offline_is_no_session_and_a_preference_alone_shows_offline() -> None:
    state, _ = world()
    state.teams.set("Offline", "Offline")  # Teams is not running
    state.teams.set_user_preferred("DoNotDisturb", "DoNotDisturb")
    assert shown(state) == ("Offline", "Offline")  # "takes effect only while at least one session exists"
    state.teams.set_session(APP, "Available", "Available", 600)
    assert shown(state) == ("DoNotDisturb", "DoNotDisturb")
    state.teams.clear_user_preferred()
    assert shown(state) == ("Available", "Available")  # the client's Offline contributes nothing


def test_an_available_session_not_renewed_fades_to_inactive_then_away() -> None:
    state, clock = world()
    state.teams.set("Offline", "Offline")
    state.teams.set_session(APP, "Available", "Available", 3600)
    clock.advance(299)
    assert shown(state) == ("Available", "Available")
    clock.advance(1)
    assert shown(state) == ("Available", "AvailableInactive")
    clock.advance(300)
    assert shown(state) == ("Away", "Away")
    state.teams.set_session(APP, "Available", "Available", 3600)  # renewing restarts the fade
    assert shown(state) == ("Available", "Available")
    assert [(c.at - DAY, c.activity, c.reason) for c in state.teams.changes()[-4:]] == [
        (0, "Available", "app_session"),
        (300, "AvailableInactive", "app_session"),
        (600, "Away", "app_session"),
        (600, "Available", "app_session"),
    ]


def test_session_changes_are_stamped_at_their_own_moment_even_unread() -> None:
    state, clock = world()
    state.teams.set("Away", "Away")
    state.teams.set_session(APP, "Busy", "InACall", 300)
    clock.advance(3600)  # nobody reads meanwhile
    assert [(c.at, c.availability, c.reason, c.from_app) for c in state.teams.changes()[-2:]] == [
        (DAY, "Busy", "app_session", True),
        (DAY + 300, "Away", "app_session", True),
    ]


def test_clearing_a_session_removes_it_and_an_expired_one_cannot_be_cleared() -> None:
    state, clock = world()
    state.teams.set_session(APP, "Busy", "InACall", 300)
    assert state.teams.clear_session(APP) is True
    assert shown(state) == ("Available", "Available") and state.teams.sessions() == []
    assert state.teams.clear_session(APP) is False
    state.teams.set_session(APP, "Busy", "InACall", 300)
    clock.advance(300)
    assert state.teams.clear_session(APP) is False


def test_the_preferred_presence_defaults_to_one_day_for_busy_and_dnd_and_seven_days_otherwise() -> None:
    state, clock = world()
    state.teams.set_session(APP, "Busy", "InACall", 4 * 3600)
    busy = state.teams.set_user_preferred("Busy", "Busy")
    assert busy.expires_at == DAY + 86400
    assert state.teams.set_user_preferred("BeRightBack", "BeRightBack").expires_at == DAY + 7 * 86400
    dnd = state.teams.set_user_preferred("DoNotDisturb", "DoNotDisturb", 600)
    assert dnd.expires_at == DAY + 600 and shown(state) == ("DoNotDisturb", "DoNotDisturb")
    clock.advance(600)
    assert state.teams.preferred() is None
    assert state.teams.changes()[-1] == TeamsChange(DAY + 600, "Busy", "InACall", "preferred_presence")


def test_graph_reports_the_aggregation_after_the_propagation_delay_with_a_new_sequence_number() -> None:
    state, clock = world(graph_propagation_delay=3.0)
    before = state.teams.graph_presence().sequence_number
    state.teams.set_session(APP, "Busy", "InACall", 300)
    clock.advance(2.9)
    assert state.teams.graph_presence().availability == "Available"
    clock.advance(0.1)
    after = state.teams.graph_presence()
    assert (after.availability, after.activity) == ("Busy", "InACall") and after.sequence_number > before


def test_the_state_refuses_what_graph_would_refuse() -> None:
    state, _ = world()
    with pytest.raises(ValueError, match="Busy/Busy"):
        state.teams.set_session(APP, "Busy", "Busy", 300)
    with pytest.raises(ValueError, match="PT5M and PT4H"):
        state.teams.set_session(APP, "Busy", "InACall", 299)
    with pytest.raises(ValueError, match="Busy/InACall"):
        state.teams.set_user_preferred("Busy", "InACall")
    assert state.teams.sessions() == [] and state.teams.session_calls() == []


def test_iso_8601_durations() -> None:
    assert parse_duration("PT5M") == 300 and parse_duration("PT4H") == 14400
    assert parse_duration("PT1H30M") == 5400 and parse_duration("P1D") == 86400
    assert parse_duration("PT300S") == 300 and parse_duration("PT0.5S") == 0.5
    for bad in ("", "P", "PT", "5M", "PT5m", "pt5m", "P1W", "P1M", "P1Y", "PT-5M", "P1DT", "PT5M ", "300"):
        with pytest.raises(ValueError):
            parse_duration(bad)


# ---------------------------------------------------------------------------------------- over HTTP


@pytest.fixture
async def live() -> AsyncIterator[tuple[Simulator, ManualClock]]:
    clock = ManualClock()
    async with Simulator(clock, auto_approve=True, graph_propagation_delay=0.0) as simulator:
        yield simulator, clock


def writer(sim: Simulator, scopes: tuple[str, ...] = WRITE_SCOPES, client_id: str | None = None) -> str:
    person = sim.state.people.default_user
    return sim.state.tokens.new_entra_access_token(person.ms_id, client_id or sim.ms_client_id, scopes).token


async def post(sim: Simulator, token: str, action: str, body: Any = None, *, path: str = "me") -> httpx.Response:
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        return await client.post(
            f"{sim.base_url}/v1.0/{path}/presence/{action}",
            headers=bearer(token),
            **({} if body is None else {"json": body}),
        )


async def graph_presence(sim: Simulator, token: str) -> dict[str, Any]:
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        response = await client.get(f"{sim.base_url}/v1.0/me/presence", headers=bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def in_a_call(sim: Simulator, **extra: Any) -> dict[str, Any]:
    return {"sessionId": sim.ms_client_id, "availability": "Busy", "activity": "InACall", **extra}


@pytest.mark.anyio
async def test_set_presence_answers_200_with_an_empty_body_and_get_presence_shows_it(
    live: tuple[Simulator, ManualClock],
) -> None:
    sim, clock = live
    token = writer(sim)
    response = await post(sim, token, "setPresence", in_a_call(sim, expirationDuration="PT10M"))
    assert response.status_code == 200 and response.content == b""
    body = await graph_presence(sim, token)
    assert (body["availability"], body["activity"]) == ("Busy", "InACall")
    [session] = sim.state.teams.sessions()
    assert session.expires_at == clock.now() + 600
    [call] = sim.state.teams.session_calls()
    assert (call.call, call.session_id, call.availability, call.activity) == (
        "setPresence",
        sim.ms_client_id,
        "Busy",
        "InACall",
    )


@pytest.mark.anyio
async def test_set_presence_defaults_to_five_minutes(live: tuple[Simulator, ManualClock]) -> None:
    sim, clock = live
    assert (await post(sim, writer(sim), "setPresence", in_a_call(sim))).status_code == 200
    assert sim.state.teams.sessions()[0].expires_at == clock.now() + 300


@pytest.mark.anyio
async def test_own_user_id_is_accepted_and_another_users_is_forbidden(live: tuple[Simulator, ManualClock]) -> None:
    sim, _ = live
    me = sim.state.people.default_user
    other = sim.state.people.add_user("Bob Agent", "bob@contoso.example")
    token = writer(sim)
    assert (await post(sim, token, "setPresence", in_a_call(sim), path=f"users/{me.ms_id}")).status_code == 200
    refused = await post(sim, token, "setPresence", in_a_call(sim), path=f"users/{other.ms_id}")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "Forbidden"
    assert sim.state.teams.sessions(other) == []


@pytest.mark.anyio
async def test_every_write_needs_presence_readwrite_in_the_token(live: tuple[Simulator, ManualClock]) -> None:
    sim, _ = live
    read_only = writer(sim, ("Presence.Read", "User.Read"))
    for action, body in [
        ("setPresence", in_a_call(sim)),
        ("clearPresence", {"sessionId": sim.ms_client_id}),
        ("setUserPreferredPresence", {"availability": "Busy", "activity": "Busy"}),
        ("clearUserPreferredPresence", None),
    ]:
        response = await post(sim, read_only, action, body)
        assert response.status_code == 403, action
        error = response.json()["error"]
        assert error["code"] == "Forbidden" and "request-id" in error["innerError"]
    assert sim.state.teams.session_calls() == []


@pytest.mark.anyio
async def test_no_token_is_401(live: tuple[Simulator, ManualClock]) -> None:
    sim, _ = live
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        response = await client.post(f"{sim.base_url}/v1.0/me/presence/setPresence", json=in_a_call(sim))
    assert response.status_code == 401


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sessionId": OTHER_APP}, "client id of the calling application"),
        ({"availability": "Busy", "activity": "Busy"}, "Busy/Busy"),
        ({"availability": "busy", "activity": "inACall"}, "busy/inACall"),
        ({"availability": "Available", "activity": "InACall"}, "Available/InACall"),
        ({"expirationDuration": "PT4M"}, "PT5M and PT4H"),
        ({"expirationDuration": "PT4H1S"}, "PT5M and PT4H"),
        ({"expirationDuration": "five minutes"}, "ISO 8601"),
        ({"expirationDuration": 300}, "must be a string"),
        ({"availability": None}, "'availability' is required"),
        ({"colour": "red"}, "'colour'"),
    ],
)
async def test_set_presence_refuses_bad_input_with_400(
    live: tuple[Simulator, ManualClock], change: dict[str, Any], message: str
) -> None:
    sim, _ = live
    response = await post(sim, writer(sim), "setPresence", in_a_call(sim, **change))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "BadRequest" and message in error["message"]
    assert sim.state.teams.sessions() == []


@pytest.mark.anyio
async def test_malformed_and_empty_bodies_are_400(live: tuple[Simulator, ManualClock]) -> None:
    sim, _ = live
    token = writer(sim)
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        url = f"{sim.base_url}/v1.0/me/presence/setPresence"
        for content in (b"{not json", b"", b"[]"):
            response = await client.post(url, headers=bearer(token), content=content)
            assert response.status_code == 400, content


@pytest.mark.anyio
async def test_a_session_can_be_set_only_for_the_calling_app(live: tuple[Simulator, ManualClock]) -> None:
    sim, _ = live
    other = writer(sim, client_id=OTHER_APP)
    body = {"sessionId": OTHER_APP, "availability": "DoNotDisturb", "activity": "Presenting"}
    assert (await post(sim, other, "setPresence", body)).status_code == 200
    assert [s.session_id for s in sim.state.teams.sessions()] == [OTHER_APP]


@pytest.mark.anyio
async def test_clear_presence_removes_the_session_and_404s_when_there_is_none(
    live: tuple[Simulator, ManualClock],
) -> None:
    sim, clock = live
    token = writer(sim)
    clear = {"sessionId": sim.ms_client_id}
    missing = await post(sim, token, "clearPresence", clear)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NotFound"
    await post(sim, token, "setPresence", in_a_call(sim))
    response = await post(sim, token, "clearPresence", clear)
    assert response.status_code == 200 and response.content == b""
    assert (await graph_presence(sim, token))["availability"] == "Available"
    await post(sim, token, "setPresence", in_a_call(sim))
    clock.advance(300)  # expired: as good as not there
    assert (await post(sim, token, "clearPresence", clear)).status_code == 404
    assert (await post(sim, token, "clearPresence", {})).status_code == 400
    assert (await post(sim, token, "clearPresence", {"sessionId": OTHER_APP})).status_code == 400
    assert (await post(sim, token, "clearPresence", {**clear, "availability": "Busy"})).status_code == 400


@pytest.mark.anyio
async def test_user_preferred_presence_over_http(live: tuple[Simulator, ManualClock]) -> None:
    sim, clock = live
    token = writer(sim)
    await post(sim, token, "setPresence", in_a_call(sim, expirationDuration="PT1H"))
    body = {"availability": "DoNotDisturb", "activity": "DoNotDisturb", "expirationDuration": "PT8H"}
    response = await post(sim, token, "setUserPreferredPresence", body)
    assert response.status_code == 200 and response.content == b""
    assert (await graph_presence(sim, token))["availability"] == "DoNotDisturb"
    preferred = sim.state.teams.preferred()
    assert preferred is not None and (preferred.by, preferred.expires_at) == ("graph", clock.now() + 8 * 3600)
    for bad in (
        {"availability": "Busy", "activity": "InACall"},
        {"availability": "Offline", "activity": "Offline"},
        {"availability": "Busy", "activity": "Busy", "expirationDuration": "P8D"},
        {"availability": "Busy"},
    ):
        assert (await post(sim, token, "setUserPreferredPresence", bad)).status_code == 400, bad
    response = await post(sim, token, "clearUserPreferredPresence")
    assert response.status_code == 200 and response.content == b""
    assert (await graph_presence(sim, token))["activity"] == "InACall"
    assert (await post(sim, token, "clearUserPreferredPresence", {"x": 1})).status_code == 400
    assert [c.call for c in sim.state.teams.session_calls()] == [
        "setPresence",
        "setUserPreferredPresence",
        "clearUserPreferredPresence",
    ]


@pytest.mark.anyio
async def test_graph_shows_a_write_only_after_the_propagation_delay() -> None:
    clock = ManualClock()
    async with Simulator(clock, auto_approve=True, graph_propagation_delay=5.0) as sim:
        token = writer(sim)
        await post(sim, token, "setPresence", in_a_call(sim))
        assert (await graph_presence(sim, token))["availability"] == "Available"
        clock.advance(5)
        assert (await graph_presence(sim, token))["activity"] == "InACall"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("target", "action"),
    [("graph_set_presence", "setPresence"), ("graph_clear_presence", "clearPresence")],
)
async def test_a_write_endpoint_can_be_throttled_or_failed_on_its_own(
    live: tuple[Simulator, ManualClock], target: str, action: str
) -> None:
    sim, _ = live
    token = writer(sim)
    await post(sim, token, "setPresence", in_a_call(sim, expirationDuration="PT1H"))
    body = in_a_call(sim) if action == "setPresence" else {"sessionId": sim.ms_client_id}
    sim.state.faults.throttle_next(target, 1, retry_after=2.5)
    sim.state.faults.fail_next(target, 1, status=503)
    # A fault for one endpoint leaves the others alone.
    assert (await graph_presence(sim, token))["activity"] == "InACall"
    throttled = await post(sim, token, action, body)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "2.5"
    assert throttled.json()["error"]["code"] == "TooManyRequests"
    failed = await post(sim, token, action, body)
    assert failed.status_code == 503 and failed.json()["error"]["code"] == "serviceNotAvailable"
    assert [c.call for c in sim.state.teams.session_calls()] == ["setPresence"]
    assert (await post(sim, token, action, body)).status_code == 200


@pytest.mark.anyio
async def test_a_write_endpoint_can_stall(live: tuple[Simulator, ManualClock]) -> None:
    sim, clock = live
    sim.state.faults.set_latency("graph_set_presence", 30)
    request = asyncio.ensure_future(post(sim, writer(sim), "setPresence", in_a_call(sim)))
    for _ in range(500):  # until the request is held by the injected latency
        if clock.sleepers:
            break
        await asyncio.sleep(0.01)
    assert not request.done() and sim.state.teams.sessions() == []
    clock.advance(30)
    assert (await request).status_code == 200


@pytest.mark.anyio
async def test_writes_count_in_the_apps_presence_budget_with_reads() -> None:
    clock = ManualClock()
    async with Simulator(clock, auto_approve=True, graph_limit_per_30s=3) as sim:
        token = writer(sim)
        await graph_presence(sim, token)
        assert (await post(sim, token, "setPresence", in_a_call(sim))).status_code == 200
        assert (await post(sim, token, "clearPresence", {"sessionId": sim.ms_client_id})).status_code == 200
        throttled = await post(sim, token, "setPresence", in_a_call(sim))
        assert throttled.status_code == 429 and float(throttled.headers["Retry-After"]) > 0
        assert sim.state.counters.graph_presence_writes == 3
        clock.advance(30)
        assert (await post(sim, token, "setPresence", in_a_call(sim))).status_code == 200


def test_unknown_fault_targets_are_refused() -> None:
    state, _ = world()
    with pytest.raises(ValueError, match="graph_set_presence"):
        state.faults.throttle_next("graph_setpresence")


# ---------------------------------------------------------------------------------------- control surface


@pytest.mark.anyio
async def test_the_control_api_lists_sessions_and_chooses_a_status_in_teams_menu(
    live: tuple[Simulator, ManualClock],
) -> None:
    sim, _ = live
    await post(sim, writer(sim), "setPresence", in_a_call(sim, expirationDuration="PT1H"))
    api = f"{sim.base_url}/control/api"
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        chosen = await client.post(f"{api}/teams", json={"availability": "DoNotDisturb", "byHand": True})
        sessions = (await client.get(f"{api}/teams/sessions")).json()
        bad = await client.post(f"{api}/teams", json={"availability": "Busy", "activity": "InACall", "byHand": True})
        not_bool = await client.post(f"{api}/teams", json={"availability": "Busy", "byHand": "yes"})
        nobody = await client.get(f"{api}/teams/sessions", params={"user": "nobody@contoso.example"})
        reset = await client.post(f"{api}/teams", json={"resetStatus": True})
    assert chosen.status_code == 200
    me = chosen.json()["users"][0]["teams"]
    assert (me["availability"], me["activity"]) == ("DoNotDisturb", "DoNotDisturb")
    [view] = [u for u in sessions["users"] if u["msId"] == sim.state.people.default_user.ms_id]
    assert view["client"] == {"availability": "Available", "activity": "Available"}
    assert view["preferred"]["by"] == "teams" and view["preferred"]["expiresAt"] is None
    [session] = view["sessions"]
    assert (session["sessionId"], session["availability"], session["activity"]) == (sim.ms_client_id, "Busy", "InACall")
    assert session["showsNow"] == ["Busy", "InACall"]
    assert bad.status_code == 400 and not_bool.status_code == 400 and nobody.status_code == 400
    assert reset.status_code == 200 and reset.json()["users"][0]["teams"]["activity"] == "InACall"
    assert sim.state.teams.preferred() is None


@pytest.mark.anyio
async def test_endpoint_faults_can_be_set_from_the_control_api(live: tuple[Simulator, ManualClock]) -> None:
    sim, _ = live
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        response = await client.post(
            f"{sim.base_url}/control/api/faults",
            json={"action": "throttle_next", "service": "graph_clear_presence", "retry_after": 3},
        )
    assert response.status_code == 200 and response.json()["faults"]["queued"] == {"graph_clear_presence": [429]}
    throttled = await post(sim, writer(sim), "clearPresence", {"sessionId": sim.ms_client_id})
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "3"
