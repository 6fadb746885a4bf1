"""The user's settings file: a commented default on first run, clear errors, nothing lost."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tray_agent.config.endpoints import Endpoints
from tray_agent.config.layers import load_user_settings
from tray_agent.config.paths import write_private
from tray_agent.config.settings import DEFAULT_SETTINGS_TOML, NUMERIC_RANGES, Settings, SettingsError
from tray_agent.core.presence import TeamsPresence


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
        ('[agent]\ncalendar_triggers = "on"\n', "calendar_triggers must be true or false"),
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


# --- damaged settings never stop start-up ------------------------------------------------------

DEEP_TOML = "[agent]\nx = " + "[" * 5000 + "]" * 5000 + "\n"
GOOD = '[agent]\ntenant_id = "contoso.example"\npoll_interval = 90\n'


def test_a_deeply_nested_settings_file_gives_the_last_good_settings_and_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(GOOD)
    good, problem = load_user_settings(path)
    assert problem is None and good.tenant_id == "contoso.example"
    path.write_text(DEEP_TOML)
    settings, problem = load_user_settings(path)
    assert settings == good
    assert problem is not None and "nested too deeply" in problem and "last good settings" in problem
    assert path.read_text() == DEEP_TOML  # left for the agent to fix


@pytest.mark.parametrize("command", [["--at-login"], ["sign-in", "genesys", "--no-browser", "--timeout", "0.01"]])
def test_a_deeply_nested_settings_file_does_not_stop_the_agent_starting(tmp_path: Path, command: list[str]) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.toml").write_text(DEEP_TOML)
    env = {**os.environ, "TRAY_AGENT_HOME": str(tmp_path)}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("tray-agent")), *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
    assert result.returncode in (0, 1, 2, 3)


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("poll_interval = 1e308", "poll_interval"),
        ("loop_window_minutes = 1e308", "loop_window_minutes"),
        ("poll_interval = nan", "poll_interval"),
        ("genesys_fallback_poll = 100000", "genesys_fallback_poll"),
        ("dwell_seconds = -1", "dwell_seconds"),
        ("loop_max_writes = 1000000", "loop_max_writes"),
        ("genesys_redirect_port = 80", "genesys_redirect_port"),
    ],
)
def test_an_out_of_range_number_is_a_problem_line_and_its_default_the_rest_of_the_file_applies(
    tmp_path: Path, line: str, key: str
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(f'[agent]\ntenant_id = "contoso.example"\n{line}\n')
    settings, problem = load_user_settings(path)
    assert settings.tenant_id == "contoso.example"
    defaults = Settings()
    assert (settings.timing, settings.sync, settings.genesys_redirect_port) == (
        defaults.timing,
        defaults.sync,
        defaults.genesys_redirect_port,
    )
    low, high = NUMERIC_RANGES[key]
    assert problem is not None and key in problem and f"range {low:g}–{high:g}" in problem and "default" in problem


def test_every_numeric_setting_has_its_range_in_the_settings_file() -> None:
    for key, (low, high) in NUMERIC_RANGES.items():
        block = DEFAULT_SETTINGS_TOML.split(f"# {key} =")[0].rsplit("\n\n", 1)[-1]
        assert f"{low:g}–{high:g}" in block, key


def test_a_damaged_settings_file_with_a_good_copy_does_not_keep_the_tray_from_syncing(tmp_path: Path) -> None:
    from tray_agent.config.layers import layer_settings
    from tray_agent.config.policy import Policy
    from tray_agent.tray.launch import setup_problem_for

    path = tmp_path / "settings.toml"
    path.write_text(
        '[agent]\ntenant_id = "contoso.example"\n'
        'microsoft_client_id = "8a1d4c2e-6b3f-4e5a-9c7d-0e1f2a3b4c5d"\n'
        'genesys_client_id = "4f6e8d0c-2b1a-4c3d-8e5f-6a7b8c9d0e1f"\n'
    )
    layer_settings(path, Policy())  # loads, and is kept as the last good copy
    path.write_text(DEEP_TOML)
    layered = layer_settings(path, Policy())
    assert layered.file_problem is not None  # shown to the agent as a notice...
    assert setup_problem_for(layered.settings, layered.file_problem) is None  # ...but the engine starts

    assert setup_problem_for(Settings(), layered.file_problem) == (
        "Settings needed from IT: tenant_id, microsoft_client_id, genesys_client_id (menu: Settings…). "
        + layered.file_problem
    )
