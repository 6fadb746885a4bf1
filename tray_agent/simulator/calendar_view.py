"""Microsoft Graph v1.0 calendar view: ``GET /me/calendarView`` and ``GET /me/calendar/calendarView``.

The person's events (``state.workstations.of(user).calendar``) overlapping ``[startDateTime, endDateTime)``,
ordered by start, paged (10 a page by default, ``$top``/``$skip``, ``@odata.nextLink``), ``$select`` honoured.
Per learn.microsoft.com "List calendarView": least privileged delegated permission Calendars.ReadBasic
(higher: Calendars.Read, Calendars.ReadWrite); ReadBasic leaves out body, attachments and extensions.
Times without an offset are UTC; ``Prefer: outlook.timezone`` only affects the answer's times.
Counted apart from the presence budget: Outlook has its own (10,000 requests / 10 min / app / mailbox).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tray_agent.clock import parse_iso

from .context import state_of
from .directory import SimUser
from .error_answers import graph_error
from .graph_api import authenticate
from .workstation import CalendarEvent

CALENDAR_SCOPES = ("calendars.readbasic", "calendars.read", "calendars.readwrite")
FULL_DETAIL_SCOPES = ("calendars.read", "calendars.readwrite")  # ReadBasic: no body/attachments/extensions
DEFAULT_PAGE_SIZE = 10  # Outlook's default page size (Microsoft Q&A answers; not on the API page itself)
MAX_TOP = 1000  # inferred: Outlook's largest page; the API page does not say
_TIMEZONE = re.compile(r'outlook\.timezone\s*=\s*"([^"]*)"', re.IGNORECASE)
_UTC_NAMES = frozenset({"utc", "etc/utc", "coordinated universal time"})
_NO_WINDOW = (
    "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime."
)
_NEVER = "0001-01-01T00:00:00Z"  # Graph's "no time" for responseStatus/status


def graph_datetime(epoch: float) -> str:
    """Graph's dateTimeTimeZone text: ``2026-11-25T12:00:00.0000000`` (seven fractional digits, no zone)."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond * 10:07d}"


def _attendee(address: str) -> dict[str, Any]:
    name = address.split("@", 1)[0].replace(".", " ").title()
    return {
        "type": "required",
        "status": {"response": "none", "time": _NEVER},
        "emailAddress": {"name": name, "address": address},
    }


def event_body(event: CalendarEvent, owner: SimUser, *, full_detail: bool) -> dict[str, Any]:
    """One event as Graph returns it (a realistic subset of its properties)."""
    online = bool(event.attendees)  # inferred: a meeting with attendees is a Teams meeting
    body: dict[str, Any] = {
        "@odata.etag": f'W/"{event.id[-16:]}"',
        "id": event.id,
        "subject": event.subject,
        "isAllDay": False,
        "isCancelled": False,
        "isOrganizer": True,
        "showAs": "busy",
        "type": "singleInstance",
        "sensitivity": "normal",
        "isOnlineMeeting": online,
        "onlineMeetingProvider": "teamsForBusiness" if online else "unknown",
        "responseStatus": {"response": "organizer", "time": _NEVER},
        "start": {"dateTime": graph_datetime(event.start), "timeZone": "UTC"},
        "end": {"dateTime": graph_datetime(event.end), "timeZone": "UTC"},
        "location": {"displayName": "Microsoft Teams Meeting" if online else "", "locationType": "default"},
        "attendees": [_attendee(a) for a in event.attendees],
        "organizer": {"emailAddress": {"name": owner.name, "address": owner.email}},
    }
    if full_detail:
        body["bodyPreview"] = event.subject
        body["body"] = {"contentType": "html", "content": f"<html><body><p>{event.subject}</p></body></html>"}
    return body


# What $select may name (the properties event_body writes; body/bodyPreview only reach full-detail tokens).
_SELECTABLE = (
    "id",
    "subject",
    "isAllDay",
    "isCancelled",
    "isOrganizer",
    "showAs",
    "type",
    "sensitivity",
    "isOnlineMeeting",
    "onlineMeetingProvider",
    "responseStatus",
    "start",
    "end",
    "location",
    "attendees",
    "organizer",
    "bodyPreview",
    "body",
)


def _query(request: web.Request) -> dict[str, str]:
    """Query options by lower-case name (Graph reads them case-insensitively)."""
    return {key.lower(): value for key, value in request.query.items()}


def _window(request: web.Request, query: dict[str, str]) -> tuple[float, float] | web.Response:
    start, end = query.get("startdatetime"), query.get("enddatetime")
    if not start or not end:
        return graph_error(request, 400, "ErrorInvalidParameter", _NO_WINDOW)
    try:
        return parse_iso(start), parse_iso(end)
    except ValueError:
        # real behaviour unknown: the code and text for an unparseable time (we answer the same as missing)
        return graph_error(request, 400, "ErrorInvalidParameter", _NO_WINDOW)


