"""The proxy resolver's decisions (policy, environment, Windows settings), and the WinHTTP layer with fakes."""

from __future__ import annotations

import pytest

from tray_agent.clients.proxy import ProxyChoice, ProxyResolver, bypassed, normalise_proxy, parse_pac_answer
from tray_agent.clients.winhttp import (
    WINHTTP_ACCESS_TYPE_NAMED_PROXY,
    WINHTTP_ACCESS_TYPE_NO_PROXY,
    IEProxyConfig,
    ProxyInfo,
    WinHttpProxy,
    static_proxy_for,
)

GRAPH = "https://graph.microsoft.com/v1.0/me/presence"
GENESYS = "https://api.mypurecloud.ie/api/v2/users/me"


def test_the_policy_proxy_wins_over_the_environment_except_for_its_bypass_list() -> None:
    resolver = ProxyResolver(
        policy_proxy="proxy.corp:3128", policy_bypass="*.mypurecloud.ie;<local>", environ={"HTTPS_PROXY": "env:1"}
    )
    assert resolver.for_url(GRAPH).url == "http://proxy.corp:3128"
    assert "proxy setting" in resolver.for_url(GRAPH).source
    assert resolver.for_url(GENESYS).url is None
    assert "proxy_bypass" in resolver.for_url(GENESYS).source


def test_the_environment_is_read_with_no_proxy_as_curl_does() -> None:
    environ = {"https_proxy": "http://env.proxy:8080", "NO_PROXY": "localhost,.mypurecloud.ie"}
    resolver = ProxyResolver(environ=environ)
    assert resolver.for_url(GRAPH) == ProxyChoice("http://env.proxy:8080", "the environment (HTTPS_PROXY)")
    assert resolver.for_url(GENESYS).url is None
    assert resolver.for_url("wss://streaming.mypurecloud.ie/channels/x").url is None


def test_with_nothing_configured_every_channel_goes_direct() -> None:
    assert ProxyResolver(environ={}).for_url(GRAPH) == ProxyChoice(None, "no proxy configured")


@pytest.mark.parametrize(
    ("value", "problem"),
    [("user:pw@proxy:8080", "user name or password"), ("socks5://proxy:1080", "not a proxy address"), ("", "")],
)
def test_a_proxy_value_that_cannot_be_used_is_refused_with_the_reason(value: str, problem: str) -> None:
    if not problem:
        assert ProxyResolver(policy_proxy=value, environ={}).for_url(GRAPH).url is None
        return
    with pytest.raises(ValueError, match=problem):
        ProxyResolver(policy_proxy=value, environ={})


def test_proxy_addresses_and_pac_answers_are_read_strictly() -> None:
    assert normalise_proxy("proxy:3128") == "http://proxy:3128"
    assert normalise_proxy("http://proxy") == "http://proxy:80"
    assert parse_pac_answer("PROXY a:1; DIRECT") == (True, "http://a:1")
    assert parse_pac_answer("DIRECT") == (True, None)
    assert parse_pac_answer("SOCKS5 s:1080; HTTPS b:443") == (True, "https://b:443")
    assert parse_pac_answer("SOCKS s:1") == (False, None)


def test_bypass_lists_match_as_windows_does() -> None:
    assert bypassed("api.mypurecloud.ie", "*.mypurecloud.ie")
    assert bypassed("mypurecloud.ie", "*.mypurecloud.ie")
    assert bypassed("intranet", "<local>")
    assert not bypassed("graph.microsoft.com", "*.mypurecloud.ie;<local>")


class FakeWinHttp:
    """Stands in for the WinHTTP DLL: the user's IE settings and what PAC/WPAD evaluation returns."""

    def __init__(self, config: IEProxyConfig, pac: ProxyInfo | None = None) -> None:
        self.config = config
        self.pac = pac
        self.asked: list[tuple[str, bool, str]] = []

    def current_user_config(self) -> IEProxyConfig:
        return self.config

    def proxy_for_url(self, url: str, *, auto_detect: bool, config_url: str) -> ProxyInfo | None:
        self.asked.append((url, auto_detect, config_url))
        return self.pac


