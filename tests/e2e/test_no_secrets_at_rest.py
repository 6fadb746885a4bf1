"""A whole working day's start, for real: both sign-ins in headless Chromium, the sign-ins kept in a
real Secret Service, the engine syncing Teams into Genesys, the Genesys token expiring — and then
every log, settings and state file the agent wrote is searched for every token, code, verifier and
state value that changed hands. None may be there.
"""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.agent_logging import agent_logging
from tests.auth.secret_service import RealKeyring, real_keyring
from tests.e2e.chromium import AgentAtTheBrowser, chromium
from tests.e2e.harness import FAST_TIMING, World
from tray_agent.agent import build_agent
from tray_agent.auth import genesys_pkce
from tray_agent.auth.storage import KEY_ENTRY, SealedTokenStore, open_token_store
from tray_agent.clock import ScaledClock
from tray_agent.commands.diagnostics import build_diagnostics, doctor_checks
from tray_agent.config.endpoints import Endpoints
from tray_agent.config.paths import APP_NAME, AgentPaths, write_private
from tray_agent.config.settings import Settings
from tray_agent.demo.runner import DAY_START, free_port
from tray_agent.engine.snapshot import Link
from tray_agent.simulator import SimulatorThread

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]
__all__ = ["real_keyring"]  # the fixture
SPEED = 50.0


async def test_sign_in_and_sync_leave_no_token_or_code_in_any_file(
    real_keyring: RealKeyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAY_AGENT_HOME", str(tmp_path))
    paths = AgentPaths.for_user().ensure()
    verifiers: list[str] = []
    real_pair = genesys_pkce.pkce_pair

    def recorded_pair() -> tuple[str, str]:
        pair = real_pair()
        verifiers.append(pair[0])
        return pair

    monkeypatch.setattr(genesys_pkce, "pkce_pair", recorded_pair)

    clock = ScaledClock(SPEED, start=DAY_START)
    port = free_port()
    simulator = SimulatorThread(clock=clock, genesys_redirect_uris=(f"http://localhost:{port}/callback",))
    simulator.start()
    try:
        settings = Settings(
            tenant_id=simulator.tenant_id,
            microsoft_client_id=simulator.ms_client_id,
            genesys_client_id=simulator.genesys_client_id,
            genesys_redirect_port=port,
            timing=FAST_TIMING,
        )
        write_private(
            paths.settings_file,
            f'[agent]\ntenant_id = "{settings.tenant_id}"\nmicrosoft_client_id = "{settings.microsoft_client_id}"\n'
            f'genesys_client_id = "{settings.genesys_client_id}"\ngenesys_redirect_port = {port}\n',
        )
        with agent_logging(paths.log_file), chromium(simulator.ca_path) as driver:
            store = open_token_store(settings, paths=paths, backend=real_keyring.backend)
            assert isinstance(store, SealedTokenStore)
            browser = AgentAtTheBrowser(driver)
            endpoints = Endpoints.simulator(simulator.base_url, simulator.tenant_id, simulator.ca_path)
            agent = build_agent(settings, endpoints, clock=clock, store=store, browser=browser)
            engine: asyncio.Task[None] | None = None
            try:
                await agent.microsoft.sign_in(browser, 30)
                await agent.genesys.sign_in(browser, 30)
                engine = asyncio.create_task(agent.engine.run())
                world = World(simulator, clock, agent)

                def link(service: str) -> Link | None:
                    snapshot = agent.engine.snapshot
                    if snapshot is None:
                        return None
                    return snapshot.microsoft if service == "microsoft" else snapshot.genesys_link

                await world.eventually(
                    lambda: link("microsoft") is Link.CONNECTED and link("genesys") is Link.CONNECTED, 300, "connected"
                )
                world.teams("Busy", "InAMeeting")
                await world.shows("Meeting", within=300)

                # The tray warns before the Genesys sign-in runs out: the snapshot has its true expiry.
                snapshot = agent.engine.snapshot
                assert snapshot is not None and snapshot.genesys_expires_at is not None
                token = await agent.genesys.access_token()
                issued = world.act(lambda state: state.tokens.genesys_tokens[token])
                assert issued.expires_at - 5 * SPEED <= snapshot.genesys_expires_at <= issued.expires_at

                world.act(lambda state: state.faults.expire_tokens("genesys"))
                await world.eventually(lambda: link("genesys") is Link.SIGN_IN_NEEDED, 300, "Genesys sign-in needed")
                world.teams("Available", "Available")
            finally:
                await agent.shut_down(engine)

            doctor = await asyncio.to_thread(run_doctor, simulator)  # the agent's diagnostics log too
            assert "PROBLEM  Genesys sign-in" in doctor.stdout, doctor.stdout + doctor.stderr
            # "Copy diagnostics", as the window builds it: the day's story and doctor's checks, which
            # open the real keyring and try the saved Microsoft sign-in against the simulator.
            checks = doctor_checks(simulator=simulator.base_url, ca=simulator.ca_path)
            story = list(agent.engine.history)
            bundle = await asyncio.to_thread(build_diagnostics, paths=paths, story=story, doctor=checks)
            assert "Genesys set to Meeting" in bundle and "Microsoft sign-in" in bundle, bundle

        secrets = simulator.call(lambda: simulator.state.tokens.secrets_handed_out())
        for address in browser.authorized:  # the sign-in pages the one-time links led to
            secrets.update(parse_qs(urlsplit(address).query)["state"])
        secrets.update(urlsplit(link).path for link in browser.opened)  # the one-time links themselves
        secrets.update(verifiers)
        secrets.add(str(real_keyring.backend.get_password(APP_NAME, KEY_ENTRY)))
        secrets = {value for value in secrets if value}
    finally:
        simulator.stop()

    assert len(verifiers) == 1 and len(browser.opened) == len(browser.authorized) == 2 and len(secrets) >= 10
    check_files(tmp_path, paths, secrets)
    leaked = sorted(secret[:6] + "…" for secret in secrets if secret in bundle)
    assert not leaked, f"secrets in the diagnostics bundle: {leaked}"


def run_doctor(simulator: SimulatorThread) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tray_agent", "-v", "doctor", "--simulator", simulator.base_url]
    return subprocess.run(
        [*command, "--ca", simulator.ca_path], capture_output=True, text=True, timeout=120, check=False
    )


def check_files(home: Path, paths: AgentPaths, secrets: set[str]) -> None:
    written = sorted(path for path in home.rglob("*") if path.is_file())
    assert paths.log_file in written and paths.settings_file in written
    assert any(path.suffix == ".sealed" for path in written)
    log_text = paths.log_file.read_text()
    assert "signed in to Microsoft" in log_text and "signed in to Genesys Cloud" in log_text
    for path in written:
        content = path.read_bytes()
        leaked = [value[:12] + "…" for value in secrets if value.encode() in content]
        assert leaked == [], f"{path.relative_to(home)} contains {leaked}"
        if os.name == "posix":
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
