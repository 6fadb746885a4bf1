"""What the services send is parsed strictly: anything unexpected is a clear error or is ignored,
never a crash and never a change to what the agent knows."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tray_agent.clients import bounded_json
from tray_agent.clients.errors import BadResponse
from tray_agent.clients.genesys import parse_channel, parse_definitions, parse_user_me, parse_user_presence
from tray_agent.clients.genesys_notifications import (
    Activity,
    ChannelGone,
    Heartbeat,
    Ignored,
    SocketClosing,
    parse_frame,
)
from tray_agent.clients.graph import parse_presence
from tray_agent.clients.http import json_body, parse_retry_after
from tray_agent.core.presence import GenesysState

USER = "user-1"
STATE = GenesysState("def-available", "AVAILABLE", "OFF_QUEUE", False, confirmed_at=0.0, modified_at=100.0)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)


def activity(**body: Any) -> str:
    return json.dumps({"topicName": f"v2.users.{USER}.activity", "eventBody": {"id": USER, **body}})


@pytest.mark.parametrize(
    ("body", "availability", "activity_value"),
    [
        ({"availability": "Busy", "activity": "InAMeeting"}, "Busy", "InAMeeting"),
        ({"availability": "busy", "activity": "inAMeeting"}, "Busy", "InAMeeting"),
        ({"availability": "Available", "activity": "SomethingNew"}, "Available", "SomethingNew"),
        ({"availability": "Away"}, "Away", "PresenceUnknown"),
    ],
)
def test_graph_presence_values_are_matched_without_regard_to_case(
    body: dict[str, str], availability: str, activity_value: str
) -> None:
    presence = parse_presence(body)
    assert (presence.availability, presence.activity) == (availability, activity_value)


@pytest.mark.parametrize("body", [None, [], "Busy", {}, {"availability": 3, "activity": None}])
def test_a_graph_answer_that_is_not_a_presence_is_a_bad_response(body: object) -> None:
    with pytest.raises(BadResponse):
        parse_presence(body)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("2.128", 2.128), ("30", 30.0), (" 5 ", 5.0), (None, None), ("soon", None), ("-1", None), ("nan", None)],
)
def test_retry_after_is_read_as_seconds_and_junk_is_ignored(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_users_me_with_every_part_expanded() -> None:
    me = parse_user_me(
        {
            "id": USER,
            "name": "Alex",
            "presence": {
                "presenceDefinition": {"id": "d1", "systemPresence": "On Queue"},
                "modifiedDate": "2026-01-01T00:00:00Z",
            },
            "routingStatus": {"status": "IDLE"},
            "outOfOffice": {"active": False},
        },
        now=5.0,
    )
    assert (me.id, me.state.system_presence, me.state.routing_status, me.state.on_queue) == (
        USER,
        "ON_QUEUE",
        "IDLE",
        True,
    )


@pytest.mark.parametrize(
    "body",
    [None, {}, {"id": USER}, {"id": USER, "presence": {}}, {"id": USER, "presence": {"presenceDefinition": {}}}],
)
def test_users_me_without_a_presence_is_a_bad_response(body: object) -> None:
    with pytest.raises(BadResponse):
        parse_user_me(body, now=0.0)


def test_definitions_skip_broken_entries_and_refuse_an_empty_list() -> None:
    good = {"id": "d1", "systemPresence": "Busy", "type": "User", "languageLabels": {"en_US": "Teams call"}}
    parsed = parse_definitions({"entities": [good, "junk", {"no": "id"}]})
    assert [(d.id, d.label, d.secondary) for d in parsed] == [("d1", "Teams call", True)]
    with pytest.raises(BadResponse):
        parse_definitions({"entities": ["junk"]})


def test_a_channel_must_have_a_websocket_address() -> None:
    with pytest.raises(BadResponse):
        parse_channel({"id": "c", "connectUri": "https://example.invalid/x"})


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        ('{"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}}', Heartbeat),
        ('{"topicName":"channel.metadata","eventBody":{"message":"pong"}}', Heartbeat),
        ('{"topicName":"v2.system.socket_closing","eventBody":{}}', SocketClosing),
        ('{"result":"404"}', ChannelGone),
        ("not json", Ignored),
        ("[1,2]", Ignored),
        ('{"topicName":"v2.users.someone-else.activity","eventBody":{}}', Ignored),
        (activity(), Activity),  # nothing new, completed from what we know
    ],
)
def test_websocket_frames_are_classified(frame: str, kind: type) -> None:
    assert isinstance(parse_frame(frame, USER, STATE, now=1.0), kind)


def test_an_activity_event_updates_only_the_parts_it_carries() -> None:
    message = parse_frame(activity(routingStatus={"status": "IDLE"}), USER, STATE, now=7.0)
    assert isinstance(message, Activity)
    assert (message.state.presence_id, message.state.routing_status, message.state.confirmed_at) == (
        "def-available",
        "IDLE",
        7.0,
    )


def test_an_activity_event_carries_its_modified_date_for_the_protocol_to_order() -> None:
    old = activity(
        presence={"presenceDefinition": {"id": "d2", "systemPresence": "BUSY"}, "modifiedDate": "1970-01-01T00:00:01Z"}
    )
    message = parse_frame(old, USER, STATE, now=1.0)
    assert isinstance(message, Activity) and message.state.modified_at == 1.0  # ordering: core/protocol.py


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_no_response_body_crashes_a_parser(body: Any) -> None:
    for parser in (parse_presence, parse_definitions, parse_channel, parse_user_presence):
        with contextlib.suppress(BadResponse):
            parser(body)
    with contextlib.suppress(BadResponse):
        parse_user_me(body, now=0.0)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), json_values.map(json.dumps), st.builds(activity, presence=json_values)))
def test_no_websocket_frame_crashes_the_parser(frame: str) -> None:
    parse_frame(frame, USER, STATE, now=1.0)
    parse_frame(frame, USER, None, now=1.0)


# --- Structured fuzzing: answers shaped like the real ones, with every part wrong in every way ----------

any_json = json_values | st.floats() | st.text()  # NaN and infinities too, and longer strings
ids = st.one_of(st.just(USER), st.uuids().map(str), st.text(max_size=40), st.just(""))
system_presences = st.sampled_from(
    ["Available", "AVAILABLE", "Busy", "On Queue", "ON_QUEUE", "OnQueue", "Offline", "Meal", "", "Gone fishing"]
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The expected value, any JSON instead, or the key missing (None here, dropped by ``shaped``)."""
    return st.one_of(strategy, any_json, st.none())


