"""The calendar source on virtual time: off unless turned on and permitted; consent asked at most
once per account; a signal at each meeting's start and end (one per boundary time), a few reads
a day, failures retried without losing the meetings already known, and a lost permission the only
thing that ends it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from tests.engine.virtual_time import run_virtual
from tray_agent.auth.consent import Consent, ConsentOutcome, ConsentRequired
from tray_agent.auth.microsoft import CALENDAR_SCOPES
from tray_agent.auth.tokens import MemoryTokenStore, SignInRequired
from tray_agent.clients.errors import AuthenticationRequired, ServerError, Throttled, Unreachable
from tray_agent.clients.graph_calendar import Meeting, NoCalendarPermission
from tray_agent.core.triggers import SignalKind
from tray_agent.signals.calendar import (
    CALENDAR_OFF,
    CONSENT_ASKED,
    NEEDS_PERMISSION,
    NOT_SIGNED_IN,
    CalendarSource,
    boundaries,
    next_read_after,
)

STARTS, ENDS = SignalKind.MEETING_STARTS, SignalKind.MEETING_ENDS
DAY = datetime(2026, 11, 25, tzinfo=UTC).timestamp()
EPOCH = DAY + 8 * 3600  # 08:00 UTC


def at(hour: int, minute: int = 0, second: int = 0) -> float:
    return DAY + hour * 3600 + minute * 60 + second


class Clock:
    """The loop's virtual time from ``EPOCH``; ``jump`` moves it on without any timer firing (a laptop
    asleep with its lid shut)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return EPOCH + asyncio.get_running_loop().time() + self.offset

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def to_real(self, seconds: float) -> float:
        return seconds

    def jump(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Auth:
    signed_in: bool = True
    account_id: str | None = "6e7b768e-07e2-4810-8459-485f84f8f204"
    consented: bool = True
    problem: Exception | None = None
    asked: list[tuple[tuple[str, ...], bool]] = field(default_factory=list)

    async def token_for(self, scopes: Sequence[str], *, force_refresh: bool = False) -> str:
        self.asked.append((tuple(scopes), force_refresh))
        if self.problem is not None:
            raise self.problem
        if not self.consented:
            raise ConsentRequired(scopes)
        return "calendar-token"


Answer = tuple[Meeting, ...] | Exception


class Calendar:
    """Answers each read from ``answers`` in turn (the last one over and over); notes when it was read."""

    def __init__(self, clock: Clock, *answers: Answer) -> None:
        self.clock = clock
        self.answers = list(answers) or [()]
        self.reads: list[float] = []
        self.windows: list[tuple[float, float]] = []

    async def meetings_between(self, start: float, end: float) -> tuple[Meeting, ...]:
        self.reads.append(self.clock.now())
        self.windows.append((start, end))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


class Asker:
    def __init__(self, consent: Consent = Consent.GRANTED, message: str = "", then: Auth | None = None) -> None:
        self.outcome = ConsentOutcome(consent, message)
        self.calls = 0
        self.then = then

    async def __call__(self) -> ConsentOutcome:
        self.calls += 1
        if self.then is not None and self.outcome.consent is Consent.GRANTED:
            self.then.consented = True
        return self.outcome


def source(calendar: Calendar, *, auth: Auth | None = None, enabled: bool = True, **options: object) -> CalendarSource:
    return CalendarSource(
        enabled=enabled,
        auth=auth or Auth(),
        calendar=calendar,
        clock=calendar.clock,
        random_fraction=lambda: 0.0,
        **options,  # type: ignore[arg-type]
    )


@dataclass
class Watched:
    signals: list[tuple[float, SignalKind, int | None]]
    ended: bool


async def watch(calendar_source: CalendarSource, clock: Clock, until: float) -> Watched:
    """Start the source (it must work) and follow it until ``until`` (clock time)."""
    assert await calendar_source.start() is None
    signals: list[tuple[float, SignalKind, int | None]] = []

    async def follow() -> None:
        async for signal in calendar_source.watch():
            signals.append((clock.now(), signal.kind, signal.attendees))

    task = asyncio.create_task(follow())
    await asyncio.sleep(until - clock.now())
    ended = task.done()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return Watched(signals, ended)


def watched(meetings: Sequence[Answer], until: float, **options: object) -> tuple[Watched, Calendar]:
    async def story() -> tuple[Watched, Calendar]:
        clock = Clock()
        calendar = Calendar(clock, *meetings)
        return await watch(source(calendar, **options), clock, until), calendar

    return run_virtual(story())


# --- when it is off, and why ------------------------------------------------------------------------


def started(calendar_source_for: object) -> str | None:
    async def story() -> str | None:
        assert callable(calendar_source_for)
        made: CalendarSource = calendar_source_for(Calendar(Clock()))
        return await made.start()

    return run_virtual(story())


def test_it_is_off_unless_the_setting_turns_it_on() -> None:
    assert started(lambda calendar: source(calendar, enabled=False)) == CALENDAR_OFF
    assert CALENDAR_OFF == "calendar triggers are off (setting)"


def test_before_the_microsoft_sign_in_it_stays_off_and_asks_nothing() -> None:
    asker = Asker()
    reason = started(lambda calendar: source(calendar, auth=Auth(signed_in=False), ask_consent=asker))
    assert reason == NOT_SIGNED_IN and asker.calls == 0


def test_without_consent_and_no_way_to_ask_it_says_what_is_missing() -> None:
    reason = started(lambda calendar: source(calendar, auth=Auth(consented=False)))
    assert reason is not None and reason.startswith(NEEDS_PERMISSION) and "ask IT" in reason


@pytest.mark.parametrize(
    ("consent", "message"),
    [
        (Consent.DECLINED, "permission to use Calendars.ReadBasic was declined; nothing else changed"),
        (
            Consent.NEEDS_ADMIN,
            "your organisation requires an administrator to approve Calendars.ReadBasic: ask IT to grant consent "
            "for it (AADSTS90094)",
        ),
    ],
)
def test_consent_not_given_is_the_reason_it_stays_off(consent: Consent, message: str) -> None:
    asker = Asker(consent, message)
    reason = started(lambda calendar: source(calendar, auth=Auth(consented=False), ask_consent=asker))
    assert reason == NEEDS_PERMISSION + message and asker.calls == 1


def test_consent_is_asked_once_per_account_ever_not_at_every_start() -> None:
    store, asker = MemoryTokenStore(), Asker(Consent.DECLINED, "declined")

    def again(calendar: Calendar) -> CalendarSource:
        return source(calendar, auth=Auth(consented=False), ask_consent=asker, remember=store)

    first, second, third = started(again), started(again), started(again)
    assert asker.calls == 1
    assert first == NEEDS_PERMISSION + "declined"
    assert second == third and second is not None and "not granted when asked" in second
    assert store.load(CONSENT_ASKED) == Auth().account_id  # noted before the page was shown
    other = Auth(consented=False, account_id="another-account")
    started(lambda calendar: source(calendar, auth=other, ask_consent=asker, remember=store))
    assert asker.calls == 2  # someone else signed in on this computer is asked for themselves


def test_a_consent_step_that_breaks_leaves_it_off_and_breaks_nothing_else() -> None:
    async def broken() -> ConsentOutcome:
        raise RuntimeError("no browser")

    reason = started(lambda calendar: source(calendar, auth=Auth(consented=False), ask_consent=broken))
    assert reason is not None and reason.startswith(NEEDS_PERMISSION)


def test_consent_granted_when_asked_starts_the_calendar() -> None:
    auth = Auth(consented=False)
    asker = Asker(Consent.GRANTED, then=auth)
    meeting = (Meeting(at(9), at(9, 30), 4),)
    seen, _ = watched([meeting], at(10), auth=auth, ask_consent=asker)
    assert asker.calls == 1
    assert seen.signals == [(at(9), STARTS, 4), (at(9, 30), ENDS, 4)]


def test_a_passing_token_problem_at_start_does_not_keep_it_off() -> None:
    auth = Auth(problem=Unreachable("Microsoft", "cannot reach login.microsoftonline.com"))
    assert started(lambda calendar: source(calendar, auth=auth)) is None


# --- signals at the boundaries -------------------------------------------------------------------


def test_each_meeting_gives_a_start_and_an_end_signal_with_its_attendee_count() -> None:
    day = (Meeting(at(9), at(9, 30), 3), Meeting(at(12), at(13), 250))
    seen, _ = watched([day], at(14))
    assert seen.signals == [(at(9), STARTS, 3), (at(9, 30), ENDS, 3), (at(12), STARTS, 250), (at(13), ENDS, 250)]


def test_a_meeting_already_running_gives_only_its_end() -> None:
    seen, _ = watched([(Meeting(at(7, 30), at(8, 30), 6),)], at(9))
    assert seen.signals == [(at(8, 30), ENDS, 6)]


def test_back_to_back_and_overlapping_meetings_give_one_signal_per_boundary_time() -> None:
    day = (
        Meeting(at(9), at(10), 2),
        Meeting(at(10), at(11), 8),  # starts as the first ends: one MEETING_STARTS
        Meeting(at(10), at(10, 30), 5),  # starts with it too: merged, the larger count
        Meeting(at(10, 15), at(11), 3),  # ends with the second: merged
    )
    seen, _ = watched([day], at(12))
    assert seen.signals == [
        (at(9), STARTS, 2),
        (at(10), STARTS, 8),
        (at(10, 15), STARTS, 3),
        (at(10, 30), ENDS, 5),
        (at(11), ENDS, 8),
    ]


def test_boundaries_are_strictly_after_the_read() -> None:
    meetings = (Meeting(at(8), at(9), 1),)
    assert boundaries(meetings, at(8)) == boundaries(meetings, at(8, 0, 1))
    assert [boundary.kind for boundary in boundaries(meetings, at(8))] == [ENDS]


def test_a_boundary_passed_while_the_computer_slept_is_not_signalled() -> None:
    async def story() -> Watched:
        clock = Clock()
        calendar = Calendar(clock, (Meeting(at(9), at(9, 30), 3), Meeting(at(11), at(11, 30), 2)))
        calendar_source = source(calendar)

        async def lid_shut() -> None:
            await asyncio.sleep(at(8, 50) - EPOCH)
            clock.jump(at(10) - at(8, 50))  # 08:50 → 10:00 with nothing running

        sleeper = asyncio.create_task(lid_shut())
        seen = await watch(calendar_source, clock, at(12))
        await sleeper
        return seen

    seen = run_virtual(story())
    assert seen.signals == [(at(11), STARTS, 2), (at(11, 30), ENDS, 2)]


# --- how often the calendar is read --------------------------------------------------------------


def test_it_reads_at_start_every_two_hours_and_just_after_midnight() -> None:
    _, calendar = watched([()], at(24 + 8))
    assert calendar.reads[:4] == [EPOCH, at(10), at(12), at(14)]
    assert any(at(24) <= read <= at(24, 20) for read in calendar.reads)  # the new day's, just after midnight UTC
    assert len(calendar.reads) <= 14  # a day
    start, end = calendar.windows[0]
    assert (start, end) == (EPOCH, at(24 + 2))  # today, to two hours past midnight
    assert next_read_after(at(23)) == at(24, 5) and at(24, 5) < next_read_after(at(23), 0.99) < at(24, 20)


def test_after_a_meeting_ends_a_stale_list_is_read_again_and_a_new_meeting_is_seen() -> None:
    first = (Meeting(at(8, 30), at(9), 2),)
    added = (Meeting(at(9, 15), at(9, 45), 7),)  # booked during the first meeting
    seen, calendar = watched([first, added], at(10))
    assert calendar.reads[:2] == [EPOCH, at(9, 1)]
    assert seen.signals == [(at(8, 30), STARTS, 2), (at(9), ENDS, 2), (at(9, 15), STARTS, 7), (at(9, 45), ENDS, 7)]


def test_a_busy_day_stays_a_few_reads() -> None:
    day = tuple(Meeting(at(hour), at(hour, 50), 3) for hour in range(9, 18))
    _, calendar = watched([day], at(24 + 8))
    assert len(calendar.reads) <= 13 + len(day)


# --- failures --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        ServerError("Microsoft Graph", "service error", status=503),
        Unreachable("Microsoft Graph", "cannot reach graph.microsoft.com (ConnectError)"),
        SignInRequired("Microsoft", "the Microsoft sign-in has expired"),
        ValueError("a bug in a parser"),
    ],
    ids=["5xx", "network", "signed-out", "bug"],
)
def test_a_failed_read_is_retried_with_backoff_and_never_ends_the_watch(failure: Exception) -> None:
    meeting = (Meeting(at(9), at(9, 30), 2),)
    seen, calendar = watched([failure, failure, failure, meeting], at(10))
    # the lower half of 60, 120, 240 s; then as usual (a minute after the meeting, the list being old)
    assert calendar.reads == [EPOCH, EPOCH + 30, EPOCH + 90, EPOCH + 210, at(9, 31)]
    assert seen.signals == [(at(9), STARTS, 2), (at(9, 30), ENDS, 2)] and not seen.ended


