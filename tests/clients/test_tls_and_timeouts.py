"""msal's session: the OS trust store on direct *and* proxied pools, a timeout on every request, no
environment overrides; certificate failures named for what they are."""

from __future__ import annotations

import ssl
from typing import Any

import requests
import truststore

from tray_agent.clients.requests_session import DEFAULT_TIMEOUT, BoundedSession, TrustStoreAdapter
from tray_agent.clients.tls import certificate_problem, tls_context


def test_the_trust_store_context_is_used_by_direct_and_by_proxied_connections() -> None:
    session = BoundedSession()
    adapter = session.get_adapter("https://login.microsoftonline.com/")
    assert isinstance(adapter, TrustStoreAdapter)
    assert adapter.poolmanager.connection_pool_kw["ssl_context"] is session.context
    proxied = adapter.proxy_manager_for("http://proxy.corp:3128")
    assert proxied.connection_pool_kw["ssl_context"] is session.context  # else proxied calls use certifi
    assert isinstance(session.context, truststore.SSLContext)
    assert session.context.verify_mode == ssl.CERT_REQUIRED and session.context.check_hostname


class Recorder(TrustStoreAdapter):
    def __init__(self) -> None:
        super().__init__(tls_context())
        self.sent: list[dict[str, Any]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.sent.append(kwargs)
        answer = requests.Response()
        answer.status_code = 200
        answer.request = request
        return answer


def test_every_request_gets_a_timeout_the_resolvers_proxy_and_verification(monkeypatch: Any) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://from-the-environment:1")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/bundle.pem")
    session = BoundedSession(proxy_for=lambda url: "http://resolved:3128")
    recorder = Recorder()
    session.mount("https://", recorder)
    session.get("https://login.microsoftonline.com/tenant/v2.0/.well-known/openid-configuration")
    session.post("https://login.microsoftonline.com/tenant/oauth2/v2.0/token", timeout=5)
    first, second = recorder.sent
    assert first["timeout"] == DEFAULT_TIMEOUT  # msal passes none: it ignores timeout= with its own http_client
    assert second["timeout"] == 5
    assert first["proxies"] == {"https": "http://resolved:3128", "http": "http://resolved:3128"}
    assert first["verify"] is True  # REQUESTS_CA_BUNDLE does not replace the trust store


def _verification_error(code: int, message: str) -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: {message}")
    error.verify_code = code
    error.verify_message = message
    return error


def test_an_unknown_issuer_is_named_as_likely_tls_inspection_even_when_wrapped() -> None:
    wrapped = requests.exceptions.SSLError(OSError("pool"), request=None)
    wrapped.__cause__ = _verification_error(20, "unable to get local issuer certificate")
    text = certificate_problem(wrapped, "login.microsoftonline.com")
    assert text is not None
    assert "not trusted by this computer" in text and "inspects TLS" in text and "system trust store" in text


def test_expired_and_wrong_name_certificates_are_not_blamed_on_inspection() -> None:
    expired = certificate_problem(_verification_error(10, "certificate has expired"), "graph.microsoft.com")
    wrong = certificate_problem(_verification_error(62, "Hostname mismatch"), "graph.microsoft.com")
    assert expired is not None and "expired" in expired and "inspects" not in expired
    assert wrong is not None and "another name" in wrong
    assert certificate_problem(ConnectionResetError(), "graph.microsoft.com") is None


def test_a_sign_in_answer_larger_than_any_real_one_is_refused_while_it_downloads() -> None:
    import http.server
    import threading

    import pytest
    import requests

    from tray_agent.clients.requests_session import MAX_ANSWER_BYTES, AnswerTooLarge, BoundedSession

    sent: list[int] = []

    class Endless(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            chunk = b" " * 65536
            try:
                for _ in range(16 * MAX_ANSWER_BYTES // len(chunk)):  # read whole, this would pass
                    self.wfile.write(chunk)
                    sent.append(len(chunk))
            except OSError:
                pass  # the client stopped reading: what this test wants

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Endless)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(AnswerTooLarge), BoundedSession(None, None) as session:
            session.get(f"http://127.0.0.1:{server.server_address[1]}/")
        assert isinstance(AnswerTooLarge("x"), requests.RequestException)  # msal's callers see a network failure
    finally:
        server.shutdown()
