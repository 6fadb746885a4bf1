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
import math
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from tray_agent.auth.identity import CHANGE_PERSON, EmailLookup, WrongPerson, check_same_email
from tray_agent.auth.loopback import LoopbackRedirect, SignInFailed
from tray_agent.auth.tokens import BrowserOpener, SignInRequired, TokenStore
from tray_agent.clients import bounded_json
from tray_agent.clients.errors import ServerError, Unreachable
from tray_agent.clients.failures import transport_failure

log = logging.getLogger(__name__)

SERVICE = "Genesys Cloud"
STORE_KEY = "genesys-token"
EXPIRY_MARGIN = 120.0  # treat a token as expired this long before it really is
VERIFIER_LENGTH = 128
# An OAuth client's token lifetime is 300-172,800 s (shared/reference/genesys-cloud.md §3.2); a little
# below and above is tolerated, anything else (1e308, negative) is a broken or hostile answer.
TOKEN_LIFETIME_RANGE = (1.0, 7 * 86400.0)


def token_lifetime(value: object) -> float | None:
    """``expires_in`` of a token answer: seconds, or None when absent or not a number (then the token is
    used until the API refuses it). Raises ValueError for a number outside :data:`TOKEN_LIFETIME_RANGE`."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    low, high = TOKEN_LIFETIME_RANGE
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"expires_in {value!r:.20} is not between {low:g} and {high:g} seconds")
    return float(value)


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge): a 128-character verifier from the unreserved alphabet."""
    verifier = secrets.token_urlsafe(96)[:VERIFIER_LENGTH]  # 96 random bytes = exactly 128 base64url characters
    return verifier, s256(verifier)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def explain_genesys_error(answer: dict[str, Any]) -> str:
    """The login service's OAuth error (redirect or token answer) in plain language, without secrets."""
    raw_error = answer.get("error", "")
    error = raw_error if isinstance(raw_error, str) and re.fullmatch(r"[A-Za-z0-9_. -]{1,64}", raw_error) else "unknown"
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
    # The description is matched above, never shown: a redirect's text could come from anyone.
    return f"Genesys Cloud did not complete the sign-in (error code: {error}); please try again, or tell IT"


