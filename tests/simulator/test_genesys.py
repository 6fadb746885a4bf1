"""Simulated Genesys Cloud login (PKCE) and Platform API, over real TLS sockets."""

from __future__ import annotations

import httpx
import pytest

from tray_agent.simulator import Simulator
from tray_agent.simulator import definitions as defs

from .helpers import (
    GENESYS_REDIRECT,
    bearer,
    genesys_authorize,
    genesys_code,
    genesys_redeem,
    genesys_token,
    pkce_pair,
    query_of,
    ssl_context,
)

pytestmark = pytest.mark.anyio

ERROR_BODY_KEYS = {"message", "code", "status", "contextId", "details", "errors"}


async def test_pkce_flow_issues_a_bearer_token_and_rejects_wrong_verifier_and_replayed_code(sim: Simulator) -> None:
    verifier, challenge = pkce_pair()
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        redirect = await genesys_authorize(client, sim, challenge)
        assert redirect.status_code == 302
        reply = query_of(redirect.headers["location"])
        assert redirect.headers["location"].startswith(GENESYS_REDIRECT + "?") and reply["state"] == "xyz"

        wrong = await genesys_redeem(client, sim, reply["code"], pkce_pair()[0])
        ok = await genesys_redeem(client, sim, reply["code"], verifier)
        replayed = await genesys_redeem(client, sim, reply["code"], verifier)
        too_short = await genesys_redeem(client, sim, await genesys_code(client, sim, challenge), "abc")

    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert ok.status_code == 200
    body = ok.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 86399 and "refresh_token" not in body
    assert replayed.status_code == 400
    assert replayed.json() == {
        "error": "invalid_grant",
        "description": "authorization code has already been used",
        "error_description": "authorization code has already been used",
    }
    assert too_short.status_code == 400


async def test_refresh_tokens_are_issued_only_when_configured() -> None:
    async with Simulator(auto_approve=True, genesys_issue_refresh_tokens=True) as sim:
        verifier, challenge = pkce_pair()
        async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
            first = (await genesys_redeem(client, sim, await genesys_code(client, sim, challenge), verifier)).json()
            refreshed = await client.post(
                f"{sim.base_url}/oauth/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": first["refresh_token"],
                    "client_id": sim.genesys_client_id,
                },
            )
            me = await client.get(f"{sim.base_url}/api/v2/users/me", headers=bearer(refreshed.json()["access_token"]))
        assert refreshed.status_code == 200 and me.status_code == 200


async def test_authorize_shows_an_error_page_for_unregistered_redirect_or_client(sim: Simulator) -> None:
    _, challenge = pkce_pair()
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        other_port = await genesys_authorize(client, sim, challenge, redirect_uri="http://localhost:9999/callback")
        unknown = await genesys_authorize(client, sim, challenge, client_id="someone-else")
        plain = await genesys_authorize(client, sim, challenge, code_challenge_method="plain")
    assert other_port.status_code == 400 and "location" not in other_port.headers
    assert unknown.status_code == 400 and "client not found" in unknown.text
    assert query_of(plain.headers["location"])["error"] == "invalid_request"


async def test_login_page_has_approve_and_deny_and_deny_redirects_with_access_denied() -> None:
    async with Simulator() as sim, httpx.AsyncClient(verify=ssl_context(sim)) as client:
        _, challenge = pkce_pair()
        page = await genesys_authorize(client, sim, challenge)
        assert page.status_code == 200 and "Simulated Genesys Cloud login" in page.text
        assert 'id="approve"' in page.text.replace("'", '"') and 'id="deny"' in page.text.replace("'", '"')
        form = {
            "client_id": sim.genesys_client_id,
            "redirect_uri": GENESYS_REDIRECT,
            "response_type": "code",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "xyz",
            "username": "alex@contoso.example",
        }
        denied = await client.post(f"{sim.base_url}/oauth/authorize", data={**form, "action": "deny"})
        approved = await client.post(f"{sim.base_url}/oauth/authorize", data={**form, "action": "approve"})
    denial = query_of(denied.headers["location"])
    assert denial["error"] == "access_denied" and denial["state"] == "xyz" and denial["error_description"]
    assert "code" in query_of(approved.headers["location"])


