"""A polled source reports each change of its state once, on virtual time (no wall-clock sleeps)."""

from __future__ import annotations

import logging

import pytest

from tests.engine.virtual_time import run_virtual
from tests.signals.fakes import TimelineReader, follow
from tray_agent.core.triggers import SignalKind
from tray_agent.signals.polled_source import PolledSource, ReadFailed, Reading, Unavailable

LOCKED, UNLOCKED = SignalKind.SESSION_LOCKED, SignalKind.SESSION_UNLOCKED


def lock_source(reader: TimelineReader, **options: int) -> PolledSource:
    return PolledSource("session lock", reader, became_true=LOCKED, became_false=UNLOCKED, interval=2.0, **options)


def test_a_change_is_reported_once_within_one_interval_and_not_again_while_it_lasts() -> None:
    reader = TimelineReader((0, False), (61, True), (301, False))
    followed = run_virtual(follow(lock_source(reader), 600))
    assert followed.signals == [(62.0, LOCKED), (302.0, UNLOCKED)]
    assert reader.reads > 250  # it kept polling all along


def test_nothing_is_reported_when_nothing_changes_not_even_the_state_at_start() -> None:
    followed = run_virtual(follow(lock_source(TimelineReader((0, True))), 3600))
    assert followed.signals == []
    assert not followed.ended


def test_data_that_makes_no_sense_keeps_the_last_state_and_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    odd = Reading(None, ("LockedHint is neither yes nor no",))
    reader = TimelineReader((0, False), (10, odd), (100, True))
    with caplog.at_level(logging.WARNING):
        followed = run_virtual(follow(lock_source(reader), 200))
    assert followed.signals == [(100.0, LOCKED)]  # no flapping through "unknown"
    assert [r.getMessage() for r in caplog.records].count(
        "session lock: LockedHint is neither yes nor no — ignored"
    ) == 1


def test_a_reading_with_odd_parts_still_counts_and_the_oddity_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    reader = TimelineReader((0, False), (10, Reading(True, ("one record is odd",))))
    with caplog.at_level(logging.WARNING):
        followed = run_virtual(follow(lock_source(reader), 100))
    assert followed.signals == [(10.0, LOCKED)]
    assert sum("one record is odd" in r.getMessage() for r in caplog.records) == 1


def test_a_reader_that_fails_for_a_moment_is_retried_and_a_change_meanwhile_is_reported() -> None:
    reader = TimelineReader((0, False), (20, ReadFailed("pw-dump exited with status 1")), (26, True))
    followed = run_virtual(follow(lock_source(reader), 100))
    assert followed.signals == [(26.0, LOCKED)]
    assert not followed.ended


def test_a_reader_that_keeps_failing_ends_the_watch_without_an_exception(caplog: pytest.LogCaptureFixture) -> None:
    reader = TimelineReader((0, False), (20, ReadFailed("loginctl did not answer within 5 s")))
    with caplog.at_level(logging.WARNING):
        followed = run_virtual(follow(lock_source(reader, failures_allowed=5), 600))
    assert followed.ended and followed.error is None
    assert followed.signals == []
    messages = [r.getMessage() for r in caplog.records]
    said = "session lock: the OS did not answer (loginctl did not answer within 5 s) — trying again"
    assert messages.count(said) == 1
    assert "session lock: no answer 5 times in a row; watching stops" in messages
    assert reader.reads == 1 + 9 + 5  # the baseline, nine good polls (2…18 s), five failures; no more


def test_a_reader_that_raises_something_unexpected_is_a_failure_not_a_crash() -> None:
    reader = TimelineReader((0, False), (20, KeyError("a parser bug")))
    followed = run_virtual(follow(lock_source(reader), 600))
    assert followed.ended and followed.error is None


def test_a_baseline_that_cannot_be_read_leaves_the_first_good_reading_as_the_baseline() -> None:
    reader = TimelineReader((0, ReadFailed("busy")), (4, True), (50, False))
    followed = run_virtual(follow(lock_source(reader), 100))
    assert followed.signals == [(50.0, UNLOCKED)]  # 4 s: the first reading, not a change


def test_a_source_whose_reader_cannot_work_here_says_why_and_reads_nothing() -> None:
    reader = TimelineReader((0, False), unavailable="loginctl is not installed (no systemd-logind)")
    assert run_virtual(lock_source(reader).start()) == "loginctl is not installed (no systemd-logind)"
    assert reader.reads == 0


def test_a_source_for_another_os_only_says_why_and_has_nothing_to_watch() -> None:
    source = Unavailable("microphone or camera", "not on this OS")

    async def story() -> tuple[str | None, list[object]]:
        return await source.start(), [signal async for signal in source.watch()]

    assert run_virtual(story()) == ("not on this OS", [])
