"""Genesys Cloud sign-in: Authorization Code + PKCE (S256) on a loopback redirect, no client secret.

- RFC 7636: a fresh 128-character verifier from the unreserved alphabet and its S256 challenge per
  attempt; RFC 6749 §10.12: a fresh 256-bit ``state``, checked in constant time by the listener.
- RFC 8252 §7.3: the redirect goes to a single-use listener on 127.0.0.1 at the port registered for
  the OAuth client (``genesys_redirect_port``); it closes after one answer or the timeout.
- The official SDKs read only ``access_token``/``expires_in`` from a PKCE token answer and have no
  PKCE refresh path, so when the token expires the agent signs in again; a ``refresh_token`` is used
  only if the server sends one (shared/reference/genesys-cloud.md §3.2).
- :attr:`GenesysAuth.expires_at` is when the agent will have to sign in again (the access token's
  expiry, measured from *before* the token request), or None while a refresh token can renew it.
- Sign-out revokes the token server-side (``DELETE /api/v2/tokens/me``) and forgets it locally.
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
from typing import Any
from urllib.parse import urlencode

import httpx

from tray_agent.auth.loopback import LoopbackRedirect, SignInFailed
from tray_agent.auth.tokens import BrowserOpener, SignInRequired, TokenStore
from tray_agent.clients.errors import ServerError, Unreachable
from tray_agent.clients.failures import transport_failure

log = logging.getLogger(__name__)

SERVICE = "Genesys Cloud"
STORE_KEY = "genesys-token"
EXPIRY_MARGIN = 120.0  # treat a token as expired this long before it really is
VERIFIER_LENGTH = 128


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge): a 128-character verifier from the unreserved alphabet."""
    verifier = secrets.token_urlsafe(96)[:VERIFIER_LENGTH]  # 96 random bytes = exactly 128 base64url characters
    return verifier, s256(verifier)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def explain_genesys_error(answer: dict[str, Any]) -> str:
    """The login service's OAuth error (redirect or token answer) in plain language, without secrets."""
    error = str(answer.get("error", ""))[:64]
    description = str(answer.get("error_description") or answer.get("description") or "")[:160]
    lowered = description.lower()
    if error == "access_denied":
        return "the Genesys Cloud sign-in was cancelled or access was denied"
    if error == "invalid_grant":
        if "verifier" in lowered:
            why = "the proof key (PKCE code_verifier) did not match this app's request"
        elif "already" in lowered or "used" in lowered:
            why = "the sign-in code was already used"
        elif "expired" in lowered:
            why = "the sign-in code expired"
        elif "redirect" in lowered:
            why = "the redirect address did not match"
        else:
            why = "the sign-in code was not accepted"
        return f"Genesys Cloud refused the sign-in: {why}. Please sign in again."
    if error in ("invalid_client", "unauthorized_client"):
        return "Genesys Cloud does not know this app's OAuth client: ask IT for the right genesys_client_id and region"
    if error == "invalid_request" and "verifier" in lowered:
        return "Genesys Cloud refused the sign-in: the proof key (PKCE code_verifier) was malformed"
    detail = f" ({description})" if description else ""
    return f"Genesys Cloud refused the sign-in: {error or 'unknown error'}{detail}"