def test_windows_pac_settings_are_evaluated_by_winhttp_for_each_host() -> None:
    fake = FakeWinHttp(
        IEProxyConfig(auto_detect=False, auto_config_url="http://wpad.corp/proxy.pac", proxy="", bypass=""),
        ProxyInfo(WINHTTP_ACCESS_TYPE_NAMED_PROXY, "pac.proxy:8080", ""),
    )
    resolver = ProxyResolver(environ={}, system=WinHttpProxy(fake))
    choice = resolver.for_url("wss://streaming.mypurecloud.ie/channels/x")
    assert choice.url == "http://pac.proxy:8080"
    assert "Windows PAC file http://wpad.corp/proxy.pac" in choice.source
    assert fake.asked == [("https://streaming.mypurecloud.ie/channels/x", False, "http://wpad.corp/proxy.pac")]


def test_windows_wpad_answering_direct_means_direct() -> None:
    fake = FakeWinHttp(
        IEProxyConfig(auto_detect=True, auto_config_url="", proxy="", bypass=""),
        ProxyInfo(WINHTTP_ACCESS_TYPE_NO_PROXY, "", ""),
    )
    choice = ProxyResolver(environ={}, system=WinHttpProxy(fake)).for_url(GRAPH)
    assert choice == ProxyChoice(None, "Windows WPAD: DIRECT")


def test_the_windows_static_proxy_honours_proxyoverride_which_httpx_alone_would_ignore() -> None:
    fake = FakeWinHttp(IEProxyConfig(False, "", "http=p:80;https=secure.proxy:8443", "*.mypurecloud.ie;<local>"))
    resolver = ProxyResolver(environ={}, system=WinHttpProxy(fake))
    assert resolver.for_url(GRAPH) == ProxyChoice("http://secure.proxy:8443", "Windows proxy settings")
    assert resolver.for_url(GENESYS).url is None


def test_when_wpad_finds_no_script_the_static_proxy_still_applies() -> None:
    fake = FakeWinHttp(IEProxyConfig(True, "", "static.proxy:3128", ""), pac=None)
    assert ProxyResolver(environ={}, system=WinHttpProxy(fake)).for_url(GRAPH).url == "http://static.proxy:3128"


def test_a_policy_pac_file_on_windows_is_evaluated_by_winhttp_not_pypac() -> None:
    fake = FakeWinHttp(IEProxyConfig(False, "", "", ""), ProxyInfo(WINHTTP_ACCESS_TYPE_NAMED_PROXY, "p:1", ""))
    resolver = ProxyResolver(pac_url="http://it.corp/agent.pac", environ={}, system=WinHttpProxy(fake))
    assert resolver.for_url(GRAPH).url == "http://p:1"
    assert fake.asked == [(GRAPH, False, "http://it.corp/agent.pac")]


def test_winhttp_proxy_lists_are_read_per_scheme() -> None:
    assert static_proxy_for("http=a:1;https=b:2", "https") == "b:2"
    assert static_proxy_for("plain:3128", "https") == "plain:3128"
    assert static_proxy_for("http=a:1", "https") is None


def test_the_macos_system_proxy_settings_are_used_with_their_bypass_list() -> None:
    from tray_agent.clients.proxy import StaticSystemProxy

    system = StaticSystemProxy(
        lambda: {"https": "http://mac.proxy:8080", "http": "http://other:1"},
        lambda host: host.endswith(".mypurecloud.ie"),
        "macOS proxy settings",
    )
    resolver = ProxyResolver(environ={}, system=system)
    assert resolver.for_url(GRAPH) == ProxyChoice("http://mac.proxy:8080", "macOS proxy settings")
    assert resolver.for_url(GENESYS).url is None
    assert ProxyResolver(environ={}, system=StaticSystemProxy(dict, lambda h: False, "x")).for_url(GRAPH).url is None