def shaped(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=fields)


graph_presences = shaped(
    availability=maybe(st.sampled_from(["Available", "Busy", "away", "DoNotDisturb", "", "PresenceUnknown"])),
    activity=maybe(st.sampled_from(["InAMeeting", "InACall", "Presenting", "OffWork", "", "x" * 300])),
    sequenceNumber=maybe(st.text(alphabet="0123456789", max_size=25)),
    outOfOfficeSettings=maybe(shaped(isOutOfOffice=maybe(st.booleans()), message=maybe(st.text()))),
    id=maybe(ids),
)
definitions = shaped(id=maybe(ids), systemPresence=maybe(system_presences))
genesys_presences = shaped(
    presenceDefinition=maybe(definitions),
    modifiedDate=maybe(st.one_of(st.datetimes().map(lambda d: d.isoformat() + "Z"), st.text(max_size=30))),
    message=maybe(st.text(max_size=20)),
)
users = shaped(
    id=maybe(ids),
    name=maybe(st.text(max_size=20)),
    presence=maybe(genesys_presences),
    routingStatus=maybe(shaped(status=maybe(st.sampled_from(["OFF_QUEUE", "IDLE", "interacting", "", "??"])))),
    outOfOffice=maybe(shaped(active=maybe(st.booleans()))),
)


@settings(max_examples=400, deadline=None)
@given(graph_presences)
def test_a_graph_presence_of_any_shape_parses_into_text_or_is_a_bad_response(body: dict[str, Any]) -> None:
    try:
        presence = parse_presence(body)
    except BadResponse:
        return
    assert isinstance(presence.availability, str) and isinstance(presence.activity, str)
    assert isinstance(presence.sequence, str) and isinstance(presence.out_of_office, bool)


@settings(max_examples=400, deadline=None)
@given(users, st.floats(min_value=0, max_value=4e9))
def test_users_me_of_any_shape_gives_a_complete_state_or_a_bad_response(body: dict[str, Any], now: float) -> None:
    try:
        user = parse_user_me(body, now)
    except BadResponse:
        return
    state = user.state
    assert user.id and state.presence_id and isinstance(state.system_presence, str)
    assert state.routing_status == state.routing_status.upper() and isinstance(state.out_of_office, bool)
    assert state.confirmed_at == now and isinstance(state.modified_at, float)


@settings(max_examples=300, deadline=None)
@given(shaped(entities=maybe(st.lists(maybe(definitions | shaped(languageLabels=maybe(any_json))), max_size=6))))
@example({"entities": [{"id": "", "systemPresence": "Busy"}, {"id": "d-busy", "systemPresence": "Busy"}]})
def test_presence_definitions_of_any_shape_keep_only_usable_entries(body: dict[str, Any]) -> None:
    try:
        parsed = parse_definitions(body)
    except BadResponse:
        return
    assert parsed and all(d.id and isinstance(d.id, str) and isinstance(d.label, str) for d in parsed)
    assert all(isinstance(d.system_presence, str) and isinstance(d.deactivated, bool) for d in parsed)


