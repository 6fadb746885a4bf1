"""TLS verification cannot be turned off: nothing in the product switches it off, and every client
built for the cloud refuses a server the system does not trust — a self-signed one, or a trusted
certificate for another name. The simulator's CA is *added* to what is trusted; it never weakens it.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import websockets
from aiohttp import web

from tray_agent.auth.microsoft import MicrosoftAuth
from tray_agent.auth.tokens import MemoryTokenStore
from tray_agent.clients.errors import BadResponse, CertificateNotTrusted, Unreachable
from tray_agent.clients.genesys import parse_channel
from tray_agent.clients.graph import GraphPresenceClient
from tray_agent.clients.http import make_http_client, tls_context
from tray_agent.simulator import certificates

pytestmark = pytest.mark.anyio

PRODUCT = Path(__file__).resolve().parents[2] / "tray_agent"
# Ways Python code turns certificate checks off (ssl, httpx, requests, aiohttp, websockets, urllib3).
SWITCHES_OFF = re.compile(
    r"verify\s*=\s*False|CERT_NONE|check_hostname\s*=\s*False|_create_unverified_context|verify_ssl\s*=\s*False"
    r"|\bssl\s*=\s*False|PYTHONHTTPSVERIFY|disable_warnings|InsecureRequestWarning|_create_default_https_context"
)


def test_no_product_code_switches_certificate_checks_off() -> None:
    found = [
        f"{path.relative_to(PRODUCT.parent)}:{number}: {line.strip()}"
        for path in sorted(PRODUCT.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SWITCHES_OFF.search(line)
    ]
    assert found == []


def test_every_http_client_in_the_product_is_given_its_trust_explicitly() -> None:
    """httpx's default would also verify, but an explicit ``verify=`` is where a reviewer looks."""
    unpinned = [
        f"{path.relative_to(PRODUCT.parent)}: {call.group(0)[:80]}"
        for path in sorted(PRODUCT.rglob("*.py"))
        if "simulator" not in path.parts
        for call in re.finditer(r"httpx\.(Async)?Client\((?:[^()]|\([^()]*\))*\)", path.read_text(encoding="utf-8"))
        if "verify=" not in call.group(0)
    ]
    assert unpinned == []


@asynccontextmanager
async def https_server(host: str = "127.0.0.1") -> AsyncIterator[tuple[str, certificates.TlsFiles]]:
    """An HTTPS + WSS server with a certificate from a throwaway CA nobody trusts (for 127.0.0.1/localhost)."""
    files = certificates.generate(Path(tempfile.mkdtemp(prefix="tray-agent-untrusted-")))

    async def anything(request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            socket = web.WebSocketResponse()
            await socket.prepare(request)
            await socket.send_str('{"topicName": "channel.metadata"}')
            await socket.close()
            return socket
        return web.json_response({"availability": "Busy", "activity": "InACall", "issuer": "https://x/v2.0"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, 0, ssl_context=files.server_context())
    await site.start()
    try:
        yield f"https://{host}:{runner.addresses[0][1]}", files
    finally:
        await runner.cleanup()


async def token() -> str:
    return "not-a-real-token"


async def test_the_cloud_http_client_refuses_a_self_signed_server() -> None:
    async with https_server() as (base, _):
        http = make_http_client(None)  # what build_agent makes for Endpoints.cloud (no extra CA)
        try:
            with pytest.raises(CertificateNotTrusted, match=r"not trusted by this computer.*TLS"):
                await GraphPresenceClient(http, token, base).my_presence()
        finally:
            await http.aclose()


async def test_adding_the_simulators_ca_does_not_make_other_servers_trusted() -> None:
    other_ca = certificates.generate(Path(tempfile.mkdtemp(prefix="tray-agent-other-ca-"))).ca_path
    async with https_server() as (base, _):
        http = make_http_client(str(other_ca))
        try:
            with pytest.raises(Unreachable):
                await GraphPresenceClient(http, token, base).my_presence()
        finally:
            await http.aclose()


async def test_a_trusted_certificate_for_another_name_is_refused() -> None:
    # The certificate is for 127.0.0.1 and localhost, signed by a CA the client trusts; the server
    # answers on 127.0.0.2 (still loopback), so only the name check can refuse it.
    async with https_server(host="127.0.0.2") as (base, files):
        http = make_http_client(str(files.ca_path))
        try:
            with pytest.raises(Unreachable):
                await GraphPresenceClient(http, token, base).my_presence()
        finally:
            await http.aclose()
        async with https_server() as (right_name, same_ca):  # the control: the right name is accepted
            trusting = make_http_client(str(same_ca.ca_path))
            try:
                assert (await GraphPresenceClient(trusting, token, right_name).my_presence()).activity == "InACall"
            finally:
                await trusting.aclose()


async def test_the_notifications_socket_refuses_a_self_signed_server() -> None:
    async with https_server() as (base, _):
        with pytest.raises(ssl.SSLCertVerificationError):
            async with websockets.connect(base.replace("https", "wss") + "/channels/c", ssl=tls_context(None)):
                pass


async def test_microsoft_sign_in_refuses_a_self_signed_authority() -> None:
    async with https_server() as (base, _):
        auth = MicrosoftAuth(
            authority=f"{base}/11111111-2222-3333-4444-555555555555",
            client_id="0d5e5a4c-8f2b-4c1e-9a7d-3b6f8e2c1a90",
            store=MemoryTokenStore(),
        )
        opened: list[str] = []

        async def browser(url: str) -> None:
            opened.append(url)

        with pytest.raises(CertificateNotTrusted, match="not trusted by this computer"):
            await asyncio.wait_for(auth.sign_in(browser, 5), 20)
        assert opened == []  # no sign-in page was ever offered from the untrusted server


def test_the_notifications_socket_is_never_opened_without_tls() -> None:
    # A channel answer pointing at ws:// would carry the agent's Genesys events in clear text (and let
    # anyone on the path forge them): only wss:// is a notifications address.
    with pytest.raises(BadResponse):
        parse_channel(
            {"id": "streaming-0-abc", "connectUri": "ws://streaming.mypurecloud.com/channels/streaming-0-abc"}
        )


def test_plain_http_clients_would_not_be_redirected_into_a_downgrade() -> None:
    """The cloud client never follows redirects (an https→http redirect cannot downgrade it)."""
    client = make_http_client(None)
    try:
        assert client.follow_redirects is False
        assert isinstance(client, httpx.AsyncClient)
    finally:
        asyncio.run(client.aclose())
