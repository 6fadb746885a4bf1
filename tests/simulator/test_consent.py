"""Per-user incremental consent in the simulated Entra: Presence.Read and User.Read are consented for
everyone; Calendars.ReadBasic (and Presence.ReadWrite) each person consents to once, interactively. A
silent refresh cannot consent (AADSTS65001, ``consent_required``), and a tenant that wants admin approval
for new permissions refuses them at sign-in while Presence.Read keeps working."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

from tray_agent.simulator import Simulator

from .helpers import bearer, msal_app, query_of, ssl_context

pytestmark = [pytest.mark.anyio, pytest.mark.filterwarnings("ignore:response_mode:UserWarning")]

PRESENCE = ["Presence.Read"]
CALENDAR = ["Calendars.ReadBasic"]


async def interactive(sim: Simulator, app: Any, scopes: list[str]) -> dict[str, Any]:
    """MSAL's auth-code flow with the simulator's auto-approving sign-in (the person is there to consent)."""
    flow = await anyio.to_thread.run_sync(
        lambda: app.initiate_auth_code_flow(scopes, redirect_uri="http://localhost:53123", response_mode="query")
    )
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        redirect = await client.get(flow["auth_uri"])
    reply = query_of(redirect.headers["location"])
    result: dict[str, Any] = await anyio.to_thread.run_sync(lambda: app.acquire_token_by_auth_code_flow(flow, reply))
    return result


async def silent(app: Any, scopes: list[str]) -> dict[str, Any] | None:
    accounts = await anyio.to_thread.run_sync(app.get_accounts)
    result: dict[str, Any] | None = await anyio.to_thread.run_sync(
        lambda: app.acquire_token_silent_with_error(scopes, account=accounts[0], force_refresh=True)
    )
    return result


async def test_a_silent_refresh_for_a_permission_not_consented_gets_65001_consent_required(sim: Simulator) -> None:
    app = await msal_app(sim)
    signed_in = await interactive(sim, app, PRESENCE)
    assert "access_token" in signed_in, signed_in
    refused = await silent(app, CALENDAR)
    assert refused is not None and "access_token" not in refused
    assert refused["error"] == "invalid_grant" and refused["suberror"] == "consent_required"
    assert refused["error_codes"] == [65001]
    assert refused["error_description"].startswith(
        f"AADSTS65001: The user or administrator has not consented to use the application with ID '{sim.ms_client_id}'"
    )
    assert "Send an interactive authorization request for this user and resource." in refused["error_description"]
    still = await silent(app, PRESENCE)
    assert still is not None and "access_token" in still


async def test_an_interactive_sign_in_records_consent_and_then_silent_refresh_works(sim: Simulator) -> None:
    person = sim.state.people.default_user
    app = await msal_app(sim)
    assert "Calendars.ReadBasic" not in sim.state.consents.consented(person.ms_id, sim.ms_client_id)
    consented = await interactive(sim, app, CALENDAR)
    assert "access_token" in consented, consented
    assert "Calendars.ReadBasic" in consented["scope"]
    assert "Calendars.ReadBasic" in sim.state.consents.consented(person.ms_id, sim.ms_client_id)
    refreshed = await silent(app, CALENDAR)
    assert refreshed is not None and "access_token" in refreshed, refreshed
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        calendar = await client.get(
            f"{sim.base_url}/v1.0/me/calendarView",
            params={"startDateTime": "2026-11-18T00:00:00Z", "endDateTime": "2026-11-19T00:00:00Z"},
            headers=bearer(refreshed["access_token"]),
        )
    assert calendar.status_code == 200


async def test_consent_is_per_person(sim: Simulator) -> None:
    alex = sim.state.people.default_user
    bob = sim.state.people.add_user("Bob Agent", "bob@contoso.example")
    await interactive(sim, await msal_app(sim), CALENDAR)
    assert "Calendars.ReadBasic" in sim.state.consents.consented(alex.ms_id, sim.ms_client_id)
    assert sim.state.consents.missing(bob.ms_id, sim.ms_client_id, CALENDAR) == ("Calendars.ReadBasic",)
    assert sim.state.consents.missing(bob.ms_id, sim.ms_client_id, ["Presence.Read", "User.Read"]) == ()


async def test_a_token_carries_exactly_the_permissions_granted(sim: Simulator) -> None:
    app = await msal_app(sim)
    await interactive(sim, app, CALENDAR)
    presence_only = await silent(app, PRESENCE)
    assert presence_only is not None
    granted = presence_only["scope"] if isinstance(presence_only["scope"], list) else presence_only["scope"].split()
    assert "Calendars.ReadBasic" not in granted and "Presence.Read" in granted
    recorded = sim.state.tokens.entra_access_tokens[presence_only["access_token"]].scopes
    assert set(recorded) == set(granted)


async def test_user_consent_disabled_refuses_new_permissions_at_sign_in_but_not_presence_read(sim: Simulator) -> None:
    sim.state.faults.user_consent_disabled(True)
    person = sim.state.people.default_user
    url = f"{sim.authority}/oauth2/v2.0/authorize"
    params = {"client_id": sim.ms_client_id, "response_type": "code", "redirect_uri": "http://localhost", "state": "s"}
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        calendar = await client.get(url, params={**params, "scope": "Calendars.ReadBasic openid offline_access"})
        presence = await client.get(url, params={**params, "scope": "Presence.Read openid offline_access"})
    refused = query_of(calendar.headers["location"])
    assert refused["error"] == "consent_required" and refused["state"] == "s"
    assert refused["error_description"].startswith("AADSTS65001") and "admin" in refused["error_description"]
    assert "Calendars.ReadBasic" not in sim.state.consents.consented(person.ms_id, sim.ms_client_id)
    assert "code" in query_of(presence.headers["location"])


async def test_a_silent_authorize_cannot_consent(sim: Simulator) -> None:
    params = {
        "client_id": sim.ms_client_id,
        "response_type": "code",
        "redirect_uri": "http://localhost",
        "scope": "https://graph.microsoft.com/Calendars.ReadBasic openid",
        "prompt": "none",
    }
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        response = await client.get(f"{sim.authority}/oauth2/v2.0/authorize", params=params)
    reply = query_of(response.headers["location"])
    assert reply["error"] == "consent_required" and reply["error_description"].startswith("AADSTS65001")
    person = sim.state.people.default_user
    assert sim.state.consents.missing(person.ms_id, sim.ms_client_id, CALENDAR) == ("Calendars.ReadBasic",)


async def test_the_device_code_flow_consents_on_approval_unless_the_tenant_wants_an_admin() -> None:
    async with Simulator(device_code_interval=1) as sim, httpx.AsyncClient(verify=ssl_context(sim)) as client:
        sim.state.faults.user_consent_disabled(True)
        person = sim.state.people.default_user
        start = await client.post(
            f"{sim.authority}/oauth2/v2.0/devicecode",
            data={"client_id": sim.ms_client_id, "scope": "Calendars.ReadBasic offline_access"},
        )
        flow = start.json()
        page = await client.post(
            f"{sim.base_url}/devicelogin",
            data={"otc": flow["user_code"], "username": person.email, "action": "approve"},
        )
        redeemed = await client.post(
            f"{sim.authority}/oauth2/v2.0/token",
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "device_code": flow["device_code"],
                "client_id": sim.ms_client_id,
            },
        )
    assert "admin approval" in page.text.lower()
    assert redeemed.status_code == 400 and redeemed.json()["error_codes"] == [65001]
    assert sim.state.consents.missing(person.ms_id, sim.ms_client_id, CALENDAR) == ("Calendars.ReadBasic",)
