"""The Windows MSI, built here by wixl from installer/windows/TeamsGenesysPresence.wxs with a stand-in payload
and read back table by table with msitools. What only Windows can show (msiexec really installing it,
ICE validation by WiX's light.exe) is done by the Windows workflow (installer/ci/build-installers.yml)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.installer.conftest import INSTALLER, run
from tests.installer.msi import properties, summary, table
from tray_agent.config.policy import POLICY_KEYS, POLICY_REGISTRY_KEY

UPGRADE_CODE = "{D67E1883-9D33-5A8A-BFE6-595FA772674D}"  # must never change: upgrades find older versions by it
HKLM = "2"  # msidbRegistryRootLocalMachine
WIN64 = 256  # msidbComponentAttributes64bit
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"


def test_it_is_a_per_machine_x64_package_with_the_stable_upgrade_code(stand_in_msi: Path) -> None:
    props = properties(stand_in_msi)
    assert props["UpgradeCode"] == UPGRADE_CODE
    assert props["ALLUSERS"] == "1"  # per-machine: Program Files, HKLM, every user
    assert props["ProductName"] == "Teams Genesys Presence" and props["Manufacturer"] == "TrayAgent"
    assert re.fullmatch(r"\d+\.\d+\.\d+", props["ProductVersion"])
    assert summary(stand_in_msi)["Template"] == "x64;1033"
    assert {"Condition": "VersionNT64", "Description": "[ProductName] needs 64-bit Windows."} in table(
        stand_in_msi, "LaunchCondition"
    )


def test_every_component_is_64_bit_so_registry_values_never_land_in_wow6432node(stand_in_msi: Path) -> None:
    components = table(stand_in_msi, "Component")
    assert len(components) >= 15
    assert all(int(c["Attributes"]) & WIN64 for c in components), [c["Component"] for c in components]


def test_every_policy_key_has_a_public_property_written_to_the_policy_key_only_when_given(stand_in_msi: Path) -> None:
    registry = {row["Name"]: row for row in table(stand_in_msi, "Registry")}
    conditions = {row["Component"]: row["Condition"] for row in table(stand_in_msi, "Component")}
    secure = set(properties(stand_in_msi)["SecureCustomProperties"].split(";"))
    for key in POLICY_KEYS:
        row = registry[key.registry]
        assert (row["Root"], row["Key"], row["Value"]) == (HKLM, POLICY_REGISTRY_KEY, f"[{key.msi_property}]")
        # Left out → no value written at all; and always removed at uninstall (a component whose condition
        # is false then would be left behind: Windows Installer remembers no properties).
        assert conditions[row["Component_"]] == f'{key.msi_property} OR REMOVE~="ALL"'
        assert key.msi_property in secure  # passed through to the elevated install (managed deployments)
    policy_rows = [row for row in registry.values() if row["Key"] == POLICY_REGISTRY_KEY]
    assert len(policy_rows) == len(POLICY_KEYS)  # and nothing else is written there


def test_only_autostart_has_a_default(stand_in_msi: Path) -> None:
    props = properties(stand_in_msi)
    assert props["AUTOSTART"] == "1"
    assert not {key.msi_property for key in POLICY_KEYS if key.msi_property != "AUTOSTART"} & props.keys()


def test_start_at_login_for_every_user_is_an_hklm_run_entry_installed_only_when_autostart_is_1(
    stand_in_msi: Path,
) -> None:
    run_rows = [row for row in table(stand_in_msi, "Registry") if row["Key"] == RUN_KEY]
    assert len(run_rows) == 1
    row = run_rows[0]
    assert (row["Root"], row["Name"], row["Value"]) == (
        HKLM,
        "TeamsGenesysPresence",  # the same name as the per-user entry the tray's menu writes under HKCU
        '"[INSTALLFOLDER]TeamsGenesysPresence.exe" --at-login',  # it checks policy and the user's choice
    )
    conditions = {c["Component"]: c["Condition"] for c in table(stand_in_msi, "Component")}
    assert conditions[row["Component_"]] == 'AUTOSTART = "1" OR REMOVE~="ALL"'


def test_it_installs_into_program_files_with_a_start_menu_shortcut(stand_in_msi: Path) -> None:
    directories = {row["Directory"]: row for row in table(stand_in_msi, "Directory")}
    install = directories["INSTALLFOLDER"]
    vendor = directories[install["Directory_Parent"]]
    assert (install["DefaultDir"], vendor["DefaultDir"], vendor["Directory_Parent"]) == (
        "TeamsGenesysPresence",
        "TrayAgent",
        "ProgramFiles64Folder",
    )
    (shortcut,) = table(stand_in_msi, "Shortcut")
    assert (shortcut["Directory_"], shortcut["Target"]) == ("ProgramMenuFolder", "[#MainExecutable]")
    removed_at_uninstall = {
        row["DirProperty"] for row in table(stand_in_msi, "RemoveFile") if row["InstallMode"] == "2"
    }
    assert removed_at_uninstall == {"INSTALLFOLDER", "VendorFolder"}
    location = [row for row in table(stand_in_msi, "Registry") if row["Name"] == "InstallFolder"]
    assert [(r["Root"], r["Key"], r["Value"]) for r in location] == [
        (HKLM, r"Software\TrayAgent\TeamsGenesysPresence", "[INSTALLFOLDER]")  # an Intune detection rule
    ]


def test_a_newer_version_replaces_this_one_and_an_older_one_is_refused(stand_in_msi: Path) -> None:
    version = properties(stand_in_msi)["ProductVersion"]
    rows = {row["ActionProperty"]: row for row in table(stand_in_msi, "Upgrade")}
    older = rows["WIX_UPGRADE_DETECTED"]
    assert (older["UpgradeCode"], older["VersionMin"], older["VersionMax"]) == (UPGRADE_CODE, "", version)
    assert int(older["Attributes"]) & 512  # a rebuild of the same version replaces it too
    newer = rows["WIX_DOWNGRADE_DETECTED"]
    assert (newer["VersionMin"], int(newer["Attributes"]) & 2) == (version, 2)  # detect only
    assert any(c["Condition"] == "NOT WIX_DOWNGRADE_DETECTED" for c in table(stand_in_msi, "LaunchCondition"))
    sequence = {row["Action"]: int(row["Sequence"]) for row in table(stand_in_msi, "InstallExecuteSequence")}
    assert sequence["InstallValidate"] < sequence["RemoveExistingProducts"] < sequence["InstallInitialize"]


def test_the_payload_is_carried_whole(stand_in_msi: Path, tmp_path: Path) -> None:
    subprocess.run(["msiextract", "-C", str(tmp_path), str(stand_in_msi)], capture_output=True, check=True)
    root = tmp_path / "TrayAgent" / "TeamsGenesysPresence"  # msiextract leaves out ProgramFiles64Folder
    extracted = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert extracted == [
        "TeamsGenesysPresence.exe",
        "_internal/base_library.zip",
        "_internal/python311.dll",
        "_internal/tray_agent/simulator/static/control.html",
        "tray-agent.exe",
    ]
    assert (root / "TeamsGenesysPresence.exe").read_bytes().startswith(b"MZ stand-in")


def test_component_ids_and_guids_are_the_same_in_every_build(stand_in_msi: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.msi"
    run([sys.executable, str(INSTALLER / "windows" / "build_msi.py"), "--stand-in", "--output", str(again)])
    assert table(again, "Component") == table(stand_in_msi, "Component")
    assert properties(again)["ProductCode"] != properties(stand_in_msi)["ProductCode"]  # a new product each build


def test_the_deployment_guide_documents_every_property() -> None:
    guide = (INSTALLER / "README.md").read_text(encoding="utf-8")
    for key in POLICY_KEYS:
        assert f"`{key.msi_property}`" in guide, key.msi_property
    wxs = (INSTALLER / "windows" / "TeamsGenesysPresence.wxs").read_text(encoding="utf-8")
    assert UPGRADE_CODE in wxs and UPGRADE_CODE in guide
