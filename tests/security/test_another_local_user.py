"""Another local user attacks the agent's sign-ins, for real: the attacker runs as the second Unix user
``tray-agent-other`` (created by ``.ci/setup --system``) through ``setpriv``, with nothing but
tests/security/other_user.py and the simulator's CA certificate, and the agent signs in with real
Chromium where a browser matters.

- **Loopback squat** (issue 12, point 2): a listener of theirs on ``[::1]:PORT`` got the browser's
  redirect, because the agent held only 127.0.0.1. Now the agent holds both, and fails closed when
  either is taken.
- **Account swap** (point 1): they read the sign-in address from the browser's command line
  (``/proc/PID/cmdline``), signed in as themselves with it and delivered their code to the agent's
  listener. Now the browser gets only a one-time link, and a sign-in for anyone else is refused.
"""

from __future__ import annotations

import asyncio
import io
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from selenium import webdriver

from tests.auth.test_flows import World, start_world
from tests.e2e.chromium import AgentAtTheBrowser, wait_for_heading
from tests.e2e.sign_in_cloud import Cloud, cloud, driver
from tray_agent.auth.genesys_pkce import GenesysAuth
from tray_agent.auth.loopback import SignInFailed
from tray_agent.auth.microsoft import MicrosoftAuth
from tray_agent.auth.tokens import MemoryTokenStore
from tray_agent.clients.http import make_http_client
from tray_agent.commands.doctor import Report, _check_redirect_port
from tray_agent.demo.approving_browser import ApprovingBrowser

OTHER = "tray-agent-other"
SCRIPT = Path(__file__).with_name("other_user.py")
IMPOSTOR = "morgan@contoso.example"


def _other_user_exists() -> bool:
    try:
        pwd.getpwnam(OTHER)
    except KeyError:
        return False
    return True


pytestmark = [
    pytest.mark.anyio,
    pytest.mark.e2e,
    pytest.mark.skipif(
        sys.platform != "linux" or os.geteuid() != 0 or not _other_user_exists() or not shutil.which("setpriv"),
        reason=f"needs root, setpriv and the user {OTHER} (run: bash .ci/setup --system)",
    ),
]
__all__ = ["cloud", "driver"]  # the fixtures


def as_other_user(*arguments: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            "setpriv",
            f"--reuid={OTHER}",
            f"--regid={OTHER}",
            "--clear-groups",
            "--",
            "/usr/bin/python3",
            str(SCRIPT),
            *arguments,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def first_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    return process.stdout.readline().strip()


def finished(process: subprocess.Popen[str]) -> str:
    """Everything else the attacker printed, once told to stop."""
    out, err = process.communicate(input="", timeout=30)
    assert process.returncode == 0, err
    return out


@pytest.fixture
def readable_ca(cloud: Cloud) -> Iterator[str]:
    """The simulator's CA certificate where the other user can read it (a public certificate)."""
    folder = tempfile.mkdtemp(prefix="tray-agent-ca-")
    os.chmod(folder, 0o755)  # noqa: S103 - a public certificate, for the other user
    target = Path(folder) / "ca.pem"
    shutil.copyfile(cloud.ca, target)
    target.chmod(0o644)
    yield str(target)
    shutil.rmtree(folder)


def genesys_for(cloud: Cloud) -> GenesysAuth:
    return GenesysAuth(
        login_base_url=cloud.base_url,
        api_base_url=cloud.base_url,
        client_id=cloud.simulator.genesys_client_id,
        redirect_port=cloud.redirect_port,
        http=make_http_client(cloud.ca),
        store=MemoryTokenStore(),
    )


# --- point 2: nobody else can wait on ::1 for the redirect --------------------------------------


async def test_another_user_already_on_ipv6_loopback_makes_the_sign_in_fail_closed(
    cloud: Cloud, driver: webdriver.Chrome
) -> None:
    squatter = as_other_user("squat", str(cloud.redirect_port))
    try:
        assert first_line(squatter) == "listening"
        report = Report(io.StringIO())
        _check_redirect_port(cloud.redirect_port, report)  # doctor sees them
        assert report.problems == 1 and f"[::1]:{cloud.redirect_port} is in use" in report.out.getvalue()

        with pytest.raises(SignInFailed, match=rf"could not listen on \[::1\]:{cloud.redirect_port}"):
            await genesys_for(cloud).sign_in(AgentAtTheBrowser(driver), 15)
    finally:
        caught = finished(squatter)
    assert "got" not in caught  # the code never went their way


async def test_while_the_agent_signs_in_another_user_cannot_take_ipv6_and_chromium_finishes(
    cloud: Cloud, driver: webdriver.Chrome
) -> None:
    attempts: list[str] = []
    chromium = AgentAtTheBrowser(driver)

    async def browser(link: str) -> None:
        squatter = await asyncio.to_thread(as_other_user, "squat", str(cloud.redirect_port))
        attempts.append(await asyncio.to_thread(first_line, squatter))
        await asyncio.to_thread(finished, squatter)
        await chromium(link)  # Chromium resolves localhost itself, as it would for the agent

    genesys = genesys_for(cloud)
    await genesys.sign_in(browser, 30)
    wait_for_heading(driver, "Signed in")
    assert attempts == ["refused EADDRINUSE"] and genesys.signed_in


# --- point 1: the browser's command line gives nothing that signs anyone else in -----------------


@pytest.fixture
async def world() -> AsyncIterator[World]:
    for simulator, clock, port in start_world():
        simulator.call(simulator.state.people.add_user, "Morgan Other", IMPOSTOR)
        async with make_http_client(simulator.ca_path) as http:
            yield World(simulator, clock, port, http, MemoryTokenStore())


class BrowserWatchedByAnotherUser:
    """The agent's browser is a process whose command line carries what it was asked to open; another
    user reads it and signs in with it as themselves. (This browser never loads the page itself.)"""

    def __init__(self, ca: str) -> None:
        self.ca = ca
        self.attacker_said = ""

    async def __call__(self, address: str) -> None:
        browser = await asyncio.to_thread(
            subprocess.Popen, [sys.executable, "-c", "import time; time.sleep(60)", address]
        )
        try:
            attacker = await asyncio.to_thread(as_other_user, "swap", str(browser.pid), self.ca, IMPOSTOR)
            self.attacker_said = await asyncio.to_thread(finished, attacker)
        finally:
            browser.kill()
            browser.wait()


@pytest.fixture
def world_ca(world: World) -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix="tray-agent-ca-")
    os.chmod(folder, 0o755)  # noqa: S103 - a public certificate, for the other user
    target = Path(folder) / "ca.pem"
    shutil.copyfile(world.simulator.ca_path, target)
    target.chmod(0o644)
    yield str(target)
    shutil.rmtree(folder)


