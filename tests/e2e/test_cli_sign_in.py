"""``tray-agent sign-in``, ``sign-out`` and ``doctor`` as the agent runs them: real processes, pointed at
the simulator with ``--simulator``/``--ca``, the sign-in page approved in headless Chromium, the
sign-ins kept in a real Secret Service."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.auth.secret_service import RealKeyring, real_keyring
from tests.e2e.chromium import wait_for_heading
from tests.e2e.sign_in_cloud import Cloud, cloud, driver
from tray_agent.clients.http import tls_context
from tray_agent.config.paths import write_private

pytestmark = pytest.mark.e2e
__all__ = ["Cloud", "cloud", "driver", "real_keyring"]  # the fixtures


class Terminal:
    """Runs ``tray-agent`` for one agent (own TRAY_AGENT_HOME), against the simulator."""

    def __init__(self, cloud: Cloud, home: Path, tenant: str | None = None) -> None:
        self.cloud = cloud
        self.home = home
        sim = cloud.simulator
        write_private(
            home / "config" / "settings.toml",
            "[agent]\n"
            f'tenant_id = "{tenant or sim.tenant_id}"\n'
            f'microsoft_client_id = "{sim.ms_client_id}"\n'
            f'genesys_client_id = "{sim.genesys_client_id}"\n'
            f"genesys_redirect_port = {cloud.redirect_port}\n",
        )
        self.env = {**os.environ, "TRAY_AGENT_HOME": str(home)}

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "tray-agent.log"

    def command(self, *args: str) -> list[str]:
        sim = self.cloud.simulator
        return [sys.executable, "-m", "tray_agent", *args, "--simulator", sim.base_url, "--ca", sim.ca_path]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args), env=self.env, capture_output=True, text=True, timeout=120, check=False
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args), env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )


def wait_for_line(process: subprocess.Popen[str], pattern: str) -> re.Match[str]:
    assert process.stdout is not None
    for line in process.stdout:
        if match := re.search(pattern, line):
            return match
    raise AssertionError(
        f"the command ended without printing {pattern!r}: {process.stderr.read() if process.stderr else ''}"
    )


def finish(process: subprocess.Popen[str], log_file: Path) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        log = log_file.read_text()[-4000:] if log_file.exists() else "(no log)"
        raise AssertionError(f"the command did not finish:\nstdout: {out}\nstderr: {err}\nlog:\n{log}") from None
    return process.returncode, out, err


def sign_in_with_browser(terminal: Terminal, driver: webdriver.Chrome, service: str) -> tuple[int, str, str]:
    process = terminal.start("-v", "sign-in", service, "--no-browser", "--timeout", "60")
    # the listener's one-time link (the sign-in page's address, with its state, is never printed)
    address = wait_for_line(process, r"^\s+(http://127\.0\.0\.1:\d+/start/\S+)$").group(1)
    driver.get(address)
    driver.find_element(By.ID, "approve").click()
    wait_for_heading(driver, "Signed in")
    return finish(process, terminal.log_file)


def problems(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("PROBLEM")]


def test_sign_in_doctor_and_sign_out_from_the_command_line(
    cloud: Cloud, driver: webdriver.Chrome, real_keyring: RealKeyring, tmp_path: Path
) -> None:
    terminal = Terminal(cloud, tmp_path)

    before = terminal.run("doctor")
    assert before.returncode == 1
    assert problems(before.stdout) == [
        "PROBLEM  Microsoft sign-in: not signed in — fix: run: tray-agent sign-in microsoft",
        "PROBLEM  Genesys sign-in: not signed in — fix: run: tray-agent sign-in genesys",
    ]
    assert "ok       keyring: Secret Service" in before.stdout

    code, out, err = sign_in_with_browser(terminal, driver, "genesys")
    assert code == 0, err
    assert out.strip().splitlines()[-1].startswith("Signed in to Genesys Cloud until ")
    code, out, err = sign_in_with_browser(terminal, driver, "microsoft")
    assert (code, out.strip().splitlines()[-1]) == (
        0,
        f"Signed in to Microsoft as {cloud.simulator.state.people.default_user.email}.",
    )

    healthy = terminal.run("doctor")
    assert healthy.returncode == 0, healthy.stdout
    assert problems(healthy.stdout) == [] and "Everything needed to sync is in place." in healthy.stdout
    assert "ok       Teams presence: readable with Presence.Read" in healthy.stdout

    live = [
        t.token
        for t in cloud.simulator.call(lambda: list(cloud.simulator.state.tokens.genesys_tokens.values()))
        if not t.revoked
    ]
    signed_out = terminal.run("sign-out")
    assert signed_out.returncode == 0, signed_out.stderr
    assert "Genesys Cloud: signed out; the token was revoked and removed from this computer." in signed_out.stdout
    assert "Microsoft: signed out" in signed_out.stdout
    with httpx.Client(verify=tls_context(cloud.ca)) as client:
        for token in live:
            answer = client.get(
                f"{cloud.simulator.base_url}/api/v2/users/me", headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 401
    assert real_keyring.daemon.items() == []  # the key went with the last sign-in
    assert terminal.run("doctor").returncode == 1


def test_device_code_sign_in_from_the_command_line(
    cloud: Cloud, driver: webdriver.Chrome, real_keyring: RealKeyring, tmp_path: Path
) -> None:
    terminal = Terminal(cloud, tmp_path)
    process = terminal.start("sign-in", "microsoft", "--device-code", "--timeout", "60")
    address, code = wait_for_line(process, r"open the page (\S+) and enter the code (\S+)").groups()
    driver.get(address)
    driver.find_element(By.ID, "code").send_keys(code)
    driver.find_element(By.ID, "approve").click()
    returncode, out, err = finish(process, terminal.log_file)
    assert returncode == 0, err
    assert "Signed in to Microsoft as" in out


def test_genesys_has_no_device_code_and_says_what_to_do_instead(cloud: Cloud, tmp_path: Path) -> None:
    answer = Terminal(cloud, tmp_path).run("sign-in", "genesys", "--device-code")
    assert answer.returncode == 2 and "Use --no-browser" in answer.stderr


def test_without_a_secure_keyring_sign_in_is_refused_and_doctor_says_how_to_fix_it(
    cloud: Cloud, tmp_path: Path
) -> None:
    terminal = Terminal(cloud, tmp_path)
    terminal.env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    refused = terminal.run("sign-in", "genesys", "--no-browser")
    assert refused.returncode == 3
    assert "Sign-ins are not saved: no system keyring was found" in refused.stderr
    assert "allow_insecure_keyring = true" in refused.stderr
    doctor = terminal.run("doctor")
    assert doctor.returncode == 1
    assert any(
        line.startswith("PROBLEM  keyring: no system keyring was found — fix: install and unlock")
        for line in problems(doctor.stdout)
    )


def test_doctor_explains_a_wrong_tenant(cloud: Cloud, real_keyring: RealKeyring, tmp_path: Path) -> None:
    terminal = Terminal(cloud, tmp_path, tenant="99999999-8888-7777-6666-555555555555")
    doctor = terminal.run("doctor")
    assert doctor.returncode == 1
    assert (
        "PROBLEM  Microsoft sign-in: the tenant was not found: ask IT for the right tenant ID (AADSTS90002)"
        " — fix: correct tenant_id in the settings"
    ) in problems(doctor.stdout)
