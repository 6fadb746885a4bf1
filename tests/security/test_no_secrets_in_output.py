"""No secret in any output: with the agent's own logging at DEBUG into its log file and on the
console, a day of sign-ins (both services, several times over: expired, refused and revoked
sign-ins, each followed by a new one), faults and the scripted demo day are played; then every
authorization code, access and refresh token, PKCE verifier and ``state`` value that changed hands
is searched for in the log file, everything printed to stdout and stderr, the engine's story and
snapshots, and the messages and tracebacks of the errors the agent raised on the way. None may be
there. (Files at rest are covered by tests/e2e/test_no_secrets_at_rest.py.)
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.agent_logging import agent_logging
from tests.reliability.world import FaultWorld, fault_world
from tray_agent.auth import genesys_pkce
from tray_agent.clients.genesys import GenesysClient
from tray_agent.clients.graph import GraphPresenceClient
from tray_agent.clients.http import make_http_client
from tray_agent.demo import approving_browser, runner
from tray_agent.engine.snapshot import CommandKind, Link, transition_printer
from tray_agent.simulator import SimulatorThread

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


def link(world: FaultWorld, service: str) -> Link:
    return world.snapshot.microsoft if service == "microsoft" else world.snapshot.genesys_link


async def signed_in_again(world: FaultWorld, service: str) -> None:
    await world.eventually(lambda: link(world, service) is Link.SIGN_IN_NEEDED, 300, f"{service}: sign in")
    world.command(CommandKind.SIGN_IN, service=service)
    await world.eventually(lambda: link(world, service) is Link.CONNECTED, 600, f"{service}: connected again")


async def errors_raised_with_dead_tokens(world: FaultWorld) -> list[BaseException]:
    """The errors the agent's clients raise when the services refuse what they are sent."""
    raised: list[BaseException] = []
    token = await world.agent.genesys.access_token()
    world.act(lambda state: state.revoke_genesys_token(token))
    http = make_http_client(str(world.tls_dir / "ca.pem"))

    async def revoked() -> str:
        return token

    try:
        for call in (
            lambda: GenesysClient(http, revoked, world.simulator.base_url).me(0.0),
            lambda: GenesysClient(http, revoked, world.simulator.base_url).set_my_presence("me", "x"),
            lambda: GraphPresenceClient(http, revoked, world.simulator.base_url).my_presence(),
        ):
            try:
                await call()
            except Exception as error:
                raised.append(error)
        world.agent.genesys.invalidate()
        try:
            await world.agent.genesys.access_token()
        except Exception as error:
            raised.append(error)
    finally:
        await http.aclose()
    return raised


async def test_no_token_code_or_state_reaches_a_log_the_console_or_an_error(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    verifiers: list[str] = []
    pages: list[str] = []
    real_pair, real_browser = genesys_pkce.pkce_pair, approving_browser.ApprovingBrowser.__call__

    def recorded_pair() -> tuple[str, str]:
        pair = real_pair()
        verifiers.append(pair[0])
        return pair

    async def recording_browser(self: approving_browser.ApprovingBrowser, url: str) -> None:
        pages.append(url)
        await real_browser(self, url)

    simulators: list[SimulatorThread] = []
    real_start = runner.start_simulator

    def recorded_simulator(*args: object, **kwargs: object) -> SimulatorThread:
        simulators.append(real_start(*args, **kwargs))  # type: ignore[arg-type]
        return simulators[-1]

    monkeypatch.setattr(genesys_pkce, "pkce_pair", recorded_pair)
    monkeypatch.setattr(approving_browser.ApprovingBrowser, "__call__", recording_browser)
    monkeypatch.setattr(runner, "start_simulator", recorded_simulator)
    log_file = tmp_path / "logs" / "tray-agent.log"
    secrets: set[str] = set()
    texts: list[str] = []
    with agent_logging(log_file, console=True):
        async with fault_world() as world:
            print_story = transition_printer(sys.stdout)
            world.teams("Busy", "InAMeeting")
            await world.shows("Meeting")
            world.act(lambda state: state.faults.expire_tokens("entra"))  # renewed with the refresh token
            world.act(lambda state: state.faults.fail_next("genesys", 2, 503))
            world.teams("Available", "Available")
            await world.shows("Available")
            world.act(lambda state: state.faults.expire_tokens("entra", refresh_tokens=True))
            await signed_in_again(world, "microsoft")
            world.act(lambda state: state.faults.expire_tokens("genesys"))
            await signed_in_again(world, "genesys")
            world.act(lambda state: state.faults.throttle_next("graph", 1, 3.5))
            world.act(lambda state: state.faults.network_down(True))
            await world.clock.sleep(30)
            world.act(lambda state: state.faults.network_down(False))
            world.teams("Busy", "InACall")
            await world.shows("Busy", within=300)
            errors = await errors_raised_with_dead_tokens(world)
            for transition in world.transitions:
                print_story(transition)
            texts += [repr(world.snapshot), *(t.text for t in world.transitions)]
            texts += [
                text for error in errors for text in (str(error), repr(error), *traceback.format_exception(error))
            ]
            secrets |= world.act(lambda state: state.tokens.secrets_handed_out())
        assert await runner.run_demo(scenario="day", speed=1500, out=sys.stdout) in (0, 1)  # its output is the point
    for simulator in simulators:
        secrets |= simulator.state.tokens.secrets_handed_out()
    for page in pages:
        query = parse_qs(urlsplit(page).query)
        secrets.update(query.get("state", []) + query.get("nonce", []))
    secrets.update(verifiers)
    secrets = {secret for secret in secrets if len(secret) >= 8}

    captured = capfd.readouterr()
    outputs = {
        "the log file": "".join(path.read_text() for path in sorted(log_file.parent.glob("tray-agent.log*"))),
        "stdout": captured.out,
        "stderr": captured.err,
        "the engine's story, snapshot and errors": "\n".join(texts),
    }
    assert len(pages) >= 4 and len(verifiers) >= 2 and len(secrets) >= 20, (len(pages), len(verifiers), len(secrets))
    assert "signed in to Genesys Cloud" in outputs["the log file"] and "Tally:" in outputs["stdout"]
    assert len(errors) >= 3
    for where, text in outputs.items():
        leaked = sorted(secret[:10] + "…" for secret in secrets if secret in text)
        assert leaked == [], f"{where} contains {len(leaked)} secrets: {leaked}"