async def test_users_me_includes_only_the_expanded_parts(sim: Simulator) -> None:
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        plain = (await client.get(f"{sim.base_url}/api/v2/users/me", headers=bearer(token))).json()
        full = await client.get(
            f"{sim.base_url}/api/v2/users/me",
            params={"expand": "presence,routingStatus,outOfOffice"},
            headers=bearer(token),
        )
    person = sim.state.people.default_user
    assert plain["id"] == person.genesys_id and plain["state"] == "active" and plain["email"] == person.email
    assert not {"presence", "routingStatus", "outOfOffice"} & plain.keys()
    body = full.json()
    assert body["presence"]["presenceDefinition"] == {
        "id": defs.AVAILABLE.id,
        "systemPresence": "Available",
        "selfUri": f"/api/v2/presencedefinitions/{defs.AVAILABLE.id}",
    }
    assert body["presence"]["source"] == "PURECLOUD" and body["presence"]["primary"] is True
    assert body["routingStatus"]["status"] == "OFF_QUEUE" and body["routingStatus"]["userId"] == person.genesys_id
    assert body["outOfOffice"]["active"] is False and body["outOfOffice"]["user"]["id"] == person.genesys_id
    assert full.headers["inin-correlation-id"]


async def test_presence_definitions_list_every_system_presence_and_secondary_ones(sim: Simulator) -> None:
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        listing = (await client.get(f"{sim.base_url}/api/v2/presence/definitions", headers=bearer(token))).json()
        legacy = (
            await client.get(
                f"{sim.base_url}/api/v2/presencedefinitions", params={"pageSize": 5}, headers=bearer(token)
            )
        ).json()
    system = {e["systemPresence"] for e in listing["entities"] if e["type"] == "System"}
    assert system == {"Available", "Away", "Busy", "Offline", "Idle", "OnQueue", "Meal", "Training", "Meeting", "Break"}
    secondary = [e for e in listing["entities"] if e["type"] == "User" and not e["deactivated"]]
    assert {e["languageLabels"]["en_US"] for e in secondary} >= {"Teams call", "Lunch"}
    on_queue = next(e for e in listing["entities"] if e["systemPresence"] == "OnQueue")
    assert on_queue["id"] == "e08eaf1b-ee47-4fa9-a231-1200e284798f"
    assert legacy["pageSize"] == 5 and len(legacy["entities"]) == 5 and legacy["total"] == 12
    assert {"name", "primary"} <= legacy["entities"][0].keys()


async def test_presence_definitions_carry_language_labels_in_genesys_locale_keys(sim: Simulator) -> None:
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        listing = (
            await client.get(
                f"{sim.base_url}/api/v2/presence/definitions",
                params={"deactivated": "false", "localeCode": "ALL"},
                headers=bearer(token),
            )
        ).json()
        one = await client.get(f"{sim.base_url}/api/v2/presence/definitions/{defs.BUSY.id}", headers=bearer(token))
        legacy = (
            await client.get(
                f"{sim.base_url}/api/v2/presencedefinitions", params={"localeCode": "ALL"}, headers=bearer(token)
            )
        ).json()
    labels = {e["id"]: e["languageLabels"] for e in listing["entities"]}
    for definition in (*defs.SYSTEM_DEFINITIONS, defs.TEAMS_CALL, defs.LUNCH):
        assert labels[definition.id]["en_US"] == definition.label  # the en_US text as before
        assert {"en_US", "de", "fr"} <= labels[definition.id].keys()  # German is "de", not "de_DE"
    assert labels[defs.BUSY.id]["de"] == "Besetzt" and labels[defs.TEAMS_CALL.id]["de"] == "Teams-Anruf"
    assert labels[defs.TEAMS_CALL.id]["fr"] == "Appel Teams"
    assert one.json()["languageLabels"] == labels[defs.BUSY.id]
    legacy_labels = {e["id"]: e["languageLabels"] for e in legacy["entities"]}
    assert all(legacy_labels[i] == labels[i] for i in legacy_labels)
    assert all(e["name"] == e["languageLabels"]["en_US"] for e in legacy["entities"])


