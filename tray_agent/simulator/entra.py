"""Microsoft Entra ID (v2 endpoints) for one single-tenant public client: enough for MSAL Python.

Paths are the real ones under ``/{tenant}/`` so ``authority = f"{base_url}/{tenant_id}"`` works with
``PublicClientApplication(..., instance_discovery=False, verify=ca_path)``: OIDC discovery, auth code + PKCE
(query, fragment and form_post response modes), refresh tokens and the device-code flow.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from . import pages
from .context import identify, state_of
from .directory import SimUser
from .error_answers import entra_error
from .issued_tokens import ENTRA_CODE_LIFETIME, EntraAuthCode
from .state import SimulatorState

GRAPH_RESOURCE = "https://graph.microsoft.com/"
OIDC_SCOPES = ("openid", "profile", "email")
APP_DISPLAY_NAME = "Teams to Genesys presence (simulated)"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64json(value: dict[str, Any]) -> str:
    return _b64url(json.dumps(value, separators=(",", ":")).encode())


def _short(scope: str) -> str:
    return scope[len(GRAPH_RESOURCE) :] if scope.lower().startswith(GRAPH_RESOURCE) else scope


def graph_scopes(requested: list[str] | tuple[str, ...], consented: tuple[str, ...]) -> tuple[str, ...]:
    """The Graph permissions a request asks for, by short name (``.default`` = what is consented)."""
    out: dict[str, None] = {}
    for scope in requested:
        short = _short(scope)
        if short == ".default":
            out.update(dict.fromkeys(consented))
        elif short != "offline_access" and short not in OIDC_SCOPES:
            out[short] = None
    return tuple(out)


def granted_scopes(requested: list[str], consented: tuple[str, ...]) -> tuple[str, ...]:
    """The ``scope`` Entra reports: the Graph permissions asked for *and consented*, plus the OIDC scopes
    asked for. Always includes Presence.Read (consented for everyone); ``offline_access`` is never echoed.
    (Real behaviour: Entra may also add other scopes consented earlier for the same resource; not modelled.)"""
    by_lower = {c.lower(): c for c in consented}
    out: dict[str, None] = {"Presence.Read": None}
    for scope in requested:
        short = _short(scope)
        if short in OIDC_SCOPES:
            out[short] = None
    for short in graph_scopes(requested, consented):
        if short.lower() in by_lower:
            out[by_lower[short.lower()]] = None
    return tuple(out)


def _not_consented_text(client_id: str) -> str:
    # The wording real Entra answers a refresh for an unconsented scope with (issue threads quote it whole).
    return (
        f"The user or administrator has not consented to use the application with ID '{client_id}' named "
        f"'{APP_DISPLAY_NAME}'. Send an interactive authorization request for this user and resource."
    )


def _consent_refusal(
    state: SimulatorState, person: SimUser, client_id: str, params: dict[str, str]
) -> tuple[str, int, str] | None:
    """An interactive sign-in asks for permissions the person has not consented to: they consent now
    (recorded per person and app), unless the request is silent (``prompt=none``) or the tenant lets
    only admins approve new permissions (fault ``user_consent_disabled``)."""
    consents = state.consents
    wanted = graph_scopes(params.get("scope", "").split(), consents.consented(person.ms_id, client_id))
    missing = consents.missing(person.ms_id, client_id, wanted)
    if not missing:
        return None
    if params.get("prompt") == "none":
        return "consent_required", 65001, _not_consented_text(client_id)
    if state.faults.user_consent_blocked:
        return (
            "consent_required",
            65001,
            f"The user or administrator has not consented to use the application with ID '{client_id}'. "
            f"Need admin approval: your organisation requires an administrator to grant {', '.join(missing)}.",
        )
    consents.grant(person.ms_id, client_id, missing)
    return None


def _unconsented(
    request: web.Request, state: SimulatorState, person: SimUser, client_id: str, requested: list[str]
) -> web.Response | None:
    """A token request (code or refresh: no user present) for a permission not consented: AADSTS65001."""
    consents = state.consents
    consented = consents.consented(person.ms_id, client_id)
    if not consents.missing(person.ms_id, client_id, graph_scopes(requested, consented)):
        return None
    return entra_error(
        request, 400, "invalid_grant", 65001, _not_consented_text(client_id), suberror="consent_required"
    )


def _loopback_redirect_ok(uri: str) -> bool:
    """Entra's loopback rule for public clients: http://localhost or http://127.0.0.1, any port, any path."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    return (
        parts.scheme == "http"
        and parts.hostname in ("localhost", "127.0.0.1")
        and not parts.username
        and not parts.fragment
    )


