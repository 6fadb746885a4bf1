"""The calendar client against recorded calendarView answers: it asks only for what a meeting signal
needs, in UTC; follows pages on Graph's own host and nowhere else; keeps meetings Teams shows as
meetings; and turns every bad answer into an error with a name, never a crash or a leak."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tray_agent.clients.errors import (
    AuthenticationRequired,
    BadResponse,
    NoAnswer,
    Rejected,
    ServerError,
    Throttled,
)
from tray_agent.clients.graph_calendar import GraphCalendarClient, Meeting, NoCalendarPermission, parse_event

pytestmark = pytest.mark.anyio
DATA = Path(__file__).parent / "data"
GRAPH = "https://graph.microsoft.com"
DAY_START = datetime(2026, 11, 25, 8, 0, tzinfo=UTC).timestamp()
DAY_END = datetime(2026, 11, 26, 2, 0, tzinfo=UTC).timestamp()


def at(hour: int, minute: int = 0) -> float:
    return datetime(2026, 11, 25, hour, minute, tzinfo=UTC).timestamp()


def recorded(name: str) -> bytes:
    return (DATA / name).read_bytes()


Handler = Callable[[httpx.Request], httpx.Response]


class Graph:
    """A Graph stand-in: answers each request from ``handler`` and keeps every request."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)


async def token() -> str:
    return "calendar-token"


async def read(handler: Handler, **options: int) -> tuple[tuple[Meeting, ...], Graph]:
    graph = Graph(handler)
    async with httpx.AsyncClient(transport=httpx.MockTransport(graph)) as http:
        meetings = await GraphCalendarClient(http, token, GRAPH, **options).meetings_between(DAY_START, DAY_END)
    return meetings, graph


def pages(request: httpx.Request) -> httpx.Response:
    second = "$skip" in request.url.params
    return httpx.Response(200, content=recorded(f"calendarview-page-{2 if second else 1}.json"))


async def test_it_asks_for_the_times_and_counts_only_in_utc_and_never_the_subject() -> None:
    _, graph = await read(pages)
    first = graph.requests[0]
    assert first.url.path == "/v1.0/me/calendarView"
    params = first.url.params
    assert (params["startDateTime"], params["endDateTime"]) == ("2026-11-25T08:00:00Z", "2026-11-26T02:00:00Z")
    assert set(params["$select"].split(",")) == {
        "start",
        "end",
        "isAllDay",
        "isCancelled",
        "showAs",
        "responseStatus",
        "attendees",
    }
    assert "subject" not in str(first.url) and "body" not in str(first.url)
    assert first.headers["Prefer"] == 'outlook.timezone="UTC"'
    assert first.headers["Authorization"] == "Bearer calendar-token"


async def test_pages_are_followed_and_only_what_teams_shows_as_a_meeting_is_kept() -> None:
    meetings, graph = await read(pages)
    assert len(graph.requests) == 2
    assert graph.requests[1].headers["Prefer"] == 'outlook.timezone="UTC"'  # on every page
    assert meetings == (
        Meeting(at(9), at(9, 30), attendees=2),  # the room is not a person
        Meeting(at(14), at(15), attendees=1),  # tentative still shows as a meeting
        Meeting(at(16), at(16, 30), attendees=0),  # no attendees listed: on one's own
    )
    # left out: the all-day event, the cancelled one, working elsewhere, and the one declined


