"""Specification of the tray's notifications: what deserves one, and that they never spam."""

from __future__ import annotations

import math

import pytest

from tray_agent.core.rules import SyncStatus
from tray_agent.core.service import Service
from tray_agent.engine.snapshot import Link
from tray_agent.tray.desktop_notifications import (
    MIN_INTERVAL,
    Notice,
    NoticeKind,
    RateLimiter,
    ending_notices,
    notices_for_change,
)

from .builders import NOW, snapshot


def hhmm(at: float) -> str:
    return f"{int(at // 3600 % 24):02d}:{int(at // 60 % 60):02d}"


def kinds(notices: list[Notice]) -> list[NoticeKind]:
    return [n.kind for n in notices]


def test_nothing_worth_a_notification_in_an_ordinary_change() -> None:
    assert notices_for_change(snapshot(), snapshot(writes=1)) == []


def test_losing_a_sign_in_asks_the_agent_to_sign_in() -> None:
    [notice] = notices_for_change(snapshot(), snapshot(genesys_link=Link.SIGN_IN_NEEDED))
    assert notice.kind is NoticeKind.SIGN_IN_NEEDED
    assert notice.title == "Sign in to Genesys Cloud"
    assert "Sign in" in notice.message
    assert notice.key == (NoticeKind.SIGN_IN_NEEDED, "genesys")


def test_both_sign_ins_needed_at_start_make_one_notification() -> None:
    first = snapshot(microsoft=Link.SIGN_IN_NEEDED, genesys_link=Link.SIGN_IN_NEEDED)
    [notice] = notices_for_change(None, first)
    assert notice.title == "Sign in to Microsoft and Genesys Cloud"


def test_still_signed_out_is_not_news() -> None:
    lost = snapshot(genesys_link=Link.SIGN_IN_NEEDED)
    assert notices_for_change(lost, lost) == []


def test_signing_out_from_the_menu_is_not_followed_by_a_request_to_sign_in() -> None:
    signed_out = snapshot(genesys_link=Link.SIGN_IN_NEEDED)
    assert notices_for_change(snapshot(), signed_out, signed_out_by_agent=frozenset({Service.GENESYS})) == []


def test_the_loop_breaker_tripping_is_notified_once() -> None:
    tripped = snapshot(status=SyncStatus.LOOP_BREAKER)
    assert kinds(notices_for_change(snapshot(), tripped)) == [NoticeKind.LOOP_BREAKER]
    assert notices_for_change(tripped, tripped) == []


def test_pausing_says_until_when_and_resuming_says_so() -> None:
    paused = snapshot(status=SyncStatus.PAUSED, paused_until=NOW + 3600)
    [notice] = notices_for_change(snapshot(), paused, clock_text=hhmm)
    assert notice.kind is NoticeKind.PAUSED
    assert f"until {hhmm(NOW + 3600)}" in notice.message
    [indefinitely] = notices_for_change(snapshot(), snapshot(paused_until=math.inf))
    assert "until you resume it" in indefinitely.message
    assert kinds(notices_for_change(paused, snapshot())) == [NoticeKind.RESUMED]


def test_a_genesys_sign_in_about_to_end_is_announced_ten_minutes_ahead() -> None:
    current = snapshot(genesys_expires_at=NOW + 600)
    [notice] = ending_notices(current, NOW, clock_text=hhmm)
    assert notice.kind is NoticeKind.SIGN_IN_ENDING
    assert notice.title == "Genesys Cloud sign-in ends soon"
    assert f"at {hhmm(NOW + 600)}" in notice.message
    assert ending_notices(snapshot(genesys_expires_at=NOW + 601), NOW) == []


def test_microsoft_renews_silently_so_its_token_expiry_is_never_announced() -> None:
    assert ending_notices(snapshot(microsoft_expires_at=NOW + 60), NOW) == []


def test_no_expiry_warning_once_signed_out() -> None:
    gone = snapshot(genesys_link=Link.SIGN_IN_NEEDED, genesys_expires_at=NOW + 60)
    assert ending_notices(gone, NOW) == []


def test_texts_fit_windows_balloons() -> None:
    with pytest.raises(ValueError, match="too long"):
        Notice(NoticeKind.PAUSED, "x" * 64, "")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_same_kind_is_shown_at_most_once_per_half_hour() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock)
    key = (NoticeKind.SIGN_IN_NEEDED, "genesys")
    assert limiter.allow(key)
    clock.now = MIN_INTERVAL - 1
    assert not limiter.allow(key)
    clock.now = MIN_INTERVAL
    assert limiter.allow(key)


def test_different_kinds_and_services_do_not_hold_each_other_back() -> None:
    limiter = RateLimiter(clock=FakeClock())
    assert limiter.allow((NoticeKind.PAUSED, ""))
    assert limiter.allow((NoticeKind.RESUMED, ""))
    assert limiter.allow((NoticeKind.SIGN_IN_NEEDED, "genesys"))
    assert limiter.allow((NoticeKind.SIGN_IN_NEEDED, "microsoft"))
    assert not limiter.allow((NoticeKind.PAUSED, ""))


def test_a_refused_notice_does_not_restart_the_wait() -> None:
    clock = FakeClock()
    limiter = RateLimiter(interval=100, clock=clock)
    assert limiter.allow("k")
    clock.now = 99
    assert not limiter.allow("k")
    clock.now = 100
    assert limiter.allow("k")
