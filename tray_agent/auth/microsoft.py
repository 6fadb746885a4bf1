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
import math
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

import msal
import requests

from tray_agent import logs
from tray_agent.auth.consent import Consent, ConsentOutcome, ConsentRequired, needs_consent, outcome_of
from tray_agent.auth.identity import (
    CHANGE_PERSON,
    EmailLookup,
    WrongPerson,
    check_same_email,
    domain_of,
    windows_logon_upn,
)
from tray_agent.auth.loopback import LoopbackRedirect, SignInFailed
from tray_agent.auth.tokens import BrowserOpener, SignInRequired, TokenStore
from tray_agent.clients import bounded_json
from tray_agent.clients.errors import BadResponse, NoAnswer, Unreachable
from tray_agent.clients.failures import is_timeout, transport_failure
from tray_agent.clients.requests_session import BoundedSession
from tray_agent.clients.threads import DeadlineExceeded, call_in_daemon_thread
from tray_agent.config.settings import SettingsError

log = logging.getLogger(__name__)

SERVICE = "Microsoft"
SCOPES = ["Presence.Read"]  # the sign-in asks for this alone (least privilege)
# Asked for later, with its own consent, only when the agent (or IT) turns calendar triggers on.
CALENDAR_SCOPES = ["Calendars.ReadBasic"]
# Asked for the same way, only when the agent (or IT) turns Teams write-back on (clients/graph_presence_session.py).
PRESENCE_WRITE_SCOPES = ("Presence.ReadWrite",)
CACHE_KEY = "msal-cache"
_MULTI_TENANT = {"", "common", "organizations", "consumers"}
# Entra access tokens live 60-90 min by default, at most about a day with continuous access evaluation.
TOKEN_LIFETIME_RANGE = (1.0, 2 * 86400.0)
# What a hostile or broken answer makes MSAL raise while it parses it (deep JSON, int(Infinity), int(NaN)).
_UNUSABLE_ANSWER = (RecursionError, OverflowError, ValueError, TypeError)
_UNUSABLE = "Microsoft's sign-in answer could not be used; please try again (tell IT if it keeps happening)"

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
    raw = result.get("error", "unknown_error")
    error = raw if isinstance(raw, str) and re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", raw) else "unknown_error"
    if error in _ERROR_HELP:
        return _ERROR_HELP[error]
    return f"Microsoft sign-in failed (error code: {error})"


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
        genesys_email: EmailLookup | None = None,
        allow_different_emails: bool = False,
        proxy_for: Callable[[str], str | None] | None = None,
        deadline: float = DEADLINE,
    ) -> None:
        """``genesys_email`` gives the address of the Genesys Cloud user this computer is signed in as
        (None when not signed in there): a new Microsoft sign-in must be for the same address unless
        ``allow_different_emails`` (IT policy)."""
        tenant = urlparse(authority).path.strip("/").split("/")[-1] if authority else ""
        if tenant.lower() in _MULTI_TENANT:
            raise SettingsError("tenant_id must be your organisation's Microsoft Entra tenant ID (ask IT)")
        self._tenant = tenant
        self._genesys_email = genesys_email or (lambda: None)
        self._allow_different_emails = allow_different_emails
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
    def account_id(self) -> str | None:
        """The remembered account's object id (``oid``), if any: a new sign-in must be for this account."""
        for account in self._cache.search(msal.TokenCache.CredentialType.ACCOUNT):
            oid = account.get("local_account_id")
            if isinstance(oid, str) and oid:
                return oid
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
            self._app = self._build_application(self._cache)
        return self._app

    def _sign_in_application(self) -> msal.PublicClientApplication:
        """A separate application with an empty cache for one interactive sign-in: whatever comes back
        stays there until it is known to be the right person, and only then replaces the remembered
        sign-in (so a refused one never touches it, and the engine never sees it)."""
        return self._build_application(msal.SerializableTokenCache())

    def _build_application(self, cache: msal.SerializableTokenCache) -> msal.PublicClientApplication:
        session = BoundedSession(self._ca_file, self._proxy_for)
        options: dict[str, Any] = {}
        if self._broker:
            options["enable_broker_on_windows"] = True
        try:
            app = msal.PublicClientApplication(
                self._client_id,
                authority=self._authority,
                token_cache=cache,
                http_client=session,
                instance_discovery=urlparse(self._authority).hostname == "login.microsoftonline.com",
                timeout=15,
                **options,
            )
        except ValueError:  # MSAL's wording for a tenant whose configuration it could not get
            raise SignInFailed(self._tenant_problem(session)) from None
        except requests.RequestException as error:
            raise network_failure(error, self._host) from None
        except (RecursionError, OverflowError):  # a hostile OpenID configuration
            raise SignInFailed(_UNUSABLE) from None
        return app

    def _tenant_problem(self, session: requests.Session) -> str:
        """Why the tenant's OpenID configuration is unavailable, in the service's own words (AADSTS…)."""
        try:
            answer = session.get(f"{self._authority}/v2.0/.well-known/openid-configuration", timeout=15)
            body = bounded_json.loads(answer.content)
        except (requests.RequestException, ValueError):
            return "the tenant's sign-in configuration is unavailable: check tenant_id in the settings, or ask IT"
        if isinstance(body, dict) and "error" in body:
            return explain_aad_error(body)
        return "the tenant's sign-in configuration is unavailable: check tenant_id in the settings, or ask IT"

    # --- tokens --------------------------------------------------------------------------------

    async def access_token(self) -> str:
        asked_at = self._now()
        result = await self._silently(self._silent)
        if not result or "access_token" not in result:
            self._access = None
            raise SignInRequired(SERVICE, "the Microsoft sign-in has expired" if self.signed_in else "not signed in")
        self._remember(result, asked_at)
        return str(result["access_token"])

    async def _silently(self, call: Callable[..., dict[str, Any] | None], *args: Any) -> dict[str, Any] | None:
        """A silent msal ``call`` in a daemon thread, within the deadline; its failures in our words."""
        try:
            return await call_in_daemon_thread(call, *args, deadline=self._deadline)
        except (requests.RequestException, DeadlineExceeded) as error:
            raise network_failure(error, self._host) from None
        except SignInFailed as error:  # the tenant itself is wrong: nothing to retry until it is fixed
            raise SignInRequired(SERVICE, str(error)) from None
        except _UNUSABLE_ANSWER as error:
            raise BadResponse(SERVICE, f"unusable token answer ({error.__class__.__name__})") from None

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

    async def token_for(self, scopes: Sequence[str], *, force_refresh: bool = False) -> str:
        """A token for ``scopes`` beyond the sign-in's (``CALENDAR_SCOPES``), silently only: raises
        :class:`ConsentRequired` when the user has not consented to them, SignInRequired when not signed
        in. The sign-in's own token (and :attr:`expires_at`) are untouched."""
        result = await self._silently(self._silent_for, list(scopes), force_refresh)
        if result and "access_token" in result:
            return str(result["access_token"])
        if needs_consent(result):
            raise ConsentRequired(scopes)
        raise SignInRequired(SERVICE, "the Microsoft sign-in has expired" if self.signed_in else "not signed in")

    def _silent_for(self, scopes: list[str], force_refresh: bool) -> dict[str, Any] | None:
        if not self.signed_in:
            return None
        app = self._application()
        accounts = app.get_accounts()
        if not accounts:
            return None
        # _with_error: a missing consent must not look like an expired sign-in (plain silent says None to both).
        result: dict[str, Any] | None = app.acquire_token_silent_with_error(
            scopes, account=accounts[0], force_refresh=force_refresh
        )
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
        app = await self._bounded(self._sign_in_application)
        if self._broker:
            try:
                result = await call_in_daemon_thread(self._interactive_via_broker, app, deadline=timeout)
            except TimeoutError:
                raise SignInFailed(f"the Windows sign-in window was not completed within {timeout:g} s") from None
        else:
            result = await self._interactive_via_browser(app, browser, timeout)
        self._finish(app, result, asked_at)
        log.info("signed in to Microsoft")

    async def ask_consent(
        self, scopes: Sequence[str], browser: BrowserOpener, timeout: float = 120.0
    ) -> ConsentOutcome:
        """Entra's consent page for ``scopes``, for the account signed in (never another): the same
        browser/loopback (or broker) machinery as the sign-in, with its own pending cache. Kept only
        when granted to that same account; otherwise the remembered sign-in is left exactly as it was.
        Never raises for what the user or the tenant answered."""
        if not self.signed_in:
            return ConsentOutcome(Consent.FAILED, "sign in to Microsoft first")
        answered: dict[str, str] = {}

        def explain(query: dict[str, str]) -> str:
            answered.update(query)  # after the listener checked state: this is Entra's answer
            return explain_aad_error(query)

        try:
            app = await self._bounded(self._sign_in_application)
            if self._broker:
                result = await call_in_daemon_thread(self._interactive_via_broker, app, scopes, None, deadline=timeout)
            else:
                result = await self._interactive_via_browser(app, browser, timeout, scopes, None, explain)
        except SignInFailed as error:
            return outcome_of(answered, scopes) if "error" in answered else ConsentOutcome(Consent.FAILED, str(error))
        except (TimeoutError, Unreachable, requests.RequestException) as error:
            return ConsentOutcome(Consent.FAILED, str(error) or "the consent window was not completed in time")
        except _UNUSABLE_ANSWER:
            return ConsentOutcome(Consent.FAILED, _UNUSABLE)
        return self._keep_consent(app, result, scopes)

    def _keep_consent(
        self, app: msal.PublicClientApplication, result: dict[str, Any], scopes: Sequence[str]
    ) -> ConsentOutcome:
        if "access_token" not in result:
            return outcome_of(result, scopes)
        # Entra names Graph permissions by their short name, or with the resource in front.
        granted = {scope.rsplit("/", 1)[-1].lower() for scope in str(result.get("scope", " ".join(scopes))).split()}
        if not {scope.lower() for scope in scopes} <= granted:
            return ConsentOutcome(Consent.DECLINED, f"{', '.join(scopes)} was not granted; nothing else changed")
        try:
            self._check_person(app, result)
        except WrongPerson as error:
            return ConsentOutcome(Consent.FAILED, str(error))
        # The same account, now with the new permission: its fresh sign-in replaces the remembered one
        # (as a sign-in does). The sign-in's own token and expiry are left alone.
        self._cache.deserialize(app.token_cache.serialize())
        self._cache.has_state_changed = True
        self._persist(explicit=False)
        log.info("Microsoft consent granted for %s", ", ".join(scopes))
        return ConsentOutcome(Consent.GRANTED, f"permission granted: {', '.join(scopes)}")

    async def _try_silent(self) -> bool:
        if not self.signed_in:
            return False
        with contextlib.suppress(SignInRequired, Unreachable):
            await self.access_token()
            return True
        return False

    def _interactive_via_broker(
        self, app: msal.PublicClientApplication, scopes: Sequence[str] = SCOPES, prompt: str | None = "select_account"
    ) -> dict[str, Any]:  # Windows only
        login_hint, domain_hint = self._hints()
        result: dict[str, Any] = app.acquire_token_interactive(
            list(scopes),
            prompt=prompt,
            login_hint=login_hint,
            domain_hint=domain_hint,
            parent_window_handle=self._parent_window or msal.PublicClientApplication.CONSOLE_WINDOW_HANDLE,
        )
        return result

    async def _interactive_via_browser(
        self,
        app: msal.PublicClientApplication,
        browser: BrowserOpener,
        timeout: float,
        scopes: Sequence[str] = SCOPES,
        prompt: str | None = "select_account",
        explain: Callable[[dict[str, str]], str] = explain_aad_error,
    ) -> dict[str, Any]:
        listener = LoopbackRedirect(port=0, path="/", form_post=True, explain_error=explain)
        port = await listener.start()
        try:
            # Entra ignores the port of a loopback redirect, so an ephemeral one is fine (reference §2.6).
            login_hint, domain_hint = self._hints()
            flow = await self._bounded(
                lambda: app.initiate_auth_code_flow(
                    list(scopes),
                    redirect_uri=f"http://localhost:{port}",
                    prompt=prompt,
                    login_hint=login_hint,
                    domain_hint=domain_hint,
                    response_mode="form_post",
                )
            )
            listener.expect_state(flow["state"])
            await browser(listener.start_link(flow["auth_uri"]))
            answer = await listener.wait(timeout)
        finally:
            await listener.close()
        try:
            result: dict[str, Any] = await self._bounded(app.acquire_token_by_auth_code_flow, flow, answer)
        except ValueError as error:  # MSAL's own state/nonce checks (or a number it could not read)
            if "state" in str(error).lower() or "nonce" in str(error).lower():
                raise SignInFailed("the sign-in answer did not match this app's request; please try again") from None
            raise SignInFailed(_UNUSABLE) from None
        except _UNUSABLE_ANSWER:
            raise SignInFailed(_UNUSABLE) from None
        return result

    def _hints(self) -> tuple[str | None, str | None]:
        """(login_hint, domain_hint): the remembered account, else (Windows) the logon UPN; the domain of
        a tenant named by its domain, else of that account."""
        login_hint = self.account_name or windows_logon_upn()
        tenant_domain = self._tenant.lower() if "." in self._tenant else None
        return login_hint, tenant_domain or domain_of(login_hint)

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
        try:
            app = await self._bounded(self._sign_in_application)
            flow: dict[str, Any] = await self._bounded(app.initiate_device_flow, SCOPES)
        except _UNUSABLE_ANSWER:
            raise SignInFailed(_UNUSABLE) from None
        if "user_code" not in flow:
            raise SignInFailed(explain_aad_error(flow))
        # The code is for the agent's eyes (the tray shows it): never for the log, whoever logs the prompt.
        logs.never_log(str(flow["user_code"]))
        show(str(flow.get("message") or f"Open {flow.get('verification_uri')} and enter {flow['user_code']}"))
        polling = asyncio.ensure_future(call_in_daemon_thread(app.acquire_token_by_device_flow, flow))
        polling.add_done_callback(lambda task: task.cancelled() or task.exception())  # never "not retrieved"
        try:
            result: dict[str, Any] = await asyncio.wait_for(asyncio.shield(polling), timeout)
        except TimeoutError:
            raise SignInFailed(f"the code was not entered within {timeout:g} s; please try again") from None
        except requests.RequestException as error:
            raise network_failure(error, self._host) from None
        except _UNUSABLE_ANSWER:
            raise SignInFailed(_UNUSABLE) from None
        finally:
            flow["expires_at"] = 0  # stops MSAL's polling loop within a second if it is still running
        self._finish(app, result, asked_at)
        log.info("signed in to Microsoft (device code)")

    def _finish(self, app: msal.PublicClientApplication, result: dict[str, Any], asked_at: float) -> None:
        """Keep the sign-in made with ``app`` (its own cache) if it is the right person, replacing the one
        remembered; otherwise raise, and the remembered sign-in is untouched."""
        if "access_token" not in result:
            raise SignInFailed(explain_aad_error(result))
        if _lifetime(result) is None:
            raise SignInFailed(_UNUSABLE)
        self._check_person(app, result)
        # One agent, one account: the new cache holds only this sign-in, and it replaces the old one.
        self._cache.deserialize(app.token_cache.serialize())
        self._cache.has_state_changed = True
        self._remember(result, asked_at)
        self._refused = False
        self._force_refresh = False
        self._persist(explicit=True)

    def _check_person(self, app: msal.PublicClientApplication, result: dict[str, Any]) -> None:
        claims = result.get("id_token_claims")
        if not isinstance(claims, dict):
            raise WrongPerson("Microsoft's answer did not say who signed in, so it was refused; please try again")
        tid, oid = str(claims.get("tid") or ""), str(claims.get("oid") or "")
        expected_tid = str(getattr(app.authority, "tenant", "") or self._tenant)
        if not tid or tid.lower() not in {expected_tid.lower(), self._tenant.lower()}:
            raise WrongPerson(
                "the Microsoft account is not in your organisation's tenant, so the sign-in was refused and "
                "nothing changed. Sign in with your work account."
            )
        remembered = self.account_id
        if remembered is not None and oid.lower() != remembered.lower():
            who = self.account_name or "another account"
            raise WrongPerson(
                f"this computer is signed in to Microsoft as {who}, and the sign-in was for a different account, "
                f"so it was refused and nothing changed. {CHANGE_PERSON}"
            )
        if not self._allow_different_emails:
            check_same_email("Microsoft", claims.get("preferred_username"), "Genesys Cloud", self._genesys_email())

    def _remember(self, result: dict[str, Any], asked_at: float) -> None:
        lifetime = _lifetime(result)
        if lifetime is None:  # MSAL kept an absurd expiry: use the token once, renew it next time
            log.warning("Microsoft's token answer had an unusable expires_in; it is renewed at its next use")
            self._force_refresh = True
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

    @staticmethod
    def forget(store: TokenStore) -> bool:
        """Remove the Microsoft sign-in saved in ``store``; True when there was one. Needs no settings
        and no network (for when there are too few settings to build a :class:`MicrosoftAuth` and
        :meth:`sign_out`). Storage trouble is raised (TokenStorageError)."""
        had = bool(store.load(CACHE_KEY))
        store.delete(CACHE_KEY)
        return had

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


def _lifetime(result: Mapping[str, Any]) -> float | None:
    """The answer's ``expires_in`` in seconds if it is a finite number in :data:`TOKEN_LIFETIME_RANGE`."""
    raw = result.get("expires_in")
    try:
        lifetime = float(raw) if raw is not None and not isinstance(raw, bool) else None
    except (TypeError, ValueError, OverflowError):
        return None
    low, high = TOKEN_LIFETIME_RANGE
    if lifetime is None or not math.isfinite(lifetime) or not low <= lifetime <= high:
        return None
    return lifetime
