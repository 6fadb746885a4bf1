"""Shared fixtures for the installer tests: the repository's installer folder and built artefacts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALLER = ROOT / "installer"


def run(command: list[str], *, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run a build step; on failure show everything it printed."""
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="session")
def stand_in_msi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The MSI built by wixl from installer/windows with a stand-in payload, as CI builds it."""
    output = tmp_path_factory.mktemp("msi") / "TeamsGenesysPresence.msi"
    run([sys.executable, str(INSTALLER / "windows" / "build_msi.py"), "--stand-in", "--output", str(output)])
    return output
