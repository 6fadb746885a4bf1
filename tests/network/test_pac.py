"""A PAC file (served over plain HTTP, as intranets do) with a PROXY branch and a DIRECT branch,
evaluated by pypac for the agent's hosts, and a real call taking the branch it chose."""

from __future__ import annotations

import pytest

from tray_agent.clients.errors import AuthenticationRequired
from tray_agent.clients.graph import GraphPresenceClient
from tray_agent.clients.http import make_http_client
from tray_agent.clients.proxy import ProxyResolver
from tray_agent.simulator import SimulatorThread

from .servers import pac_server, tinyproxy

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

PAC = """
function FindProxyForURL(url, host) {
    if (dnsDomainIs(host, ".microsoft.com") || host == "127.0.0.1") {
        return "PROXY %s; DIRECT";
    }
    if (shExpMatch(host, "*.mypurecloud.com")) {
        return "DIRECT";
    }
    return "SOCKS5 127.0.0.1:1080; PROXY %s";
}
"""


def test_the_pac_file_sends_each_host_down_its_own_branch() -> None:
    with pac_server(PAC.replace("%s", "proxy.corp.example:3128")) as pac_url:
        resolver = ProxyResolver(pac_url=pac_url, environ={"HTTPS_PROXY": "http://ignored.example:1"})
        graph = resolver.for_url("https://graph.microsoft.com/v1.0/me/presence")
        genesys = resolver.for_url("https://api.mypurecloud.com/api/v2/users/me")
        streaming = resolver.for_url("wss://streaming.mypurecloud.com/channels/x")
        other = resolver.for_url("https://login.example.org/")
    assert graph.url == "http://proxy.corp.example:3128"
    assert "PAC file" in graph.source and pac_url in graph.source
    assert genesys.url is None and "DIRECT" in genesys.source
    assert streaming.url is None  # the websocket is asked about as https://, like a browser does
    assert other.url == "http://proxy.corp.example:3128"  # SOCKS is skipped: no channel can use it


def test_an_unreachable_pac_file_means_direct_with_the_reason() -> None:
    with pac_server("") as pac_url:
        broken = pac_url.replace("/proxy.pac", "")
    choice = ProxyResolver(pac_url=broken + "/gone.pac", environ={}).for_url("https://graph.microsoft.com/")
    assert choice.url is None
    assert "could not be used" in choice.source


async def test_a_call_takes_the_proxy_the_pac_file_chose() -> None:
    with tinyproxy() as proxy, SimulatorThread(auto_approve=True) as simulator:
        with pac_server(PAC.replace("%s", proxy.url.removeprefix("http://"))) as pac_url:
            resolver = ProxyResolver(pac_url=pac_url, environ={})
            chosen = resolver.proxy_url(simulator.base_url)
        assert chosen == proxy.url

        async def token() -> str:
            return "not-signed-in"

        http = make_http_client(simulator.ca_path, proxy=chosen)
        try:
            with pytest.raises(AuthenticationRequired):  # the simulator answered: through the tunnel
                await GraphPresenceClient(http, token, simulator.base_url).my_presence()
        finally:
            await http.aclose()
        assert any(f"127.0.0.1:{simulator.port}" in line for line in proxy.connects())
