"""Simulated Microsoft Entra ID + Graph presence, driven by MSAL Python and httpx over real TLS sockets."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import anyio
import httpx
import pytest

from tray_agent.clock import ScaledClock
from tray_agent.simulator import Simulator

from .helpers import ManualClock, bearer, graph_token, msal_app, pkce_pair, query_of, ssl_context

pytestmark = pytest.mark.anyio

SCOPES = ["Presence.Read"]


class _Forms(HTMLParser):
    """Collects <input name=... value=...> and element ids of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, str] = {}
        self.ids: set[str] = set()
        self.form_action: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "form":
            self.form_action = a.get("action")
        if tag == "input" and a.get("name"):
            self.inputs[str(a["name"])] = a.get("value") or ""


def parse(html: str) -> _Forms:
    forms = _Forms()
    forms.feed(html)
    return forms


async def test_openid_configuration_points_every_endpoint_at_the_simulator(sim: Simulator) -> None:
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        config = (await client.get(f"{sim.authority}/v2.0/.well-known/openid-configuration")).json()
    base = f"{sim.base_url}/{sim.tenant_id}"
    assert config["issuer"] == f"{base}/v2.0"
    assert config["authorization_endpoint"] == f"{base}/oauth2/v2.0/authorize"
    assert config["token_endpoint"] == f"{base}/oauth2/v2.0/token"
    assert config["device_authorization_endpoint"] == f"{base}/oauth2/v2.0/devicecode"
    assert config["end_session_endpoint"] == f"{base}/oauth2/v2.0/logout"


async def test_unknown_tenant_is_rejected_with_aadsts90002(sim: Simulator) -> None:
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        response = await client.get(f"{sim.base_url}/contoso-typo/v2.0/.well-known/openid-configuration")
    body = response.json()
    assert response.status_code == 400
    assert body["error_description"].startswith("AADSTS90002: Tenant 'contoso-typo' not found")
    assert body["error_codes"] == [90002]
    assert {"timestamp", "trace_id", "correlation_id"} <= body.keys()


@pytest.mark.filterwarnings("ignore:response_mode:UserWarning")  # we test the query mode on purpose
async def test_msal_auth_code_flow_then_silent_refresh_then_presence(sim: Simulator) -> None:
    app = await msal_app(sim)
    flow = await anyio.to_thread.run_sync(
        lambda: app.initiate_auth_code_flow(SCOPES, redirect_uri="http://localhost:53123", response_mode="query")
    )
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        redirect = await client.get(flow["auth_uri"])  # auto_approve: no page, straight back with a code
        assert redirect.status_code == 302
        assert redirect.headers["location"].startswith("http://localhost:53123?")
        auth_response = query_of(redirect.headers["location"])
        result = await anyio.to_thread.run_sync(lambda: app.acquire_token_by_auth_code_flow(flow, auth_response))
        assert "access_token" in result, result
        assert result["id_token_claims"]["preferred_username"] == "alex@contoso.example"
        assert result["id_token_claims"]["tid"] == sim.tenant_id
        assert "Presence.Read" in result["scope"]

        accounts = await anyio.to_thread.run_sync(app.get_accounts)
        assert [a["username"] for a in accounts] == ["alex@contoso.example"]
        refreshed = await anyio.to_thread.run_sync(
            lambda: app.acquire_token_silent(SCOPES, account=accounts[0], force_refresh=True)
        )
        assert refreshed is not None and refreshed["access_token"] != result["access_token"]

        presence = await client.get(f"{sim.base_url}/v1.0/me/presence", headers=bearer(refreshed["access_token"]))
    assert presence.status_code == 200
    body = presence.json()
    assert body["availability"] == "Available" and body["id"] == sim.state.people.default_user.ms_id
    assert sim.state.counters.entra_token_requests == 2


async def test_form_post_response_mode_returns_an_auto_submitting_form(sim: Simulator) -> None:
    app = await msal_app(sim)
    flow = await anyio.to_thread.run_sync(
        lambda: app.initiate_auth_code_flow(SCOPES, redirect_uri="http://localhost:1234", response_mode="form_post")
    )
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        page = await client.get(flow["auth_uri"])
    form = parse(page.text)
    assert page.status_code == 200 and form.form_action == "http://localhost:1234"
    assert form.inputs["state"] == flow["state"] and form.inputs["code"]
    result = await anyio.to_thread.run_sync(lambda: app.acquire_token_by_auth_code_flow(flow, form.inputs))
    assert "access_token" in result, result


