"""Settings layers: built-in defaults < the user's settings file < IT policy, and policy locks what it sets."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.config.policy_fakes import GENESYS_CLIENT, MS_CLIENT, TENANT, GivenPolicy, file_policy
from tray_agent.config.layers import LayeredSettings, load_effective_settings, load_user_settings
from tray_agent.config.paths import AgentPaths
from tray_agent.config.policy import RawLayer
from tray_agent.config.settings import DEFAULT_SETTINGS_TOML, Settings, Timing
from tray_agent.core.presence import TeamsPresence
from tray_agent.core.triggers import fleet_rate
from tray_agent.engine.engine import protocol_timing


def paths_in(folder: Path) -> AgentPaths:
    return AgentPaths(folder / "config", folder / "state", folder / "logs")


def effective(tmp_path: Path, user_file: str | None, **policy: object) -> LayeredSettings:
    paths = paths_in(tmp_path)
    if user_file is not None:
        paths.settings_file.parent.mkdir(parents=True)
        paths.settings_file.write_text(user_file)
    return load_effective_settings(paths, policy_source=file_policy(**policy))


def test_with_no_policy_and_no_file_the_built_in_defaults_apply_and_nothing_is_locked(tmp_path: Path) -> None:
    layered = effective(tmp_path, None)
    assert layered.settings == Settings()
    assert layered.locked == frozenset() and layered.problems == ()
    assert paths_in(tmp_path).settings_file.read_text() == DEFAULT_SETTINGS_TOML


def test_the_users_file_wins_over_the_defaults(tmp_path: Path) -> None:
    layered = effective(tmp_path, f'[agent]\ntenant_id = "{TENANT}"\ngenesys_region = "eu_west_1"\n')
    assert (layered.settings.tenant_id, layered.settings.genesys_region) == (TENANT, "eu_west_1")
    assert layered.locked == frozenset()


def test_policy_wins_over_the_users_file_and_locks_exactly_what_it_sets(tmp_path: Path) -> None:
    layered = effective(
        tmp_path,
        '[agent]\ntenant_id = "contoso.example"\ngenesys_region = "eu_west_1"\ngenesys_redirect_port = 9000\n',
        tenant_id=TENANT,
        microsoft_client_id=MS_CLIENT,
        genesys_client_id=GENESYS_CLIENT,
        genesys_region="ap_southeast_2",
    )
    settings = layered.settings
    assert settings.tenant_id == TENANT and settings.genesys_region == "ap_southeast_2"
    assert settings.microsoft_client_id == MS_CLIENT and settings.genesys_client_id == GENESYS_CLIENT
    assert settings.genesys_redirect_port == 9000  # not set by policy: the user's value stands
    assert layered.locked == {"tenant_id", "microsoft_client_id", "genesys_client_id", "genesys_region"}
    assert layered.ignored == {"tenant_id", "genesys_region"}  # what the user wrote that has no effect
    assert layered.problems == ()


def test_policy_only_switches_reach_the_settings(tmp_path: Path) -> None:
    layered = effective(
        tmp_path,
        "[agent]\nallow_insecure_keyring = true\n",
        start_at_login=True,
        allow_device_code=False,
        allow_insecure_keyring=False,
    )
    assert layered.settings.start_at_login is True
    assert layered.settings.allow_device_code is False
    assert layered.settings.allow_insecure_keyring is False  # IT forbids what the user asked for
    assert {"start_at_login", "allow_device_code", "allow_insecure_keyring"} <= layered.locked
    assert Settings().start_at_login is None and Settings().allow_device_code is True  # without policy


@pytest.mark.parametrize(
    ("user_choice", "policy", "in_effect"), [(True, None, True), (True, False, False), (False, True, True)]
)
def test_the_windows_broker_is_the_users_choice_unless_it_sets_it(
    tmp_path: Path, user_choice: bool, policy: bool | None, in_effect: bool
) -> None:
    given = {} if policy is None else {"windows_broker": policy}
    layered = effective(tmp_path, f"[agent]\nwindows_broker = {str(user_choice).lower()}\n", **given)
    assert layered.settings.windows_broker is in_effect
    assert ("windows_broker" in layered.locked) is (policy is not None)


@pytest.mark.parametrize(
    ("user_file", "policy", "in_effect"),
    [
        ("", None, False),  # opt-in: off until someone turns it on
        ("[agent]\ncalendar_triggers = true\n", None, True),
        ("[agent]\ncalendar_triggers = true\n", False, False),  # IT says no: the user's file has no effect
        ("[agent]\ncalendar_triggers = false\n", True, True),  # IT turns it on for everyone
        ("", "1", True),  # what the MSI writes (REG_SZ)
    ],
)
def test_calendar_triggers_are_the_users_choice_unless_policy_sets_them(
    tmp_path: Path, user_file: str, policy: object, in_effect: bool
) -> None:
    given = {} if policy is None else {"calendar_triggers": policy}
    layered = effective(tmp_path, user_file, **given)
    assert layered.settings.calendar_triggers is in_effect
    assert ("calendar_triggers" in layered.locked) is (policy is not None)
    assert ("calendar_triggers" in layered.ignored) is (policy is not None and "calendar_triggers" in user_file)
    assert layered.problems == ()


def test_a_calendar_triggers_policy_that_is_not_on_or_off_is_a_problem_and_they_stay_off(tmp_path: Path) -> None:
    layered = effective(tmp_path, "[agent]\ncalendar_triggers = true\n", calendar_triggers="sometimes")
    assert layered.settings.calendar_triggers is False and "calendar_triggers" in layered.locked
    assert any("calendar_triggers" in problem for problem in layered.problems), layered.problems


@pytest.mark.parametrize("user_interval", [20, 120, None])
def test_the_poll_interval_floor_sits_under_the_users_interval(tmp_path: Path, user_interval: int | None) -> None:
    user_file = f"[agent]\npoll_interval = {user_interval}\n" if user_interval else ""
    layered = effective(tmp_path, user_file, min_poll_interval=90)
    timing = layered.settings.timing
    assert timing.poll_floor == 90  # the engine polls every max(poll_interval, poll_floor) seconds
    assert timing.poll_interval == (user_interval or Timing().poll_interval)  # the user's choice is kept
    assert "min_poll_interval" in layered.locked and "poll_interval" not in layered.locked
    assert ("poll_interval" in layered.ignored) == (user_interval == 20)  # below the floor: no effect


def test_mapping_overrides_lock_their_own_entries_and_leave_the_users_other_entries_alone(tmp_path: Path) -> None:
    layered = effective(
        tmp_path,
        '[mapping]\nInAMeeting = "Away"\nInACall = "Teams call"\n',
        mapping={"inameeting": "Meeting", "Presenting": ""},
    )
    mapping = layered.settings.sync.mapping
    assert mapping.signal_for(TeamsPresence("Busy", "InAMeeting")) == "Meeting"  # IT's, not the user's "Away"
    assert mapping.signal_for(TeamsPresence("Busy", "Presenting")) == ""  # IT: don't sync while presenting
    assert mapping.signal_for(TeamsPresence("Busy", "InACall")) == "Teams call"  # the user's own override
    assert {"mapping.InAMeeting", "mapping.Presenting"} <= layered.locked
    assert "mapping.InAMeeting" in layered.ignored


def test_a_bad_policy_value_is_reported_keeps_the_default_stays_locked_and_never_raises(tmp_path: Path) -> None:
    layered = effective(
        tmp_path,
        '[agent]\ngenesys_region = "eu_west_1"\ngenesys_redirect_port = 9000\n',
        tenant_id=TENANT,
        genesys_region="mars-north-1",
        genesys_redirect_port=80,
        min_poll_interval="often",
    )
    settings = layered.settings
    assert settings.tenant_id == TENANT  # the good values still apply
    assert settings.genesys_region == Settings().genesys_region  # default, not the user's eu_west_1
    assert settings.genesys_redirect_port == Settings().genesys_redirect_port
    assert settings.timing.poll_floor == Settings().timing.poll_floor
    assert {"genesys_region", "genesys_redirect_port", "min_poll_interval"} <= layered.locked
    assert len(layered.problems) == 3
    region, port, interval = layered.problems
    assert "genesys_region" in region and "mars_north_1" in region and "eu_west_1" in region
    assert "genesys_redirect_port" in port and "1024 to 65535" in port
    assert "min_poll_interval" in interval and "whole number" in interval
    assert all("policy.toml" in problem and "default applies" in problem for problem in layered.problems)


def test_a_bad_mapping_entry_is_dropped_alone(tmp_path: Path) -> None:
    layered = effective(tmp_path, "", mapping={"InAMeeting": "On Queue", "InACall": "Teams call"})
    mapping = layered.settings.sync.mapping
    assert mapping.signal_for(TeamsPresence("Busy", "InAMeeting")) == "Meeting|Busy"  # the built-in default
    assert mapping.signal_for(TeamsPresence("Busy", "InACall")) == "Teams call"
    assert "mapping.InAMeeting" in layered.locked
    assert len(layered.problems) == 1 and "cannot be a sync target" in layered.problems[0]


def test_a_broken_user_file_still_gets_the_policy(tmp_path: Path) -> None:
    layered = effective(tmp_path, "[agent\n", tenant_id=TENANT)
    assert layered.settings == Settings(tenant_id=TENANT)
    assert layered.file_problem is not None and "not valid TOML" in layered.file_problem
    assert layered.problems == (layered.file_problem,)
    assert paths_in(tmp_path).settings_file.read_text() == "[agent\n"  # left for the user to fix


def test_the_first_settings_file_names_what_it_has_set_and_still_loads_as_defaults(tmp_path: Path) -> None:
    layered = effective(tmp_path, None, tenant_id=TENANT, start_at_login=True, mapping={"InACall": "Teams call"})
    text = paths_in(tmp_path).settings_file.read_text()
    assert "# Set by your IT department (policy), so changing these here has no effect:" in text
    assert f'#   tenant_id = "{TENANT}"' in text
    assert "#   start_at_login = true" in text
    assert '#   [mapping] InACall = "Teams call"' in text
    assert Settings.load(paths_in(tmp_path).settings_file) == Settings()  # still only comments
    assert layered.settings.tenant_id == TENANT


def test_higher_layers_win_per_key(tmp_path: Path) -> None:
    source = GivenPolicy(
        RawLayer("HKLM\\policy", {"tenant_id": TENANT, "genesys_region": ""}, names="registry"),
        RawLayer("HKCU\\policy", {"tenant_id": "other.example", "genesys_region": "eu_central_1"}, names="registry"),
    )
    layered = load_effective_settings(paths_in(tmp_path), policy_source=source)
    assert layered.settings.tenant_id == TENANT  # HKLM
    assert layered.settings.genesys_region == "eu_central_1"  # HKLM left it empty: not set there
    assert layered.policy.origins == ("HKLM\\policy", "HKCU\\policy")


def test_load_user_settings_applies_policy_and_logs_its_problems_without_failing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[agent]\ngenesys_region = "eu_west_1"\n')
    with caplog.at_level(logging.WARNING, logger="tray_agent.config.layers"):
        settings, problem = load_user_settings(path, policy_source=file_policy(tenant_id=TENANT, genesys_region=7))
    assert problem is None  # a policy problem does not stop the agent
    assert settings.tenant_id == TENANT and settings.genesys_region == Settings().genesys_region
    assert any("genesys_region" in record.getMessage() for record in caplog.records)


def test_a_policy_source_that_blows_up_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    class Exploding:
        def layers(self) -> list[RawLayer]:
            raise RuntimeError("registry service unavailable")

    layered = load_effective_settings(paths_in(tmp_path), policy_source=Exploding())
    assert layered.settings == Settings()
    assert layered.problems == ("IT policy could not be read (RuntimeError: registry service unavailable) — ignored",)


def test_the_fleet_size_gives_each_agent_its_share_of_the_tenant_budget(tmp_path: Path) -> None:
    layered = effective(tmp_path, None, fleet_size=5000)
    assert layered.settings.timing.fleet_size == 5000 and "fleet_size" in layered.locked
    triggers = protocol_timing(layered.settings.timing).triggers
    assert triggers.fleet_size == 5000 and fleet_rate(triggers.fleet_size) * 5000 * 30 == 1200


@pytest.mark.parametrize("bad", [0, -3, 2_000_000, "many", 12.5, True])
def test_a_fleet_size_that_is_not_a_number_of_agents_is_a_problem_and_the_default_stays(
    tmp_path: Path, bad: object
) -> None:
    layered = effective(tmp_path, None, fleet_size=bad)
    assert layered.settings.timing.fleet_size == 1 and "fleet_size" in layered.locked
    assert any("fleet_size" in problem for problem in layered.problems), layered.problems