async def test_the_log_says_how_many_never_who_or_what(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await read(pages)
    text = caplog.text
    assert "3 meetings" in text
    for personal in ("Adele", "contoso", "AdeleV", "Conf Room"):
        assert personal not in text


async def test_events_that_make_no_sense_are_left_out_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    meetings, _ = await read(lambda _: httpx.Response(200, content=recorded("calendarview-malformed-events.json")))
    assert meetings == (Meeting(at(17), at(17, 45), attendees=1),)
    assert "6 events could not be read" in caplog.text
    assert "Nestor" not in caplog.text


@pytest.mark.parametrize(
    "text",
    ["2026-11-25T12:00:00.0000000", "2026-11-25T12:00:00", "2026-11-25T12:00:00Z", "2026-11-25T12:00:00.5"],
)
def test_graph_times_in_utc_are_read_with_or_without_fractions(text: str) -> None:
    event = {
        "start": {"dateTime": text, "timeZone": "UTC"},
        "end": {"dateTime": "2026-11-25T13:00:00", "timeZone": "UTC"},
    }
    meeting = parse_event(event)
    assert meeting is not None and int(meeting.start) == int(at(12)) and meeting.end == at(13)


async def test_a_next_page_on_another_host_is_refused_and_the_token_never_goes_there() -> None:
    def foreign(request: httpx.Request) -> httpx.Response:
        body = json.loads(recorded("calendarview-page-1.json"))
        body["@odata.nextLink"] = "https://graph.microsoft.com.evil.example/v1.0/me/calendarView?$skip=3"
        return httpx.Response(200, json=body)

    with pytest.raises(BadResponse, match="another host"):
        await read(foreign)


@pytest.mark.parametrize(
    "link",
    [
        "http://graph.microsoft.com/v1.0/me/calendarView?$skip=3",  # not https
        "https://graph.microsoft.com:8443/v1.0/me/calendarView?$skip=3",  # another port
        "https://someone@graph.microsoft.com/v1.0/me/calendarView?$skip=3",  # credentials in the link
    ],
)
async def test_a_next_page_anywhere_but_where_the_first_came_from_is_refused(link: str) -> None:
    graph_hits: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        graph_hits.append(str(request.url))
        body = json.loads(recorded("calendarview-page-1.json"))
        body["@odata.nextLink"] = link
        return httpx.Response(200, json=body)

    with pytest.raises(BadResponse):
        await read(answer)
    assert len(graph_hits) == 1


async def test_paging_stops_at_its_bound_and_keeps_the_earliest_meetings(caplog: pytest.LogCaptureFixture) -> None:
    def endless(request: httpx.Request) -> httpx.Response:
        body = json.loads(recorded("calendarview-page-1.json"))
        body["@odata.nextLink"] = f"{GRAPH}/v1.0/me/calendarView?$skip={len(request.url.params)}"
        return httpx.Response(200, json=body)

    meetings, graph = await read(endless, max_pages=3)
    assert len(graph.requests) == 3 and len(meetings) == 3
    assert "more than 3 pages" in caplog.text


@pytest.mark.parametrize(
    "content",
    [
        b"<html>proxy login</html>",
        b'{"value": "not a list"}',
        b"[]",
        b'{"value": [], "@odata.nextLink": 42}',
        b"[" * 5000 + b"]" * 5000,
        b'{"value": [{"start": NaN}]}',
    ],
    ids=["html", "value-not-a-list", "array", "link-not-text", "deep", "nan"],
)
async def test_an_answer_that_is_not_a_calendar_view_is_a_bad_response(content: bytes) -> None:
    with pytest.raises(BadResponse):
        await read(lambda _: httpx.Response(200, content=content))


async def test_a_huge_answer_is_refused_before_it_is_parsed() -> None:
    huge = b'{"value": [' + b",".join([b'{"attendees": [' + b'{"type": "required"},' * 200 + b"{}]}"] * 1000) + b"]}"
    assert len(huge) > 4 * 1024 * 1024
    with pytest.raises(BadResponse, match="not JSON"):
        await read(lambda _: httpx.Response(200, content=huge))


async def test_no_permission_is_its_own_outcome() -> None:
    body = {"error": {"code": "ErrorAccessDenied", "message": "Access is denied. Check credentials and try again."}}
    with pytest.raises(NoCalendarPermission) as refused:
        await read(lambda _: httpx.Response(403, json=body))
    assert refused.value.status == 403 and refused.value.code == "ErrorAccessDenied"
    assert isinstance(refused.value, Rejected)


@pytest.mark.parametrize(
    ("status", "headers", "error"),
    [
        (401, {}, AuthenticationRequired),
        (429, {"Retry-After": "7"}, Throttled),
        (503, {}, ServerError),
        (504, {}, ServerError),
        (400, {}, Rejected),
    ],
)
async def test_refusals_are_the_same_errors_as_for_presence(
    status: int, headers: dict[str, str], error: type[Exception]
) -> None:
    with pytest.raises(error) as raised:
        await read(lambda _: httpx.Response(status, headers=headers, json={"error": {"code": "x"}}))
    assert not isinstance(raised.value, NoCalendarPermission)
    if isinstance(raised.value, Throttled):
        assert raised.value.retry_after == 7


async def test_a_network_that_does_not_answer_is_unreachable() -> None:
    def silent(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(NoAnswer):
        await read(silent)