@settings(max_examples=300, deadline=None)
@given(
    shaped(id=maybe(ids), connectUri=maybe(st.sampled_from(["wss://h/c", "ws://h/c", "https://h/c", ""]) | st.text())),
    shaped(presenceDefinition=maybe(definitions), modifiedDate=maybe(st.text(max_size=30))),
)
def test_channels_and_presence_answers_of_any_shape_parse_or_are_bad_responses(
    channel: dict[str, Any], presence: dict[str, Any]
) -> None:
    with contextlib.suppress(BadResponse):
        parsed = parse_channel(channel)
        assert parsed.connect_uri.startswith(("wss://", "ws://")) and parsed.id
    with contextlib.suppress(BadResponse):
        presence_id, system, modified = parse_user_presence(presence)
        assert presence_id and isinstance(system, str) and isinstance(modified, float)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.none(), st.text(max_size=40), st.floats().map(str), st.integers().map(str)))
def test_any_retry_after_header_is_a_sane_number_of_seconds_or_ignored(header: str | None) -> None:
    seconds = parse_retry_after(header)
    assert seconds is None or 0 <= seconds <= 86400


activity_bodies = shaped(
    id=maybe(ids),
    presence=maybe(genesys_presences),
    routingStatus=maybe(shaped(status=maybe(st.sampled_from(["OFF_QUEUE", "IDLE", "INTERACTING", ""])))),
    outOfOffice=maybe(shaped(active=maybe(st.booleans()), modifiedDate=maybe(st.text(max_size=30)))),
)
frames = st.one_of(
    st.builds(lambda body: json.dumps({"topicName": f"v2.users.{USER}.activity", "eventBody": body}), activity_bodies),
    st.builds(
        lambda topic, body: json.dumps({"topicName": topic, "eventBody": body}),
        st.sampled_from(["channel.metadata", "v2.system.socket_closing", f"v2.users.{USER}.presence", "x"]) | st.text(),
        any_json,
    ),
    st.builds(lambda result: json.dumps({"result": result}), any_json),
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda text: text.encode("utf-8", "surrogatepass")),
)


@settings(max_examples=500, deadline=None)
@given(frames, st.sampled_from([STATE, None]))
def test_any_websocket_frame_is_classified_and_an_activity_is_always_a_complete_state_of_ours(
    frame: str | bytes, previous: GenesysState | None
) -> None:
    message = parse_frame(frame, USER, previous, now=9.0)
    assert isinstance(message, Heartbeat | SocketClosing | ChannelGone | Activity | Ignored)
    if isinstance(message, Activity):
        state = message.state
        assert state.presence_id and isinstance(state.presence_id, str) and state.confirmed_at == 9.0
        assert isinstance(state.routing_status, str) and isinstance(state.out_of_office, bool)
    if isinstance(message, Ignored):
        assert len(message.reason) < 200  # safe to log: short, never the frame itself


def test_an_oversized_frame_is_ignored_without_being_parsed() -> None:
    huge = activity(presence={"presenceDefinition": {"id": "d9"}}, padding="x" * 300_000)
    assert parse_frame(huge, USER, STATE, now=1.0) == Ignored("frame too large")


# --- hostile answers: bounded depth and size, finite numbers only ------------------------------

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    "frame",
    [
        DEEP,
        f'{{"topicName": "v2.users.{USER}.activity", "eventBody": {DEEP}}}',
        '{"a":' * 20_000 + "1" + "}" * 20_000,
        activity(presence={"presenceDefinition": {"id": "d1"}}).replace("}}}", '}, "n": NaN}}'),
        '{"topicName": "channel.metadata", "eventBody": {"n": Infinity}}',
        '{"topicName": "channel.metadata", "eventBody": {"n": 1e999}}',
    ],
    ids=["array-deep", "event-deep", "object-deep", "NaN", "Infinity", "1e999"],
)
def test_a_deeply_nested_or_non_finite_frame_is_ignored_never_raised(frame: str) -> None:
    message = parse_frame(frame, USER, STATE, now=1.0)
    assert isinstance(message, Ignored) and message.reason.startswith("frame refused")


@pytest.mark.parametrize(
    "content",
    [
        DEEP.encode(),
        b'{"availability": NaN}',
        b'{"availability": "Busy", "x": -Infinity}',
        b'{"availability": "' + b"B" * 2 * 1024 * 1024 + b'"}',
    ],
    ids=["deep", "NaN", "-Infinity", "2 MiB"],
)
def test_a_hostile_service_answer_is_a_bad_response(content: bytes) -> None:
    response = httpx.Response(200, content=content, headers={"Content-Type": "application/json"})
    with pytest.raises(BadResponse, match="not JSON"):
        json_body("Microsoft Graph", response)


def test_json_nesting_is_measured_outside_strings() -> None:
    assert bounded_json.nesting_depth('{"a": "[[[[{{{{", "b": [[1]]}') == 3
    assert bounded_json.loads('{"a": "[[[[[[[[[[[["}', max_depth=1) == {"a": "[[[[[[[[[[[["}