def _tenant_problem(state: SimulatorState, tenant: str) -> str | None:
    if tenant.lower() == state.apps.tenant_id.lower():
        return None
    return (
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing "
        "into the correct cloud. Check with your subscription administrator, this may happen if there are "
        "no active subscriptions for the tenant."
    )


def _stamped(code: int, text: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return f"AADSTS{code}: {text}\r\nTrace ID: {uuid.uuid4()}\r\nCorrelation ID: {uuid.uuid4()}\r\nTimestamp: {stamp}"


# ---------------------------------------------------------------- discovery


async def openid_configuration(request: web.Request) -> web.Response:
    state = state_of(request)
    tenant = request.match_info["tenant"]
    if (problem := _tenant_problem(state, tenant)) is not None:
        return entra_error(request, 400, "invalid_tenant", 90002, problem)
    base = f"{state.base_url}/{state.apps.tenant_id}"
    return web.json_response(
        {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            # Our ID tokens are unsigned (alg "none"): MSAL does not validate them, and nobody else should rely on them.
            "id_token_signing_alg_values_supported": ["none"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{state.base_url}/oidc/userinfo",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "preferred_username",
                "name",
                "tid",
                "ver",
                "oid",
            ],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "msgraph_host": "graph.microsoft.com",
        }
    )


async def jwks(request: web.Request) -> web.Response:
    return web.json_response({"keys": []})


# ---------------------------------------------------------------- authorize (auth code + PKCE)


def _reply(redirect_uri: str, mode: str, fields: dict[str, str]) -> web.Response:
    if mode == "form_post":
        return pages.form_post(redirect_uri, fields)
    separator = "#" if mode == "fragment" else ("&" if "?" in redirect_uri else "?")
    return pages.redirect(f"{redirect_uri}{separator}{urlencode(fields)}")


async def _authorize_params(request: web.Request) -> dict[str, str]:
    if request.method == "GET":
        return dict(request.query)
    return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}


def _unknown_app(state: SimulatorState, client_id: str) -> web.Response | None:
    if client_id == state.apps.ms_client_id:
        return None
    return pages.error_page(
        "Sign in",
        _stamped(
            700016,
            f"Application with identifier '{client_id}' was not found in the directory '{state.apps.tenant_id}'.",
        ),
    )


def _unregistered_redirect(redirect_uri: str, client_id: str) -> web.Response | None:
    if _loopback_redirect_ok(redirect_uri):
        return None
    return pages.error_page(
        "Sign in",
        _stamped(
            50011,
            f"The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs "
            f"configured for the application '{client_id}'.",
        ),
    )


def _refusal(state: SimulatorState, params: dict[str, str], client_id: str) -> tuple[str, int, str] | None:
    """Why the request is answered with an error at the redirect URI (error, AADSTS code, text), if it is."""
    if params.get("response_type") != "code":
        return "unsupported_response_type", 70015, "The requested response type is not supported by this simulator."
    challenge = params.get("code_challenge")
    if challenge and params.get("code_challenge_method", "plain") != "S256":
        # real Entra also accepts "plain"; the simulator insists on S256 as our clients must use it
        return "invalid_request", 501491, "Invalid code_challenge_method: only S256 is supported here."
    if state.faults.consent_blocked:
        return (
            "consent_required",
            65001,
            f"The user or administrator has not consented to use the application with ID '{client_id}'. "
            "Need admin approval: your organisation requires an administrator to grant this permission.",
        )
    return None