@dataclass(frozen=True, slots=True)
class _Token:
    access_token: str  # "" once the API refused it: the person is still remembered, the token is not
    expires_at: float | None  # None: the server did not say; used until it answers 401
    refresh_token: str | None = None
    user_id: str = ""  # the Genesys user it was issued to (users/me): a new sign-in must be this user
    email: str = ""

    def dump(self) -> str:
        return json.dumps(
            {
                "access_token": self.access_token,
                "expires_at": self.expires_at,
                "refresh_token": self.refresh_token,
                "user_id": self.user_id,
                "email": self.email,
            }
        )

    @classmethod
    def parse(cls, text: str) -> _Token | None:
        try:
            data = bounded_json.loads(text)
            expires = data.get("expires_at")
            expires_at = float(expires) if expires is not None else None
            if expires_at is not None and not math.isfinite(expires_at):
                return None
            return cls(
                str(data["access_token"] or ""),
                expires_at,
                data.get("refresh_token") or None,
                str(data.get("user_id") or ""),
                str(data.get("email") or ""),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def fresh(self, now: float) -> bool:
        return bool(self.access_token) and (self.expires_at is None or self.expires_at - EXPIRY_MARGIN > now)


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
        microsoft_email: EmailLookup | None = None,
        allow_different_emails: bool = False,
    ) -> None:
        """``microsoft_email`` gives the user name (UPN) this computer is signed in to Microsoft with
        (None when not signed in there): a new Genesys sign-in must be for that address unless
        ``allow_different_emails`` (IT policy)."""
        self._microsoft_email = microsoft_email or (lambda: None)
        self._allow_different_emails = allow_different_emails
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
        return (
            token is not None and bool(token.access_token) and (token.fresh(self._now()) or bool(token.refresh_token))
        )

    @property
    def user_id(self) -> str | None:
        """The Genesys user this computer signed in as (kept until sign-out, also once the token expired)."""
        return self._token.user_id or None if self._token else None

    @property
    def email(self) -> str | None:
        """That user's email address, as ``users/me`` gave it."""
        return self._token.email or None if self._token else None

    @property
    def expires_at(self) -> float | None:
        """When the agent must sign in again (engine clock); None when not signed in or silently renewable."""
        token = self._token
        if token is None or not token.access_token or token.refresh_token:
            return None
        return token.expires_at

    @property
    def access_expires_at(self) -> float | None:
        """When the current access token expires (engine clock), refresh token or not."""
        return self._token.expires_at if self._token and self._token.access_token else None

    async def access_token(self) -> str:
        token = self._token
        if token is None or not token.access_token:
            raise SignInRequired(SERVICE, "not signed in")
        if token.fresh(self._now()):
            return token.access_token
        if token.refresh_token:
            # A public client identifies itself with client_id on every token request (RFC 6749 §3.2.1).
            form = {"grant_type": "refresh_token", "refresh_token": token.refresh_token, "client_id": self._client_id}
            return await self._redeem(form)
        raise SignInRequired(SERVICE, "the Genesys sign-in has expired")

    def invalidate(self) -> None:
        """The API answered 401: the token is expired or revoked, so it is forgotten. Who it belonged to
        is kept (only a sign-out forgets the person), so the next sign-in must be the same user."""
        token, self._token = self._token, None
        try:
            if token is not None and token.user_id:
                self._token = _Token("", None, None, token.user_id, token.email)
                self._store.save(STORE_KEY, self._token.dump())
            else:
                self._store.delete(STORE_KEY)
        except Exception as error:
            log.warning("could not update the saved Genesys sign-in: %s", error)

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
            await browser(listener.start_link(self.authorize_url(challenge, state)))
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
            token = await self._exchange(form)
            try:
                token = await self._bound_to_the_expected_person(token)
            except SignInFailed:
                await self._revoke(token.access_token)  # not ours to keep, nor to leave valid
                raise
        except (Unreachable, ServerError) as error:
            raise SignInFailed(f"could not finish the Genesys Cloud sign-in: {error}") from None
        self._token = token
        self._save(explicit=True)
        log.info("signed in to Genesys Cloud")

    async def _bound_to_the_expected_person(self, token: _Token) -> _Token:
        """``token`` with its user (``users/me``), if that is the remembered user and has the Microsoft
        account's address; raises :class:`WrongPerson` otherwise (and nothing is kept)."""
        try:
            response = await self._http.get(
                f"{self._api}/api/v2/users/me", headers={"Authorization": f"Bearer {token.access_token}"}
            )
        except httpx.HTTPError as error:
            raise Unreachable(SERVICE, f"could not check who signed in ({error.__class__.__name__})") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise ServerError(SERVICE, "users/me is unavailable", status=response.status_code)
        try:
            body = bounded_json.loads(response.content) if response.status_code == 200 else None
        except ValueError:
            body = None
        user_id = body.get("id") if isinstance(body, dict) else None
        email = body.get("email") if isinstance(body, dict) else None
        if not isinstance(user_id, str) or not user_id:
            raise SignInFailed("Genesys Cloud did not say who signed in (users/me), so the sign-in was not kept")
        remembered = self._token.user_id if self._token else ""
        if remembered and user_id != remembered:
            shown = f" as {self._token.email}" if self._token and self._token.email else ""
            raise WrongPerson(
                f"this computer is signed in to Genesys Cloud{shown}, and the sign-in was for a different user, "
                f"so it was refused and nothing changed. {CHANGE_PERSON}"
            )
        address = email if isinstance(email, str) else ""
        if not self._allow_different_emails:
            check_same_email("Genesys Cloud", address, "Microsoft", self._microsoft_email())
        return _Token(token.access_token, token.expires_at, token.refresh_token, user_id, address)

    async def _redeem(self, form: dict[str, str]) -> str:
        """Exchange a refresh token; stores and returns the new access token (same user)."""
        token = await self._exchange(form)
        previous = self._token
        if previous is not None:
            token = _Token(token.access_token, token.expires_at, token.refresh_token, previous.user_id, previous.email)
        self._token = token
        self._save(explicit=False)
        return token.access_token

    async def _exchange(self, form: dict[str, str]) -> _Token:
        """Exchange a code or refresh token at the token endpoint; keeps nothing.

        Raises SignInFailed (code refused), SignInRequired (refresh refused), Unreachable or ServerError.
        """
        refreshing = form["grant_type"] == "refresh_token"
        issued_at = self._now()  # before the request: the token cannot live longer than expires_in from here
        try:
            response = await self._http.post(f"{self._login}/oauth/token", data=form)
        except httpx.HTTPError as error:
            raise transport_failure(SERVICE, error, httpx.URL(self._login).host) from None
        try:
            body = bounded_json.loads(response.content)
        except ValueError:  # not JSON, or too large / too deep / NaN
            body = None
        if response.status_code >= 500 or response.status_code == 429:
            raise ServerError(SERVICE, "the login service is unavailable", status=response.status_code)
        if response.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            answer = body if isinstance(body, dict) else {"error": f"HTTP {response.status_code}"}
            if refreshing:
                self.invalidate()
                raise SignInRequired(SERVICE, "the Genesys sign-in could not be renewed")
            raise SignInFailed(explain_genesys_error(answer))
        try:
            lifetime = token_lifetime(body.get("expires_in"))
        except ValueError as error:
            log.warning("Genesys Cloud's token answer was refused: %s", error)
            if refreshing:
                raise SignInRequired(SERVICE, "the Genesys sign-in could not be renewed (unusable answer)") from None
            raise SignInFailed(f"Genesys Cloud's sign-in answer could not be used ({error})") from None
        expires_at = issued_at + lifetime if lifetime is not None else None
        refresh = body.get("refresh_token")
        renewal = refresh if isinstance(refresh, str) and refresh else None
        return _Token(body["access_token"], expires_at, renewal)

    def _save(self, *, explicit: bool) -> None:
        if self._token is None:
            return
        try:
            self._store.save(STORE_KEY, self._token.dump())
        except Exception as error:
            if explicit:
                raise SignInFailed(f"signed in, but the sign-in could not be saved: {error}") from None
            log.warning("the renewed Genesys sign-in could not be saved (%s); it lasts until the agent quits", error)

    @staticmethod
    def forget(store: TokenStore) -> bool:
        """Remove the Genesys sign-in saved in ``store`` without revoking it; True when there was one.
        Needs no settings and no network (for when there are too few settings to build a
        :class:`GenesysAuth` and :meth:`revoke_and_forget`). Storage trouble is raised (TokenStorageError)."""
        had = store.load(STORE_KEY) is not None
        store.delete(STORE_KEY)
        return had

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
            return await self._revoke(token.access_token) if token is not None and token.access_token else True
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


def remembered_email(store: TokenStore) -> str | None:
    """The email of the Genesys user whose sign-in ``store`` keeps (None if none): for the Microsoft side."""
    stored = store.load(STORE_KEY)
    token = _Token.parse(stored) if stored else None
    return token.email or None if token else None
