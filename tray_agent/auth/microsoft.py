"""Microsoft Entra ID sign-in with MSAL: a public client, the system browser on a loopback redirect.

MSAL is synchronous (it uses ``requests``), so its calls run in a worker thread. The access token
is cached here until shortly before it expires so a poll does not cost a thread hop; MSAL's own
``acquire_token_silent`` (which refreshes through its cache) is used whenever it does.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import msal
import requests

from tray_agent.auth.loopback import LoopbackRedirect, SignInFailed
from tray_agent.auth.tokens import BrowserOpener, SignInRequired, TokenStore
from tray_agent.clients.errors import Unreachable

log = logging.getLogger(__name__)

SERVICE = "Microsoft"
SCOPES = ["Presence.Read"]
CACHE_KEY = "msal-cache"
EXPIRY_MARGIN = 300.0

# Plain-language help for the AADSTS codes agents actually meet (reference §2.6–2.7, PresenceLight issues).
_AADSTS_HELP = {
    "AADSTS65001": (
        "your organisation requires an administrator to approve this app: ask IT to grant consent for Presence.Read"
    ),
    "AADSTS90094": "an administrator must approve this app: ask IT to grant consent for Presence.Read",
    "AADSTS50194": "this app is registered for one organisation only: ask IT for the right tenant ID",
    "AADSTS700016": "this app is not registered in your organisation: ask IT for the right client ID and tenant ID",
    "AADSTS90002": "the tenant was not found: ask IT for the right tenant ID",
    "AADSTS7000112": "this app has been disabled in your organisation: ask IT",
    "AADSTS65004": "sign-in was cancelled (consent was declined)",
}


def explain_aad_error(result: dict[str, Any]) -> str:
    description = str(result.get("error_description", ""))
    for code, help_text in _AADSTS_HELP.items():
        if code in description:
            return f"{help_text} ({code})"
    error = str(result.get("error", "unknown_error"))[:60]
    return f"Microsoft sign-in failed: {error}"


class _PinnedCASession(requests.Session):
    """A requests session whose explicit CA bundle is not replaced by ``REQUESTS_CA_BUNDLE``.

    requests lets the environment override ``Session.verify`` (psf/requests#3829); when we pin the
    simulator's CA, it must stay pinned. With ``verify=True`` the environment still applies, so a
    corporate TLS-inspection bundle configured that way keeps working.
    """

    def merge_environment_settings(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        settings: dict[str, Any] = super().merge_environment_settings(*args, **kwargs)
        if isinstance(self.verify, str):
            settings["verify"] = self.verify
        return settings


class MicrosoftAuth:
    service = SERVICE

    def __init__(
        self,
        *,
        authority: str,
        client_id: str,
        store: TokenStore,
        ca_file: str | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._now = now
        self._cache = msal.SerializableTokenCache()
        stored = store.load(CACHE_KEY)
        if stored:
            try:
                self._cache.deserialize(stored)
            except ValueError:
                log.warning("the stored Microsoft sign-in could not be read; signing in again will replace it")
        self._authority = authority
        self._client_id = client_id
        self._ca_file = ca_file
        self._app: msal.PublicClientApplication | None = None
        self._access: tuple[str, float] | None = None
        self._force_refresh = False  # set when Graph refused the token MSAL still believes valid

    @property
    def signed_in(self) -> bool:
        return any(True for _ in self._cache.search(msal.TokenCache.CredentialType.ACCOUNT))

    def _application(self) -> msal.PublicClientApplication:
        """Built on first use, in a worker thread: MSAL fetches the tenant's OpenID configuration here."""
        if self._app is None:
            session = _PinnedCASession()
            session.verify = self._ca_file or True
            try:
                self._app = msal.PublicClientApplication(
                    self._client_id,
                    authority=self._authority,
                    token_cache=self._cache,
                    http_client=session,
                    instance_discovery=urlparse(self._authority).hostname == "login.microsoftonline.com",
                    timeout=15,
                )
            except ValueError as error:  # MSAL's wording for a tenant that does not exist or answer
                raise Unreachable(
                    SERVICE, f"the tenant's sign-in configuration is unavailable ({error!s:.120})"
                ) from None
            except requests.RequestException as error:
                raise Unreachable(SERVICE, f"cannot reach Microsoft sign-in ({error.__class__.__name__})") from None
        return self._app

    @property
    def expires_at(self) -> float | None:
        return self._access[1] if self._access else None

    async def access_token(self) -> str:
        if self._access is not None and self._access[1] - EXPIRY_MARGIN > self._now():
            return self._access[0]
        try:
            result = await asyncio.to_thread(self._silent)
        except requests.RequestException as error:
            raise Unreachable(SERVICE, f"cannot reach Microsoft sign-in ({error.__class__.__name__})") from None
        if not result or "access_token" not in result:
            self._access = None
            raise SignInRequired(SERVICE, "the Microsoft sign-in has expired" if self.signed_in else "not signed in")
        self._remember(result)
        return str(result["access_token"])

    def _silent(self) -> dict[str, Any] | None:
        app = self._application()
        accounts = app.get_accounts()
        if not accounts:
            return None
        result: dict[str, Any] | None = app.acquire_token_silent(
            SCOPES, account=accounts[0], force_refresh=self._force_refresh
        )
        self._force_refresh = False
        self._persist()
        return result

    def invalidate(self) -> None:
        self._access = None
        self._force_refresh = True

    async def sign_in(self, browser: BrowserOpener, timeout: float = 120.0) -> None:
        listener = LoopbackRedirect(port=0, path="/", form_post=True)
        port = await listener.start()
        try:
            # Entra ignores the port of a loopback redirect, so an ephemeral one is fine (reference §2.6).
            app = await asyncio.to_thread(self._application)
            flow = await asyncio.to_thread(
                app.initiate_auth_code_flow,
                SCOPES,
                redirect_uri=f"http://localhost:{port}",
                prompt="select_account",
                response_mode="form_post",
            )
            listener.expect_state(flow["state"])
            await browser(flow["auth_uri"])
            answer = await listener.wait(timeout)
        finally:
            await listener.close()
        result = await asyncio.to_thread(app.acquire_token_by_auth_code_flow, flow, answer)
        if "access_token" not in result:
            raise SignInFailed(explain_aad_error(result))
        self._remember(result)
        self._persist()
        log.info("signed in to Microsoft")

    def _remember(self, result: dict[str, Any]) -> None:
        try:
            lifetime = float(result.get("expires_in", 0))
        except (TypeError, ValueError):
            lifetime = 0.0
        self._access = (str(result["access_token"]), self._now() + lifetime)

    def _persist(self) -> None:
        if self._cache.has_state_changed:
            self._store.save(CACHE_KEY, self._cache.serialize())
            self._cache.has_state_changed = False

    async def sign_out(self) -> None:
        if self.signed_in:
            app = await asyncio.to_thread(self._application)
            for account in app.get_accounts():
                app.remove_account(account)
        self._access = None
        self._store.delete(CACHE_KEY)
