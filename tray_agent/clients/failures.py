"""Network failures in words: one classifier for httpx, requests (msal) and the websocket.

Every channel reports the same three enterprise problems the same way: a certificate this computer
does not trust (TLS inspection), a proxy that wants a sign-in (407), and a server that never answers.
"""

from __future__ import annotations

from tray_agent.clients.errors import CertificateNotTrusted, NoAnswer, ProxyAuthenticationRequired, Unreachable
from tray_agent.clients.tls import certificate_problem, error_chain

PROXY_AUTH_FIX = (
    "ask IT to let {hosts} through the proxy without a sign-in (an allow-list), "
    "or to give you a local authenticating proxy (such as px) and set it as the Proxy policy"
)


def is_proxy_auth_failure(error: BaseException) -> bool:
    """A 407 from the proxy, as httpx ("407 Proxy Authentication Required") or requests/urllib3 report it."""
    return any(
        "407" in str(link) and ("proxy" in str(link).lower() or "Proxy" in type(link).__name__)
        for link in error_chain(error)
    )


def is_timeout(error: BaseException) -> bool:
    return any(isinstance(link, TimeoutError) or "Timeout" in type(link).__name__ for link in error_chain(error))


def proxy_auth_message(hosts: str, proxy: str | None = None) -> str:
    where = f"the proxy {proxy}" if proxy else "the proxy"
    return f"{where} asks for a sign-in (HTTP 407), which the agent cannot give: " + PROXY_AUTH_FIX.format(hosts=hosts)


def transport_failure(service: str, error: BaseException, host: str, *, proxy: str | None = None) -> Unreachable:
    """The right :class:`Unreachable` for a transport error talking to ``host``."""
    certificate = certificate_problem(error, host)
    if certificate is not None:
        return CertificateNotTrusted(service, certificate)
    if is_proxy_auth_failure(error):
        return ProxyAuthenticationRequired(service, proxy_auth_message(host, proxy))
    if is_timeout(error):
        return NoAnswer(service, f"{host} did not answer in time")
    return Unreachable(service, f"cannot reach {host} ({error.__class__.__name__})")
