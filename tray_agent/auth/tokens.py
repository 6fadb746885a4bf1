"""The seams between the engine and sign-in: token sources, token storage and the browser."""

from __future__ import annotations

import asyncio
import webbrowser
from collections.abc import Awaitable, Callable
from typing import Protocol

BrowserOpener = Callable[[str], Awaitable[None]]


class SignInRequired(Exception):
    """No usable token: the agent must sign in to ``service``."""

    def __init__(self, service: str, why: str = "sign-in required") -> None:
        self.service = service
        super().__init__(f"{service}: {why}")


class TokenSource(Protocol):
    service: str

    @property
    def signed_in(self) -> bool: ...

    @property
    def expires_at(self) -> float | None:
        """Engine-clock time the tray may warn about. Genesys: when the agent must sign in again (None
        while a refresh token can renew it). Microsoft: the current access token's expiry (MSAL renews it)."""
        ...

    async def access_token(self) -> str:
        """A valid access token, refreshed silently when possible; raises SignInRequired."""
        ...

    def invalidate(self) -> None:
        """The service answered 401 to the current token."""
        ...

    async def sign_in(self, browser: BrowserOpener, timeout: float) -> None: ...

    async def sign_out(self) -> None:
        """Forget the sign-in here (and revoke it where the service can); never raises for storage trouble."""
        ...


class TokenStore(Protocol):
    """Where a service's token material lives between runs: in production a
    :class:`~tray_agent.auth.storage.SealedTokenStore` (AES-GCM files, key in the OS keyring)."""

    def load(self, name: str) -> str | None: ...

    def save(self, name: str, value: str) -> None: ...

    def delete(self, name: str) -> None: ...


class MemoryTokenStore:
    """Keeps tokens for this process only (the demo, and tests of the flows themselves)."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def load(self, name: str) -> str | None:
        return self._values.get(name)

    def save(self, name: str, value: str) -> None:
        self._values[name] = value

    def delete(self, name: str) -> None:
        self._values.pop(name, None)


async def system_browser(url: str) -> None:
    """Open the agent's default browser (RFC 8252: no embedded web views)."""
    opened = await asyncio.to_thread(webbrowser.open, url, 2)
    if not opened:
        raise RuntimeError("no browser could be opened; use the device-code sign-in instead")
