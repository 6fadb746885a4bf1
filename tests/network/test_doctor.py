"""``tray-agent doctor`` checks each channel through the stack the agent really uses, and says what
IT must change: the proxy each host goes through and why, certificate trust (TLS inspection), a proxy
that wants a sign-in, and the clock."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tray_agent.config.paths import write_private
from tray_agent.simulator import SimulatorThread

from .servers import mitmdump, tinyproxy

pytestmark = pytest.mark.e2e


@pytest.fixture
def simulator() -> Iterator[SimulatorThread]:
    with SimulatorThread(auto_approve=True) as running:
        yield running


def doctor(simulator: SimulatorThread, home: Path, extra: str = "") -> list[str]:
    write_private(
        home / "config" / "settings.toml",
        "[agent]\n"
        f'tenant_id = "{simulator.tenant_id}"\n'
        f'microsoft_client_id = "{simulator.ms_client_id}"\n'
        f'genesys_client_id = "{simulator.genesys_client_id}"\n' + extra,
    )
    environ = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    environ |= {"TRAY_AGENT_HOME": str(home), "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE"):
        environ.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "tray_agent", "doctor", "--simulator", simulator.base_url, "--ca", simulator.ca_path],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.stdout.splitlines()


def test_doctor_names_the_proxy_of_each_host_and_the_trust_and_clock_through_it(
    simulator: SimulatorThread, tmp_path: Path
) -> None:
    with tinyproxy() as proxy:
        lines = doctor(simulator, tmp_path, f'proxy = "{proxy.url}"\n')
        tunnels = proxy.connects()
    host = "127.0.0.1"
    assert (
        f"ok       proxy: {host}: through {proxy.url} (the proxy setting (IT policy Proxy, or settings.toml))" in lines
    )
    assert f"ok       certificates: {host} presents a certificate this computer trusts (system trust store)" in lines
    assert any(line.startswith("ok       clock: within ") for line in lines), lines
    assert f"ok       Microsoft sign-in: {host} answers for your tenant" in lines
    assert f"ok       Genesys notifications: {host} is reachable (websocket)" in lines
    assert len(tunnels) >= 4  # msal's session, httpx per service, the websocket: all through the proxy


def test_doctor_blames_tls_inspection_when_the_inspectors_root_is_not_trusted(
    simulator: SimulatorThread, tmp_path: Path
) -> None:
    with mitmdump() as inspector:
        lines = doctor(simulator, tmp_path, f'proxy = "{inspector.url}"\n')
    certificates = [line for line in lines if line.startswith("PROBLEM  certificates:")]
    assert certificates, lines
    assert "most likely your network inspects TLS" in certificates[0]
    assert "fix: ask IT to put the TLS-inspection root certificate in this computer's trust store" in certificates[0]
    assert len(certificates) == 1  # explained once; every channel that failed on it points there
    for channel in ("Microsoft sign-in", "Microsoft Graph", "Genesys Cloud API", "Genesys notifications"):
        assert f"PROBLEM  {channel}: cannot connect securely to 127.0.0.1 — fix: see 'certificates' above" in lines


def test_doctor_says_a_proxy_wants_a_sign_in_and_what_to_do(simulator: SimulatorThread, tmp_path: Path) -> None:
    with tinyproxy(basic_auth=("someone", "secret")) as proxy:
        lines = doctor(simulator, tmp_path, f'proxy = "{proxy.url}"\n')
    assert (
        "PROBLEM  Microsoft sign-in: the proxy asks for a sign-in (HTTP 407), which the agent cannot give — fix: "
        "ask IT to let 127.0.0.1 through the proxy without a sign-in (an allow-list), or to give you a local "
        "authenticating proxy (such as px) and set it as the Proxy policy"
    ) in lines