async def authorize(request: web.Request) -> web.Response:
    state = state_of(request)
    tenant = request.match_info["tenant"]
    if (problem := _tenant_problem(state, tenant)) is not None:
        return pages.error_page("Sign in", _stamped(90002, problem))
    params = await _authorize_params(request)
    client_id = params.get("client_id", "")
    if (page := _unknown_app(state, client_id)) is not None:
        return page
    identify(request, None, client_id)
    redirect_uri = params.get("redirect_uri", "")
    if (page := _unregistered_redirect(redirect_uri, client_id)) is not None:
        return page
    mode = params.get("response_mode") or "query"
    base_fields = {"state": params["state"]} if "state" in params else {}

    def fail(error: str, code: int, text: str) -> web.Response:
        return _reply(redirect_uri, mode, {"error": error, "error_description": _stamped(code, text), **base_fields})

    if (refusal := _refusal(state, params, client_id)) is not None:
        return fail(*refusal)
    hint = params.get("login_hint") or state.people.default_user.email

    def consent_then_code(person: SimUser) -> web.Response:
        if (refusal := _consent_refusal(state, person, client_id, params)) is not None:
            return fail(*refusal)
        return _issue_code(request, state, person, params, redirect_uri, mode, base_fields)

    if request.method == "GET":
        if state.auto_approve:
            return consent_then_code(state.people.find_user(hint) or state.people.default_user)
        if params.get("prompt") == "none":
            return fail("login_required", 50058, "A silent sign-in request was sent but no user is signed in.")
        asked = graph_scopes(params.get("scope", "").split(), ()) or ("Presence.Read",)
        return _sign_in_page(
            request, params, hint, detail=f"An app ({client_id}) asks for these permissions: {', '.join(asked)}."
        )
    if params.get("action") == "deny":
        return fail("access_denied", 65004, "User declined to consent to access the app.")
    username = params.get("username", "").strip()
    person = state.people.find_user(username) if username else None
    if person is None:
        return _sign_in_page(
            request,
            params,
            username,
            error=f"AADSTS50034: The user account {username} does not exist in the {state.apps.tenant_id} directory.",
        )
    return consent_then_code(person)


def _issue_code(
    request: web.Request,
    state: SimulatorState,
    person: SimUser,
    params: dict[str, str],
    redirect_uri: str,
    mode: str,
    base_fields: dict[str, str],
) -> web.Response:
    code = EntraAuthCode(
        code="1.SIMAC" + secrets.token_urlsafe(48),
        client_id=params["client_id"],
        redirect_uri=redirect_uri,
        scopes=tuple(params.get("scope", "").split()),
        code_challenge=params.get("code_challenge") or None,
        code_challenge_method=params.get("code_challenge_method") or None,
        nonce=params.get("nonce"),
        user_id=person.ms_id,
        expires_at=state.clock.now() + ENTRA_CODE_LIFETIME,
    )
    state.tokens.entra_codes[code.code] = code
    identify(request, person.ms_id, code.client_id)
    fields = {"code": code.code, "client_info": _client_info(state, person), **base_fields}
    fields["session_state"] = str(uuid.uuid5(uuid.NAMESPACE_URL, person.ms_id))
    return _reply(redirect_uri, mode, fields)


# ---------------------------------------------------------------- token endpoint


def _client_info(state: SimulatorState, person: SimUser) -> str:
    return _b64json({"uid": person.ms_id, "utid": state.apps.tenant_id})


