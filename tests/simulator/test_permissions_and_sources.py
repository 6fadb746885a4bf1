"""The simulator is as strict as Genesys about permissions per role and about presence sources, and the
agent's client copes: a least-privilege agent still gets the org's presences; writes claim the
PURECLOUD source as primary, so they become the status shown."""

from __future__ import annotations

import httpx
import pytest

from tray_agent.clients.genesys import GenesysClient
from tray_agent.clients.http import make_http_client
from tray_agent.simulator import Simulator
from tray_agent.simulator import definitions as defs

from .helpers import bearer, genesys_token, ssl_context

pytestmark = pytest.mark.anyio


async def test_an_agent_without_presence_definition_view_is_refused_the_new_list_but_not_the_legacy_one(
    sim: Simulator,
) -> None:
    restricted = sim.state.people.add_user(
        "Least Privilege", "least@contoso.example", role="agent_without_presence_view"
    )
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim, restricted)
        new = await client.get(f"{sim.base_url}/api/v2/presence/definitions", headers=bearer(token))
        legacy = await client.get(f"{sim.base_url}/api/v2/presencedefinitions", headers=bearer(token))
        one_legacy = await client.get(
            f"{sim.base_url}/api/v2/presencedefinitions/{defs.AVAILABLE.id}", headers=bearer(token)
        )
        me = await client.get(f"{sim.base_url}/api/v2/users/me?expand=presence", headers=bearer(token))
    assert new.status_code == 403 and new.json()["code"] == "missing.permissions"
    assert "presence:presenceDefinition:view" in new.json()["message"]
    assert legacy.status_code == 200 and legacy.json()["entities"]
    assert one_legacy.status_code == 403  # the single legacy definition needs the permission (SDK)
    assert me.status_code == 200  # users/me needs none


async def test_the_client_falls_back_to_the_legacy_list_for_a_least_privilege_agent(sim: Simulator) -> None:
    restricted = sim.state.people.add_user(
        "Least Privilege", "least@contoso.example", role="agent_without_presence_view"
    )
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim, restricted)
        unrestricted = await genesys_token(client, sim)

    async def restricted_token() -> str:
        return token

    async def full_token() -> str:
        return unrestricted

    http = make_http_client(sim.ca_path)
    try:
        fallback = await GenesysClient(http, restricted_token, sim.base_url).presence_definitions()
        direct = await GenesysClient(http, full_token, sim.base_url).presence_definitions()
    finally:
        await http.aclose()
    assert {d.id for d in fallback} == {d.id for d in direct}
    assert {d.system_presence for d in fallback} == {d.system_presence for d in direct}
    assert {d.id for d in fallback if d.secondary} == {d.id for d in direct if d.secondary}
    assert {d.id: d.label_in("de") for d in fallback} == {d.id: d.label_in("de") for d in direct}
    assert {d.label_in("de") for d in direct if d.secondary} >= {"Teams-Anruf", "Mittagspause"}


async def test_a_write_becomes_the_status_shown_only_when_it_claims_the_primary_source(sim: Simulator) -> None:
    person = sim.state.people.default_user
    sim.state.genesys.make_primary_source(person, "MICROSOFTTEAMS")
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)
        path = f"{sim.base_url}/api/v2/users/{person.genesys_id}/presences/purecloud"
        quiet = await client.patch(path, json={"presenceDefinition": {"id": defs.BUSY.id}}, headers=bearer(token))
        shown_after_quiet = person.genesys.definition_id
        claimed = await client.patch(
            path, json={"presenceDefinition": {"id": defs.BUSY.id}, "primary": True}, headers=bearer(token)
        )
    assert quiet.status_code == 200 and quiet.json()["primary"] is False
    assert shown_after_quiet != defs.BUSY.id
    assert claimed.status_code == 200 and claimed.json()["primary"] is True
    assert person.genesys.definition_id == defs.BUSY.id


async def test_the_agents_client_writes_with_primary_true(sim: Simulator) -> None:
    person = sim.state.people.default_user
    sim.state.genesys.make_primary_source(person, "MICROSOFTTEAMS")
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = await genesys_token(client, sim)

    async def bearer_token() -> str:
        return token

    http = make_http_client(sim.ca_path)
    try:
        await GenesysClient(http, bearer_token, sim.base_url).set_my_presence(person.genesys_id, defs.BUSY.id)
    finally:
        await http.aclose()
    assert person.genesys.definition_id == defs.BUSY.id
    assert person.genesys.primary_source == "PURECLOUD"