def test_while_reads_fail_the_meetings_already_known_are_still_signalled() -> None:
    known = (Meeting(at(9), at(11), 2),)
    failing = ServerError("Microsoft Graph", "service error", status=500)
    seen, calendar = watched([known, failing], at(12))
    assert seen.signals == [(at(9), STARTS, 2), (at(11), ENDS, 2)]
    assert len(calendar.reads) > 2  # it kept trying


def test_a_429_waits_at_least_its_retry_after() -> None:
    _, calendar = watched([Throttled("Microsoft Graph", 900.0), ()], at(9))
    assert calendar.reads[:2] == [EPOCH, EPOCH + 900]


def test_a_401_renews_the_calendar_token_before_the_next_read() -> None:
    auth = Auth()
    refused = AuthenticationRequired("Microsoft Graph", "sign-in required", status=401)
    _, calendar = watched([refused, ()], at(9), auth=auth)
    assert (tuple(CALENDAR_SCOPES), True) in auth.asked
    assert len(calendar.reads) >= 2


@pytest.mark.parametrize(
    "gone",
    [NoCalendarPermission("Microsoft Graph", "no permission", status=403), ConsentRequired(CALENDAR_SCOPES)],
    ids=["403", "consent-withdrawn"],
)
def test_only_a_lost_permission_ends_the_watch(gone: Exception) -> None:
    seen, calendar = watched([gone], at(12))
    assert seen.ended and seen.signals == [] and calendar.reads == [EPOCH]


def test_the_log_has_times_and_counts_never_more(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    watched([(Meeting(at(9), at(9, 30), 3),)], at(10))
    assert "2 meeting times ahead, the next at 09:00 UTC" in caplog.text