def id_token(state: SimulatorState, person: SimUser, client_id: str, nonce: str | None) -> str:
    """A well-formed but unsigned (``alg: none``) v2 ID token; MSAL only decodes the claims."""
    now = int(state.clock.now())
    pairwise = _b64url(hashlib.sha256(f"{person.ms_id}:{client_id}".encode()).digest())[:43]
    claims: dict[str, Any] = {
        "aud": client_id,
        "iss": f"{state.base_url}/{state.apps.tenant_id}/v2.0",
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "auth_time": now,
        "name": person.name,
        "oid": person.ms_id,
        "preferred_username": person.email,
        "sub": pairwise,
        "tid": state.apps.tenant_id,
        "uti": secrets.token_urlsafe(16),
        "ver": "2.0",
    }
    if nonce:
        claims["nonce"] = nonce
    return f"{_b64json({'typ': 'JWT', 'alg': 'none'})}.{_b64json(claims)}."


def _tokens(
    request: web.Request,
    state: SimulatorState,
    person: SimUser,
    client_id: str,
    requested: list[str],
    nonce: str | None = None,
) -> web.Response:
    scopes = granted_scopes(requested, state.consents.consented(person.ms_id, client_id))
    access = state.tokens.new_entra_access_token(person.ms_id, client_id, scopes)
    body: dict[str, Any] = {
        "token_type": "Bearer",
        "scope": " ".join(scopes),
        "expires_in": state.tokens.entra_token_lifetime,
        "ext_expires_in": state.tokens.entra_token_lifetime,
        "access_token": access.token,
    }
    if "offline_access" in requested:
        body["refresh_token"] = state.tokens.new_entra_refresh_token(person.ms_id, client_id, tuple(requested)).token
    if "openid" in requested:
        body["id_token"] = id_token(state, person, client_id, nonce)
    body["client_info"] = _client_info(state, person)
    identify(request, person.ms_id, client_id)
    text = state.faults.token_answer("entra", json.dumps(body))
    return web.Response(
        text=text, content_type="application/json", headers={"Cache-Control": "no-store", "Pragma": "no-cache"}
    )


def _pkce_ok(challenge: str, method: str | None, verifier: str) -> bool:
    if method == "S256":
        computed = _b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
        return hmac.compare_digest(computed, challenge)
    return hmac.compare_digest(verifier, challenge)


def _unknown_client(request: web.Request, state: SimulatorState, client_id: str) -> web.Response | None:
    """AADSTS700016 for an app that is not registered in the tenant; else records who is calling."""
    if client_id != state.apps.ms_client_id:
        return entra_error(
            request,
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory '{state.apps.tenant_id}'.",
        )
    identify(request, None, client_id)
    return None


def _sign_in_page(request: web.Request, params: dict[str, str], username: str, **message: str) -> web.Response:
    """The simulated Microsoft sign-in page, with a ``detail`` or an ``error`` line."""
    return pages.sign_in(
        title="Sign in to your account",
        heading="Simulated Microsoft sign-in",
        action=request.path,
        fields=params,
        username=username,
        approve_label="Accept",
        deny_label="Cancel",
        **message,
    )


async def token(request: web.Request) -> web.Response:
    state = state_of(request)
    state.counters.entra_token_requests += 1
    tenant = request.match_info["tenant"]
    if (problem := _tenant_problem(state, tenant)) is not None:
        return entra_error(request, 400, "invalid_request", 90002, problem)
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    client_id = form.get("client_id", "")
    if (refusal := _unknown_client(request, state, client_id)) is not None:
        return refusal
    grant = form.get("grant_type", "")
    if grant == "authorization_code":
        return _redeem_code(request, state, form)
    if grant == "refresh_token":
        return _redeem_refresh(request, state, form)
    if grant == "urn:ietf:params:oauth:grant-type:device_code":
        return _redeem_device_code(request, state, form)
    return entra_error(
        request, 400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant}'."
    )


