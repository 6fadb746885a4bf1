"""The conversation summary (what the agent is handling, counts only): a media type is active when its
ACD and non-ACD active counts add up to more than none; after-call work does not count; anything the
network sends that is not a count is "not active", and only a body that is not an object is unknown.
Then the REST call, the notification frames and the subscription that may refuse the topic."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tray_agent.clients.errors import BadResponse
from tray_agent.clients.genesys import GenesysClient
from tray_agent.clients.genesys_conversations import (
    CONVERSATION_SUMMARY_TOPIC,
    SUMMARY_FIELDS,
    is_active,
    parse_conversation_summary,
)
from tray_agent.clients.genesys_notifications import Ignored, Interactions, parse_frame
from tray_agent.core.interactions import InteractionSummary, Media

USER = "8c3f2d1e-0000-4000-8000-000000000001"
API = "https://api.mypurecloud.ie"


def media(contact_center: object = 0, enterprise: object = 0, acw: object = 0) -> dict[str, Any]:
    return {"contactCenter": {"active": contact_center, "acw": acw}, "enterprise": {"active": enterprise, "acw": 0}}


def summary(**fields: object) -> dict[str, Any]:
    body: dict[str, Any] = {"userId": USER, **{name: media() for name in SUMMARY_FIELDS}}
    body.update(fields)
    return body


# --- the parser, as the API documents the body ---------------------------------------------------


def test_nothing_active_is_an_empty_summary_not_unknown() -> None:
    assert parse_conversation_summary(summary()) == InteractionSummary()
    assert parse_conversation_summary({}) == InteractionSummary()


def test_a_call_is_voice_and_social_expression_is_social() -> None:
    parsed = parse_conversation_summary(summary(call=media(1), socialExpression=media(0, 2)))
    assert parsed == InteractionSummary.of([Media.VOICE, Media.SOCIAL])


@pytest.mark.parametrize(("field", "expected"), list(SUMMARY_FIELDS.items()))
def test_each_field_is_its_media(field: str, expected: Media) -> None:
    assert parse_conversation_summary(summary(**{field: media(1)})) == InteractionSummary.of([expected])


def test_acd_and_non_acd_conversations_both_count_and_after_call_work_does_not() -> None:
    assert is_active(media(contact_center=1))
    assert is_active(media(enterprise=1))  # a non-ACD (enterprise) call keeps the agent just as busy
    assert not is_active(media(acw=3))  # wrap-up only: the customer is gone
    parsed = parse_conversation_summary(summary(chat=media(acw=1), email=media(0, 0), video=media(2, 1)))
    assert parsed == InteractionSummary.of([Media.VIDEO])


def test_every_media_at_once() -> None:
    parsed = parse_conversation_summary({name: media(1) for name in SUMMARY_FIELDS})
    assert parsed is not None and parsed.active == frozenset(Media)


# --- hostile input -------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [None, [], "summary", 42, 1.5, True, [summary(call=media(1))]])
def test_a_body_that_is_not_an_object_is_unknown(body: object) -> None:
    assert parse_conversation_summary(body) is None


@pytest.mark.parametrize(
    "count",
    ["1", "yes", None, True, [], {}, [1], {"n": 1}, -5, -(10**30), 0.5, float("nan"), float("inf"), float("-inf")],
)
def test_a_count_that_is_not_a_whole_number_of_at_least_one_is_not_active(count: object) -> None:
    assert not is_active(media(contact_center=count))
    assert parse_conversation_summary(summary(call=media(contact_center=count))) == InteractionSummary()


def test_a_negative_count_does_not_cancel_a_real_one() -> None:
    assert is_active(media(contact_center=-(10**6), enterprise=1))


def test_huge_counts_are_still_just_active() -> None:
    assert is_active(media(contact_center=10**400))
    assert is_active(media(contact_center=2.0))  # JSON may write a whole number as 2.0


@pytest.mark.parametrize(
    "junk",
    [
        None,
        "active",
        7,
        [media(1)],
        {"contactCenter": "1"},
        {"contactCenter": [{"active": 1}]},
        {"contactCenter": {"active": {"active": 1}}},
        {"contactCenter": {"acw": 9}},
        {"contactcenter": {"active": 1}},  # the field names are case-sensitive
        {"deep": {"deeper": {"deepest": {"active": 1}}}},
    ],
)
def test_nested_junk_makes_that_media_inactive_and_leaves_the_others(junk: object) -> None:
    parsed = parse_conversation_summary(summary(call=junk, email=media(1)))
    assert parsed == InteractionSummary.of([Media.EMAIL])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.sampled_from([*SUMMARY_FIELDS, "userId", "other"]) | st.text(max_size=8), json_values))
def test_any_object_parses_to_a_summary_of_known_media_and_never_raises(body: dict[str, Any]) -> None:
    parsed = parse_conversation_summary(body)
    assert parsed is not None and parsed.active <= frozenset(Media)


@given(json_values)
def test_any_json_value_parses_or_is_unknown(body: object) -> None:
    parsed = parse_conversation_summary(body)
    assert (parsed is None) is (not isinstance(body, dict))


# --- the REST call ------------------------------------------------------------------------------


async def token() -> str:
    return "genesys-token"


async def read_summary(status: int, content: bytes) -> tuple[InteractionSummary, list[httpx.Request]]:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(status, content=content)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        return await GenesysClient(http, token, API).conversation_summary(USER), requests


@pytest.mark.anyio
async def test_the_summary_is_read_for_the_user_by_id() -> None:
    parsed, requests = await read_summary(200, json.dumps(summary(chat=media(1))).encode())
    assert parsed == InteractionSummary.of([Media.CHAT])
    (request,) = requests
    assert request.method == "GET" and str(request.url) == f"{API}/api/v2/users/{USER}/conversations/summary"
    assert request.headers["Authorization"] == "Bearer genesys-token"


@pytest.mark.anyio
@pytest.mark.parametrize("content", [b"[]", b'"x"', b"not json", b"[" * 10_000])
async def test_a_summary_answer_that_is_not_an_object_is_a_bad_response(content: bytes) -> None:
    with pytest.raises(BadResponse):
        await read_summary(200, content)


# --- the notification frames ---------------------------------------------------------------------


def frame(event_body: object, user_id: str = USER) -> str:
    return json.dumps({"topicName": CONVERSATION_SUMMARY_TOPIC.format(user_id=user_id), "eventBody": event_body})


def test_a_summary_event_is_delivered_parsed() -> None:
    message = parse_frame(frame(summary(call=media(1))), USER, None, 0.0)
    assert message == Interactions(InteractionSummary.of([Media.VOICE]))


def test_an_event_without_a_user_id_is_taken_as_ours_as_activity_events_are() -> None:
    body = summary(email=media(0, 1))
    del body["userId"]
    assert parse_frame(frame(body), USER, None, 0.0) == Interactions(InteractionSummary.of([Media.EMAIL]))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (frame(summary(userId="someone-else")), "another user"),
        (frame(["not", "a", "summary"]), "no eventBody"),
        (frame(None), "no eventBody"),
        (frame(summary(call=media(1)), user_id="someone-else"), "is not ours"),
    ],
)
def test_a_summary_event_that_is_not_ours_or_not_a_summary_is_ignored(raw: str, reason: str) -> None:
    message = parse_frame(raw, USER, None, 0.0)
    assert isinstance(message, Ignored) and reason in message.reason


# --- subscribing: the summary topic may be refused ------------------------------------------------


async def subscribe(entities: list[dict[str, Any]], topics: list[str], optional: list[str]) -> dict[str, str]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"entities": entities})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        return await GenesysClient(http, token, API).subscribe("channel-1", topics, optional=optional)


ACTIVITY = f"v2.users.{USER}.activity"
SUMMARY = CONVERSATION_SUMMARY_TOPIC.format(user_id=USER)


@pytest.mark.anyio
async def test_a_refused_optional_topic_is_returned_with_its_reason() -> None:
    entities = [
        {"id": ACTIVITY, "state": "Permitted"},
        {"id": SUMMARY, "state": "Rejected", "rejectionReason": "Not\nallowed", "missingPermissions": ["a:b:c"]},
    ]
    refused = await subscribe(entities, [ACTIVITY, SUMMARY], [SUMMARY])
    assert refused == {SUMMARY: "Not allowed (missing permissions: a:b:c)"}


@pytest.mark.anyio
async def test_a_refused_required_topic_is_still_an_error() -> None:
    with pytest.raises(BadResponse, match="was rejected"):
        await subscribe([{"id": ACTIVITY, "state": "Rejected"}], [ACTIVITY, SUMMARY], [SUMMARY])


@pytest.mark.anyio
async def test_nothing_refused_is_an_empty_answer() -> None:
    assert await subscribe([{"id": ACTIVITY, "state": "Permitted"}, {"id": SUMMARY}], [ACTIVITY, SUMMARY], []) == {}
    assert await subscribe([], [ACTIVITY], []) == {}
