"""The user's settings file: a commented default on first run, clear errors, nothing lost."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tray_agent.core.presence import TeamsPresence
from tray_agent.paths import write_private
from tray_agent.settings import DEFAULT_SETTINGS_TOML, Endpoints, Settings, SettingsError, load_user_settings


def test_first_run_writes_the_commented_default_and_it_loads_as_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    settings, problem = load_user_settings(path)
    assert problem is None and settings == Settings()
    assert path.read_text() == DEFAULT_SETTINGS_TOML
    assert Settings.load(path) == Settings()  # every example line is commented out
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_mapping_overrides_and_timing_are_read(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[agent]\npoll_interval = 60\ndwell_seconds = 0\n[mapping]\nInACall = "Teams call"\nAway = ""\n')
    settings = Settings.load(path)
    assert settings.timing.poll_interval == 60 and settings.sync.dwell_seconds == 0
    assert settings.sync.mapping.signal_for(TeamsPresence("Busy", "InACall")) == "Teams call"
    assert settings.sync.mapping.signal_for(TeamsPresence("Away", "Away")) == ""


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[agent\n", "not valid TOML"),
        ("[agent]\npoll_interval = 1\n", "poll_interval must be at least"),
        ('[agent]\npoll_interval = "fast"\n', "poll_interval must be a number"),
        ('[agent]\ngenesys_region = "mars_1"\n', "genesys_region"),
        ("[agent]\ngenesys_redirect_port = 99999\n", "genesys_redirect_port"),
        ("[mapping]\nInACall = 3\n", "InACall"),
        ('[agent]\nwindows_broker = "yes"\n', "windows_broker must be true or false"),
        ('[mapping]\nInACall = "Busy||Away"\n', "empty name"),
    ],
)
def test_a_bad_file_gives_a_clear_message_defaults_and_is_left_untouched(
    tmp_path: Path, text: str, complaint: str
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=complaint):
        Settings.load(path)
    settings, problem = load_user_settings(path)
    assert settings == Settings() and problem is not None and complaint.split()[0] in problem
    assert path.read_text() == text


def test_cloud_endpoints_follow_the_region_and_tenant() -> None:
    endpoints = Endpoints.cloud("tenant-1", "eu_west_1")
    assert endpoints.entra_authority == "https://login.microsoftonline.com/tenant-1"
    assert (endpoints.genesys_login_base, endpoints.genesys_api_base) == (
        "https://login.mypurecloud.ie",
        "https://api.mypurecloud.ie",
    )
    assert endpoints.extra_ca_file is None
    with pytest.raises(SettingsError):
        Endpoints.cloud("tenant-1", "nowhere")


def test_private_writes_are_atomic_and_user_only(tmp_path: Path) -> None:
    path = tmp_path / "state" / "file.json"
    write_private(path, "one")
    write_private(path, "two")
    assert path.read_text() == "two"
    assert [p.name for p in path.parent.iterdir()] == ["file.json"]  # no temp files left behind
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_working_hours_and_pausing_when_away_are_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[agent]\nworking_hours = "Mon-Fri 07:30-18:00"\npause_when_away = false\n')
    settings = Settings.load(path)
    assert (settings.timing.working_hours, settings.timing.pause_when_away) == ("Mon-Fri 07:30-18:00", False)
    path.write_text('[agent]\nworking_hours = "weekdays"\n')
    with pytest.raises(SettingsError, match="working hours"):
        Settings.load(path)