def _whole(request: web.Request, query: dict[str, str], name: str, default: int, top: int) -> int | web.Response:
    text = query.get(name)
    if text is None:
        return default
    if not text.isdigit() or int(text) > top:
        # real behaviour unknown: the exact code/text for a bad $top/$skip
        return graph_error(request, 400, "BadRequest", f"Invalid value '{text}' for the {name} query option.")
    return int(text)


def _select(request: web.Request, query: dict[str, str]) -> list[str] | web.Response | None:
    text = query.get("$select")
    if not text:
        return None
    fields = [f.strip() for f in text.split(",") if f.strip()]
    known = {key.lower(): key for key in _SELECTABLE}
    for name in fields:
        if name.lower() not in known:
            # inferred from real answers: an unknown property in $select is a 400 naming it
            return graph_error(
                request,
                400,
                "RequestBroker--ParseUri",
                f"Could not find a property named '{name}' on type 'microsoft.graph.event'.",
            )
    return [known[name.lower()] for name in fields]


def _selected(body: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    if fields is None:
        return body
    keep = {"@odata.etag", "id", *fields}  # Graph always returns the id (and the etag)
    return {key: value for key, value in body.items() if key in keep}


def _timezone(request: web.Request) -> tuple[str | None, bool]:
    """(the zone asked for, whether it is honoured). Only UTC is supported: any other zone falls back to
    UTC without a ``Preference-Applied`` header (real Graph converts to Windows and IANA zones)."""
    found = _TIMEZONE.search(request.headers.get("Prefer", ""))
    if found is None:
        return None, False
    return found.group(1), found.group(1).strip().lower() in _UTC_NAMES


def _next_link(request: web.Request, query: dict[str, str], top: int, skip: int) -> str:
    params = {"startDateTime": query["startdatetime"], "endDateTime": query["enddatetime"]}
    if "$select" in query:
        params["$select"] = query["$select"]
    params["$top"], params["$skip"] = str(top), str(skip)
    return f"{state_of(request).base_url}{request.path}?{urlencode(params, safe='$,')}"


def _throttled(request: web.Request, retry_after: float) -> web.Response:
    state_of(request).counters.graph_calendar_throttled += 1
    # real behaviour unknown: the exact code/text of Outlook's rate-limit answer (ApplicationThrottled is its code)
    return graph_error(
        request,
        429,
        "ApplicationThrottled",
        "Application is over its request limit for this mailbox.",
        {"Retry-After": str(max(1, math.ceil(retry_after)))},
    )


async def calendar_view(request: web.Request) -> web.Response:
    authenticated = authenticate(request)
    if isinstance(authenticated, web.Response):
        return authenticated
    token, person = authenticated
    state = state_of(request)
    scopes = {s.lower() for s in token.scopes}
    if not scopes & set(CALENDAR_SCOPES):
        return graph_error(request, 403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
    state.counters.graph_calendar_requests += 1
    retry_after = state.tokens.outlook_window(token.client_id, person.ms_id).hit(state.clock.now())
    if retry_after is not None:
        return _throttled(request, retry_after)
    query = _query(request)
    window = _window(request, query)
    if isinstance(window, web.Response):
        return window
    top = _whole(request, query, "$top", DEFAULT_PAGE_SIZE, MAX_TOP)
    if isinstance(top, web.Response):
        return top
    skip = _whole(request, query, "$skip", 0, 10**9)
    if isinstance(skip, web.Response):
        return skip
    fields = _select(request, query)
    if isinstance(fields, web.Response):
        return fields
    zone, honoured = _timezone(request)
    start, end = window
    workstation = state.workstations.existing(person)
    inside = [e for e in (workstation.calendar if workstation else ()) if e.start < end and e.end > start]
    full = bool(scopes & set(FULL_DETAIL_SCOPES))
    page = [_selected(event_body(e, person, full_detail=full), fields) for e in inside[skip : skip + top]]
    body: dict[str, Any] = {
        "@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#users('{person.ms_id}')/calendarView",
        "value": page,
    }
    if top > 0 and skip + top < len(inside):  # $top=0: an empty page, and no link to the same page again
        body["@odata.nextLink"] = _next_link(request, query, top, skip + top)
    headers = {"Preference-Applied": f'outlook.timezone="{zone}"'} if zone is not None and honoured else None
    return web.json_response(body, headers=headers)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1.0/me/calendarView", calendar_view)
    app.router.add_get("/v1.0/me/calendar/calendarView", calendar_view)
