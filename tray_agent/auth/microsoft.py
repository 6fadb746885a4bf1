"""Microsoft Entra ID sign-in with MSAL: a public client for one tenant, delegated ``Presence.Read``.

Following MSAL's guidance for desktop apps:

- one long-lived ``PublicClientApplication`` for a tenant-specific authority (a single-tenant app
  registration fails on ``/common`` with AADSTS50194), sharing one serializable token cache that is
  persisted through the :class:`TokenStore` (sealed with a key in the OS keyring);
- ``acquire_token_silent`` on every use (MSAL answers from its cache or refreshes with its refresh
  token); a Graph 401 forces one refresh;
- sign-in tries silent first, then the system browser (RFC 8252: never an embedded web view) on a
  single-use loopback listener with ``response_mode=form_post`` and a timeout, or — where no browser
  can reach this computer — the device-code flow (``initiate_device_flow`` → show ``flow["message"]``
  → ``acquire_token_by_device_flow``, abortable);
- optionally the Windows broker (WAM): ``enable_broker_on_windows=True`` plus a parent window handle,
  Windows only, needs ``msal[broker]`` and the ``ms-appx-web://Microsoft.AAD.BrokerPlugin/{client_id}``
  redirect URI registered; switched on by the ``windows_broker`` setting (or IT policy ``WindowsBroker``),
  ignored elsewhere (not testable on Linux).

MSAL is synchronous (it uses ``requests``), so its calls run in worker threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlparse

import msal
import requests

from tray_agent.auth.loopback import LoopbackRedirect, SignInFailed
from tray_agent.auth.tokens import BrowserOpener, SignInRequired, TokenStore
from tray_agent.clients.errors import NoAnswer, Unreachable
from tray_agent.clients.failures import is_timeout, transport_failure
from tray_agent.clients.requests_session import BoundedSession
from tray_agent.clients.threads import DeadlineExceeded, call_in_daemon_thread
from tray_agent.settings import SettingsError

log = logging.getLogger(__name__)

SERVICE = "Microsoft"
SCOPES = ["Presence.Read"]
CACHE_KEY = "msal-cache"
_MULTI_TENANT = {"", "common", "organizations", "consumers"}

# Plain-language help for the AADSTS codes agents actually meet (reference §2.6–2.7, PresenceLight issues).
_AADSTS_HELP = {
    "AADSTS65001": (
        "your organisation requires an administrator to approve this app: ask IT to grant consent for Presence.Read"
    ),
    "AADSTS90094": "an administrator must approve this app: ask IT to grant consent for Presence.Read",
    "AADSTS50194": "this app is registered for one organisation only: ask IT for the right tenant ID",
    "AADSTS700016": "this app is not registered in your organisation: ask IT for the right client ID and tenant ID",
    "AADSTS90002": "the tenant was not found: ask IT for the right tenant ID",
    "AADSTS900023": "the tenant ID is not valid: ask IT for the right tenant ID",
    "AADSTS50020": "your account is not part of this organisation's tenant: use your work account, or ask IT",
    "AADSTS7000112": "this app has been disabled in your organisation: ask IT",
    "AADSTS53003": "your organisation's Conditional Access policy blocked this sign-in: ask IT",
    "AADSTS65004": "sign-in was cancelled (consent was declined)",
    "AADSTS54005": "the sign-in code was already used: please sign in again",
    "AADSTS70008": "the sign-in code expired: please sign in again",
    "AADSTS501481": "the proof key (PKCE code_verifier) did not match this app's request: please sign in again",
}
_ERROR_HELP = {
    "access_denied": "the Microsoft sign-in was cancelled or access was denied",
    "authorization_declined": "the Microsoft sign-in was declined",
    "expired_token": "the sign-in code expired before the sign-in finished: please try again",
}


def explain_aad_error(result: Mapping[str, Any]) -> str:
    """An Entra error answer (redirect, token endpoint or discovery) in plain language, with its code."""
    description = str(result.get("error_description", ""))
    for code, help_text in _AADSTS_HELP.items():
        if f"{code}:" in description or description.startswith(code):
            return f"{help_text} ({code})"
    error = str(result.get("error", "unknown_error"))[:60]
    if error in _ERROR_HELP:
        return _ERROR_HELP[error]
    return f"Microsoft sign-in failed: {error}"


DEADLINE = 30.0  # seconds for one msal call that needs the network (discovery, token redemption, refresh)


def network_failure(error: BaseException, host: str) -> Unreachable:
    """A failed msal call in words: no answer, an untrusted certificate, a 407 proxy, or unreachable."""
    if isinstance(error, DeadlineExceeded) or is_timeout(error):
        return NoAnswer(SERVICE, f"Microsoft sign-in did not answer ({host} stayed silent); check the network or proxy")
    failure = transport_failure(SERVICE, error, host)
    if type(failure) is Unreachable:
        return Unreachable(SERVICE, f"cannot reach Microsoft sign-in ({error.__class__.__name__})")
    return failure


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
        windows_broker: bool = False,
        parent_window_handle: int | None = None,
        proxy_for: Callable[[str], str | None] | None = None,
        deadline: float = DEADLINE,
    ) -> None:
        tenant = urlparse(authority).path.strip("/").split("/")[-1] if authority else ""
        if tenant.lower() in _MULTI_TENANT:
            raise SettingsError("tenant_id must be your organisation's Microsoft Entra tenant ID (ask IT)")
        self._store = store
        self._now = now
        self._authority = authority
        self._client_id = client_id
        self._ca_file = ca_file
        self._proxy_for = proxy_for
        self._deadline = deadline
        self._host = urlparse(authority).hostname or "Microsoft sign-in"
        self._cache = msal.SerializableTokenCache()
        try:
            stored = store.load(CACHE_KEY)
        except Exception as error:  # a locked keyring must not stop the agent: it shows "sign in" instead
            log.warning("could not read the saved Microsoft sign-in: %s", error)
            stored = None
        if stored:
            try:
                self._cache.deserialize(stored)
            except ValueError:
                log.warning("the saved Microsoft sign-in could not be read; signing in again will replace it")
        self._broker = windows_broker and sys.platform == "win32"
        self._parent_window = parent_window_handle
        self._app: msal.PublicClientApplication | None = None
        self._access: tuple[str, float] | None = None
        self._force_refresh = False  # set when Graph refused the token MSAL still believes valid
        self._refused = False  # Graph refused a token since the last interactive sign-in

    # --- state ---------------------------------------------------------------------------------

    @property
    def signed_in(self) -> bool:
        return any(True for _ in self._cache.search(msal.TokenCache.CredentialType.ACCOUNT))

    @property
    def account_name(self) -> str | None:
        """The remembered account's user name (UPN), if any."""
        for account in self._cache.search(msal.TokenCache.CredentialType.ACCOUNT):
            name = account.get("username")
            if isinstance(name, str) and name:
                return name
        return None

    @property
    def expires_at(self) -> float | None:
        """When the access token last handed out expires (engine clock); MSAL renews it silently."""
        return self._access[1] if self._access else None

    @property
    def uses_broker(self) -> bool:
        return self._broker

    def _application(self) -> msal.PublicClientApplication:
        """Built on first use, in a worker thread: MSAL fetches the tenant's OpenID configuration here."""
        if self._app is None:
            session = BoundedSession(self._ca_file, self._proxy_for)
            options: dict[str, Any] = {}
            if self._broker:
                options["enable_broker_on_windows"] = True
            try:
                self._app = msal.PublicClientApplication(
                    self._client_id,
                    authority=self._authority,
                    token_cache=self._cache,
                    http_client=session,
                    instance_discovery=urlparse(self._authority).hostname == "login.microsoftonline.com",
                    timeout=15,
                    **options,
                )
            except ValueError:  # MSAL's wording for a tenant whose configuration it could not get
                raise SignInFailed(self._tenant_problem(session)) from None
            except requests.RequestException as error:
                raise network_failure(error, self._host) from None
        return self._app

    def _tenant_problem(self, session: requests.Session) -> str:
        """Why the tenant's OpenID configuration is unavailable, in the service's own words (AADSTS…)."""
        try:
            answer = session.get(f"{self._authority}/v2.0/.well-known/openid-configuration", timeout=15)
            body = answer.json()
        except (requests.RequestException, ValueError):
            return "the tenant's sign-in configuration is unavailable: check tenant_id in the settings, or ask IT"
        if isinstance(body, dict) and "error" in body:
            return explain_aad_error(body)
        return "the tenant's sign-in configuration is unavailable: check tenant_id in the settings, or ask IT"

    # --- tokens --------------------------------------------------------------------------------

    async def access_token(self) -> str:
        asked_at = self._now()
        try:
            result = await call_in_daemon_thread(self._silent, deadline=self._deadline)
        except (requests.RequestException, DeadlineExceeded) as error:
            raise network_failure(error, self._host) from None
        except SignInFailed as error:  # the tenant itself is wrong: nothing to retry until it is fixed
            raise SignInRequired(SERVICE, str(error)) from None
        if not result or "access_token" not in result:
            self._access = None
            raise SignInRequired(SERVICE, "the Microsoft sign-in has expired" if self.signed_in else "not signed in")
        self._remember(result, asked_at)
        return str(result["access_token"])

    def _silent(self) -> dict[str, Any] | None:
        if not self.signed_in:
            return None
        app = self._application()
        accounts = app.get_accounts()
        if not accounts:
            return None
        force, self._force_refresh = self._force_refresh, False
        result: dict[str, Any] | None = app.acquire_token_silent(SCOPES, account=accounts[0], force_refresh=force)
        self._persist(explicit=False)
        return result

    def invalidate(self) -> None:
        self._access = None
        self._force_refresh = True
        self._refused = True

    # --- sign-in -------------------------------------------------------------------------------

    async def sign_in(self, browser: BrowserOpener, timeout: float = 120.0) -> None:
        """Silent first (unless Graph refused our last token), then the broker or the system browser."""
        if not self._refused and await self._try_silent():
            log.info("signed in to Microsoft (silently, from the saved sign-in)")
            return
        asked_at = self._now()
        app = await self._bounded(self._application)
        if self._broker:
            try:
                result = await call_in_daemon_thread(self._interactive_via_broker, app, deadline=timeout)
            except TimeoutError:
                raise SignInFailed(f"the Windows sign-in window was not completed within {timeout:g} s") from None
        else:
            result = await self._interactive_via_browser(app, browser, timeout)
        self._finish(app, result, asked_at)
        log.info("signed in to Microsoft")

    async def _try_silent(self) -> bool:
        if not self.signed_in:
            return False
        with contextlib.suppress(SignInRequired, Unreachable):
            await self.access_token()
            return True
        return False

    def _interactive_via_broker(self, app: msal.PublicClientApplication) -> dict[str, Any]:  # Windows only
        result: dict[str, Any] = app.acquire_token_interactive(
            SCOPES,
            prompt="select_account",
            login_hint=self.account_name,
            parent_window_handle=self._parent_window or msal.PublicClientApplication.CONSOLE_WINDOW_HANDLE,
        )
        return result

    async def _interactive_via_browser(
        self, app: msal.PublicClientApplication, browser: BrowserOpener, timeout: float
    ) -> dict[str, Any]:
        listener = LoopbackRedirect(port=0, path="/", form_post=True, explain_error=explain_aad_error)
        port = await listener.start()
        try:
            # Entra ignores the port of a loopback redirect, so an ephemeral one is fine (reference §2.6).
            flow = await self._bounded(
                lambda: app.initiate_auth_code_flow(
                    SCOPES,
                    redirect_uri=f"http://localhost:{port}",
                    prompt="select_account",
                    login_hint=self.account_name,
                    response_mode="form_post",
                )
            )
            listener.expect_state(flow["state"])
            await browser(flow["auth_uri"])
            answer = await listener.wait(timeout)
        finally:
            await listener.close()
        try:
            result: dict[str, Any] = await self._bounded(app.acquire_token_by_auth_code_flow, flow, answer)
        except ValueError:  # MSAL's own state/nonce checks
            raise SignInFailed("the sign-in answer did not match this app's request; please try again") from None
        return result

    async def _bounded(self, function: Callable[..., Any], *args: Any) -> Any:
        """One msal call that needs the network, in a daemon thread, within the deadline.

        A silent server, a proxy asking for a sign-in, or an untrusted certificate becomes an
        :class:`Unreachable` that says so (a stuck thread never keeps the agent from quitting).
        """
        try:
            return await call_in_daemon_thread(function, *args, deadline=self._deadline)
        except (requests.RequestException, DeadlineExceeded) as error:
            raise network_failure(error, self._host) from None

    async def sign_in_with_device_code(self, show: Callable[[str], None], timeout: float = 900.0) -> None:
        """For a computer whose browser cannot reach this one: the agent enters a code on another device.

        ``show`` gets MSAL's message (the address and the code). Cancelling the task or reaching
        ``timeout`` stops the polling at once (MSAL checks ``flow["expires_at"]`` every second).
        Needs "Allow public client flows" on the app registration.
        """
        asked_at = self._now()
        app = await self._bounded(self._application)
        flow: dict[str, Any] = await self._bounded(app.initiate_device_flow, SCOPES)
        if "user_code" not in flow:
            raise SignInFailed(explain_aad_error(flow))
        show(str(flow.get("message") or f"Open {flow.get('verification_uri')} and enter {flow['user_code']}"))
        polling = asyncio.ensure_future(call_in_daemon_thread(app.acquire_token_by_device_flow, flow))
        polling.add_done_callback(lambda task: task.cancelled() or task.exception())  # never "not retrieved"
        try:
            result: dict[str, Any] = await asyncio.wait_for(asyncio.shield(polling), timeout)
        except TimeoutError:
            raise SignInFailed(f"the code was not entered within {timeout:g} s; please try again") from None
        except requests.RequestException as error:
            raise network_failure(error, self._host) from None
        finally:
            flow["expires_at"] = 0  # stops MSAL's polling loop within a second if it is still running
        self._finish(app, result, asked_at)
        log.info("signed in to Microsoft (device code)")

    def _finish(self, app: msal.PublicClientApplication, result: dict[str, Any], asked_at: float) -> None:
        if "access_token" not in result:
            raise SignInFailed(explain_aad_error(result))
        self._remember(result, asked_at)
        self._refused = False
        self._force_refresh = False
        self._keep_only_account_of(app, result)
        self._persist(explicit=True)

    @staticmethod
    def _keep_only_account_of(app: msal.PublicClientApplication, result: dict[str, Any]) -> None:
        """One agent, one account: forget any other account the cache still remembers."""
        claims = result.get("id_token_claims") or {}
        who = claims.get("oid") or claims.get("sub")
        if not who:
            return
        for account in app.get_accounts():
            if account.get("local_account_id") != who:
                app.remove_account(account)

    def _remember(self, result: dict[str, Any], asked_at: float) -> None:
        try:
            lifetime = float(result.get("expires_in", 0))
        except (TypeError, ValueError):
            lifetime = 0.0
        self._access = (str(result["access_token"]), asked_at + lifetime)

    def _persist(self, *, explicit: bool) -> None:
        if not self._cache.has_state_changed:
            return
        try:
            self._store.save(CACHE_KEY, self._cache.serialize())
        except Exception as error:
            if explicit:
                raise SignInFailed(f"signed in, but the sign-in could not be saved: {error}") from None
            log.warning("the renewed Microsoft sign-in could not be saved (%s); it lasts until the agent quits", error)
            return
        self._cache.has_state_changed = False

    # --- sign-out ------------------------------------------------------------------------------

    async def sign_out(self, *, strict: bool = False) -> None:
        """Forget the account and every token, here and in the store. Needs no network.

        Storage trouble is logged (the tray keeps running), or raised with ``strict`` (the CLI).
        """
        if self._app is not None:
            for account in self._app.get_accounts():
                self._app.remove_account(account)
        self._cache = msal.SerializableTokenCache()
        self._app = None  # rebuilt around the empty cache on next use
        self._access = None
        self._force_refresh = self._refused = False
        try:
            self._store.delete(CACHE_KEY)
        except Exception as error:
            if strict:
                raise
            log.warning("the saved Microsoft sign-in could not be removed: %s", error)
