"""Graph's calendar view, as the simulator serves it: Calendars.* permission or 403, a time window or
400, events overlapping it by start, 10 a page with ``@odata.nextLink``, ``$top``/``$select``, no body
for Calendars.ReadBasic, and a budget of its own apart from presence."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tray_agent.simulator import Simulator

from .helpers import DAY, ManualClock, bearer, ssl_context

pytestmark = pytest.mark.anyio

WINDOW = {"startDateTime": "2026-11-18T00:00:00Z", "endDateTime": "2026-11-19T00:00:00Z"}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(ManualClock(), auto_approve=True) as simulator:
        yield simulator


def token(sim: Simulator, *scopes: str) -> str:
    person = sim.state.people.default_user
    return sim.state.tokens.new_entra_access_token(person.ms_id, sim.ms_client_id, ("Presence.Read", *scopes)).token


async def view(sim: Simulator, bearer_token: str, path: str = "/v1.0/me/calendarView", **params: str) -> httpx.Response:
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        return await client.get(f"{sim.base_url}{path}", params=params, headers=bearer(bearer_token))


async def test_a_token_without_a_calendars_permission_is_refused_with_403_access_denied(sim: Simulator) -> None:
    response = await view(sim, token(sim), **WINDOW)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "ErrorAccessDenied"
    assert error["message"] == "Access is denied. Check credentials and try again."
    assert {"date", "request-id", "client-request-id"} <= error["innerError"].keys()


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"startDateTime": WINDOW["startDateTime"]},
        {"endDateTime": WINDOW["endDateTime"]},
        {**WINDOW, "startDateTime": "soon"},
    ],
)
async def test_a_missing_or_bad_time_window_is_a_400_invalid_parameter(sim: Simulator, params: dict[str, str]) -> None:
    response = await view(sim, token(sim, "Calendars.ReadBasic"), **params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ErrorInvalidParameter"
    assert response.json()["error"]["message"] == (
        "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime."
    )


async def test_events_overlapping_the_window_come_by_start_in_graphs_shape(sim: Simulator) -> None:
    sim.state.workstation.set_calendar(
        [
            {"subject": "Late", "start": DAY + 3600, "end": DAY + 5400, "attendees": ["kim@contoso.example"]},
            {"subject": "Overlaps the start", "start": DAY - 86400, "end": DAY - 39000},
            {"subject": "Yesterday", "start": DAY - 3 * 86400, "end": DAY - 3 * 86400 + 60},
            {"subject": "Early", "start": DAY, "end": DAY + 1800},
        ]
    )
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        response = await client.get(
            f"{sim.base_url}/v1.0/me/calendar/calendarView",
            params=WINDOW,
            headers={**bearer(token(sim, "Calendars.ReadBasic")), "Prefer": 'outlook.timezone="UTC"'},
        )
    assert response.status_code == 200
    assert response.headers["Preference-Applied"] == 'outlook.timezone="UTC"'
    events = response.json()["value"]
    assert [e["subject"] for e in events] == ["Overlaps the start", "Early", "Late"]
    late = events[2]
    assert late["start"] == {"dateTime": "2026-11-18T12:06:40.0000000", "timeZone": "UTC"}
    assert late["end"] == {"dateTime": "2026-11-18T12:36:40.0000000", "timeZone": "UTC"}
    assert (late["isAllDay"], late["isCancelled"], late["showAs"], late["isOnlineMeeting"]) == (
        False,
        False,
        "busy",
        True,
    )
    assert late["attendees"] == [
        {
            "type": "required",
            "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
            "emailAddress": {"name": "Kim", "address": "kim@contoso.example"},
        }
    ]
    assert late["organizer"] == {"emailAddress": {"name": "Alex Agent", "address": "alex@contoso.example"}}
    assert late["id"] and len({e["id"] for e in events}) == 3
    assert "@odata.nextLink" not in response.json()


async def test_calendars_read_basic_gets_no_body_and_calendars_read_does(sim: Simulator) -> None:
    sim.state.workstation.set_calendar([{"subject": "Review", "start": DAY, "end": DAY + 600}])
    basic = (await view(sim, token(sim, "Calendars.ReadBasic"), **WINDOW)).json()["value"][0]
    full = (await view(sim, token(sim, "Calendars.Read"), **WINDOW)).json()["value"][0]
    asked = (await view(sim, token(sim, "Calendars.ReadBasic"), **WINDOW, **{"$select": "subject,body"})).json()
    assert "body" not in basic and "bodyPreview" not in basic
    assert full["body"]["contentType"] == "html" and "Review" in full["body"]["content"]
    assert set(asked["value"][0]) == {"@odata.etag", "id", "subject"}


async def test_pages_hold_ten_events_by_default_and_the_next_link_skips_on(sim: Simulator) -> None:
    sim.state.workstation.set_calendar(
        [{"subject": f"Slot {n:02d}", "start": DAY + 60 * n, "end": DAY + 60 * n + 30} for n in range(23)]
    )
    bearer_token = token(sim, "Calendars.ReadBasic")
    subjects: list[str] = []
    pages = 0
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        response = await client.get(f"{sim.base_url}/v1.0/me/calendarView", params=WINDOW, headers=bearer(bearer_token))
        while True:
            body = response.json()
            pages += 1
            subjects += [e["subject"] for e in body["value"]]
            link = body.get("@odata.nextLink")
            if link is None:
                break
            assert "$skip=" in link and link.startswith(f"{sim.base_url}/v1.0/me/calendarView?")
            response = await client.get(link, headers=bearer(bearer_token))
    assert pages == 3 and subjects == [f"Slot {n:02d}" for n in range(23)]


async def test_top_sets_the_page_size_and_select_the_properties(sim: Simulator) -> None:
    sim.state.workstation.set_calendar(
        [{"subject": f"Slot {n}", "start": DAY + 60 * n, "end": DAY + 60 * n + 30} for n in range(7)]
    )
    response = await view(sim, token(sim, "Calendars.ReadBasic"), **WINDOW, **{"$top": "5", "$select": "subject,start"})
    bad_top = await view(sim, token(sim, "Calendars.ReadBasic"), **WINDOW, **{"$top": "many"})
    bad_select = await view(sim, token(sim, "Calendars.ReadBasic"), **WINDOW, **{"$select": "mood"})
    body = response.json()
    assert len(body["value"]) == 5 and set(body["value"][0]) == {"@odata.etag", "id", "subject", "start"}
    assert "$select=subject,start" in body["@odata.nextLink"] and "$top=5&$skip=5" in body["@odata.nextLink"]
    assert bad_top.status_code == 400 and bad_select.status_code == 400


async def test_calendar_requests_are_counted_apart_from_the_presence_budget(sim: Simulator) -> None:
    sim.state.tokens.outlook_limit_per_10min = 2
    bearer_token = token(sim, "Calendars.ReadBasic")
    statuses = [(await view(sim, bearer_token, **WINDOW)).status_code for _ in range(3)]
    throttled = await view(sim, bearer_token, **WINDOW)
    counters = sim.state.counters
    assert statuses == [200, 200, 429] and throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) >= 1
    assert throttled.json()["error"]["code"] == "ApplicationThrottled"
    assert counters.graph_calendar_requests == 4 and counters.graph_calendar_throttled == 2
    assert counters.graph_presence_requests == 0 and counters.graph_throttled == 0
    assert sim.state.tokens.graph_window(sim.ms_client_id).used(sim.state.clock.now()) == 0


async def test_top_zero_is_an_empty_page_without_a_next_link_to_itself(sim: Simulator) -> None:
    sim.state.workstation.set_calendar([{"subject": "One", "start": DAY, "end": DAY + 60}])
    body = (await view(sim, token(sim, "Calendars.ReadBasic"), **WINDOW, **{"$top": "0"})).json()
    assert body["value"] == [] and "@odata.nextLink" not in body
