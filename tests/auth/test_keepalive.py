"""Genesys Idle Token Timeout: the simulator ends an unused token as Genesys does, and the keepalive
keeps the agent's token alive with GET /api/v2/tokens/me, learning its real end from dateTokenIdles."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from tray_agent.auth.genesys_keepalive import MIN_INTERVAL, GenesysKeepalive
from tray_agent.auth.genesys_pkce import GenesysAuth
from tray_agent.auth.tokens import MemoryTokenStore
from tray_agent.clients.errors import AuthenticationRequired
from tray_agent.clients.genesys import GenesysClient
from tray_agent.clients.http import make_http_client
from tray_agent.demo.approving_browser import ApprovingBrowser
from tray_agent.demo.runner import free_port
from tray_agent.simulator import SimulatorThread

pytestmark = pytest.mark.anyio
IDLE = 300.0  # the org's Idle Token Timeout: 5 minutes, Genesys's shortest


class SteppedClock:
    def __init__(self) -> None:
        self.at = 1_800_000_000.0

    def now(self) -> float:
        return self.at

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)

    def to_real(self, seconds: float) -> float:
        return 0.0


@dataclass
class Org:
    simulator: SimulatorThread
    clock: SteppedClock
    http: httpx.AsyncClient
    auth: GenesysAuth

    def keepalive(self) -> GenesysKeepalive:
        return GenesysKeepalive(
            http=self.http, api_base_url=self.simulator.base_url, token=self.auth.access_token, now=self.clock.now
        )

    def client(self, keepalive: GenesysKeepalive | None = None) -> GenesysClient:
        token = keepalive.track(self.auth.access_token) if keepalive else self.auth.access_token
        return GenesysClient(self.http, token, self.simulator.base_url)


@pytest.fixture
async def org() -> AsyncIterator[Org]:
    clock, port = SteppedClock(), free_port()
    simulator = SimulatorThread(
        clock=clock,
        auto_approve=True,
        genesys_redirect_uris=(f"http://localhost:{port}/callback",),
        genesys_idle_timeout=IDLE,
    )
    simulator.start()
    try:
        async with make_http_client(simulator.ca_path) as http:
            auth = GenesysAuth(
                login_base_url=simulator.base_url,
                api_base_url=simulator.base_url,
                client_id=simulator.genesys_client_id,
                redirect_port=port,
                http=http,
                store=MemoryTokenStore(),
                now=clock.now,
            )
            await auth.sign_in(ApprovingBrowser(simulator.ca_path), 30)
            yield Org(simulator, clock, http, auth)
    finally:
        simulator.stop()


async def test_the_simulator_ends_a_token_left_unused_for_the_idle_timeout(org: Org) -> None:
    client = org.client()
    await client.me(org.clock.now())
    org.clock.at += IDLE - 1
    await client.me(org.clock.now())  # used just in time: the idle timeout starts again
    org.clock.at += IDLE
    with pytest.raises(AuthenticationRequired):
        await client.me(org.clock.now())


async def test_an_agent_that_only_listens_keeps_its_token_through_a_working_day(org: Org) -> None:
    keepalive = org.keepalive()
    client = org.client(keepalive)
    await client.me(org.clock.now())
    start = org.clock.at
    while org.clock.at < start + 8 * 3600:
        org.clock.at += await keepalive.tick()  # the engine waits this long (listening on the socket meanwhile)
    assert (await client.me(org.clock.now())).id  # still signed in after 8 h of only listening
    assert keepalive.idle_window is not None and keepalive.idle_window <= IDLE
    assert keepalive.keepalives_sent <= 8 * 3600 / (IDLE / 2) + 2  # about every half window, no more


async def test_the_keepalive_is_not_sent_while_the_agent_uses_its_token_anyway(org: Org) -> None:
    keepalive = org.keepalive()
    client = org.client(keepalive)
    await keepalive.tick()  # the first one learns the idle window
    sent = keepalive.keepalives_sent
    for _ in range(10):
        org.clock.at += MIN_INTERVAL
        await client.me(org.clock.now())  # a write or a reconnect: counts as use
        assert not keepalive.due()
    assert keepalive.keepalives_sent == sent


async def test_the_real_end_comes_from_date_token_idles_and_moves_with_use(org: Org) -> None:
    keepalive = org.keepalive()
    await keepalive.tick()
    assert keepalive.ends_at == pytest.approx(org.clock.at + IDLE, abs=1)
    assert org.auth.access_expires_at is not None and org.auth.access_expires_at > org.clock.at + IDLE
    org.clock.at += 100
    await org.client(keepalive).me(org.clock.now())
    assert keepalive.ends_at == pytest.approx(org.clock.at + IDLE, abs=1)


async def test_checking_the_token_with_preserve_idle_ttl_does_not_count_as_use(org: Org) -> None:
    token = await org.auth.access_token()
    org.clock.at += IDLE - 10
    answer = await org.http.get(
        f"{org.simulator.base_url}/api/v2/tokens/me?preserveIdleTTL=true", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200
    org.clock.at += 20
    with pytest.raises(AuthenticationRequired):
        await org.client().me(org.clock.now())


async def test_a_failed_keepalive_is_retried_within_a_minute_not_after_an_hour(org: Org) -> None:
    keepalive = org.keepalive()
    await org.auth.sign_out()  # e.g. the agent has not signed in yet
    assert await keepalive.tick() == pytest.approx(MIN_INTERVAL)
    assert keepalive.keepalives_sent == 0
