"""What the services send is parsed strictly: anything unexpected is a clear error or is ignored,
never a crash and never a change to what the agent knows."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tray_agent.clients.errors import BadResponse
from tray_agent.clients.genesys import parse_channel, parse_definitions, parse_user_me, parse_user_presence
from tray_agent.clients.graph import is_stale, parse_presence
from tray_agent.clients.http import parse_retry_after
from tray_agent.clients.notifications import Activity, ChannelGone, Heartbeat, Ignored, SocketClosing, parse_frame
from tray_agent.core.presence import GenesysState, TeamsPresence

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


def test_an_older_sequence_number_is_a_stale_read() -> None:
    newer, older = (
        TeamsPresence("Busy", "Busy", sequence="0002"),
        TeamsPresence("Available", "Available", sequence="0001"),
    )
    assert is_stale(older, newer)
    assert not is_stale(newer, older)
    assert not is_stale(TeamsPresence("Busy", "Busy"), newer)  # no stamp: taken as current


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


def test_an_activity_event_older_than_what_we_know_is_ignored() -> None:
    old = activity(
        presence={"presenceDefinition": {"id": "d2", "systemPresence": "BUSY"}, "modifiedDate": "1970-01-01T00:00:01Z"}
    )
    assert isinstance(parse_frame(old, USER, STATE, now=1.0), Ignored)


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