@dataclass(frozen=True, slots=True)
class _Token:
    access_token: str
    expires_at: float | None  # None: the server did not say; used until it answers 401
    refresh_token: str | None = None

    def dump(self) -> str:
        return json.dumps(
            {"access_token": self.access_token, "expires_at": self.expires_at, "refresh_token": self.refresh_token}
        )

    @classmethod
    def parse(cls, text: str) -> _Token | None:
        try:
            data = json.loads(text)
            expires = data.get("expires_at")
            return cls(
                str(data["access_token"]),
                float(expires) if expires is not None else None,
                data.get("refresh_token") or None,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def fresh(self, now: float) -> bool:
        return self.expires_at is None or self.expires_at - EXPIRY_MARGIN > now


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
        self._token: _Token | None = None
        try:
            stored = store.load(STORE_KEY)
        except Exception as error:  # a locked keyring must not stop the agent: it shows "sign in" instead
            log.warning("could not read the saved Genesys sign-in: %s", error)
            stored = None
        if stored:
            self._token = _Token.parse(stored)

    @property
    def redirect_uri(self) -> str:
        return f"http://localhost:{self._port}{self._path}"

    @property
    def signed_in(self) -> bool:
        token = self._token
        return token is not None and (token.fresh(self._now()) or bool(token.refresh_token))

    @property
    def expires_at(self) -> float | None:
        """When the agent must sign in again (engine clock); None when not signed in or silently renewable."""
        token = self._token
        if token is None or token.refresh_token:
            return None
        return token.expires_at

    @property
    def access_expires_at(self) -> float | None:
        """When the current access token expires (engine clock), refresh token or not."""
        return self._token.expires_at if self._token else None

    async def access_token(self) -> str:
        token = self._token
        if token is None:
            raise SignInRequired(SERVICE, "not signed in")
        if token.fresh(self._now()):
            return token.access_token
        if token.refresh_token:
            # A public client identifies itself with client_id on every token request (RFC 6749 §3.2.1).
            form = {"grant_type": "refresh_token", "refresh_token": token.refresh_token, "client_id": self._client_id}
            return await self._redeem(form)
        raise SignInRequired(SERVICE, "the Genesys sign-in has expired")

    def invalidate(self) -> None:
        """The API answered 401: the token is expired or revoked, so it is forgotten."""
        self._token = None
        try:
            self._store.delete(STORE_KEY)
        except Exception as error:
            log.warning("could not remove the saved Genesys sign-in: %s", error)

    def authorize_url(self, challenge: str, state: str) -> str:
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
        return f"{self._login}/oauth/authorize?{query}"

    async def sign_in(self, browser: BrowserOpener, timeout: float = 120.0) -> None:
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(32)
        listener = LoopbackRedirect(
            port=self._port, path=self._path, expected_state=state, explain_error=explain_genesys_error
        )
        await listener.start()
        try:
            await browser(self.authorize_url(challenge, state))
            answer = await listener.wait(timeout)
        finally:
            await listener.close()
        form = {
            "grant_type": "authorization_code",
            "code": answer["code"],
            "code_verifier": verifier,
            "client_id": self._client_id,
            "redirect_uri": self.redirect_uri,
        }
        try:
            await self._redeem(form)
        except (Unreachable, ServerError) as error:
            raise SignInFailed(f"could not finish the Genesys Cloud sign-in: {error}") from None
        log.info("signed in to Genesys Cloud")

    async def _redeem(self, form: dict[str, str]) -> str:
        """Exchange a code or refresh token; stores and returns the new access token.

        Raises SignInFailed (code refused), SignInRequired (refresh refused), Unreachable or ServerError.
        """
        refreshing = form["grant_type"] == "refresh_token"
        issued_at = self._now()  # before the request: the token cannot live longer than expires_in from here
        try:
            response = await self._http.post(f"{self._login}/oauth/token", data=form)
        except httpx.HTTPError as error:
            raise transport_failure(SERVICE, error, httpx.URL(self._login).host) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 500 or response.status_code == 429:
            raise ServerError(SERVICE, "the login service is unavailable", status=response.status_code)
        if response.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            answer = body if isinstance(body, dict) else {"error": f"HTTP {response.status_code}"}
            if refreshing:
                self.invalidate()
                raise SignInRequired(SERVICE, "the Genesys sign-in could not be renewed")
            raise SignInFailed(explain_genesys_error(answer))
        lifetime = body.get("expires_in")
        expires_at = (
            issued_at + max(float(lifetime), 0.0)
            if isinstance(lifetime, int | float) and not isinstance(lifetime, bool)
            else None
        )
        refresh = body.get("refresh_token")
        renewal = refresh if isinstance(refresh, str) and refresh else None
        self._token = _Token(body["access_token"], expires_at, renewal)
        self._save(explicit=not refreshing)
        return self._token.access_token

    def _save(self, *, explicit: bool) -> None:
        if self._token is None:
            return
        try:
            self._store.save(STORE_KEY, self._token.dump())
        except Exception as error:
            if explicit:
                raise SignInFailed(f"signed in, but the sign-in could not be saved: {error}") from None
            log.warning("the renewed Genesys sign-in could not be saved (%s); it lasts until the agent quits", error)

    async def sign_out(self, *, strict: bool = False) -> None:
        """Revoke and forget; storage trouble is logged, or raised with ``strict`` (the CLI)."""
        try:
            await self.revoke_and_forget()
        except Exception as error:
            if strict:
                raise
            log.warning("the saved Genesys sign-in could not be removed: %s", error)

    async def revoke_and_forget(self) -> bool:
        """Revoke the token server-side (``DELETE /api/v2/tokens/me``) and forget it here.

        True when Genesys confirmed it (or already considered the token dead); False when it could
        not be reached — the token is forgotten locally either way. Raises TokenStorageError when the
        saved copy cannot be removed.
        """
        token, self._token = self._token, None
        try:
            return await self._revoke(token.access_token) if token is not None else True
        finally:
            self._store.delete(STORE_KEY)

    async def _revoke(self, access_token: str) -> bool:
        try:
            response = await self._http.delete(
                f"{self._api}/api/v2/tokens/me", headers={"Authorization": f"Bearer {access_token}"}
            )
        except httpx.HTTPError as error:
            log.warning("could not revoke the Genesys token (%s); it was forgotten locally", error.__class__.__name__)
            return False
        if response.is_success or response.status_code == 401:
            log.info("Genesys Cloud token revoked")
            return True
        log.warning("Genesys answered %s to the token revocation; it was forgotten locally", response.status_code)
        return False
