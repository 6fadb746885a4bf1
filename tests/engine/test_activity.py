"""The agent's story survives a restart: bounded, user-only, damaged lines skipped, never fatal."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from tray_agent import i18n
from tray_agent.core.said import Named, Said
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


def test_a_sentence_kept_across_a_restart_is_still_said_in_the_agents_language(tmp_path: Path) -> None:
    line = Said(
        "{status}: {reason}",
        status=Said("debouncing"),
        reason=Said("Teams {teams}: nothing to change", teams="Available"),
    )
    FileActivity(tmp_path / "activity.jsonl").append(Transition(1_800_000_000.0, "decision", line))
    [back] = FileActivity(tmp_path / "activity.jsonl").load()
    assert back.text == line and isinstance(back.text, Said)
    i18n.set_language("de")  # tests/conftest.py goes back to English after the test
    assert i18n.say(back.text) == "bestätigen: Teams Available: nichts zu ändern"


def test_the_orgs_label_in_a_kept_sentence_is_still_said_in_the_agents_language(tmp_path: Path) -> None:
    meeting = Named("Meeting", (("en_US", "Meeting"), ("de", "Besprechung")))
    line = Said("Genesys set to {label} ({why})", label=meeting, why=Said("Teams {teams}", teams="Busy / InAMeeting"))
    FileActivity(tmp_path / "activity.jsonl").append(Transition(1_800_000_000.0, "write", line))
    [back] = FileActivity(tmp_path / "activity.jsonl").load()
    assert back.text == "Genesys set to Meeting (Teams Busy / InAMeeting)"
    i18n.set_language("de")
    assert i18n.say(back.text) == "Genesys gesetzt auf Besprechung (Teams Busy / InAMeeting)"


@pytest.mark.parametrize(
    "names",
    [
        pytest.param('"de"', id="not a list"),
        pytest.param('[["de"]]', id="half a pair"),
        pytest.param('[["de", 7]]', id="not text"),
        pytest.param("[" + ",".join(['["de", "x"]'] * 40) + "]", id="too many"),
    ],
)
def test_a_damaged_kept_name_leaves_the_english_text(tmp_path: Path, names: str) -> None:
    path = tmp_path / "activity.jsonl"
    path.write_text(
        '{"at": 1800000000.0, "kind": "write", "text": "Genesys set to Meeting (x)", "said": {"template": '
        f'"Genesys set to {{label}} ({{why}})", "values": {{"label": {{"name": "Meeting", "names": {names}}}, '
        '"why": "x"}}}\n',
        encoding="utf-8",
    )
    [back] = FileActivity(path).load()
    assert back.text == "Genesys set to Meeting (x)" and not isinstance(back.text, Said)


def test_a_sentence_too_long_to_keep_with_its_languages_is_kept_as_its_english_text(tmp_path: Path) -> None:
    many = Named("Meeting", tuple((f"x{i}", "Besprechung " * 20) for i in range(32)))
    line = Said("Genesys set to {label} ({why})", label=many, why="Teams Busy")
    FileActivity(tmp_path / "activity.jsonl").append(Transition(1_800_000_000.0, "write", line))
    [back] = FileActivity(tmp_path / "activity.jsonl").load()
    assert back.text == "Genesys set to Meeting (Teams Busy)" and not isinstance(back.text, Said)


def test_a_kept_sentence_that_does_not_match_its_text_is_shown_as_the_text(tmp_path: Path) -> None:
    """A hand-edited line cannot make the window say something other than the English it stores."""
    path = tmp_path / "activity.jsonl"
    path.write_text(
        '{"at": 1800000000.0, "kind": "write", "text": "Genesys set to Meeting (Teams Busy)", '
        '"said": {"template": "Genesys set to {label} ({why})", "values": {"label": "Available", "why": "x"}}}\n'
        '{"at": 1800000001.0, "kind": "write", "text": "odd", "said": {"template": "{a}", "values": {"a": [1]}}}\n'
        '{"at": 1800000002.0, "kind": "write", "text": "x", '
        '"said": {"template": "{a:>99999999999}", "values": {"a": "x"}}}\n'
        '{"at": 1800000003.0, "kind": "write", "text": "x", '
        '"said": {"template": "{a.__class__}", "values": {"a": "x"}}}\n',
        encoding="utf-8",
    )
    first, second, huge, attribute = FileActivity(path).load()
    assert not isinstance(first.text, Said) and first.text == "Genesys set to Meeting (Teams Busy)"
    assert not isinstance(second.text, Said) and second.text == "odd"
    assert not isinstance(huge.text, Said) and not isinstance(attribute.text, Said)  # never formatted


def test_every_sentence_the_core_says_can_be_kept_across_a_restart() -> None:
    """Each Said template passes the file's check on read-back (else it would come back English only)."""
    import ast

    from tray_agent.engine.activity import _plain_template

    templates = [
        node.args[0].value
        for path in sorted(Path("tray_agent").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Said"
        if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
    ]
    assert len(templates) > 50
    assert [template for template in templates if not _plain_template(template)] == []