async def test_device_code_flow_is_pending_until_the_user_approves_the_code() -> None:
    async with Simulator(device_code_interval=1) as sim:
        app = await msal_app(sim)
        flow = await anyio.to_thread.run_sync(lambda: app.initiate_device_flow(SCOPES))
        assert flow["verification_uri"] == f"{sim.base_url}/devicelogin"
        assert flow["user_code"] in flow["message"]
        async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
            token_url = f"{sim.authority}/oauth2/v2.0/token"
            grant = "urn:ietf:params:oauth:grant-type:device_code"
            pending = await client.post(
                token_url, data={"grant_type": grant, "device_code": flow["device_code"], "client_id": sim.ms_client_id}
            )
            assert pending.json()["error"] == "authorization_pending"

            page = await client.get(f"{sim.base_url}/devicelogin")
            assert {"code", "username", "approve", "deny"} <= parse(page.text).ids
            approved = await client.post(
                f"{sim.base_url}/devicelogin",
                data={"otc": flow["user_code"], "username": "alex@contoso.example", "action": "approve"},
            )
            assert approved.status_code == 200
        result = await anyio.to_thread.run_sync(lambda: app.acquire_token_by_device_flow(flow))
        assert "access_token" in result, result
        assert result["id_token_claims"]["oid"] == sim.state.people.default_user.ms_id


async def test_sign_in_page_offers_accept_and_cancel_and_cancel_returns_access_denied() -> None:
    async with Simulator() as sim, httpx.AsyncClient(verify=ssl_context(sim)) as client:
        params = {
            "client_id": sim.ms_client_id,
            "response_type": "code",
            "redirect_uri": "http://127.0.0.1:4000/cb",
            "scope": "Presence.Read openid offline_access",
            "state": "s1",
            "login_hint": "alex@contoso.example",
        }
        url = f"{sim.authority}/oauth2/v2.0/authorize"
        page = await client.get(url, params=params)
        form = parse(page.text)
        assert page.status_code == 200 and "Simulated Microsoft sign-in" in page.text
        assert {"approve", "deny"} <= form.ids and form.inputs["username"] == "alex@contoso.example"

        denied = await client.post(url, data={**form.inputs, "action": "deny"})
        assert denied.status_code == 302
        reply = query_of(denied.headers["location"])
        assert reply["error"] == "access_denied" and reply["state"] == "s1"
        assert reply["error_description"].startswith("AADSTS65004")

        accepted = await client.post(url, data={**form.inputs, "action": "approve"})
        assert accepted.status_code == 302 and "code" in query_of(accepted.headers["location"])


async def test_bad_redirect_uri_or_client_shows_an_error_page_instead_of_redirecting(sim: Simulator) -> None:
    url = f"{sim.authority}/oauth2/v2.0/authorize"
    base = {"client_id": sim.ms_client_id, "response_type": "code", "redirect_uri": "http://localhost/x"}
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        evil = await client.get(url, params={**base, "redirect_uri": "https://evil.example/cb"})
        unknown_client = await client.get(url, params={**base, "client_id": "not-registered"})
        loopback_any_port = await client.get(url, params={**base, "redirect_uri": "http://localhost:61000/x"})
    assert evil.status_code == 400 and "AADSTS50011" in evil.text and "location" not in evil.headers
    assert unknown_client.status_code == 400 and "AADSTS700016" in unknown_client.text
    assert loopback_any_port.status_code == 302  # Entra ignores the loopback port


async def test_blocked_user_consent_ends_sign_in_with_consent_required(sim: Simulator) -> None:
    sim.state.faults.entra_consent_blocked(True)
    params = {
        "client_id": sim.ms_client_id,
        "response_type": "code",
        "redirect_uri": "http://localhost",
        "state": "s",
    }
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        response = await client.get(f"{sim.authority}/oauth2/v2.0/authorize", params=params)
    reply = query_of(response.headers["location"])
    assert reply["error"] == "consent_required" and reply["error_description"].startswith("AADSTS65001")


