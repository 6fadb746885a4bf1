"""The agent's own changes to ``settings.toml`` keep the user's file as they wrote it."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from tray_agent.config.settings import SettingsError, read_toml
from tray_agent.config.settings_file import set_settings

USERS_FILE = """\
# my own notes stay
[agent]
dwell_seconds = 20  # waited for a second reading

[mapping]
# meetings are training for us
inameeting = "Training"
Busy = "Busy"
"""


def test_changes_are_written_at_once_keeping_comments_and_other_values(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(USERS_FILE, encoding="utf-8")
    set_settings(path, {("mapping", "InAMeeting"): "Meeting", ("agent", "dwell_seconds"): 30})
    text = path.read_text(encoding="utf-8")
    assert "# my own notes stay" in text and "# meetings are training for us" in text
    assert read_toml(path) == {"agent": {"dwell_seconds": 30}, "mapping": {"Busy": "Busy", "InAMeeting": "Meeting"}}


def test_none_removes_a_value_so_the_default_applies_again(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(USERS_FILE, encoding="utf-8")
    set_settings(path, {("mapping", "InAMeeting"): None, ("agent", "restore_earlier_status"): None})
    assert read_toml(path)["mapping"] == {"Busy": "Busy"}


def test_a_missing_file_starts_from_the_commented_default(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    set_settings(path, {("mapping", "Away"): "Break"})
    assert read_toml(path)["mapping"] == {"Away": "Break"}
    assert "Lines starting with # are comments" in path.read_text(encoding="utf-8")
    if sys.platform != "win32":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_file_that_is_not_toml_is_left_exactly_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("[agent\nbroken", encoding="utf-8")
    with pytest.raises(SettingsError, match="left as it is"):
        set_settings(path, {("mapping", "Away"): "Break"})
    assert path.read_text(encoding="utf-8") == "[agent\nbroken"
