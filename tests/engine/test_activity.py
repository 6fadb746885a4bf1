"""The agent's story survives a restart: bounded, user-only, damaged lines skipped, never fatal."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from tray_agent.engine.activity import FileActivity
from tray_agent.engine.snapshot import Transition


def story(count: int, start: int = 0) -> list[Transition]:
    return [Transition(1_800_000_000.0 + i, "write", f"Genesys set to Meeting ({i})") for i in range(start, count)]


def test_what_was_kept_is_read_back_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state" / "activity.jsonl"
    kept = FileActivity(path)
    for transition in story(3):
        kept.append(transition)
    assert FileActivity(path).load() == story(3)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_the_file_is_the_users_alone(tmp_path: Path) -> None:
    path = tmp_path / "activity.jsonl"
    FileActivity(path).append(story(1)[0])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_it_keeps_the_last_few_hundred_and_the_file_stays_bounded(tmp_path: Path) -> None:
    path = tmp_path / "activity.jsonl"
    kept = FileActivity(path, limit=10)
    for transition in story(55):
        kept.append(transition)
    assert FileActivity(path, limit=10).load() == story(55, start=45)
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 20


def test_damaged_or_foreign_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "activity.jsonl"
    good = '{"at": 1800000000.0, "kind": "write", "text": "Genesys set to Meeting"}'
    junk = ["not json", "[1, 2]", '{"at": "soon", "kind": "x", "text": "y"}', '{"at": NaN, "kind": "x", "text": "y"}']
    path.write_text("\n".join([*junk, good, "x" * 10_000]) + "\n", encoding="utf-8")
    assert FileActivity(path).load() == [Transition(1_800_000_000.0, "write", "Genesys set to Meeting")]


def test_a_file_that_cannot_be_written_never_stops_the_agent(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("", encoding="utf-8")
    FileActivity(blocked / "activity.jsonl").append(story(1)[0])  # its folder is a file: logged, not raised
