"""Small client-side helpers for driving the simulator in tests (what a real client would do)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import ssl
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import msal
import requests
from websockets.asyncio.client import ClientConnection, connect

from tray_agent.simulator import Simulator
from tray_agent.simulator.directory import SimUser

GENESYS_REDIRECT = "http://localhost:8765/callback"
DAY = 1_795_000_000.0  # 2026-11-18, a Wednesday: epoch seconds where ManualClock tests start


class ManualClock:
    """Virtual time that moves only when the test says so (``advance``): what the simulator sees at any
    moment is fixed by the test, never by how fast the machine is. ``sleep`` waits for ``advance``."""

    def __init__(self, start: float = DAY) -> None:
        self._now = start
        self._sleepers: list[tuple[float, asyncio.Event]] = []

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds
        due = [event for at, event in self._sleepers if at <= self._now]
        self._sleepers = [(at, event) for at, event in self._sleepers if at > self._now]
        for event in due:
            event.set()

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        event = asyncio.Event()
        self._sleepers.append((self._now + seconds, event))
        await event.wait()

    @property
    def sleepers(self) -> int:
        """How many ``sleep`` calls are waiting for ``advance`` (e.g. a request held by injected latency)."""
        return len(self._sleepers)

    def to_real(self, seconds: float) -> float:
        return seconds


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)[:128]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def genesys_authorize(client: httpx.AsyncClient, sim: Simulator, challenge: str, **extra: str) -> httpx.Response:
    params = {
        "client_id": sim.genesys_client_id,
        "redirect_uri": GENESYS_REDIRECT,
        "response_type": "code",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "xyz",
        **extra,
    }
    return await client.get(f"{sim.base_url}/oauth/authorize", params=params)


async def genesys_code(client: httpx.AsyncClient, sim: Simulator, challenge: str, **extra: str) -> str:
    response = await genesys_authorize(client, sim, challenge, **extra)
    assert response.status_code == 302, response.text
    return query_of(response.headers["location"])["code"]


async def genesys_redeem(client: httpx.AsyncClient, sim: Simulator, code: str, verifier: str) -> httpx.Response:
    return await client.post(
        f"{sim.base_url}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "client_id": sim.genesys_client_id,
            "redirect_uri": GENESYS_REDIRECT,
        },
    )


async def genesys_token(client: httpx.AsyncClient, sim: Simulator, user: SimUser | None = None) -> str:
    """The full PKCE flow with auto_approve (login_hint picks the user)."""
    verifier, challenge = pkce_pair()
    extra = {"login_hint": user.email} if user else {}
    code = await genesys_code(client, sim, challenge, **extra)
    response = await genesys_redeem(client, sim, code, verifier)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def graph_token(sim: Simulator, user: SimUser | None = None) -> str:
    """Shortcut: mint a Graph access token directly (the sign-in flow itself is tested separately)."""
    person = user or sim.state.people.default_user
    return sim.state.tokens.new_entra_access_token(person.ms_id, sim.ms_client_id, ("Presence.Read",)).token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ssl_context(sim: Simulator) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=sim.ca_path)


async def open_channel(
    client: httpx.AsyncClient, sim: Simulator, token: str, topics: list[str]
) -> tuple[dict[str, Any], ClientConnection]:
    created = await client.post(f"{sim.base_url}/api/v2/notifications/channels", headers=bearer(token))
    assert created.status_code == 200, created.text
    channel = created.json()
    subscribed = await client.put(
        f"{sim.base_url}/api/v2/notifications/channels/{channel['id']}/subscriptions",
        headers=bearer(token),
        json=[{"id": t} for t in topics],
    )
    assert subscribed.status_code == 200, subscribed.text
    ws = await connect(channel["connectUri"], ssl=ssl_context(sim))
    return channel, ws


async def next_message(ws: ClientConnection, *, skip_heartbeats: bool = True, timeout: float = 5.0) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            message: dict[str, Any] = json.loads(await ws.recv())
            if skip_heartbeats and message.get("eventBody", {}).get("message") == "WebSocket Heartbeat":
                continue
            return message


async def msal_app(sim: Simulator) -> Any:
    # requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override a session's ``verify`` (psf/requests#3829),
    # so MSAL's own ``verify=`` is not enough where those are set: give it a session that ignores them.
    session = requests.Session()
    session.trust_env = False
    session.verify = sim.ca_path
    return await anyio.to_thread.run_sync(
        lambda: msal.PublicClientApplication(
            sim.ms_client_id, authority=sim.authority, instance_discovery=False, http_client=session
        )
    )
