"""The MSI really installed, upgraded and uninstalled by a Windows Installer: Wine's (msiexec in a throwaway
Wine prefix). Wine's msi.dll is a reimplementation, not Windows; it runs the MSI's own tables (component
conditions, registry rows, major upgrade, folder removal), so table mistakes show here. It found one: a
policy value whose component condition was false at uninstall time stayed behind. Windows itself is
the Windows workflow's job (installer/ci/build-installers.yml)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.config.policy_fakes import FakeRegistry
from tests.installer.conftest import INSTALLER, run
from tray_agent.config.policy import POLICY_REGISTRY_KEY, RegistryPolicySource, read_policy

WINE = shutil.which("wine64") or "/usr/lib/wine/wine64"
WINESERVER = shutil.which("wineserver") or "/usr/lib/wine/wineserver"
TENANT = "11111111-2222-3333-4444-555555555555"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
UNINSTALL_KEY = r"Software\Microsoft\Windows\CurrentVersion\Uninstall"


@dataclass
class Wine:
    prefix: Path

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        environment = {
            **os.environ,
            "WINEPREFIX": str(self.prefix),
            "WINEDEBUG": "-all",
            "WINEDLLOVERRIDES": "mscoree,mshtml=",  # no Mono / Gecko download prompts
            "DISPLAY": "",
        }
        # Output to a file, not a pipe: Wine's background processes inherit it and would hold a pipe open.
        with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as output:
            code = subprocess.run([WINE, *args], env=environment, stdout=output, stderr=output, timeout=120).returncode
            output.seek(0)
            done = subprocess.CompletedProcess([WINE, *args], code, output.read(), "")
        if check:
            assert done.returncode == 0, f"wine {' '.join(args)} → {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done

    def msiexec(self, *args: str) -> None:
        self.run("msiexec", *args, "/qn")

    def values(self, key: str) -> dict[str, str] | None:
        """``reg query HKLM\\key`` as name → data (REG_SZ), or None when the key does not exist."""
        done = self.run("reg", "query", f"HKLM\\{key}", check=False)
        if done.returncode != 0:
            return None
        found = {}
        for line in done.stdout.replace("\r", "").splitlines():
            parts = line.strip().split("    ")
            if len(parts) == 3 and parts[1].startswith("REG_"):
                found[parts[0]] = parts[2]
        return found

    def subkeys(self, key: str) -> list[str]:
        done = self.run("reg", "query", f"HKLM\\{key}", check=False)
        prefix = f"HKEY_LOCAL_MACHINE\\{key}\\".lower()
        lines = done.stdout.replace("\r", "").splitlines()
        return [line.strip()[len(prefix) :] for line in lines if line.strip().lower().startswith(prefix)]

    @property
    def program_files(self) -> Path:
        return self.prefix / "drive_c" / "Program Files"


@pytest.fixture(scope="module")
def wine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wine]:
    prefix = Wine(tmp_path_factory.mktemp("wine") / "prefix")
    prefix.run("wineboot", "--init")
    try:
        yield prefix
    finally:  # this prefix's own wineserver only
        subprocess.run([WINESERVER, "-k"], env={**os.environ, "WINEPREFIX": str(prefix.prefix)}, check=False)


def windows_path(path: Path) -> str:
    return "Z:" + str(path).replace("/", "\\")


def products(wine: Wine) -> list[str]:
    names = []
    for key in wine.subkeys(UNINSTALL_KEY):
        values = wine.values(f"{UNINSTALL_KEY}\\{key}") or {}
        if values.get("DisplayName") == "Teams Genesys Presence":
            names.append(key)
    return names


def test_install_upgrade_and_uninstall_leave_exactly_what_they_should(wine: Wine, stand_in_msi: Path) -> None:
    msi = windows_path(stand_in_msi)

    # 1. Install with some properties: only those are written; AUTOSTART defaults to 1.
    wine.msiexec(
        "/i", msi, f"TENANTID={TENANT}", "REDIRECTPORT=8766", "MAPPING=InAMeeting=Meeting|Busy;InACall=Teams call"
    )
    written = wine.values(POLICY_REGISTRY_KEY)
    assert written == {
        "TenantId": TENANT,
        "GenesysRedirectPort": "8766",
        "StartAtLogin": "1",
        "Mapping": "InAMeeting=Meeting|Busy;InACall=Teams call",
    }
    run_values = wine.values(RUN_KEY) or {}
    assert (
        run_values["TeamsGenesysPresence"]
        == r'"C:\Program Files\TrayAgent\TeamsGenesysPresence\TeamsGenesysPresence.exe" --at-login'
    )
    installed = wine.program_files / "TrayAgent" / "TeamsGenesysPresence"
    assert (installed / "TeamsGenesysPresence.exe").is_file() and (installed / "tray-agent.exe").is_file()
    assert len(products(wine)) == 1

    # What the MSI wrote is policy the agent reads without a problem.
    policy = read_policy(RegistryPolicySource(FakeRegistry().set("HKLM", **written)))
    assert policy.problems == ()
    assert (policy.tenant_id, policy.genesys_redirect_port, policy.start_at_login) == (TENANT, 8766, True)
    assert dict(policy.mapping) == {"InAMeeting": "Meeting|Busy", "InACall": "Teams call"}

    # 2. Upgrade to a newer build: it replaces the first install (still one product), AUTOSTART=0 drops
    #    the Run entry, and what is not passed again is gone (Windows Installer remembers no properties).
    newer = stand_in_msi.with_name("newer.msi")
    run(
        [
            sys.executable,
            str(INSTALLER / "windows" / "build_msi.py"),
            "--stand-in",
            "--version",
            "0.99.0",
            "--output",
            str(newer),
        ]
    )
    wine.msiexec("/i", windows_path(newer), f"TENANTID={TENANT}", "AUTOSTART=0", "GENESYSREGION=eu_west_1")
    assert wine.values(POLICY_REGISTRY_KEY) == {"TenantId": TENANT, "GenesysRegion": "eu_west_1", "StartAtLogin": "0"}
    assert "TeamsGenesysPresence" not in (wine.values(RUN_KEY) or {})
    (product,) = products(wine)
    assert (wine.values(f"{UNINSTALL_KEY}\\{product}") or {})["DisplayVersion"] == "0.99.0"

    # 3. Uninstall: no policy value, Run entry, registry key, file or folder of ours is left.
    wine.msiexec("/x", windows_path(newer))
    assert wine.values(POLICY_REGISTRY_KEY) is None
    assert wine.values(r"Software\Policies\TrayAgent") is None
    assert wine.values(r"Software\TrayAgent\TeamsGenesysPresence") is None
    assert "TeamsGenesysPresence" not in (wine.values(RUN_KEY) or {})
    assert not (wine.program_files / "TrayAgent").exists()
    assert products(wine) == []
