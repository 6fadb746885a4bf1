"""The control surface (HTML page + JSON API) and running the simulator on its own thread."""

from __future__ import annotations

import time

import httpx
import pytest

from tray_agent.clock import ScaledClock
from tray_agent.simulator import Simulator, SimulatorThread

from .helpers import bearer, graph_token, ssl_context

pytestmark = pytest.mark.anyio


async def test_control_page_is_plain_html_served_without_auth(sim: Simulator) -> None:
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        page = await client.get(sim.control_url)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/control/api/state" in page.text and "http://" not in page.text.replace("http://localhost", "")


async def test_control_api_drives_both_services_and_records_who_changed_what(sim: Simulator) -> None:
    api = f"{sim.base_url}/control/api"
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        teams = await client.post(f"{api}/teams", json={"availability": "DoNotDisturb", "activity": "Presenting"})
        presence = await client.post(f"{api}/genesys/presence", json={"systemPresence": "Break"})
        routing = await client.post(f"{api}/genesys/routing", json={"status": "IDLE"})
        ooo = await client.post(f"{api}/genesys/out-of-office", json={"active": True})
        bad = await client.post(f"{api}/genesys/presence", json={"systemPresence": "Sleeping"})
        state = (await client.get(f"{api}/state")).json()
        log = (await client.get(f"{api}/log")).json()
    assert [r.status_code for r in (teams, presence, routing, ooo)] == [200] * 4
    assert bad.status_code == 400
    me = state["users"][0]
    assert (me["teams"]["availability"], me["teams"]["activity"]) == ("DoNotDisturb", "Presenting")
    assert me["genesys"]["systemPresence"] == "OnQueue" and me["genesys"]["routingStatus"] == "IDLE"
    assert me["genesys"]["outOfOffice"] is True
    causes = {(e["kind"], e["cause"]) for e in log["events"]}
    assert ("presence_changed", "ui") in causes and ("routing_changed", "control") in causes
    assert state["violations"] == 0


async def test_faults_can_be_set_over_http(sim: Simulator) -> None:
    token = graph_token(sim)
    async with httpx.AsyncClient(verify=ssl_context(sim)) as client:
        set_fault = await client.post(
            f"{sim.base_url}/control/api/faults", json={"action": "fail_next", "service": "graph", "count": 1}
        )
        failed = await client.get(f"{sim.base_url}/v1.0/me/presence", headers=bearer(token))
        unknown = await client.post(f"{sim.base_url}/control/api/faults", json={"action": "format_disk"})
        wrong_args = await client.post(f"{sim.base_url}/control/api/faults", json={"action": "network_down", "up": 1})
    assert set_fault.status_code == 200 and set_fault.json()["faults"]["queued"] == {"graph": [503]}
    assert failed.status_code == 503
    assert unknown.status_code == 400 and wrong_args.status_code == 400


def test_simulator_thread_serves_a_synchronous_client_and_marshals_state_changes() -> None:
    # About marshalling, not Graph's lag behind the Teams client: no propagation delay.
    with SimulatorThread(auto_approve=True, graph_propagation_delay=0) as sim:
        token = sim.call(graph_token, sim.simulator)
        sim.call(sim.state.teams.set, "Away", "BeRightBack")
        with httpx.Client(verify=ssl_context(sim.simulator)) as client:
            body = client.get(f"{sim.base_url}/v1.0/me/presence", headers=bearer(token)).json()
        assert (body["availability"], body["activity"]) == ("Away", "BeRightBack")
        with pytest.raises(KeyError):
            sim.call(sim.state.teams.set, "Busy", "Busy", user="nobody@contoso.example")
        assert sim.authority == f"{sim.base_url}/{sim.tenant_id}"


async def test_latency_is_added_in_simulated_seconds_to_the_chosen_service_only() -> None:
    clock = ScaledClock(speed=100)
    async with Simulator(clock, auto_approve=True) as sim, httpx.AsyncClient(verify=ssl_context(sim)) as client:
        token = graph_token(sim)
        sim.state.faults.set_latency("graph", 40)  # 40 simulated seconds = 0.4 s real at speed 100
        started = time.monotonic()
        await client.get(f"{sim.base_url}/v1.0/me/presence", headers=bearer(token))
        graph_took = time.monotonic() - started
        started = time.monotonic()
        await client.get(f"{sim.base_url}/api/v2/users/me")
        genesys_took = time.monotonic() - started
    assert 0.35 <= graph_took < 2.0
    assert genesys_took < 0.3
