"""Through a real forward proxy (Debian's tinyproxy on loopback): every channel CONNECTs through it,
the scripted day plays through it, and a proxy that wants a sign-in (407) says so."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
import websockets

from tray_agent.auth.microsoft import MicrosoftAuth
from tray_agent.auth.tokens import MemoryTokenStore
from tray_agent.clients.errors import ProxyAuthenticationRequired
from tray_agent.clients.graph import GraphPresenceClient
from tray_agent.clients.http import make_http_client, tls_context
from tray_agent.clients.proxy import ProxyResolver
from tray_agent.demo.approving_browser import ApprovingBrowser
from tray_agent.demo.runner import run_demo
from tray_agent.demo.scenarios import DAY
from tray_agent.simulator import SimulatorThread

from .servers import Proxy, tinyproxy

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    with tinyproxy() as running:
        yield running


@pytest.fixture
def simulator() -> Iterator[SimulatorThread]:
    with SimulatorThread(auto_approve=True) as running:
        yield running


def microsoft(simulator: SimulatorThread, resolver: ProxyResolver) -> MicrosoftAuth:
    return MicrosoftAuth(
        authority=f"{simulator.base_url}/{simulator.tenant_id}",
        client_id=simulator.ms_client_id,
        store=MemoryTokenStore(),
        ca_file=simulator.ca_path,
        proxy_for=resolver.proxy_url,
    )


async def test_msal_httpx_and_the_websocket_each_connect_through_the_policy_proxy(
    proxy: Proxy, simulator: SimulatorThread
) -> None:
    resolver = ProxyResolver(policy_proxy=proxy.url, environ={})
    target = f"CONNECT 127.0.0.1:{simulator.port}"

    auth = microsoft(simulator, resolver)  # msal's requests session
    await auth.sign_in(ApprovingBrowser(simulator.ca_path), 30)
    after_msal = [line for line in proxy.connects() if target in line]
    assert after_msal, proxy.connects()

    http = make_http_client(simulator.ca_path, proxy=resolver.proxy_url(simulator.base_url))  # httpx
    try:
        await GraphPresenceClient(http, auth.access_token, simulator.base_url).my_presence()
    finally:
        await http.aclose()
    after_httpx = [line for line in proxy.connects() if target in line]
    assert len(after_httpx) > len(after_msal)

    socket_url = simulator.base_url.replace("https://", "wss://") + "/channels/not-a-channel"
    proxy_url = resolver.proxy_url(socket_url)
    assert proxy_url == proxy.url
    with pytest.raises(websockets.InvalidStatus):  # the simulator refuses an unknown channel: after the CONNECT
        async with websockets.connect(socket_url, ssl=tls_context(simulator.ca_path), proxy=proxy_url, open_timeout=15):
            pass
    assert len([line for line in proxy.connects() if target in line]) > len(after_httpx)


async def test_the_scripted_day_plays_through_the_environments_proxy(
    proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    out = io.StringIO()
    exit_code = await run_demo(scenario="day", speed=400, out=out)
    text = out.getvalue()
    assert exit_code == 0, text
    assert f"{len(DAY)}/{len(DAY)} expected Genesys states reached" in text, text
    # Sign-in (msal), Graph and Genesys (httpx) and the notifications socket: several tunnels, all via the proxy.
    assert len(proxy.connects()) >= 4, proxy.connects()


async def test_a_proxy_that_wants_a_sign_in_says_so_and_what_to_do(simulator: SimulatorThread) -> None:
    with tinyproxy(basic_auth=("someone", "secret")) as guarded:
        resolver = ProxyResolver(policy_proxy=guarded.url, environ={})
        with pytest.raises(ProxyAuthenticationRequired, match=r"asks for a sign-in \(HTTP 407\).*allow-list"):
            await microsoft(simulator, resolver).sign_in(ApprovingBrowser(simulator.ca_path), 30)

        http = make_http_client(simulator.ca_path, proxy=resolver.proxy_url(simulator.base_url))
        try:

            async def token() -> str:
                return "unused"

            with pytest.raises(ProxyAuthenticationRequired, match="407"):
                await GraphPresenceClient(http, token, simulator.base_url).my_presence()
        finally:
            await http.aclose()
