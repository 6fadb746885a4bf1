"""A stand-in for ``msal.PublicClientApplication`` (no network), and a browser that answers the
agent's loopback listener as Entra's consent page would: for the incremental-consent tests, ahead
of the simulator's calendar consent."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, urlparse

import httpx
import msal

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
AGENT_OID = "6e7b768e-07e2-4810-8459-485f84f8f204"
OTHER_OID = "0f0f0f0f-1111-2222-3333-444444444444"
AUTHORITY = f"https://login.microsoftonline.com/{TENANT}"


def _b64(value: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def claims(oid: str = AGENT_OID, upn: str = "agent@contoso.example") -> dict[str, Any]:
    return {"tid": TENANT, "oid": oid, "preferred_username": upn, "iss": f"{AUTHORITY}/v2.0", "aud": CLIENT}


def token_answer(scope: str, oid: str = AGENT_OID, access: str = "at") -> dict[str, Any]:
    """What Entra's token endpoint answers (and MSAL hands back, with ``id_token_claims``)."""
    return {
        "access_token": access,
        "refresh_token": f"rt-{access}",
        "expires_in": 3600,
        "token_type": "Bearer",
        "scope": scope,
        "id_token": ".".join([_b64({"alg": "none"}), _b64(claims(oid)), "signature"]),
        "client_info": _b64({"uid": oid, "utid": TENANT}),
        "id_token_claims": claims(oid),
    }


def remember(cache: msal.SerializableTokenCache, answer: Mapping[str, Any], scopes: list[str]) -> None:
    response = {key: value for key, value in answer.items() if key != "id_token_claims"}
    cache.add(
        {"client_id": CLIENT, "scope": scopes, "token_endpoint": f"{AUTHORITY}/oauth2/v2.0/token", "response": response}
    )


def signed_in_cache() -> str:
    """A serialized MSAL cache holding the agent's Presence.Read sign-in."""
    cache = msal.SerializableTokenCache()
    remember(cache, token_answer("Presence.Read"), ["Presence.Read"])
    return cache.serialize()


@dataclass
class Entra:
    """What the fake applications answer, and what they were asked."""

    silent: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # scope → answer
    redeemed: dict[str, Any] | None = None  # the auth code's redemption (None: a token for the scopes asked)
    asked: list[tuple[str, tuple[str, ...], str | None]] = field(default_factory=list)  # (call, scopes, prompt)
    consenting_oid: str = AGENT_OID


class FakeApplication:
    def __init__(self, cache: msal.SerializableTokenCache, entra: Entra) -> None:
        self.token_cache = cache
        self.authority = SimpleNamespace(tenant=TENANT)
        self._entra = entra

    def get_accounts(self) -> list[dict[str, Any]]:
        return list(self.token_cache.search(msal.TokenCache.CredentialType.ACCOUNT))

    def acquire_token_silent_with_error(
        self, scopes: list[str], account: object, force_refresh: bool = False
    ) -> dict[str, Any] | None:
        self._entra.asked.append(("silent_with_error", tuple(scopes), None))
        return self._entra.silent.get(" ".join(scopes))

    def acquire_token_silent(self, scopes: list[str], account: object, force_refresh: bool = False) -> Any:
        self._entra.asked.append(("silent", tuple(scopes), None))
        answer = self._entra.silent.get(" ".join(scopes))
        return answer if answer and "error" not in answer else None

    def initiate_auth_code_flow(self, scopes: list[str], **options: Any) -> dict[str, Any]:
        self._entra.asked.append(("auth_code_flow", tuple(scopes), options.get("prompt")))
        return {
            "state": "state-from-msal",
            "auth_uri": "https://login.microsoftonline.com/authorize?client_id=x",
            "redirect_uri": options["redirect_uri"],
            "scope": scopes,
        }

    def acquire_token_by_auth_code_flow(self, flow: dict[str, Any], answer: dict[str, str]) -> dict[str, Any]:
        if self._entra.redeemed is not None:
            return self._entra.redeemed
        scope = " ".join(flow["scope"])
        result = token_answer(scope, self._entra.consenting_oid, access=f"at-{scope}")
        remember(self.token_cache, result, list(flow["scope"]))
        return result


class ConsentPage:
    """A browser on Entra's consent page: opens the agent's one-time link, then posts ``answer`` to
    the agent's loopback redirect (with MSAL's state), as ``response_mode=form_post`` does."""

    def __init__(self, answer: Mapping[str, str] | None = None) -> None:
        self.answer = dict(answer or {"code": "auth-code"})
        self.opened: list[str] = []

    async def __call__(self, link: str) -> None:
        self.opened.append(link)
        async with httpx.AsyncClient() as client:
            start = await client.get(link)
            assert start.status_code == 302, start.status_code
            port = urlparse(link).port
            form = {"state": "state-from-msal", **self.answer}
            await client.post(f"http://127.0.0.1:{port}/", data=form)


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlparse(url).query))
