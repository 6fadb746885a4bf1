"""Linux and macOS policy: a root-owned policy.toml shaped like settings.toml, and macOS managed preferences."""

from __future__ import annotations

import os
import plistlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.config.policy_fakes import MS_CLIENT, TENANT
from tray_agent.config import policy as policy_module
from tray_agent.config.policy import CombinedPolicySource, FilePolicySource, PlistPolicySource, read_policy

ME = os.getuid()


def write(path: Path, text: str, mode: int = 0o644) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_a_policy_file_looks_like_the_settings_file(tmp_path: Path) -> None:
    path = write(
        tmp_path / "policy.toml",
        f"""
[agent]
tenant_id = "{TENANT}"
microsoft_client_id = "{MS_CLIENT}"
genesys_region = "eu-central-1"
genesys_redirect_port = 8800
min_poll_interval = 90
start_at_login = true
allow_device_code = false

[mapping]
InAMeeting = "Meeting"
Presenting = ""
""",
    )
    policy = read_policy(FilePolicySource(path, trusted_owner=ME))
    assert policy.problems == ()
    assert (policy.tenant_id, policy.microsoft_client_id) == (TENANT, MS_CLIENT)
    assert policy.genesys_region == "eu_central_1"  # AWS-style spelling accepted
    assert (policy.genesys_redirect_port, policy.min_poll_interval) == (8800, 90.0)
    assert (policy.start_at_login, policy.allow_device_code) == (True, False)
    assert dict(policy.mapping) == {"InAMeeting": "Meeting", "Presenting": ""}
    assert policy.origins == (str(path),)


def test_no_policy_file_means_no_policy(tmp_path: Path) -> None:
    policy = read_policy(FilePolicySource(tmp_path / "policy.toml", trusted_owner=ME))
    assert policy.locked == frozenset() and policy.problems == ()


def test_keys_policy_cannot_set_are_named_with_what_to_use_instead(tmp_path: Path) -> None:
    path = write(
        tmp_path / "policy.toml", '[agent]\npoll_interval = 90\ntenantid = "x"\n[general]\nfoo = 1\n[mapping]\n'
    )
    problems = read_policy(FilePolicySource(path, trusted_owner=ME)).problems
    assert len(problems) == 3
    assert "'poll_interval' cannot be set by policy — ignored (use min_poll_interval (a floor)" in problems[0]
    assert "'tenantid' cannot be set by policy — ignored (known: tenant_id, microsoft_client_id" in problems[1]
    assert "unknown table or key 'general'" in problems[2]


def test_a_file_that_is_not_toml_is_ignored_whole_with_a_problem(tmp_path: Path) -> None:
    path = write(tmp_path / "policy.toml", "[agent\ntenant_id = 1\n")
    policy = read_policy(FilePolicySource(path, trusted_owner=ME))
    assert policy.locked == frozenset()
    assert len(policy.problems) == 1 and "not valid TOML" in policy.problems[0]


def test_a_file_users_could_change_is_not_policy(tmp_path: Path) -> None:
    text = f'[agent]\ntenant_id = "{TENANT}"\n'
    writable = write(tmp_path / "writable.toml", text, mode=0o666)
    policy = read_policy(FilePolicySource(writable, trusted_owner=ME))
    assert policy.tenant_id is None
    assert policy.problems == (
        f"{writable}: can be changed by users other than its owner (chmod go-w) — the whole file is ignored",
    )
    foreign = write(tmp_path / "foreign.toml", text)
    policy = read_policy(FilePolicySource(foreign, trusted_owner=ME + 1))
    assert policy.tenant_id is None and "is not owned by" in policy.problems[0]


