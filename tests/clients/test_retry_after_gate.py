"""A service's Retry-After holds back every call of that client, not only the one that met the 429."""

from __future__ import annotations

import httpx
import pytest

from tray_agent.clients.errors import Throttled
from tray_agent.clients.http import RetryAfterGate, make_http_client, request
from tray_agent.core.protocol import GENESYS_WAIT_WITHOUT_RETRY_AFTER

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0


def client_with(gate: RetryAfterGate, answers: list[httpx.Response], sent: list[str]) -> httpx.AsyncClient:
    def answer(outgoing: httpx.Request) -> httpx.Response:
        sent.append(outgoing.url.path)
        return answers.pop(0)

    hooks = {"request": [gate.before_sending], "response": [gate.after_answer]}
    return httpx.AsyncClient(transport=httpx.MockTransport(answer), event_hooks=hooks)


async def test_a_call_inside_the_retry_after_fails_at_once_and_nothing_is_sent() -> None:
    clock, sent = Clock(), []
    gate = RetryAfterGate("Genesys Cloud", lambda: clock.now)
    answers = [httpx.Response(429, headers={"Retry-After": "30"}), httpx.Response(200, json={})]
    async with client_with(gate, answers, sent) as client:
        with pytest.raises(Throttled):
            await request(client, "Genesys Cloud", "GET", "https://api.example/api/v2/users/me", "t")
        clock.now += 20  # another path (a write, the keep-alive) calls 20 s later
        with pytest.raises(Throttled) as held:
            await request(
                client, "Genesys Cloud", "PATCH", "https://api.example/api/v2/users/u/presences/PURECLOUD", "t"
            )
        assert held.value.retry_after == pytest.approx(10.0)
        assert sent == ["/api/v2/users/me"]
        clock.now += 10
        await request(client, "Genesys Cloud", "GET", "https://api.example/api/v2/users/me", "t")
        assert sent == ["/api/v2/users/me", "/api/v2/users/me"]


async def test_a_429_without_retry_after_does_not_close_the_gate() -> None:
    clock, sent = Clock(), []
    gate = RetryAfterGate("Microsoft Graph", lambda: clock.now)
    answers = [httpx.Response(429), httpx.Response(200, json={})]
    async with client_with(gate, answers, sent) as client:
        with pytest.raises(Throttled):
            await request(client, "Microsoft Graph", "GET", "https://graph.example/v1.0/me/presence", "t")
        await request(client, "Microsoft Graph", "GET", "https://graph.example/v1.0/me/presence", "t")
    assert len(sent) == 2  # the caller's own backoff decides; the gate only keeps what the service said


async def test_the_agents_clients_carry_the_gate() -> None:
    gate = RetryAfterGate("Genesys Cloud", lambda: 0.0)
    async with make_http_client(None, gate=gate) as client:
        assert gate.before_sending in client.event_hooks["request"]
        assert gate.after_answer in client.event_hooks["response"]


async def test_a_genesys_429_without_retry_after_holds_every_call_for_the_sdks_3_s() -> None:
    """Genesys's limits are per token: a chat summary's 429 also holds back the write that follows."""
    clock, sent = Clock(), []
    gate = RetryAfterGate("Genesys Cloud", lambda: clock.now, without_header=GENESYS_WAIT_WITHOUT_RETRY_AFTER)
    answers = [httpx.Response(429), httpx.Response(200, json={})]
    summary = "https://api.example/api/v2/users/u/conversations/summary"
    async with client_with(gate, answers, sent) as client:
        with pytest.raises(Throttled):
            await request(client, "Genesys Cloud", "GET", summary, "t")
        clock.now += 1
        with pytest.raises(Throttled) as held:
            await request(client, "Genesys Cloud", "PATCH", "https://api.example/api/v2/users/u/presences/x", "t")
        assert held.value.retry_after == pytest.approx(2.0) and len(sent) == 1
        clock.now += 2
        await request(client, "Genesys Cloud", "GET", summary, "t")
    assert len(sent) == 2
