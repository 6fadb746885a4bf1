"""The agent's own calendar as a signal source: a meeting's start and end ask for Graph reads.

Teams shows In a meeting from a calendar meeting's start (whether or not the agent joins), and
Available again at its end, so each boundary is a :data:`~SignalKind.MEETING_STARTS` or
:data:`~SignalKind.MEETING_ENDS` signal carrying how many people are invited (which spreads the
fleet's reads when an all-hands starts: :func:`tray_agent.core.triggers.spread`).

**Off unless asked for.** The ``calendar_triggers`` setting (or IT policy ``CalendarTriggers``)
turns it on; it needs the delegated ``Calendars.ReadBasic`` permission, which the sign-in never
asks for (it stays ``Presence.Read``). :meth:`CalendarSource.start` says why it is off: the
setting, no Microsoft sign-in yet, or no permission.

**Consent, asked once.** When the setting is on and Entra says the permission was never granted,
the source asks for it through ``ask_consent`` (Entra's consent page in the browser, as at
sign-in), **once per account on this computer**: the question is remembered *before* it is asked
(``remember``), so a consent that is declined, needs an administrator, or is left unanswered is
never asked again by itself, at this start or any later one. Only an agent (or IT) who turned
the setting on ever sees it, and IT can spare everyone the page by granting admin consent for
the app. Without ``ask_consent`` (or once asked), :meth:`start` says what is missing and what to do.
Sign-in never waits for any of this.

**Reads: a few a day.** The calendar (today's window, to two hours after the next midnight UTC)
is read when watching starts, every :data:`REREAD_EVERY` (2 h), in the quarter hour from 00:05 UTC, and
a minute after a meeting ends if the last read is older than :data:`REREAD_AFTER_END_IF_OLDER`
(the list may have changed): about 13 reads a day plus at most one per meeting. A read that fails
(network, 5xx, 429, an expired sign-in) is retried with capped backoff, and the boundaries
already known are still signalled meanwhile. Only a lost permission (403, consent withdrawn)
ends the watch.

**Timing.** Every boundary time is one signal: a meeting ending as the next begins is one
``MEETING_STARTS``; equal times of overlapping meetings merge. A meeting already running when
the calendar is read gives no start signal (the agent reads Teams when it starts anyway), only
its end. A boundary passed while the computer slept (found more than :data:`LATE_BY_AT_MOST`
late) is not signalled. All of it runs on the injected clock.

Nothing personal is logged: counts and UTC times only (the client never asks for subjects).
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from tray_agent.auth.consent import AskOnce, Consent, ConsentAsker, ConsentRequired, Remember
from tray_agent.auth.microsoft import CALENDAR_SCOPES
from tray_agent.auth.tokens import SignInRequired
from tray_agent.clients.errors import AuthenticationRequired, ServiceError, Throttled
from tray_agent.clients.graph_calendar import Meeting, NoCalendarPermission
from tray_agent.clock import Clock
from tray_agent.core.backoff import Backoff
from tray_agent.core.triggers import SignalKind
from tray_agent.signals.source import Signal

log = logging.getLogger(__name__)

CALENDAR = "calendar"
CALENDAR_OFF = "calendar triggers are off (setting)"
NOT_SIGNED_IN = "not signed in to Microsoft yet (the calendar is read after the next start once signed in)"
NEEDS_PERMISSION = "needs permission to read the calendar (Calendars.ReadBasic): "
NOT_GRANTED = "it was not granted when asked; ask IT to grant consent for the app, or turn calendar_triggers off"
NO_WAY_TO_ASK = "not granted yet; ask IT to grant consent for the app (Calendars.ReadBasic)"
CONSENT_ASKED = "calendar-consent-asked"  # what ``remember`` keeps: the account already asked

REREAD_EVERY = 2 * 3600.0
AFTER_MIDNIGHT = 5 * 60.0  # the read shortly after midnight UTC, for the new day's meetings…
MIDNIGHT_SPREAD = 15 * 60.0  # …somewhere in the quarter hour after that, so a fleet never reads as one
REREAD_AFTER_END_IF_OLDER = 30 * 60.0
AFTER_END = 60.0  # that read comes a minute after the meeting ended
LATE_BY_AT_MOST = 300.0
RETRY_BASE, RETRY_CAP = 60.0, 1800.0


class CalendarAuth(Protocol):
    """The Microsoft sign-in, as the calendar needs it (:class:`~tray_agent.auth.microsoft.MicrosoftAuth`)."""

    @property
    def signed_in(self) -> bool: ...

    @property
    def account_id(self) -> str | None: ...

    async def token_for(self, scopes: Sequence[str], *, force_refresh: bool = False) -> str: ...


class CalendarReader(Protocol):
    """:class:`~tray_agent.clients.graph_calendar.GraphCalendarClient`."""

    async def meetings_between(self, start: float, end: float) -> tuple[Meeting, ...]: ...


@dataclass(frozen=True, slots=True)
class Boundary:
    at: float
    kind: SignalKind
    attendees: int


def boundaries(meetings: Sequence[Meeting], after: float) -> list[Boundary]:
    """One boundary per time strictly after ``after``: a start wins over an end at the same time (the
    agent goes from one meeting into the next), with the most attendees of the meetings starting (or
    ending) then."""
    starts: dict[float, int] = {}
    ends: dict[float, int] = {}
    for meeting in meetings:
        if meeting.start > after:
            starts[meeting.start] = max(starts.get(meeting.start, 0), meeting.attendees)
        if meeting.end > after:
            ends[meeting.end] = max(ends.get(meeting.end, 0), meeting.attendees)
    found = [Boundary(at, SignalKind.MEETING_STARTS, count) for at, count in starts.items()]
    found += [Boundary(at, SignalKind.MEETING_ENDS, count) for at, count in ends.items() if at not in starts]
    return sorted(found, key=lambda boundary: boundary.at)


def next_midnight(now: float) -> float:
    today = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return (today + timedelta(days=1)).timestamp()


def next_read_after(now: float, u: float = 0.0) -> float:
    """Two hours on, or shortly after the next midnight UTC if that is sooner (``u`` in [0, 1) places
    it in :data:`MIDNIGHT_SPREAD`)."""
    return min(now + REREAD_EVERY, next_midnight(now) + AFTER_MIDNIGHT + u * MIDNIGHT_SPREAD)


def _hhmm(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M UTC")


class _PermissionGone(Exception):
    pass


class CalendarSource:
    """:class:`~tray_agent.signals.source.SignalSource` over the agent's own Graph calendar."""

    def __init__(
        self,
        *,
        enabled: bool,
        auth: CalendarAuth,
        calendar: CalendarReader,
        clock: Clock,
        ask_consent: ConsentAsker | None = None,
        remember: Remember | None = None,
        random_fraction: Callable[[], float] | None = None,
        off_reason: str = CALENDAR_OFF,
    ) -> None:
        self._enabled = enabled
        self._auth = auth
        self._calendar = calendar
        self._clock = clock
        self._consent_page = AskOnce(
            ask_consent, remember, key=CONSENT_ASKED, feature="calendar", purpose="read the calendar"
        )
        self._off_reason = off_reason
        self._random = random_fraction or random.Random().random  # noqa: S311 - jitter
        self._backoff = Backoff(RETRY_BASE, RETRY_CAP, self._random)

    @property
    def name(self) -> str:
        return CALENDAR

    async def start(self) -> str | None:
        if not self._enabled:
            return self._off_reason
        if not self._auth.signed_in:
            return NOT_SIGNED_IN
        try:
            await self._auth.token_for(CALENDAR_SCOPES)
        except ConsentRequired:
            return await self._consent()
        except (SignInRequired, ServiceError) as error:  # passing trouble: watch() retries the reads
            log.info("calendar: no token yet (%s); reading it later", type(error).__name__)
        return None

    async def _consent(self) -> str | None:
        """Ask once per account on this computer (noted before asking); None when granted now."""
        if not self._consent_page.can_ask:
            return NEEDS_PERMISSION + NO_WAY_TO_ASK
        outcome = await self._consent_page.ask(self._auth.account_id or "?")
        if outcome is None:
            return NEEDS_PERMISSION + NOT_GRANTED
        return None if outcome.consent is Consent.GRANTED else NEEDS_PERMISSION + outcome.message

    async def watch(self) -> AsyncIterator[Signal]:
        ahead: list[Boundary] = []
        next_read = self._clock.now()
        last_read = -math.inf
        while True:
            now = self._clock.now()
            if now >= next_read:
                try:
                    found = await self._read(now)
                except _PermissionGone as gone:
                    log.warning("calendar: %s; watching stops", gone)
                    return
                if isinstance(found, float):
                    next_read = now + found
                else:
                    ahead, last_read, next_read = found, now, next_read_after(now, self._random())
            wake = min(ahead[0].at if ahead else math.inf, next_read)
            await self._clock.sleep(wake - now)
            now = self._clock.now()
            due = [boundary for boundary in ahead if boundary.at <= now]
            if not due:
                continue
            ahead = ahead[len(due) :]
            latest = due[-1]
            if now - latest.at <= LATE_BY_AT_MOST:
                yield Signal(latest.kind, latest.attendees)
            else:
                log.info("calendar: %d meeting times passed while this computer slept; not signalled", len(due))
            if latest.kind is SignalKind.MEETING_ENDS and now - last_read >= REREAD_AFTER_END_IF_OLDER:
                next_read = min(next_read, now + AFTER_END)

    async def _read(self, now: float) -> list[Boundary] | float:
        """The boundaries ahead, or how long to wait before trying again; raises _PermissionGone."""
        try:
            meetings = await self._calendar.meetings_between(now, next_midnight(now) + REREAD_EVERY)
        except (NoCalendarPermission, ConsentRequired):
            raise _PermissionGone("the permission to read the calendar is gone (Calendars.ReadBasic)") from None
        except Throttled as error:
            return self._retry_in(error, at_least=error.retry_after or 0.0)
        except AuthenticationRequired as error:
            await self._renew_token()
            return self._retry_in(error)
        except Exception as error:  # network, 5xx, a bad answer, an expired sign-in: try again later
            return self._retry_in(error)
        self._backoff.reset()
        found = boundaries(meetings, now)
        log.info(
            "calendar: %d meeting times ahead%s",
            len(found),
            f", the next at {_hhmm(found[0].at)}" if found else "",
        )
        return found

    def _retry_in(self, error: Exception, at_least: float = 0.0) -> float:
        delay = self._backoff.next_delay(at_least)
        # Service errors say only the service, the status and its code; others: the type alone.
        said = str(error) if isinstance(error, ServiceError | SignInRequired) else type(error).__name__
        log.info("calendar: reading failed (%s); trying again in %.0f s", said, delay)
        return delay

    async def _renew_token(self) -> None:
        """Graph refused the calendar token: the next read gets a fresh one (never the sign-in's)."""
        try:
            await self._auth.token_for(CALENDAR_SCOPES, force_refresh=True)
        except Exception as error:
            log.info("calendar: the token could not be renewed yet (%s)", type(error).__name__)