def _redeem_code(request: web.Request, state: SimulatorState, form: dict[str, str]) -> web.Response:
    value = form.get("code", "")
    if value in state.tokens.entra_redeemed_codes:
        return entra_error(
            request,
            400,
            "invalid_grant",
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code "
            "or use an existing refresh token.",
        )
    code = state.tokens.entra_codes.get(value)
    if code is None:
        return entra_error(request, 400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
    if state.clock.now() >= code.expires_at:
        del state.tokens.entra_codes[value]
        return entra_error(
            request,
            400,
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. "
            "Send a new interactive authorization request for this user and resource.",
        )
    if form.get("client_id") != code.client_id:
        return entra_error(
            request, 400, "invalid_grant", 70000, "The provided value for the 'code' parameter is not valid."
        )
    if form.get("redirect_uri", "") != code.redirect_uri:
        return entra_error(
            request,
            400,
            "invalid_grant",
            500112,
            f"The reply address '{form.get('redirect_uri', '')}' does not match the reply address "
            f"'{code.redirect_uri}' provided when requesting Authorization code.",
        )
    if code.code_challenge is not None:
        verifier = form.get("code_verifier", "")
        if not verifier or not _pkce_ok(code.code_challenge, code.code_challenge_method, verifier):
            # real Entra code for a *missing* verifier unknown; 501481 is the documented mismatch code
            return entra_error(
                request,
                400,
                "invalid_grant",
                501481,
                "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
            )
    del state.tokens.entra_codes[value]
    state.tokens.entra_redeemed_codes.add(value)
    person = state.people.users[code.user_id]
    requested = form.get("scope", "").split() or list(code.scopes)
    if (refusal := _unconsented(request, state, person, code.client_id, requested)) is not None:
        return refusal
    return _tokens(request, state, person, code.client_id, requested, code.nonce)


def _redeem_refresh(request: web.Request, state: SimulatorState, form: dict[str, str]) -> web.Response:
    found = state.tokens.entra_refresh_tokens.get(form.get("refresh_token", ""))
    if found is None or found.revoked or found.client_id != form.get("client_id"):
        return entra_error(
            request, 400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid (refresh token)."
        )
    if state.clock.now() >= found.expires_at:
        return entra_error(request, 400, "invalid_grant", 700082, "The refresh token has expired due to inactivity.")
    # Entra refresh tokens are not single-use: the old one stays valid until it expires (we rotate anyway).
    requested = form.get("scope", "").split() or list(found.scopes)
    person = state.people.users[found.user_id]
    # Silent: nobody is there to consent, so a permission not consented yet is refused (MSAL: "ui required").
    if (refusal := _unconsented(request, state, person, found.client_id, requested)) is not None:
        return refusal
    return _tokens(request, state, person, found.client_id, requested)


def _redeem_device_code(request: web.Request, state: SimulatorState, form: dict[str, str]) -> web.Response:
    entry = state.tokens.device_codes.get(form.get("device_code", ""))
    if entry is None or entry.client_id != form.get("client_id"):
        return entra_error(request, 400, "invalid_grant", 70000, "The provided device code is not valid.")
    if entry.status == "redeemed":
        return entra_error(request, 400, "invalid_grant", 54005, "The device code was already redeemed.")
    if state.clock.now() >= entry.expires_at:
        return entra_error(request, 400, "expired_token", 70019, "Verification code expired.")
    if entry.status == "pending":
        return entra_error(
            request,
            400,
            "authorization_pending",
            70016,
            "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        )
    if entry.status == "declined":
        return entra_error(
            request, 400, "authorization_declined", 70000, "The user declined the authorization request."
        )
    if entry.status == "consent_required":
        return entra_error(
            request,
            400,
            "invalid_grant",
            65001,
            f"The user or administrator has not consented to use the application with ID '{entry.client_id}'.",
        )
    person = state.people.users.get(entry.user_id or "")
    if person is None:  # approved always records a user; defensive
        return entra_error(request, 400, "invalid_grant", 70000, "The provided device code is not valid.")
    entry.status = "redeemed"
    return _tokens(request, state, person, entry.client_id, list(entry.scopes))


# ---------------------------------------------------------------- device code flow


async def device_code(request: web.Request) -> web.Response:
    state = state_of(request)
    tenant = request.match_info["tenant"]
    if (problem := _tenant_problem(state, tenant)) is not None:
        return entra_error(request, 400, "invalid_request", 90002, problem)
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    client_id = form.get("client_id", "")
    if (refusal := _unknown_client(request, state, client_id)) is not None:
        return refusal
    entry = state.tokens.add_device_code(client_id, tuple(form.get("scope", "").split()))
    uri = f"{state.base_url}/devicelogin"
    return web.json_response(
        {
            "user_code": entry.user_code,
            "device_code": entry.device_code,
            "verification_uri": uri,
            "expires_in": int(entry.expires_at - state.clock.now()),
            "interval": state.device_code_interval,
            "message": f"To sign in, use a web browser to open the page {uri} and enter the code "
            f"{entry.user_code} to authenticate.",
        }
    )


def _device_page(request: web.Request, code: str, username: str, error: str | None = None) -> web.Response:
    return pages.sign_in(
        title="Enter code",
        heading="Simulated Microsoft sign-in — enter code",
        action="/devicelogin",
        fields={},
        username=username,
        approve_label="Continue",
        deny_label="Cancel",
        detail="Enter the code displayed on your device.",
        error=error,
        code_field=code,
    )


async def device_login(request: web.Request) -> web.Response:
    """``GET /devicelogin``: the page the user opens; ``POST``: they typed the code and approved/denied."""
    state = state_of(request)
    if request.method == "GET":
        return _device_page(request, request.query.get("otc", ""), state.people.default_user.email)
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    code, username = form.get("otc", ""), form.get("username", "").strip()
    entry = state.tokens.device_code_by_user_code(code)
    if entry is None or state.clock.now() >= entry.expires_at or entry.status != "pending":
        return _device_page(
            request, code, username, "AADSTS70000: That code didn't work. Check the code and try again."
        )
    identify(request, None, entry.client_id)
    if form.get("action") == "deny":
        entry.status = "declined"
        return pages.message_page("Cancelled", "You declined to sign in. You can close this window.")
    person = state.people.find_user(username) if username else None
    if person is None:
        return _device_page(request, code, username, f"AADSTS50034: The user account {username} does not exist.")
    identify(request, person.ms_id, entry.client_id)
    asked = {"scope": " ".join(entry.scopes)}
    if state.faults.consent_blocked or _consent_refusal(state, person, entry.client_id, asked) is not None:
        entry.status = "consent_required"
        return pages.message_page(
            "Need admin approval", "AADSTS65001: This app needs permission that only an admin can grant."
        )
    entry.status, entry.user_id = "approved", person.ms_id
    return pages.message_page("Signed in", "You have signed in on your device. You can close this window.")


async def logout(request: web.Request) -> web.Response:
    target = request.query.get("post_logout_redirect_uri", "")
    if target and _loopback_redirect_ok(target):
        return pages.redirect(target)
    return pages.message_page("Signed out", "You signed out of your account (simulated).")


def add_routes(app: web.Application) -> None:
    """Register ``/devicelogin`` and the ``/{tenant}/...`` routes — after every fixed-prefix route."""
    app.router.add_route("GET", "/devicelogin", device_login)
    app.router.add_route("POST", "/devicelogin", device_login)
    app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", openid_configuration)
    app.router.add_get("/{tenant}/discovery/v2.0/keys", jwks)
    app.router.add_route("GET", "/{tenant}/oauth2/v2.0/authorize", authorize)
    app.router.add_route("POST", "/{tenant}/oauth2/v2.0/authorize", authorize)
    app.router.add_post("/{tenant}/oauth2/v2.0/token", token)
    app.router.add_post("/{tenant}/oauth2/v2.0/devicecode", device_code)
    app.router.add_get("/{tenant}/oauth2/v2.0/logout", logout)
