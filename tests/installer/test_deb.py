"""The Debian package: built by installer/linux/build_deb.py, then installed with dpkg, run, and purged by
installer/linux/try_install.sh in a private mount namespace whose overlay over /usr /etc /opt /var takes
every write (so the machine, and anyone else using it, never sees the install), with IT's policy file in
place and the installed agent's ``doctor`` talking to the simulator. Needs root (CI runs as root)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.installer.conftest import INSTALLER, run
from tray_agent import __version__
from tray_agent.simulator import DEFAULT_GENESYS_CLIENT_ID, DEFAULT_MS_CLIENT_ID, DEFAULT_TENANT_ID, SimulatorThread

PACKAGE = "teams-genesys-presence"


@pytest.fixture(scope="session")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("deb")
    # gzip: quicker to build here than the release's xz, and the same contents.
    run([sys.executable, str(INSTALLER / "linux" / "build_deb.py"), "--output", str(output), "--compression", "gzip"])
    (package,) = output.glob(f"{PACKAGE}_{__version__}_*.deb")
    return package


def field(deb: Path, name: str) -> str:
    return subprocess.run(["dpkg-deb", "--field", str(deb), name], capture_output=True, text=True, check=True).stdout


def contents(deb: Path) -> dict[str, str]:
    """Path in the package → the tar listing's mode string."""
    listing = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True, check=True)
    found = {}
    for line in listing.stdout.splitlines():
        parts = line.split()
        found[parts[5].removeprefix(".")] = parts[0]
    return found


def test_the_package_declares_what_it_needs(deb: Path) -> None:
    assert field(deb, "Package").strip() == PACKAGE and field(deb, "Version").strip() == __version__
    depends = field(deb, "Depends")
    assert "python3.11" in depends  # the venv's compiled wheels are for this interpreter
    assert "python3-gi" in depends  # the tray icon's GTK / AppIndicator backends
    assert "/etc/xdg/TeamsGenesysPresence/policy.toml" in field(deb, "Description")


def test_the_package_holds_the_agent_its_command_and_desktop_entries(deb: Path) -> None:
    files = contents(deb)
    for path in (
        "/usr/bin/tray-agent",
        f"/opt/{PACKAGE}/venv/bin/tray-agent",
        f"/opt/{PACKAGE}/venv/pyvenv.cfg",
        f"/opt/{PACKAGE}/bin/start-at-login",
        "/usr/share/applications/tray-agent.desktop",
        "/etc/xdg/autostart/tray-agent.desktop",  # same name as the per-user entry, which overrides it
        f"/usr/share/icons/hicolor/256x256/apps/{PACKAGE}.png",
        f"/usr/share/doc/{PACKAGE}/examples/policy.toml",
        f"/usr/share/doc/{PACKAGE}/copyright",
    ):
        assert path in files, path
    assert files["/usr/bin/tray-agent"].startswith("l")
    assert files[f"/opt/{PACKAGE}/bin/start-at-login"] == "-rwxr-xr-x"
    assert not [p for p in files if "__pycache__" in p]  # compiled on the target (postinst), removed by prerm
    assert not [p for p in files if "/etc/xdg/TeamsGenesysPresence" in p]  # IT's file, never shipped


def test_the_package_carries_the_agent_but_no_simulator_or_demo(deb: Path, tmp_path: Path) -> None:
    """The embedded simulator and the demo are developer tools: an installed agent's ``tray-agent demo``
    says how to get them instead (installer/payload_rules.py). Neither the files nor the agent's RECORD
    (what ``pip`` believes is installed) name them."""
    agent = [p for p in contents(deb) if "/site-packages/tray_agent/" in p]
    assert any(p.endswith("/site-packages/tray_agent/cli.py") for p in agent)
    assert any(p.endswith("/site-packages/tray_agent/tray/app.py") for p in agent)
    assert not [p for p in agent if "/tray_agent/simulator" in p or "/tray_agent/demo" in p]
    assert not [p for p in contents(deb) if "/site-packages/aiohttp" in p]  # the simulator's, not the agent's
    subprocess.run(["dpkg-deb", "--extract", str(deb), str(tmp_path)], check=True)
    (record,) = tmp_path.glob(f"opt/{PACKAGE}/venv/lib/python3*/site-packages/tray_agent-*.dist-info/RECORD")
    listed = record.read_text(encoding="utf-8")
    assert "tray_agent/cli.py," in listed
    assert "tray_agent/simulator/" not in listed and "tray_agent/demo/" not in listed