async def test_token_endpoint_rejects_wrong_pkce_verifier_and_replayed_code(sim: Simulator) -> None:
    verifier, challenge = pkce_pair()
    redirect_uri = "http://localhost:5000"
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        authorize = await client.get(
            f"{sim.authority}/oauth2/v2.0/authorize",
            params={
                "client_id": sim.ms_client_id,
                "response_type": "code",
                "redirect_uri": redirect_uri,
                "scope": "Presence.Read openid offline_access",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        )
        code = query_of(authorize.headers["location"])["code"]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": sim.ms_client_id,
            "redirect_uri": redirect_uri,
        }
        token_url = f"{sim.authority}/oauth2/v2.0/token"
        wrong = await client.post(token_url, data={**form, "code_verifier": "x" * 43})
        right = await client.post(token_url, data={**form, "code_verifier": verifier})
        replay = await client.post(token_url, data={**form, "code_verifier": verifier})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert wrong.json()["error_codes"] == [501481]
    assert right.status_code == 200
    tokens = right.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3599 and tokens["ext_expires_in"] == 3599
    assert {"access_token", "refresh_token", "id_token", "client_info"} <= tokens.keys()
    assert replay.status_code == 400 and replay.json()["error_codes"] == [54005]


async def test_presence_follows_teams_changes_with_an_increasing_sequence_number() -> None:
    clock = ManualClock()
    async with Simulator(clock, auto_approve=True) as sim, httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = graph_token(sim)
        url = f"{sim.base_url}/v1.0/me/presence"
        before = (await client.get(url, headers=bearer(token))).json()
        sim.state.teams.set("Busy", "InACall", out_of_office=True)
        sim.state.teams.set_status_message("On a customer call")
        clock.advance(sim.state.teams.propagation_delay)  # Graph shows the client's change this much later
        after = await client.get(url, headers={**bearer(token), "client-request-id": "abc"})
    body = after.json()
    assert (body["availability"], body["activity"]) == ("Busy", "InACall")
    assert body["outOfOfficeSettings"] == {"isOutOfOffice": True, "message": None}
    assert body["statusMessage"]["message"] == {"content": "On a customer call", "contentType": "text"}
    assert body["sequenceNumber"] > before["sequenceNumber"]
    assert body["@odata.context"].endswith(f"users('{sim.state.people.default_user.ms_id}')/presence/$entity")
    assert after.headers["client-request-id"] == "abc" and after.headers["request-id"]


async def test_graph_presence_budget_is_shared_by_every_user_of_the_app() -> None:
    clock = ScaledClock(speed=100)
    async with Simulator(clock, graph_limit_per_30s=5) as sim:
        bob = sim.state.people.add_user("Bob Agent", "bob@contoso.example")
        tokens = [graph_token(sim), graph_token(sim, bob)]
        url = f"{sim.base_url}/v1.0/me/presence"
        async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
            statuses = [(await client.get(url, headers=bearer(tokens[i % 2]))).status_code for i in range(5)]
            throttled = await client.get(url, headers=bearer(tokens[1]))
            assert statuses == [200] * 5
            assert throttled.status_code == 429
            error = throttled.json()["error"]
            assert error["code"] == "TooManyRequests"
            assert {"date", "request-id", "client-request-id"} <= error["innerError"].keys()
            retry_after = float(throttled.headers["Retry-After"])
            assert 0 < retry_after <= 30
            assert re.fullmatch(r"\d+(\.\d{1,3})?", throttled.headers["Retry-After"])

            await clock.sleep(retry_after + 0.5)  # the window frees after Retry-After (simulated) seconds
            again = await client.get(url, headers=bearer(tokens[0]))
        assert again.status_code == 200
        assert sim.state.counters.graph_throttled == 1


async def test_expired_or_missing_graph_token_gets_401_invalid_authentication_token(sim: Simulator) -> None:
    token = graph_token(sim)
    url = f"{sim.base_url}/v1.0/me/presence"
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        assert (await client.get(url, headers=bearer(token))).status_code == 200
        assert sim.state.faults.expire_tokens("graph") == 1
        expired = await client.get(url, headers=bearer(token))
        missing = await client.get(url)
    assert expired.status_code == 401
    assert expired.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert "expired" in expired.json()["error"]["message"]
    assert missing.status_code == 401 and "WWW-Authenticate" in missing.headers


async def test_injected_graph_failure_and_throttle_use_graph_error_shape(sim: Simulator) -> None:
    token = graph_token(sim)
    url = f"{sim.base_url}/v1.0/me/presence"
    sim.state.faults.fail_next("graph", 1, status=503)
    sim.state.faults.throttle_next("graph", 1, retry_after=2.128)
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        failed = await client.get(url, headers=bearer(token))
        throttled = await client.get(url, headers=bearer(token))
        fine = await client.get(url, headers=bearer(token))
    assert failed.status_code == 503 and failed.json()["error"]["code"] == "serviceNotAvailable"
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "2.128"
    assert fine.status_code == 200
    assert [e.status for e in sim.state.request_log] == [503, 429, 200]
    assert all(e.service == "graph" for e in sim.state.request_log)
