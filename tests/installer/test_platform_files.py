"""The files each platform's build uses agree with the agent: names, labels, policy keys and paths."""

from __future__ import annotations

import os
import plistlib
import re
import subprocess
from pathlib import Path

import pytest

from tests.installer.conftest import INSTALLER, ROOT
from tray_agent.config.policy import MACOS_BUNDLE_ID, POLICY_KEYS, FilePolicySource, PlistPolicySource, read_policy
from tray_agent.tray import autostart

WXS = (INSTALLER / "windows" / "TeamsGenesysPresence.wxs").read_text(encoding="utf-8")
WINDOWS_SPEC = (INSTALLER / "windows" / "TeamsGenesysPresence.spec").read_text(encoding="utf-8")
MAC_SPEC = (INSTALLER / "macos" / "TeamsGenesysPresence.spec").read_text(encoding="utf-8")
WORKFLOW = (INSTALLER / "ci" / "build-installers.yml").read_text(encoding="utf-8")


def test_the_windows_exe_is_the_one_the_msi_installs_and_starts_at_sign_in() -> None:
    assert '<?define ExeName = "TeamsGenesysPresence.exe" ?>' in WXS
    assert 'name="TeamsGenesysPresence",\n    console=False' in WINDOWS_SPEC  # windowed: no console flashes
    assert 'name="tray-agent",\n    console=True' in WINDOWS_SPEC  # the CLI for support
    assert '"pystray._win32"' in WINDOWS_SPEC and 'copy_metadata("keyring")' in WINDOWS_SPEC
    assert 'tray_agent" / "__main__.py' in WINDOWS_SPEC
    # The MSI's machine-wide Run value has the name the tray's own per-user entry uses.
    assert f'Name="{autostart.ENTRY_NAME}"' in WXS


def test_the_macos_launch_agent_starts_the_bundle_the_spec_builds() -> None:
    plist = plistlib.loads((INSTALLER / "macos" / f"{MACOS_BUNDLE_ID}.plist").read_bytes())
    assert plist["Label"] == MACOS_BUNDLE_ID == autostart.LAUNCH_AGENT_LABEL
    assert plist["ProgramArguments"] == [
        "/Applications/Teams Genesys Presence.app/Contents/MacOS/TeamsGenesysPresence",
        "--at-login",
    ]
    assert plist["RunAtLoad"] is True and plist["LimitLoadToSessionType"] == "Aqua"
    assert 'name="Teams Genesys Presence.app"' in MAC_SPEC and 'name="TeamsGenesysPresence"' in MAC_SPEC
    assert f'BUNDLE_ID = "{MACOS_BUNDLE_ID}"' in MAC_SPEC and '"LSUIElement": True' in MAC_SPEC
    assert f"LABEL={MACOS_BUNDLE_ID}" in (INSTALLER / "macos" / "scripts" / "postinstall").read_text()


def test_the_example_configuration_profile_is_valid_policy_with_every_key(tmp_path: Path) -> None:
    example = INSTALLER / "macos" / f"{MACOS_BUNDLE_ID}.managed.plist"
    assert set(plistlib.loads(example.read_bytes())) == {key.registry for key in POLICY_KEYS}
    policy = read_policy(PlistPolicySource(example))
    assert policy.problems == ()
    assert policy.genesys_region == "eu_west_1" and dict(policy.mapping) == {"InAMeeting": "Meeting|Busy"}


def test_the_guides_policy_toml_example_is_valid_policy(tmp_path: Path) -> None:
    guide = (INSTALLER / "README.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```toml\n(.*?)```", guide, re.DOTALL)
    path = tmp_path / "policy.toml"
    path.write_text(re.sub(r"^  ", "", example, flags=re.MULTILINE))
    path.chmod(0o644)
    policy = read_policy(FilePolicySource(path, trusted_owner=path.stat().st_uid))
    assert policy.problems == ()
    assert policy.tenant_id and policy.microsoft_client_id and policy.genesys_client_id