async def test_another_user_with_the_genesys_sign_in_address_cannot_swap_the_account(
    world: World, world_ca: str
) -> None:
    genesys = world.genesys()
    await genesys.sign_in(ApprovingBrowser(world.simulator.ca_path), 10)
    token = await genesys.access_token()

    watched = BrowserWatchedByAnotherUser(world_ca)
    with pytest.raises(SignInFailed):
        await genesys.sign_in(watched, 20)
    assert "delivered" in watched.attacker_said or "start link" in watched.attacker_said
    assert await genesys.access_token() == token  # still the agent's own sign-in, unchanged


async def test_another_user_with_the_microsoft_sign_in_address_cannot_swap_the_account(
    world: World, world_ca: str
) -> None:
    sim = world.simulator
    microsoft = MicrosoftAuth(
        authority=f"{sim.base_url}/{sim.tenant_id}", client_id=sim.ms_client_id, store=world.store, ca_file=sim.ca_path
    )
    await microsoft.sign_in(ApprovingBrowser(sim.ca_path), 10)
    microsoft.invalidate()  # the next sign-in goes to the browser

    watched = BrowserWatchedByAnotherUser(world_ca)
    with pytest.raises(SignInFailed):
        await microsoft.sign_in(watched, 20)
    assert microsoft.account_name == sim.state.people.default_user.email  # the agent, still


@pytest.mark.parametrize("how", ["peek", "peek-mapped"])  # IPv4, or a dual-stack IPv6 socket (/proc/net/tcp6)
async def test_another_user_with_the_windows_one_time_link_is_refused_and_the_link_still_works_for_us(how: str) -> None:
    from tray_agent.engine.snapshot import Command
    from tray_agent.window.pages import WindowModel
    from tray_agent.window.server import WindowServer

    commands: list[Command] = []
    server = WindowServer(WindowModel(), commands.append)
    await server.start()
    try:
        link = server.new_link()  # as another user could read it from the browser's command line
        attacker = await asyncio.to_thread(as_other_user, how, link)
        said = await asyncio.to_thread(finished, attacker)
        assert said.startswith("HTTP 403") and "another user" in said, said
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        path = link.removeprefix(f"http://127.0.0.1:{server.port}")
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
        answer = (await reader.read()).decode()
        writer.close()
        assert answer.startswith("HTTP/1.1 303"), "the attacker's attempt did not use up the link"
    finally:
        await server.close()
