"""The ``requests`` session msal uses: OS trust store, the resolver's proxy, and a timeout on every call.

- **Trust.** :class:`TrustStoreAdapter` puts the :func:`~tray_agent.clients.tls.tls_context` context in
  both ``init_poolmanager`` *and* ``proxy_manager_for``: requests builds a separate pool manager for
  proxied connections, and without the second override those silently fall back to certifi. Neither
  ``REQUESTS_CA_BUNDLE`` nor certifi is used: trust is the OS store plus the simulator's CA.
- **Proxy.** ``trust_env`` is off; each request gets the proxy the :class:`~.proxy.ProxyResolver` chose
  for its host, so msal agrees with httpx and the websocket.
- **Time.** msal ignores its own ``timeout=`` when it is given an ``http_client``
  (AzureAD/microsoft-authentication-library-for-python#960), and a session has no default, so a server
  that accepts and never answers would hang sign-in for ever. Every request here gets
  :data:`DEFAULT_TIMEOUT` unless the caller gave one.
- **Size.** Every answer is read in chunks and refused once it passes :data:`MAX_ANSWER_BYTES`, while it
  downloads (msal would otherwise hold any size in memory before our parser sees it).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from tray_agent.clients.bounded_json import MAX_BYTES
from tray_agent.clients.tls import tls_context

DEFAULT_TIMEOUT = (10.0, 20.0)  # (connect, read) seconds
MAX_ANSWER_BYTES = MAX_BYTES  # an answer is refused while it downloads, not after (bounded_json's cap)


class AnswerTooLarge(requests.RequestException):
    """A sign-in answer larger than any real one: the download stops there."""


class TrustStoreAdapter(HTTPAdapter):
    def __init__(self, context: ssl.SSLContext, **kwargs: Any) -> None:
        self._context = context
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        proxy_kwargs["ssl_context"] = self._context
        return super().proxy_manager_for(proxy, **proxy_kwargs)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        """Verification stays on, but without certifi's bundle: the context already holds the trust."""
        super().cert_verify(conn, url, verify, cert)
        if verify is True:
            conn.ca_certs = None
            conn.ca_cert_dir = None


class BoundedSession(requests.Session):
    def __init__(
        self,
        extra_ca_file: str | None = None,
        proxy_for: Callable[[str], str | None] | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__()
        self.trust_env = False  # no REQUESTS_CA_BUNDLE, no *_PROXY behind the resolver's back, no .netrc
        self.verify = True
        self.context = tls_context(extra_ca_file)
        self.mount("https://", TrustStoreAdapter(self.context))
        self._proxy_for = proxy_for
        self._timeout = timeout

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        if self._proxy_for is not None and not kwargs.get("proxies"):
            proxy = self._proxy_for(url.decode() if isinstance(url, bytes) else url)
            kwargs["proxies"] = {"https": proxy, "http": proxy} if proxy else {}
        kwargs["verify"] = True
        kwargs["stream"] = True  # read below, at most MAX_ANSWER_BYTES
        response = super().request(method, url, *args, **kwargs)
        if response.raw is None:  # an adapter that answered without a body stream
            return response
        body = bytearray()
        for chunk in response.iter_content(64 * 1024):
            body += chunk
            if len(body) > MAX_ANSWER_BYTES:
                response.close()
                raise AnswerTooLarge(f"Microsoft sign-in answered with more than {MAX_ANSWER_BYTES} bytes")
        response._content = bytes(body)  # what .content/.json() read: already bounded
        return response
