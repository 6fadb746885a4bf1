"""The window's settings: for each Teams state one of the org's own statuses (secondary ones too) or
"don't sync"; the dwell and the restore option; what IT set is shown locked and cannot be changed by
any form; every change is checked, saved with the user's comments kept, and applied at once."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from pathlib import Path

import pytest

from tests.core.org import DEFINITIONS
from tests.tray.builders import in_meeting
from tray_agent.config.policy import Policy
from tray_agent.config.settings import read_toml
from tray_agent.config.settings_file import UserSettingsFile
from tray_agent.engine.snapshot import Command, CommandKind
from tray_agent.window.pages import WindowModel

CSRF = "token"
USERS_FILE = """\
# my notes
[mapping]
Away = "Break"  # we take breaks when away
"""


def policy_locking_meetings() -> Policy:
    return Policy(mapping=(("InAMeeting", "Meeting"),), locked=frozenset({"mapping.InAMeeting"}))


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(USERS_FILE, encoding="utf-8")
    return path


def model_for(path: Path, policy: Policy | None = None, *, org_known: bool = True) -> WindowModel:
    model = WindowModel(settings=UserSettingsFile(path, lambda: policy or Policy()))
    model.on_snapshot(replace(in_meeting(), presences=DEFINITIONS if org_known else ()))
    return model


def settings_page(model: WindowModel, query: dict[str, str] | None = None) -> str:
    answer = model.get("/settings", query or {}, CSRF)
    assert answer is not None and answer.status == 200
    return answer.body


def options_of(page: str, field: str) -> list[tuple[str, str, bool]]:
    """(value, words, selected) of each option of the select ``field``."""
    select = re.search(rf"<select id='{field}'[^>]*>(.*?)</select>", page, re.S)
    assert select is not None, f"no select {field}"
    return [
        (html.unescape(value), html.unescape(words), bool(selected))
        for value, selected, words in re.findall(r"<option value='([^']*)'( selected)?>([^<]*)</option>", select[1])
    ]


def save(model: WindowModel, **fields: str) -> tuple[int, str, Command | None]:
    handled = model.post("/settings", {"csrf": CSRF, "do": "save", **fields}, CSRF)
    assert handled is not None
    answer, command = handled
    return answer.status, answer.location or answer.body, command


def test_every_teams_state_offers_the_orgs_statuses_secondary_ones_too_and_dont_sync(settings_file: Path) -> None:
    page = settings_page(model_for(settings_file))
    away = options_of(page, "map-Away")
    assert away[0][0] == "" and "Don't sync" in away[0][1]
    values = [value for value, _, _ in away]
    assert {"Available", "Busy", "Break", "Meal", "Meeting", "Training", "Teams call", "Lunch"} <= set(values)
    assert not {"On Queue", "Offline", "Idle"} & set(values)  # routing's, the end of sync, Genesys' own
    assert ("Teams call", "Teams call (Busy)", False) in away
    assert [value for value, _, selected in away if selected] == ["Break"]  # the user's own file
    assert "<label for='map-DoNotDisturb'>Do not disturb</label>" in page


def test_a_fallback_chain_from_the_file_is_offered_as_it_is(settings_file: Path) -> None:
    meeting = options_of(settings_page(model_for(settings_file)), "map-InAMeeting")
    assert [(value, words) for value, words, selected in meeting if selected] == [
        ("Meeting|Busy", "Meeting, else Busy")
    ]


def test_before_genesys_is_signed_in_the_standard_statuses_are_offered_and_it_says_why(settings_file: Path) -> None:
    page = settings_page(model_for(settings_file, org_known=False))
    assert [value for value, _, _ in options_of(page, "map-Busy")] == [
        "",
        *(["Available", "Away", "Busy", "Break", "Meal", "Meeting", "Training"]),
    ]
    assert "Sign in to Genesys Cloud" in page


def test_a_value_set_by_it_is_shown_locked_with_no_control(settings_file: Path) -> None:
    page = settings_page(model_for(settings_file, policy_locking_meetings()))
    assert "<select id='map-InAMeeting'" not in page
    row = re.search(r"<th scope='row'>In a meeting</th><td>(.*?)</td>", page)
    assert row is not None and "Meeting" in row[1] and "set by your IT department" in row[1]


def test_a_change_is_saved_keeping_the_users_comments_and_applied_at_once(settings_file: Path) -> None:
    model = model_for(settings_file)
    status, location, command = save(model, **{"map-Busy": "Teams call", "dwell": "20", "restore-shown": "1"})
    assert (status, location) == (303, "/settings?saved=saved")
    text = settings_file.read_text(encoding="utf-8")
    assert "# my notes" in text and "# we take breaks when away" in text
    document = read_toml(settings_file)
    assert document["mapping"] == {"Away": "Break", "Busy": "Teams call"}
    assert document["agent"] == {"dwell_seconds": 20, "restore_earlier_status": False}  # the box was unticked
    assert command is not None and command.kind is CommandKind.APPLY_SYNC_SETTINGS and command.sync is not None
    assert command.sync.mapping.signal_for(in_meeting().teams) == "Meeting|Busy"  # type: ignore[arg-type]
    assert dict(command.sync.mapping.entries)["busy"] == "Teams call"
    assert command.sync.dwell_seconds == 20 and not command.sync.restore_earlier
    assert "Saved." in settings_page(model, {"saved": "saved"})


def test_dont_sync_is_saved_as_an_empty_target(settings_file: Path) -> None:
    save(model_for(settings_file), **{"map-Presenting": ""})
    assert read_toml(settings_file)["mapping"]["Presenting"] == ""


def test_unchanged_values_are_not_written(settings_file: Path) -> None:
    before = settings_file.read_text(encoding="utf-8")
    status, location, command = save(
        model_for(settings_file), **{"map-Away": "Break", "dwell": "10", "restore-shown": "1", "restore": "on"}
    )
    assert (status, location, command) == (303, "/settings?saved=unchanged", None)
    assert settings_file.read_text(encoding="utf-8") == before


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"map-Busy": "On Queue"}, "“On Queue” is not one of your organisation's Genesys statuses."),
        ({"map-Busy": "Coffee"}, "“Coffee” is not one of your organisation's Genesys statuses."),
        ({"dwell": "-1"}, "The wait must be a number of seconds from 0 to 600."),
        ({"dwell": "soon"}, "The wait must be a number of seconds from 0 to 600."),
        ({"dwell": "nan"}, "The wait must be a number of seconds from 0 to 600."),
        ({"map-InAMeeting": "Training"}, "“In a meeting” is set by your IT department and cannot be changed here."),
    ],
)
def test_a_form_with_a_problem_saves_nothing_and_says_what_and_where(
    settings_file: Path, fields: dict[str, str], problem: str
) -> None:
    before = settings_file.read_text(encoding="utf-8")
    status, page, command = save(model_for(settings_file, policy_locking_meetings()), **{"map-Away": "Meal", **fields})
    assert status == 422 and command is None
    assert html.escape(problem, quote=True) in page and "Nothing was saved" in page
    field = next(iter(fields))
    if field != "map-InAMeeting":  # a locked value has no control to point at
        control = re.search(rf"<(?:select|input)[^>]* id='{field}'[^>]*>", page) or re.search(
            rf"<select id='{field}'[^>]*>", page
        )
        assert control is not None and "aria-invalid='true'" in control[0]
        assert f"<a href=#{field}>" in page
    assert settings_file.read_text(encoding="utf-8") == before  # not even the good change (Away) is written


def test_put_back_the_defaults_keeps_what_it_sets(settings_file: Path) -> None:
    model = model_for(settings_file, policy_locking_meetings())
    save(model, **{"map-Busy": "Teams call", "dwell": "30"})
    handled = model.post("/settings", {"csrf": CSRF, "do": "defaults"}, CSRF)
    assert handled is not None
    answer, command = handled
    assert answer.location == "/settings?saved=defaults"
    assert read_toml(settings_file).get("mapping", {}) == {} and "dwell_seconds" not in read_toml(settings_file).get(
        "agent", {}
    )
    assert "# my notes" in settings_file.read_text(encoding="utf-8")
    assert command is not None and command.sync is not None
    assert dict(command.sync.mapping.entries)["inameeting"] == "Meeting"  # IT's value still applies


def test_a_settings_file_that_is_not_toml_is_left_alone_and_the_agent_is_told(settings_file: Path) -> None:
    settings_file.write_text("[mapping\nAway = ", encoding="utf-8")
    model = model_for(settings_file)
    assert "Your settings file has a problem" in settings_page(model)
    status, page, command = save(model, **{"map-Away": "Meal"})
    assert status == 422 and command is None and "left as it is" in page
    assert settings_file.read_text(encoding="utf-8") == "[mapping\nAway = "