async def test_patch_presence_changes_it_and_answers_in_display_casing(sim: Simulator) -> None:
    person = sim.state.people.default_user
    url = f"{sim.base_url}/api/v2/users/{person.genesys_id}/presences/purecloud"
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        patched = await client.patch(
            url, headers=bearer(token), json={"presenceDefinition": {"id": defs.BUSY.id}, "primary": True}
        )
        read_back = await client.get(url, headers=bearer(token))
    assert patched.status_code == 200
    assert patched.json()["presenceDefinition"]["systemPresence"] == "Busy"
    assert read_back.json()["presenceDefinition"]["id"] == defs.BUSY.id
    assert sim.state.genesys.system_presence() == "Busy"
    assert sim.state.counters.genesys_presence_patches == 1
    assert sim.state.genesys.events[-1].kind == "presence_changed" and sim.state.genesys.events[-1].cause == "api"


async def test_patch_presence_refuses_bad_definitions_other_users_on_queue_and_out_of_office(sim: Simulator) -> None:
    person = sim.state.people.default_user
    bob = sim.state.people.add_user("Bob Agent", "bob@contoso.example")
    url = f"{sim.base_url}/api/v2/users/{person.genesys_id}/presences/purecloud"
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)

        async def patch(definition_id: str, target: str = url) -> httpx.Response:
            return await client.patch(target, headers=bearer(token), json={"presenceDefinition": {"id": definition_id}})

        unknown = await patch("00000000-0000-0000-0000-000000000000")
        retired = await patch(defs.RETIRED.id)
        on_queue = await patch(defs.ON_QUEUE.id)
        other = await patch(defs.BUSY.id, f"{sim.base_url}/api/v2/users/{bob.genesys_id}/presences/purecloud")
        sim.state.genesys.set_out_of_office(True)
        while_ooo = await patch(defs.BUSY.id)
    for response in (unknown, retired, on_queue, while_ooo):
        assert response.status_code == 400 and response.json().keys() >= ERROR_BODY_KEYS
    assert other.status_code == 403
    assert unknown.json()["contextId"] == unknown.headers["inin-correlation-id"]
    assert sim.state.genesys.system_presence() == "Available"


async def test_patch_while_on_queue_takes_the_agent_off_queue_and_is_logged_as_a_violation(sim: Simulator) -> None:
    person = sim.state.people.default_user
    sim.state.genesys.set_routing("IDLE")
    assert sim.state.genesys.system_presence() == "OnQueue" and not sim.state.genesys.violations
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        await client.patch(
            f"{sim.base_url}/api/v2/users/{person.genesys_id}/presences/purecloud",
            headers=bearer(token),
            json={"presenceDefinition": {"id": defs.TEAMS_CALL.id}},
        )
    assert sim.state.genesys.routing_status() == "OFF_QUEUE"
    assert sim.state.genesys.current_definition().label == "Teams call"
    [violation] = sim.state.genesys.violations
    assert violation.kind == "taken_off_queue_by_api" and violation.client_id == sim.genesys_client_id
    assert violation.user_id == person.genesys_id


async def test_the_agent_clicking_a_status_in_the_ui_also_takes_them_off_queue_but_is_no_violation(
    sim: Simulator,
) -> None:
    sim.state.genesys.set_presence("On Queue")
    assert sim.state.genesys.routing_status() == "IDLE"
    sim.state.genesys.set_presence("Meal")
    assert sim.state.genesys.routing_status() == "OFF_QUEUE" and sim.state.genesys.system_presence() == "Meal"
    assert [e.kind for e in sim.state.genesys.events if e.kind.startswith("taken_off")] == ["taken_off_queue_by_ui"]
    assert not sim.state.genesys.violations


async def test_routing_on_queue_sets_presence_on_queue_and_off_queue_sets_available(sim: Simulator) -> None:
    person = sim.state.people.default_user
    url = f"{sim.base_url}/api/v2/users/{person.genesys_id}/routingstatus"
    sim.state.genesys.set_presence("Busy")
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        on = await client.put(url, headers=bearer(token), json={"status": "IDLE"})
        presence_on = sim.state.genesys.system_presence()
        off = await client.put(url, headers=bearer(token), json={"status": "OFF_QUEUE"})
        interacting = await client.put(url, headers=bearer(token), json={"status": "INTERACTING"})
        read = await client.get(url, headers=bearer(token))
    assert on.status_code == 200 and on.json()["status"] == "IDLE" and presence_on == "OnQueue"
    assert off.json()["status"] == "OFF_QUEUE" and sim.state.genesys.system_presence() == "Available"
    assert interacting.status_code == 400
    assert read.json()["status"] == "OFF_QUEUE" and read.json()["startTime"].endswith("Z")


