"""Shared HTTP plumbing: one httpx client per service, errors mapped to :mod:`clients.errors`."""

from __future__ import annotations

import logging
import math
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tray_agent.clients import bounded_json, tls
from tray_agent.clients.errors import (
    AuthenticationRequired,
    BadResponse,
    NoAnswer,
    Rejected,
    ServerError,
    ServiceError,
    Throttled,
)
from tray_agent.clients.failures import transport_failure

log = logging.getLogger(__name__)

TokenGetter = Callable[[], Awaitable[str]]

# httpx logs every request URL at INFO; URLs can carry codes, so keep those loggers quiet.
for _noisy in ("httpx", "httpcore"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """The OS trust store plus ``ca_file`` (the simulator's CA); verification is always on (:mod:`.tls`)."""
    return tls.tls_context(ca_file)


class RetryAfterGate:
    """Once a service answers 429 with a Retry-After, nothing more is sent to it until that time.

    The limit is the client's, not one call's: a 429 met by a background re-read must also hold back
    the write that follows, the channel set-up and the keep-alive. A call made meanwhile fails at once
    with :class:`Throttled`, carrying the time still to wait, exactly as if the service had said so.

    ``without_header``: how long a 429 with no Retry-After holds the client (None: not at all, each
    caller's own backoff decides). Genesys's limits are per token, shared by every call, and its SDKs
    wait 3 s for such a 429.
    """

    def __init__(self, service: str, now: Callable[[], float], *, without_header: float | None = None) -> None:
        self._service = service
        self._now = now
        self._until = -math.inf
        self._without_header = without_header

    async def before_sending(self, _request: httpx.Request) -> None:
        wait = self._until - self._now()
        if wait > 0:
            raise Throttled(self._service, wait, code="waiting out an earlier Retry-After")

    async def after_answer(self, response: httpx.Response) -> None:
        if response.status_code == 429:
            seconds = parse_retry_after(response.headers.get("Retry-After"))
            if seconds is None:
                seconds = self._without_header
            if seconds is not None:
                self._until = max(self._until, self._now() + seconds)


def make_http_client(
    ca_file: str | None, timeout: float = 15.0, *, proxy: str | None = None, gate: RetryAfterGate | None = None
) -> httpx.AsyncClient:
    """One service's client. ``proxy`` is what :class:`~tray_agent.clients.proxy.ProxyResolver` chose for
    that service's host (None: direct); the environment is not read again here (``trust_env=False``),
    so httpx cannot disagree with the resolver (it ignores Windows' ProxyOverride, encode/httpx#1536).
    ``gate``: every call of this client honours the service's Retry-After (:class:`RetryAfterGate`)."""
    hooks: dict[str, list[Callable[[Any], Awaitable[None]]]] = {}
    if gate is not None:
        hooks = {"request": [gate.before_sending], "response": [gate.after_answer]}
    return httpx.AsyncClient(
        verify=tls_context(ca_file),
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        headers={"User-Agent": "tray-agent/0.1"},
        follow_redirects=False,
        trust_env=False,
        proxy=proxy,
        event_hooks=hooks,
    )


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds; Graph sends fractions ("2.128"). Dates and junk are ignored (None)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if seconds != seconds or seconds < 0 or seconds > 86400:  # NaN, negative or absurd
        return None
    return seconds


def json_body(service: str, response: httpx.Response) -> Any:
    try:
        return bounded_json.loads(response.content)
    except ValueError as error:  # JSONDecodeError, or too large / too deep / NaN (JSONRefused)
        raise BadResponse(
            service, f"answer was not JSON ({error.__class__.__name__})", status=response.status_code
        ) from None


def error_code(body: Any) -> str:
    """The service's error code from a Graph (`error.code`) or Genesys (`code`) error body."""
    if isinstance(body, dict):
        nested = body.get("error")
        if isinstance(nested, dict) and isinstance(nested.get("code"), str):
            return str(nested["code"])[:80]
        if isinstance(body.get("code"), str):
            return str(body["code"])[:80]
    return ""


async def request(
    client: httpx.AsyncClient,
    service: str,
    method: str,
    url: str,
    token: str,
    *,
    params: dict[str, str] | None = None,
    json_payload: Any = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """One authenticated request; raises a :class:`ServiceError` for anything but 2xx. ``headers`` are
    sent as well (Graph's ``Prefer``); they cannot replace the authorization."""
    headers = {**(headers or {}), "Authorization": f"Bearer {token}", "Accept": "application/json"}
    try:
        response = await client.request(method, url, params=params, json=json_payload, headers=headers)
    except httpx.TimeoutException:
        raise NoAnswer(service, f"{httpx.URL(url).host} did not answer in time") from None
    except (httpx.TransportError, ssl.SSLError, OSError) as error:
        raise transport_failure(service, error, httpx.URL(url).host) from None
    if response.is_success:
        return response
    raise _error_for(service, response)


def _error_for(service: str, response: httpx.Response) -> ServiceError:
    status = response.status_code
    try:
        body = bounded_json.loads(response.content)
    except ValueError:
        body = None
    code = error_code(body)
    correlation = response.headers.get("inin-correlation-id") or response.headers.get("request-id") or ""
    if isinstance(body, dict) and isinstance(body.get("contextId"), str):
        correlation = body["contextId"]
    if correlation:
        log.info("%s answered %s %s (correlation %s)", service, status, code or "-", correlation[:64])
    if status == 429:
        return Throttled(service, parse_retry_after(response.headers.get("Retry-After")), code=code)
    if status == 401:
        return AuthenticationRequired(service, "sign-in required", status=status, code=code)
    if status >= 500:
        return ServerError(service, "service error", status=status, code=code)
    return Rejected(service, "request refused", status=status, code=code)
