"""Writing the agent's own Teams presence: exactly the requests Graph documents (setPresence,
clearPresence, setUserPreferredPresence, clearUserPreferredPresence on /me), and every answer, or
the lack of one, as a named outcome that never carries the token or a URL's query."""

from __future__ import annotations

import json
import logging
import math
import ssl
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tray_agent.clients.graph_presence_session import (
    MAX_MESSAGE_CHARS,
    GraphPresenceSession,
    WriteOutcome,
    WriteResult,
    iso_duration,
    sanitised,
    session_expiration,
)
from tray_agent.clients.http import RetryAfterGate

pytestmark = pytest.mark.anyio
GRAPH = "https://graph.microsoft.com"
APP = "8a1d4c2e-6b3f-4e5a-9c7d-0e1f2a3b4c5d"
TOKEN = "eyJ0eXAiOiJKV1QiLCJ-secret-token"

Handler = Callable[[httpx.Request], httpx.Response]


class Graph:
    """A Graph stand-in: answers each request from ``handler`` and keeps every request."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)


def answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Handler:
    content = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    return lambda _request: httpx.Response(status, content=content, headers=headers)


def graph_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "innerError": {"request-id": "abc"}}}


async def call(handler: Handler, action: str = "set", **extra: Any) -> tuple[WriteResult, Graph]:
    graph = Graph(handler)
    async with httpx.AsyncClient(transport=httpx.MockTransport(graph), **extra) as http:
        session = GraphPresenceSession(http, GRAPH)
        if action == "set":
            result = await session.set_presence(TOKEN, APP, "Busy", "InACall", 300)
        elif action == "clear":
            result = await session.clear_presence(TOKEN, APP)
        elif action == "set-preferred":
            result = await session.set_preferred_presence(TOKEN, "Busy", "Busy", 600)
        else:
            result = await session.clear_preferred_presence(TOKEN)
    return result, graph


# --- the requests ----------------------------------------------------------------------------------


async def test_set_presence_posts_exactly_the_documented_body_to_me() -> None:
    result, graph = await call(answer(200))
    assert result == WriteResult(WriteOutcome.OK, 200) and result.done
    (request,) = graph.requests
    assert request.method == "POST" and str(request.url) == f"{GRAPH}/v1.0/me/presence/setPresence"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "sessionId": APP,
        "availability": "Busy",
        "activity": "InACall",
        "expirationDuration": "PT5M",
    }


async def test_clear_presence_posts_the_session_id_alone() -> None:
    result, graph = await call(answer(200), "clear")
    assert result.outcome is WriteOutcome.OK
    (request,) = graph.requests
    assert str(request.url) == f"{GRAPH}/v1.0/me/presence/clearPresence"
    assert json.loads(request.content) == {"sessionId": APP}


async def test_preferred_presence_is_set_and_cleared_with_the_documented_bodies() -> None:
    result, graph = await call(answer(200), "set-preferred")
    assert result.outcome is WriteOutcome.OK
    (request,) = graph.requests
    assert str(request.url) == f"{GRAPH}/v1.0/me/presence/setUserPreferredPresence"
    assert json.loads(request.content) == {"availability": "Busy", "activity": "Busy", "expirationDuration": "PT10M"}
    result, graph = await call(answer(200), "clear-preferred")
    (request,) = graph.requests
    assert str(request.url) == f"{GRAPH}/v1.0/me/presence/clearUserPreferredPresence"
    assert request.method == "POST" and request.content == b""  # "Don't supply a request body"


async def test_preferred_presence_without_an_expiry_leaves_graphs_default() -> None:
    graph = Graph(answer(200))
    async with httpx.AsyncClient(transport=httpx.MockTransport(graph)) as http:
        await GraphPresenceSession(http, GRAPH + "/").set_preferred_presence(TOKEN, "DoNotDisturb", "DoNotDisturb")
    assert json.loads(graph.requests[0].content) == {"availability": "DoNotDisturb", "activity": "DoNotDisturb"}


@pytest.mark.parametrize(
    ("seconds", "iso"),
    [
        (300, "PT5M"),
        (330, "PT5M30S"),
        (3600, "PT1H"),
        (5400, "PT1H30M"),
        (3661, "PT1H1M1S"),
        (14400, "PT4H"),
        (0, "PT0S"),
    ],
)
def test_durations_are_iso_8601(seconds: float, iso: str) -> None:
    assert iso_duration(seconds) == iso


@pytest.mark.parametrize(("seconds", "iso"), [(60, "PT5M"), (299.6, "PT5M"), (90000, "PT4H"), (math.inf, "PT5M")])
def test_a_session_expiry_outside_what_graph_takes_is_clamped(seconds: float, iso: str) -> None:
    assert session_expiration(seconds) == iso


def test_a_negative_or_infinite_duration_is_refused() -> None:
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError):
            iso_duration(bad)


async def test_a_pair_graph_does_not_take_or_a_missing_session_is_a_bug_and_nothing_is_sent() -> None:
    graph = Graph(answer(200))
    async with httpx.AsyncClient(transport=httpx.MockTransport(graph)) as http:
        session = GraphPresenceSession(http, GRAPH)
        with pytest.raises(ValueError, match="Busy/Busy"):
            await session.set_presence(TOKEN, APP, "Busy", "Busy", 300)  # no Busy/Busy for an app session
        with pytest.raises(ValueError, match="InACall"):
            await session.set_preferred_presence(TOKEN, "Busy", "InACall")
        with pytest.raises(ValueError, match="client ID"):
            await session.set_presence(TOKEN, " ", "Busy", "InACall", 300)
        with pytest.raises(ValueError, match="client ID"):
            await session.clear_presence(TOKEN, "")
    assert graph.requests == []


async def test_without_a_token_nothing_is_sent_and_a_sign_in_is_needed() -> None:
    graph = Graph(answer(200))
    async with httpx.AsyncClient(transport=httpx.MockTransport(graph)) as http:
        result = await GraphPresenceSession(http, GRAPH).set_presence("", APP, "Busy", "InACall", 300)
    assert result.outcome is WriteOutcome.SIGNED_OUT and graph.requests == []


# --- the answers -----------------------------------------------------------------------------------


async def test_a_404_on_clear_means_already_gone_which_is_what_was_wanted() -> None:
    for action in ("clear", "clear-preferred"):
        result, _ = await call(answer(404, graph_error("NotFound", "Session not found")), action)
        assert result.outcome is WriteOutcome.GONE and result.done and result.status == 404


async def test_a_404_on_set_is_a_rejection() -> None:
    result, _ = await call(answer(404, graph_error("NotFound", "User not found")))
    assert (result.outcome, result.code, result.message) == (WriteOutcome.REJECTED, "NotFound", "User not found")
    assert not result.done


@pytest.mark.parametrize(("header", "seconds"), [("2.128", 2.128), ("30", 30.0), (None, None), ("soon", None)])
async def test_a_429_is_throttled_with_its_retry_after(header: str | None, seconds: float | None) -> None:
    headers = {"Retry-After": header} if header is not None else None
    result, _ = await call(answer(429, graph_error("TooManyRequests", "slow down"), headers))
    assert result.outcome is WriteOutcome.THROTTLED and result.retry_after == seconds and result.status == 429


async def test_an_absurd_retry_after_is_ignored_as_the_other_clients_do() -> None:
    result, _ = await call(answer(429, None, {"Retry-After": "1e9"}))
    assert result.outcome is WriteOutcome.THROTTLED and result.retry_after is None


async def test_a_401_needs_a_sign_in() -> None:
    result, _ = await call(answer(401, graph_error("InvalidAuthenticationToken", "Access token has expired.")))
    assert (result.outcome, result.code) == (WriteOutcome.SIGNED_OUT, "InvalidAuthenticationToken")


async def test_a_403_is_not_consented_and_says_which_permission() -> None:
    result, _ = await call(answer(403, graph_error("Forbidden", "Insufficient privileges")))
    assert result.outcome is WriteOutcome.NOT_CONSENTED and result.code == "Forbidden"
    assert "Presence.ReadWrite" in result.message and "Insufficient privileges" in result.message


async def test_another_4xx_is_rejected_with_graphs_code_and_message() -> None:
    result, _ = await call(answer(400, graph_error("BadRequest", "The availability/activity pair is not supported")))
    assert (result.outcome, result.status, result.code) == (WriteOutcome.REJECTED, 400, "BadRequest")
    assert result.message == "The availability/activity pair is not supported"
    assert result.describe() == "rejected 400 BadRequest: The availability/activity pair is not supported"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_5xx_is_failed(status: int) -> None:
    result, _ = await call(answer(status, b"<html>gateway</html>"))
    assert (result.outcome, result.status) == (WriteOutcome.FAILED, status)


async def test_a_redirect_is_not_followed_and_is_failed() -> None:
    result, graph = await call(answer(302, None, {"Location": "https://elsewhere.example/steal"}))
    assert result.outcome is WriteOutcome.FAILED and len(graph.requests) == 1


def untrusted() -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    error.verify_code = 20  # unable to get local issuer certificate: a TLS-inspecting proxy's root is missing
    error.verify_message = "unable to get local issuer certificate"
    return error


def raises(error: Exception) -> Handler:
    def handler(_request: httpx.Request) -> httpx.Response:
        raise error

    return handler


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (httpx.ReadTimeout("slow"), "did not answer in time"),
        (httpx.ConnectError("refused"), "cannot reach graph.microsoft.com"),
        (untrusted(), "not trusted"),
        (httpx.ProxyError("407 Proxy Authentication Required"), "HTTP 407"),
    ],
)
async def test_no_answer_is_failed_with_a_reason(error: Exception, said: str) -> None:
    result, _ = await call(raises(error))
    assert result.outcome is WriteOutcome.FAILED and result.status is None and said in result.message


async def test_a_retry_after_still_being_waited_out_sends_nothing_and_is_throttled() -> None:
    now = [100.0]
    gate = RetryAfterGate("Microsoft Graph", lambda: now[0])
    graph = Graph(answer(429, None, {"Retry-After": "20"}))
    hooks: dict[str, Any] = {"request": [gate.before_sending], "response": [gate.after_answer]}
    async with httpx.AsyncClient(transport=httpx.MockTransport(graph), event_hooks=hooks) as http:
        session = GraphPresenceSession(http, GRAPH)
        first = await session.set_presence(TOKEN, APP, "Busy", "InACall", 300)
        now[0] += 5
        second = await session.clear_presence(TOKEN, APP)
    assert first.retry_after == 20 and second.outcome is WriteOutcome.THROTTLED and second.retry_after == 15
    assert len(graph.requests) == 1


# --- what is kept of an error --------------------------------------------------------------------


async def test_graphs_message_is_sanitised_and_bounded_and_no_token_or_query_is_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hostile = "bad\r\n\x1b[31mred\u2028 see https://graph.microsoft.com/x?code=SECRET&t=1 " + "x" * 5000
    caplog.set_level(logging.DEBUG)
    result, _ = await call(answer(400, graph_error("C" * 500, hostile), {"request-id": "req-1\nforged"}))
    assert result.outcome is WriteOutcome.REJECTED
    assert len(result.message) <= MAX_MESSAGE_CHARS and len(result.code) <= 80
    assert "\n" not in result.message and "\x1b" not in result.message and "SECRET" not in result.message
    assert "https://graph.microsoft.com/x?…" in result.message
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert TOKEN not in logged and "SECRET" not in logged and "forged\n" not in logged
    assert "req-1" in logged


@pytest.mark.parametrize(
    "content",
    [b"not json", b"[" * 100_000, b'{"error": "flat"}', b'{"error": {"code": 7, "message": ["x"]}}', b"\xff\xfe"],
)
async def test_an_error_body_of_any_shape_is_still_the_statuss_outcome(content: bytes) -> None:
    result, _ = await call(answer(400, content))
    assert result.outcome is WriteOutcome.REJECTED and result.code == "" and result.message == "request refused"


def test_sanitised_keeps_plain_text_and_drops_what_is_not_text() -> None:
    assert sanitised("  Session   not\tfound ") == "Session not found"
    assert sanitised(None) == "" and sanitised(42) == ""
    assert sanitised("y" * 1000).endswith("…") and len(sanitised("y" * 1000)) == MAX_MESSAGE_CHARS