async def test_out_of_office_can_be_read_and_changed(sim: Simulator) -> None:
    person = sim.state.people.default_user
    url = f"{sim.base_url}/api/v2/users/{person.genesys_id}/outofoffice"
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        put = await client.put(
            url,
            headers=bearer(token),
            json={"active": True, "indefinite": True, "startDate": "2026-01-01T00:00:00.000Z"},
        )
        got = await client.get(url, headers=bearer(token))
    assert put.status_code == 200 and got.json()["active"] is True and got.json()["indefinite"] is True
    assert got.json()["startDate"] == "2026-01-01T00:00:00.000Z"
    assert sim.state.genesys.out_of_office()


async def test_each_token_gets_its_own_per_minute_budget() -> None:
    rate_limited = Simulator(auto_approve=True, genesys_rate_per_minute=5)
    async with rate_limited as sim, httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token, other = await genesys_token(client, sim), await genesys_token(client, sim)
        url = f"{sim.base_url}/api/v2/users/me"
        statuses = [(await client.get(url, headers=bearer(token))).status_code for _ in range(5)]
        limited = await client.get(url, headers=bearer(token))
        other_ok = await client.get(url, headers=bearer(other))
        sim.state.faults.throttle_next("genesys", 1, retry_after=None)
        no_header = await client.get(url, headers=bearer(other))
    assert statuses == [200] * 5
    assert limited.status_code == 429 and limited.json()["code"] == "too.many.requests.retry.after"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert other_ok.status_code == 200
    assert no_header.status_code == 429 and no_header.json()["code"] == "too.many.requests"
    assert "Retry-After" not in no_header.headers


async def test_expired_and_revoked_tokens_get_401_error_bodies(sim: Simulator) -> None:
    url = f"{sim.base_url}/api/v2/users/me"
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        missing = await client.get(url)
        token = await genesys_token(client, sim)
        info = await client.get(f"{sim.base_url}/api/v2/tokens/me", headers=bearer(token))
        sim.state.faults.expire_tokens("genesys")
        expired = await client.get(url, headers=bearer(token))
        fresh = await genesys_token(client, sim)
        revoke = await client.delete(f"{sim.base_url}/api/v2/tokens/me", headers=bearer(fresh))
        revoked = await client.get(url, headers=bearer(fresh))
    assert missing.json()["code"] == "authentication.required"
    assert info.status_code == 200 and info.json()["OAuthClient"]["id"] == sim.genesys_client_id
    assert "dateTokenIdles" in info.json()
    assert expired.status_code == 401 and expired.json()["code"] == "credentials.expired"
    assert revoke.status_code == 204
    assert revoked.status_code == 401 and revoked.json()["code"] == "bad.credentials"
    assert revoked.json().keys() >= ERROR_BODY_KEYS
    assert sim.state.counters.genesys_unauthorized == 3


async def test_injected_5xx_uses_the_error_body_shape(sim: Simulator) -> None:
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        sim.state.faults.fail_next("genesys", 2, status=503)
        first = await client.get(f"{sim.base_url}/api/v2/users/me", headers=bearer(token))
        second = await client.get(f"{sim.base_url}/api/v2/users/me", headers=bearer(token))
        third = await client.get(f"{sim.base_url}/api/v2/users/me", headers=bearer(token))
    assert first.status_code == second.status_code == 503
    assert first.json()["code"] == "service.unavailable" and first.json().keys() >= ERROR_BODY_KEYS
    assert third.status_code == 200


async def test_unknown_api_paths_answer_with_a_404_error_body(sim: Simulator) -> None:
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        response = await client.get(f"{sim.base_url}/api/v2/no/such/thing")
    assert response.status_code == 404 and response.json()["code"] == "not.found"