def test_nothing_in_the_package_names_the_build_machine(deb: Path, tmp_path: Path) -> None:
    subprocess.run(["dpkg-deb", "--extract", str(deb), str(tmp_path)], check=True)
    cfg = (tmp_path / f"opt/{PACKAGE}/venv/pyvenv.cfg").read_text()
    assert "home = /usr/bin" in cfg and "include-system-site-packages = true" in cfg
    assert (
        (tmp_path / f"opt/{PACKAGE}/venv/bin/tray-agent")
        .read_text()
        .startswith(f"#!/opt/{PACKAGE}/venv/bin/python -s\n")
    )
    for path in tmp_path.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            assert b"deb-build-" not in data and str(tmp_path).encode() not in data, path


def test_the_control_archive_keeps_the_autostart_entry_as_a_conffile(deb: Path, tmp_path: Path) -> None:
    subprocess.run(["dpkg-deb", "--control", str(deb), str(tmp_path / "DEBIAN")], check=True)
    assert (tmp_path / "DEBIAN/conffiles").read_text() == "/etc/xdg/autostart/tray-agent.desktop\n"
    assert "compileall" in (tmp_path / "DEBIAN/postinst").read_text()
    assert "__pycache__" in (tmp_path / "DEBIAN/prerm").read_text()


@pytest.fixture
def simulator() -> Iterator[SimulatorThread]:
    thread = SimulatorThread()
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()


def sections(output: str) -> dict[str, str]:
    found: dict[str, str] = {}
    name = ""
    for line in output.splitlines():
        if line.startswith("== "):
            name = line[3:]
            found[name] = ""
        elif name:
            found[name] += line + "\n"
    return {name: text.strip() for name, text in found.items()}


def test_dpkg_installs_it_it_runs_reads_it_policy_and_purge_leaves_nothing(
    deb: Path, tmp_path: Path, simulator: SimulatorThread
) -> None:
    assert os.geteuid() == 0, "the clean-room install needs root (CI runs as root)"
    policy = tmp_path / "policy.toml"
    policy.write_text(
        f"""[agent]
tenant_id = "{DEFAULT_TENANT_ID}"
microsoft_client_id = "{DEFAULT_MS_CLIENT_ID}"
genesys_client_id = "{DEFAULT_GENESYS_CLIENT_ID}"
genesys_region = "eu_west_1"
genesys_redirect_port = 8766
start_at_login = false
"""
    )
    environment = {
        **os.environ,
        "POLICY_FILE": str(policy),
        "SIMULATOR_URL": simulator.base_url,
        "SIMULATOR_CA": str(simulator.ca_path),
    }
    done = subprocess.run(
        [str(INSTALLER / "linux" / "try_install.sh"), str(deb), str(tmp_path / "try")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    report = sections(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{PACKAGE} {__version__} install ok installed" in report["install"]
    assert report["version"] == f"tray-agent {__version__}"
    assert report["version as nobody"] == f"tray-agent {__version__}"  # world-readable, no writes needed
    assert report["policy"].startswith("Policy read from: /etc/xdg/TeamsGenesysPresence/policy.toml\n")
    assert "PROBLEM" not in report["policy"]
    assert "did not start the agent (policy)" in report["start at login"]  # start_at_login = false
    assert report["desktop entries"].count("valid: ") == 2
    doctor = report["doctor"]
    # The installed agent takes the tenant, clients, region and port from IT's policy file (no user settings):
    assert f"ok       settings: tenant {DEFAULT_TENANT_ID}, Genesys region eu_west_1, redirect port 8766" in doctor
    assert "ok       Microsoft sign-in: 127.0.0.1 answers for your tenant" in doctor
    assert "ok       Genesys Cloud API: 127.0.0.1 is reachable" in doctor
    assert re.search(r"\d+ problems? found\.", doctor)  # nobody has signed in on this fresh install
    assert report["leftovers"] == "RESULT: clean"
    assert not Path(f"/opt/{PACKAGE}").exists()  # and the machine itself never saw it
