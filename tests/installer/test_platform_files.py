"""The files each platform's build uses agree with the agent: names, labels, policy keys and paths."""

from __future__ import annotations

import plistlib
import re
from pathlib import Path

from tests.installer.conftest import INSTALLER, ROOT
from tray_agent.policy import MACOS_BUNDLE_ID, POLICY_KEYS, FilePolicySource, PlistPolicySource, read_policy
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
