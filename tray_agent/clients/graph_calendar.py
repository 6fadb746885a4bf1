"""Microsoft Graph: the agent's own calendar, ``GET /v1.0/me/calendarView`` (delegated ``Calendars.ReadBasic``).

Only what a meeting signal needs leaves this module: when each meeting starts and ends, and how
many people are invited (:class:`Meeting`). The subject is not even asked for, and attendees are
counted and dropped with the answer: a calendar is personal data. Logs carry counts only.

- ``$select`` asks for the times, the flags that say whether a meeting is one, and the attendees
  (to count them); ``Prefer: outlook.timezone="UTC"`` makes every time UTC.
- Graph pages the answer (10 events by default): ``@odata.nextLink`` is followed for at most
  ``max_pages`` pages, and only to the host the first page came from (the token goes with it).
  Past ``max_pages`` the earliest meetings are kept (the answer is ordered by start) and that is logged.
- Skipped: all-day events, cancelled ones, ones the agent declined, and ones shown as free or
  working elsewhere (Teams shows no meeting for them). An event with times that make no sense is
  skipped and counted; an answer that is not a calendar view at all is a :class:`BadResponse`.
- Errors as for presence (:mod:`.http`): 401 :class:`AuthenticationRequired`, 429 :class:`Throttled`,
  5xx :class:`ServerError`, network :class:`Unreachable`; a 403 is :class:`NoCalendarPermission`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import httpx

from tray_agent.clients import bounded_json
from tray_agent.clients.errors import BadResponse, Rejected
from tray_agent.clients.graph import GRAPH_BASE_URL, SERVICE
from tray_agent.clients.http import TokenGetter, request

log = logging.getLogger(__name__)

SELECT: Final = "start,end,isAllDay,isCancelled,showAs,responseStatus,attendees"
PAGE_SIZE: Final = 25
MAX_PAGES: Final = 20  # 500 events in one window: far more than a working day holds
# An all-hands invitation lists every attendee: a page may be large, but never without bound.
MAX_PAGE_BYTES: Final = 4 * 1024 * 1024
NOT_BUSY: Final = frozenset({"free", "workingelsewhere"})
_UTC_NAMES: Final = frozenset({"utc", "etc/utc", "gmt", "etc/gmt", "coordinated universal time"})


class NoCalendarPermission(Rejected):
    """403: the token does not carry ``Calendars.ReadBasic`` (not consented, or consent was revoked)."""


@dataclass(frozen=True, slots=True)
class Meeting:
    start: float  # epoch seconds
    end: float
    attendees: int  # people invited (rooms and equipment not counted)


@dataclass(frozen=True, slots=True)
class _Page:
    meetings: tuple[Meeting, ...]
    skipped: int  # events that are not meetings for Teams (all-day, cancelled, free…)
    malformed: int  # events whose fields made no sense
    next_link: str | None


def _utc(value: object) -> float:
    """A Graph ``dateTimeTimeZone`` in UTC → epoch seconds; raises ValueError."""
    if not isinstance(value, dict):
        raise ValueError("not a dateTimeTimeZone")
    text, zone = value.get("dateTime"), value.get("timeZone", "UTC")
    if not isinstance(text, str) or not isinstance(zone, str) or zone.strip().lower() not in _UTC_NAMES:
        raise ValueError("not a UTC time")
    whole, _, fraction = text.strip().partition(".")  # Graph writes seven digits: 12:00:00.0000000
    if fraction and not fraction.rstrip("Z").isdigit():
        raise ValueError("not a time")
    moment = datetime.fromisoformat(whole.removesuffix("Z"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = moment.timestamp() + (float("0." + fraction.rstrip("Z")) if fraction.rstrip("Z") else 0.0)
    if not math.isfinite(seconds):
        raise ValueError("not a time")
    return seconds


def _attendee_count(attendees: object) -> int:
    """People invited; rooms and equipment (``type: resource``) are not people. Nothing else is kept."""
    if attendees is None:
        return 0
    if not isinstance(attendees, list):
        raise ValueError("attendees is not a list")
    return sum(1 for one in attendees if not (isinstance(one, dict) and one.get("type") == "resource"))


def _declined(event: dict[str, Any]) -> bool:
    status = event.get("responseStatus")
    return isinstance(status, dict) and status.get("response") == "declined"


def parse_event(event: object) -> Meeting | None:
    """One calendarView event → a :class:`Meeting`, or None when Teams shows no meeting for it;
    raises ValueError when its fields make no sense."""
    if not isinstance(event, dict):
        raise ValueError("event is not an object")
    show_as = event.get("showAs", "busy")
    if event.get("isAllDay") is True or event.get("isCancelled") is True or _declined(event):
        return None
    if isinstance(show_as, str) and show_as.lower() in NOT_BUSY:
        return None
    start, end = _utc(event.get("start")), _utc(event.get("end"))
    if not start < end:
        raise ValueError("the event ends before it starts")
    return Meeting(start, end, _attendee_count(event.get("attendees")))


def parse_page(body: object) -> _Page:
    """One calendarView page; raises BadResponse when it is not one."""
    if not isinstance(body, dict) or not isinstance(body.get("value"), list):
        raise BadResponse(SERVICE, "calendar answer has no list of events")
    next_link = body.get("@odata.nextLink")
    if next_link is not None and not isinstance(next_link, str):
        raise BadResponse(SERVICE, "calendar answer has a next page that is not a link")
    meetings: list[Meeting] = []
    skipped = malformed = 0
    for event in body["value"]:
        try:
            meeting = parse_event(event)
        except (ValueError, OverflowError, TypeError):
            malformed += 1
            continue
        if meeting is None:
            skipped += 1
        else:
            meetings.append(meeting)
    return _Page(tuple(meetings), skipped, malformed, next_link)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GraphCalendarClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        token: TokenGetter,
        base_url: str = GRAPH_BASE_URL,
        *,
        max_pages: int = MAX_PAGES,
    ) -> None:
        """``token`` gives a Graph token with ``Calendars.ReadBasic`` (:meth:`MicrosoftAuth.token_for`)."""
        self._http = http
        self._token = token
        self._url = httpx.URL(base_url.rstrip("/") + "/v1.0/me/calendarView")
        self._max_pages = max(1, max_pages)

    async def meetings_between(self, start: float, end: float) -> tuple[Meeting, ...]:
        """The meetings that overlap [start, end), ordered by start."""
        params = {
            "startDateTime": _iso(start),
            "endDateTime": _iso(end),
            "$select": SELECT,
            "$orderby": "start/dateTime",
            "$top": str(PAGE_SIZE),
        }
        url: httpx.URL = self._url.copy_merge_params(params)
        meetings: list[Meeting] = []
        skipped = malformed = pages = 0
        while True:
            page = await self._page(url)
            pages += 1
            meetings.extend(page.meetings)
            skipped, malformed = skipped + page.skipped, malformed + page.malformed
            if page.next_link is None:
                break
            if pages >= self._max_pages:
                log.warning("calendar: more than %d pages; the earliest %d meetings are used", pages, len(meetings))
                break
            url = self._same_host(page.next_link)
        if malformed:
            log.warning("calendar: %d events could not be read and were left out", malformed)
        log.info("calendar: %d meetings, %d other events, %d pages", len(meetings), skipped, pages)
        return tuple(sorted(meetings, key=lambda meeting: (meeting.start, meeting.end)))

    def _same_host(self, link: str) -> httpx.URL:
        """The next page, only where the first one came from: the token is sent with it."""
        try:
            url = httpx.URL(link)
        except (httpx.InvalidURL, ValueError):
            raise BadResponse(SERVICE, "calendar answer's next page is not a link") from None
        here = self._url
        if (url.scheme, url.host, url.port) != (here.scheme, here.host, here.port) or url.userinfo:
            raise BadResponse(SERVICE, "calendar answer's next page is on another host; refused")
        return url

    async def _page(self, url: httpx.URL) -> _Page:
        headers = {"Prefer": 'outlook.timezone="UTC"'}
        try:
            response = await request(self._http, SERVICE, "GET", str(url), await self._token(), headers=headers)
        except Rejected as error:
            if error.status == 403:
                raise NoCalendarPermission(
                    SERVICE, "no permission to read the calendar", status=403, code=error.code
                ) from None
            raise
        try:
            body = bounded_json.loads(response.content, max_bytes=MAX_PAGE_BYTES)
        except ValueError as error:
            raise BadResponse(
                SERVICE, f"calendar answer was not JSON ({error.__class__.__name__})", status=response.status_code
            ) from None
        return parse_page(body)
