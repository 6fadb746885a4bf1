"""Genesys Cloud sign-in: Authorization Code + PKCE (S256) on a loopback redirect, no client secret.

The official SDKs read only ``access_token``/``expires_in`` from a PKCE token answer and have no PKCE
refresh path, so when the token expires the agent signs in again; a ``refresh_token`` is used only if
the server sends one (shared/reference/genesys-cloud.md §3.2).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from tray_agent.auth.loopback import LoopbackRedirect, SignInFailed
from tray_agent.auth.tokens import BrowserOpener, SignInRequired, TokenStore

log = logging.getLogger(__name__)

SERVICE = "Genesys Cloud"
STORE_KEY = "genesys-token"
EXPIRY_MARGIN = 120.0  # treat a token as expired this long before it really is


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge): a 128-character verifier from the unreserved alphabet."""
    verifier = secrets.token_urlsafe(96)[:128]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class _Token:
    access_token: str
    expires_at: float
    refresh_token: str | None = None

    def dump(self) -> str:
        return json.dumps(
            {"access_token": self.access_token, "expires_at": self.expires_at, "refresh_token": self.refresh_token}
        )

    @classmethod
    def parse(cls, text: str) -> _Token | None:
        try:
            data = json.loads(text)
            return cls(str(data["access_token"]), float(data["expires_at"]), data.get("refresh_token") or None)
        except (ValueError, KeyError, TypeError):
            return None


class GenesysAuth:
    service = SERVICE

    def __init__(
        self,
        *,
        login_base_url: str,
        api_base_url: str,
        client_id: str,
        redirect_port: int,
        http: httpx.AsyncClient,
        store: TokenStore,
        now: Callable[[], float] = time.time,
        redirect_path: str = "/callback",
    ) -> None:
        self._login = login_base_url.rstrip("/")
        self._api = api_base_url.rstrip("/")
        self._client_id = client_id
        self._port = redirect_port
        self._path = redirect_path
        self._http = http
        self._store = store
        self._now = now
        stored = store.load(STORE_KEY)
        self._token = _Token.parse(stored) if stored else None

    @property
    def redirect_uri(self) -> str:
        return f"http://localhost:{self._port}{self._path}"

    @property
    def signed_in(self) -> bool:
        return self._token is not None and (self._token.expires_at > self._now() or bool(self._token.refresh_token))

    @property
    def expires_at(self) -> float | None:
        return self._token.expires_at if self._token else None

    async def access_token(self) -> str:
        token = self._token
        if token is None:
            raise SignInRequired(SERVICE, "not signed in")
        if token.expires_at - EXPIRY_MARGIN > self._now():
            return token.access_token
        if token.refresh_token:
            return await self._redeem({"grant_type": "refresh_token", "refresh_token": token.refresh_token})
        raise SignInRequired(SERVICE, "the Genesys sign-in has expired")

    def invalidate(self) -> None:
        self._token = None
        self._store.delete(STORE_KEY)

    async def sign_in(self, browser: BrowserOpener, timeout: float = 120.0) -> None:
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(32)
        listener = LoopbackRedirect(port=self._port, path=self._path, expected_state=state)
        await listener.start()
        try:
            query = urlencode(
                {
                    "client_id": self._client_id,
                    "response_type": "code",
                    "redirect_uri": self.redirect_uri,
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                    "state": state,
                }
            )
            await browser(f"{self._login}/oauth/authorize?{query}")
            answer = await listener.wait(timeout)
        finally:
            await listener.close()
        await self._redeem(
            {
                "grant_type": "authorization_code",
                "code": answer["code"],
                "code_verifier": verifier,
                "client_id": self._client_id,
                "redirect_uri": self.redirect_uri,
            }
        )
        log.info("signed in to Genesys Cloud")

    async def _redeem(self, form: dict[str, str]) -> str:
        """Exchange a code or refresh token; stores and returns the new access token."""
        try:
            response = await self._http.post(f"{self._login}/oauth/token", data=form)
        except httpx.HTTPError as error:
            raise SignInFailed(f"could not reach the Genesys login service ({error.__class__.__name__})") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            code = body.get("error", "") if isinstance(body, dict) else ""
            if form["grant_type"] == "refresh_token":
                self.invalidate()
                raise SignInRequired(SERVICE, "the Genesys sign-in could not be renewed")
            raise SignInFailed(f"Genesys refused the sign-in ({response.status_code} {str(code)[:60]})".rstrip())
        try:
            lifetime = float(body.get("expires_in", 0))
        except (TypeError, ValueError):
            lifetime = 0.0
        refresh = body.get("refresh_token")
        self._token = _Token(
            body["access_token"], self._now() + max(lifetime, 0.0), refresh if isinstance(refresh, str) else None
        )
        self._store.save(STORE_KEY, self._token.dump())
        return self._token.access_token

    async def sign_out(self) -> None:
        """Revoke the token server-side when we can (``DELETE /api/v2/tokens/me``), then forget it."""
        token, self._token = self._token, None
        self._store.delete(STORE_KEY)
        if token is not None:
            try:
                await self._http.delete(
                    f"{self._api}/api/v2/tokens/me",
                    headers={"Authorization": f"Bearer {token.access_token}"},
                )
            except httpx.HTTPError:
                log.warning("could not revoke the Genesys token (offline?); it was forgotten locally")
