"""Behind a real TLS-inspecting proxy (mitmdump): with its root in the OS store, as IT deploys it, the
whole day works (both sign-ins, the sync, the websocket); without it, every channel fails closed with
the certificate message. Only the OS store is trusted: certifi never sees the inspection root."""

from __future__ import annotations

import asyncio
import io
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
import websockets

from tray_agent.auth.microsoft import MicrosoftAuth
from tray_agent.auth.tokens import MemoryTokenStore
from tray_agent.clients.errors import CertificateNotTrusted
from tray_agent.clients.graph import GraphPresenceClient
from tray_agent.clients.http import make_http_client, tls_context
from tray_agent.clients.proxy import ProxyResolver
from tray_agent.demo.runner import DEMO_TENANT, run_demo
from tray_agent.demo.scenarios import DAY
from tray_agent.simulator import SimulatorThread

from .servers import mitmdump, trusted_by_the_os

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


@pytest.fixture
def simulator() -> Iterator[SimulatorThread]:
    with SimulatorThread(auto_approve=True) as running:
        yield running


async def test_with_the_inspection_root_in_the_os_store_the_scripted_day_plays_through_the_inspector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with mitmdump() as inspector, trusted_by_the_os(inspector.ca_pem):
        monkeypatch.setenv("HTTPS_PROXY", inspector.url)
        out = io.StringIO()
        exit_code = await run_demo(scenario="day", speed=400, out=out)
        text = out.getvalue()
        seen = inspector.flows.read_text(errors="replace")
    assert exit_code == 0, text
    assert f"{len(DAY)}/{len(DAY)} expected Genesys states reached" in text, text
    # Everything was re-signed by the inspector and still trusted: msal's token request (to the tenant's
    # authority), the Genesys sign-in, Graph, the Genesys API and the notifications socket.
    for request in (
        "POST https://127.0.0.1:",
        f"/{DEMO_TENANT[:16]}",
        "POST https://127.0.0.1",
        "/oauth/token",
        "GET https://127.0.0.1",
        "/v1.0/me/presence",
        "/api/v2/users/me",
        "WebSocket text message",
    ):
        assert request in seen, request


async def test_without_the_inspection_root_every_channel_fails_closed_with_the_certificate_message(
    simulator: SimulatorThread,
) -> None:
    with mitmdump() as inspector:
        resolver = ProxyResolver(policy_proxy=inspector.url, environ={})
        auth = MicrosoftAuth(
            authority=f"{simulator.base_url}/{simulator.tenant_id}",
            client_id=simulator.ms_client_id,
            store=MemoryTokenStore(),
            ca_file=simulator.ca_path,  # the simulator's CA is trusted; the inspector's is not
            proxy_for=resolver.proxy_url,
        )
        opened: list[str] = []

        async def browser(url: str) -> None:
            opened.append(url)

        with pytest.raises(CertificateNotTrusted, match=r"not trusted by this computer.*inspects TLS"):
            await auth.sign_in(browser, 30)
        assert opened == []

        async def token() -> str:
            return "unused"

        http = make_http_client(simulator.ca_path, proxy=resolver.proxy_url(simulator.base_url))
        try:
            with pytest.raises(CertificateNotTrusted, match="inspects TLS"):
                await GraphPresenceClient(http, token, simulator.base_url).my_presence()
        finally:
            await http.aclose()

        socket_url = simulator.base_url.replace("https://", "wss://") + "/channels/any"
        loop = asyncio.get_running_loop()
        stray: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda _, context: stray.append(context))
        try:
            with pytest.raises(ssl.SSLCertVerificationError):
                async with websockets.connect(socket_url, ssl=tls_context(simulator.ca_path), proxy=inspector.url):
                    pass
        finally:
            loop.set_exception_handler(None)
        # websockets 17 trips over its own cleanup when TLS fails inside a proxy tunnel (an AttributeError
        # on the loop, after the certificate error reached the caller); nothing else may go astray.
        assert all("recv_messages" in str(context.get("exception")) for context in stray), stray