def test_the_linux_autostart_entry_has_the_name_users_override() -> None:
    build = (INSTALLER / "linux" / "build_deb.py").read_text(encoding="utf-8")
    assert f'"etc/xdg/autostart/{autostart.DESKTOP_FILE}"' in build


def test_every_file_the_workflow_names_exists() -> None:
    named = set(re.findall(r"installer/[\w./-]+\.(?:spec|py|sh|plist)", WORKFLOW))
    assert named >= {
        "installer/windows/TeamsGenesysPresence.spec",
        "installer/windows/build_msi.py",
        "installer/macos/build.sh",
        "installer/linux/build_deb.py",
        "installer/linux/try_install.sh",
    }
    for path in named:
        assert (ROOT / path).is_file(), path


def _run_macos_postinstall(tmp_path: Path, policy_mode: int, folder_mode: int = 0o755) -> bool:
    """Runs the .pkg's postinstall on this machine with macOS's tools stubbed (BSD ``stat -f``, ``defaults``,
    ``launchctl``), its paths moved under ``tmp_path`` and this test's user standing in for root.
    True when it removed the all-users LaunchAgent (it believed policy start_at_login = false)."""
    folder = tmp_path / "Application Support" / "TeamsGenesysPresence"
    folder.mkdir(parents=True)
    policy_file = folder / "policy.toml"
    policy_file.write_text("[agent]\nstart_at_login = false\n")
    policy_file.chmod(policy_mode)
    folder.chmod(folder_mode)
    plist = tmp_path / "agent.plist"
    plist.write_text("<plist/>")
    tools = tmp_path / "bin"
    tools.mkdir()
    me = os.getuid()
    stubs = {
        # BSD stat: -f %u (owner uid; ours counts as root's), -f %Lp (permission bits), -f %Su (console user)
        "stat": f'case "$2" in %u) [ "$(/usr/bin/stat -c %u "$3")" = {me} ] && echo 0 || echo 501 ;; '
        '%Lp) /usr/bin/stat -c %a "$3" ;; *) echo root ;; esac',
        "defaults": "exit 1",
        "launchctl": "exit 0",
        "chown": "exit 0",
    }
    for name, body in stubs.items():
        (tools / name).write_text(f"#!/bin/sh\n{body}\n")
        (tools / name).chmod(0o755)
    script = (INSTALLER / "macos" / "scripts" / "postinstall").read_text()
    script = script.replace('"/Library/Application Support/TeamsGenesysPresence/policy.toml"', f'"{policy_file}"')
    script = script.replace("PLIST=/Library/LaunchAgents/$LABEL.plist", f'PLIST="{plist}"')
    (tmp_path / "postinstall").write_text(script)
    env = {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}"}
    subprocess.run(["/bin/sh", str(tmp_path / "postinstall")], env=env, check=True, timeout=30)
    folder.chmod(0o755)
    return not plist.exists()


@pytest.mark.skipif(not Path("/usr/bin/stat").exists(), reason="needs GNU stat to stand in for BSD stat")
def test_the_macos_postinstall_obeys_only_a_policy_file_root_owns_and_alone_can_change(tmp_path: Path) -> None:
    assert _run_macos_postinstall(tmp_path / "trusted", 0o644)
    assert not _run_macos_postinstall(tmp_path / "writable", 0o666)  # anyone could have written "false"
    assert not _run_macos_postinstall(tmp_path / "writable-folder", 0o644, folder_mode=0o777)


def test_the_debs_example_policy_file_is_valid_policy_with_every_line_uncommented(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_deb", INSTALLER / "linux" / "build_deb.py")
    assert spec is not None and spec.loader is not None
    build_deb = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_deb)
    text = re.sub(r"^# (\w+ = )", r"\1", build_deb.POLICY_EXAMPLE, flags=re.MULTILINE)
    path = tmp_path / "policy.toml"
    path.write_text(text)
    path.chmod(0o644)
    policy = read_policy(FilePolicySource(path, trusted_owner=path.stat().st_uid))
    assert policy.problems == ()
    assert policy.teams_writeback is True and policy.teams_preferred_presence is False
    assert policy.teams_writeback_media is not None and len(policy.teams_writeback_media) == 7