def test_macos_managed_preferences_use_the_registry_names_and_win_over_the_file(tmp_path: Path) -> None:
    profile = tmp_path / "com.trayagent.teams-genesys-presence.plist"
    profile.write_bytes(
        plistlib.dumps(
            {
                "TenantId": TENANT,
                "GenesysRedirectPort": 8801,
                "StartAtLogin": True,
                "Mapping": {"InACall": "Teams call"},
                "PayloadUUID": "ABC",  # MDM bookkeeping, not a setting
            }
        )
    )
    file = write(tmp_path / "policy.toml", '[agent]\ntenant_id = "file.example"\ngenesys_region = "ap_south_1"\n')
    policy = read_policy(CombinedPolicySource([PlistPolicySource(profile), FilePolicySource(file, trusted_owner=ME)]))
    assert policy.problems == ()
    assert policy.tenant_id == TENANT and policy.genesys_region == "ap_south_1"
    assert (policy.genesys_redirect_port, policy.start_at_login) == (8801, True)
    assert dict(policy.mapping) == {"InACall": "Teams call"}


def test_it_can_see_the_policy_in_effect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "policy.toml", f'[agent]\ntenant_id = "{TENANT}"\ngenesys_redirect_port = 80\n')
    monkeypatch.setattr(policy_module, "machine_policy_source", lambda: FilePolicySource(path, trusted_owner=ME))
    lines = policy_module.describe(policy_module.read_policy())
    assert lines == [
        f"Policy read from: {path}",
        f'  tenant_id = "{TENANT}"',
        "  genesys_redirect_port = (invalid: the built-in default applies)",
        f"PROBLEM  {path}: genesys_redirect_port: must be a port number from 1024 to 65535, got 80 — ignored, "
        "the built-in default applies",
    ]
    assert policy_module.main([]) == 1  # problems → non-zero, for scripts


def test_the_login_check_says_whether_the_agent_may_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "policy.toml"
    monkeypatch.setattr(policy_module, "machine_policy_source", lambda: FilePolicySource(path, trusted_owner=ME))
    assert policy_module.main(["--start-at-login"]) == 0  # no policy: start
    write(path, "[agent]\nstart_at_login = false\n")
    assert policy_module.main(["--start-at-login"]) == 1
    write(path, "[agent]\nstart_at_login = true\n")
    assert policy_module.main(["--start-at-login"]) == 0


def test_python_dash_m_runs_it() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tray_agent.config.policy", "--help"], capture_output=True, text=True, check=True
    )
    assert "Show the IT policy this machine gives the agent." in done.stdout


def test_a_deeply_nested_policy_file_is_ignored_with_a_problem_and_the_rest_of_policy_still_applies(
    tmp_path: Path,
) -> None:
    deep = tmp_path / "policy.toml"
    deep.write_text("[agent]\nx = " + "[" * 5000 + "]" * 5000 + "\n")
    deep.chmod(0o644)
    fine = tmp_path / "other.toml"
    fine.write_text(f'[agent]\ntenant_id = "{TENANT}"\n')
    fine.chmod(0o644)
    layers = FilePolicySource(deep, trusted_owner=ME).layers()  # raised RecursionError before
    assert "nested too deeply" in layers[0].problems[0]
    policy = read_policy(
        CombinedPolicySource([FilePolicySource(deep, trusted_owner=ME), FilePolicySource(fine, trusted_owner=ME)])
    )
    assert policy.tenant_id == TENANT and len(policy.problems) == 1


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_policy_file_in_a_folder_others_can_write_is_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "TeamsGenesysPresence"
    folder.mkdir()
    path = folder / "policy.toml"
    path.write_text(f'[agent]\ntenant_id = "{TENANT}"\n')
    path.chmod(0o644)
    folder.chmod(0o777)  # anyone could rename another file over policy.toml
    try:
        policy = read_policy(FilePolicySource(path, trusted_owner=ME))
    finally:
        folder.chmod(0o755)
    assert policy.tenant_id is None
    assert len(policy.problems) == 1 and "its folder" in policy.problems[0] and "chmod go-w" in policy.problems[0]
