"""Genesys Cloud login service: Authorization Code + PKCE for the registered public (PKCE) client.

``GET/POST /oauth/authorize`` and ``POST /oauth/token`` as the SDKs call them (reference §3.2). Error
texts are ours — real behaviour unknown: the login service's exact messages. The error *shape*
(``error`` + ``description`` + ``error_description``) follows a public Genesys client's test fixture.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from . import pages
from .context import identify, state_of
from .directory import SimUser
from .error_answers import genesys_login_error
from .issued_tokens import GENESYS_CODE_LIFETIME, GenesysAuthCode
from .state import SimulatorState

_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def challenge_for(verifier: str) -> str:
    """base64url(SHA-256(verifier)) without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def _redirect(redirect_uri: str, fields: dict[str, str]) -> web.Response:
    separator = "&" if "?" in redirect_uri else "?"
    return pages.redirect(f"{redirect_uri}{separator}{urlencode(fields)}")


async def authorize(request: web.Request) -> web.Response:
    state = state_of(request)
    params: dict[str, str] = (
        dict(request.query)
        if request.method == "GET"
        else {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    )
    client_id = params.get("client_id", "")
    if client_id != state.apps.genesys_client_id:
        return pages.error_page("Genesys Cloud", f"invalid_client: client not found ({client_id})")
    identify(request, None, client_id)
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in state.apps.genesys_redirect_uris:
        # Exact match against the client's registered URIs (loopback port matching is undocumented,
        # so the simulator is strict). The redirect target is untrusted: show an error, don't redirect.
        return pages.error_page("Genesys Cloud", f"invalid_request: redirect_uri mismatch ({redirect_uri})")
    base_fields = {"state": params["state"]} if "state" in params else {}

    def fail(error: str, description: str) -> web.Response:
        return _redirect(redirect_uri, {"error": error, "error_description": description, **base_fields})

    if params.get("response_type") != "code":
        return fail("unsupported_response_type", "response_type must be code")
    if not params.get("code_challenge") or params.get("code_challenge_method") != "S256":
        return fail("invalid_request", "PKCE is required: code_challenge with code_challenge_method=S256")

    hint = params.get("login_hint", "").split(":", 1)[0] or state.people.default_user.email
    if request.method == "GET":
        if state.auto_approve:
            return _issue(
                request, state, state.people.find_user(hint) or state.people.default_user, params, base_fields
            )
        return _sign_in_page(
            request, params, hint, detail="The Teams presence tray agent wants to manage your Genesys Cloud presence."
        )
    if params.get("action") == "deny":
        return fail("access_denied", "The user denied the authorization request")
    username = params.get("username", "").strip()
    person = state.people.find_user(username) if username else None
    if person is None:
        return _sign_in_page(request, params, username, error="Invalid username or password.")
    return _issue(request, state, person, params, base_fields)


def _sign_in_page(request: web.Request, params: dict[str, str], username: str, **message: str) -> web.Response:
    """The simulated Genesys Cloud login page, with a ``detail`` or an ``error`` line."""
    return pages.sign_in(
        title="Genesys Cloud",
        heading="Simulated Genesys Cloud login",
        action=request.path,
        fields=params,
        username=username,
        approve_label="Log in",
        deny_label="Cancel",
        **message,
    )


def _issue(
    request: web.Request, state: SimulatorState, person: SimUser, params: dict[str, str], base_fields: dict[str, str]
) -> web.Response:
    code = GenesysAuthCode(
        code=secrets.token_urlsafe(32),
        client_id=params["client_id"],
        redirect_uri=params["redirect_uri"],
        code_challenge=params["code_challenge"],
        user_id=person.genesys_id,
        expires_at=state.clock.now() + GENESYS_CODE_LIFETIME,
    )
    state.tokens.genesys_codes[code.code] = code
    identify(request, person.genesys_id, code.client_id)
    return _redirect(code.redirect_uri, {"code": code.code, **base_fields})


def _token_body(state: SimulatorState, user_id: str, client_id: str) -> dict[str, Any]:
    access = state.tokens.new_genesys_token(user_id, client_id)
    body: dict[str, Any] = {
        "access_token": access.token,
        "token_type": "bearer",
        "expires_in": max(0, state.tokens.genesys_token_lifetime - 1),
    }
    if state.tokens.genesys_issue_refresh_tokens:
        # real behaviour unknown: whether PKCE clients ever get a refresh token (the SDKs ignore it)
        body["refresh_token"] = state.tokens.new_genesys_refresh_token(user_id, client_id).token
    return body


async def token(request: web.Request) -> web.Response:
    state = state_of(request)
    state.counters.genesys_token_requests += 1
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    client_id = form.get("client_id", "")
    if client_id != state.apps.genesys_client_id:
        return genesys_login_error(request, 400, "invalid_client", "client not found")
    identify(request, None, client_id)
    grant = form.get("grant_type", "")
    if grant == "authorization_code":
        return _redeem_code(request, state, form)
    if grant == "refresh_token" and state.tokens.genesys_issue_refresh_tokens:
        found = state.tokens.genesys_refresh_tokens.get(form.get("refresh_token", ""))
        if found is None or found.revoked or found.client_id != client_id or state.clock.now() >= found.expires_at:
            return genesys_login_error(request, 400, "invalid_grant", "invalid refresh token")
        identify(request, found.user_id, client_id)
        return _json(_token_body(state, found.user_id, client_id), state)
    return genesys_login_error(request, 400, "unsupported_grant_type", f"unsupported grant type: {grant}")


def _json(body: dict[str, Any], state: SimulatorState) -> web.Response:
    text = state.faults.token_answer("genesys-login", json.dumps(body))
    return web.Response(
        text=text, content_type="application/json", headers={"Cache-Control": "no-store", "Pragma": "no-cache"}
    )


def _redeem_code(request: web.Request, state: SimulatorState, form: dict[str, str]) -> web.Response:
    value = form.get("code", "")
    if value in state.tokens.genesys_redeemed_codes:
        return genesys_login_error(request, 400, "invalid_grant", "authorization code has already been used")
    code = state.tokens.genesys_codes.get(value)
    if code is None:
        return genesys_login_error(request, 400, "invalid_grant", "invalid authorization code")
    if state.clock.now() >= code.expires_at:
        del state.tokens.genesys_codes[value]
        return genesys_login_error(request, 400, "invalid_grant", "authorization code expired")
    if form.get("client_id") != code.client_id:
        return genesys_login_error(request, 400, "invalid_grant", "authorization code was issued to another client")
    if form.get("redirect_uri") != code.redirect_uri:
        return genesys_login_error(request, 400, "invalid_grant", "redirect_uri mismatch")
    verifier = form.get("code_verifier", "")
    # A failed verification does not burn the code (real behaviour unknown); redeeming it does.
    if not _VERIFIER.match(verifier):
        return genesys_login_error(
            request, 400, "invalid_request", "code_verifier must be 43-128 characters of [A-Za-z0-9-._~]"
        )
    if not hmac.compare_digest(challenge_for(verifier), code.code_challenge):
        return genesys_login_error(request, 400, "invalid_grant", "code_verifier does not match code_challenge")
    del state.tokens.genesys_codes[value]
    state.tokens.genesys_redeemed_codes.add(value)
    identify(request, code.user_id, code.client_id)
    return _json(_token_body(state, code.user_id, code.client_id), state)


def add_routes(app: web.Application) -> None:
    app.router.add_route("GET", "/oauth/authorize", authorize)
    app.router.add_route("POST", "/oauth/authorize", authorize)
    app.router.add_post("/oauth/token", token)
