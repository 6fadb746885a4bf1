"""The workstation on the control API: lock, devices and calendar edits, each refusing a bad body and
leaving the state as it was, and the long poll the product's simulated signal source relies on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tray_agent.simulator import Simulator

from .helpers import ManualClock, ssl_context

pytestmark = pytest.mark.anyio


@pytest.fixture
async def api() -> AsyncIterator[tuple[Simulator, ManualClock, httpx.AsyncClient, str]]:
    clock = ManualClock()
    async with Simulator(clock, auto_approve=True) as sim, httpx.AsyncClient(verify=ssl_context(sim)) as client:
        yield sim, clock, client, f"{sim.base_url}/control/api"


Api = tuple[Simulator, ManualClock, httpx.AsyncClient, str]


async def test_post_workstation_locks_and_unlocks_and_refuses_anything_but_a_boolean(api: Api) -> None:
    sim, _, client, url = api
    locked = await client.post(f"{url}/workstation", json={"locked": True})
    refused = [await client.post(f"{url}/workstation", json=body) for body in ({"locked": "yes"}, {}, {"locked": 1})]
    not_json = await client.post(f"{url}/workstation", content=b"locked")
    assert locked.status_code == 200 and locked.json()["locked"] is True and locked.json()["version"] == 1
    assert [r.status_code for r in refused] == [400, 400, 400] and "locked" in refused[0].json()["error"]
    assert not_json.status_code == 400
    assert sim.state.workstation.locked is True and sim.state.workstation.version == 1
    unlocked = await client.post(f"{url}/workstation", json={"locked": False})
    assert unlocked.json()["locked"] is False and sim.state.workstation.locked is False


async def test_post_devices_sets_either_device_and_refuses_non_booleans_without_changing_anything(api: Api) -> None:
    sim, _, client, url = api
    microphone = await client.post(f"{url}/devices", json={"microphone": True})
    camera = await client.post(f"{url}/devices", json={"camera": True})
    before = (sim.state.workstation.microphone, sim.state.workstation.camera, sim.state.workstation.version)
    bad = [
        await client.post(f"{url}/devices", json=body)
        for body in ({"microphone": "on"}, {"microphone": False, "camera": 1}, {}, {"camera": None})
    ]
    assert microphone.json()["microphone"] is True and microphone.json()["camera"] is False
    assert camera.json()["microphone"] is True and camera.json()["camera"] is True
    assert [r.status_code for r in bad] == [400] * 4
    assert bad[0].json() == {"error": "microphone must be a boolean"}
    assert (sim.state.workstation.microphone, sim.state.workstation.camera, sim.state.workstation.version) == before


async def test_post_calendar_takes_iso_times_with_z_or_an_offset_and_replaces_the_calendar(api: Api) -> None:
    sim, _, client, url = api
    events = [
        {"subject": "Coaching", "start": "2026-11-25T13:00:00+01:00", "end": "2026-11-25T12:30:00Z", "attendees": 2},
        {"subject": "Stand-up", "start": "2026-11-25T09:00:00Z", "end": "2026-11-25T09:15:00Z"},
        {
            "subject": "1:1",
            "start": "2026-11-25T15:00:00Z",
            "end": "2026-11-25T15:30:00Z",
            "attendees": ["kim@contoso.example"],
        },
    ]
    first = await client.post(f"{url}/calendar", json={"events": events})
    replaced = await client.post(f"{url}/calendar", json={"events": events[1:2]})
    shown = (await client.get(f"{url}/workstation")).json()
    assert first.status_code == 200
    assert first.json()["calendar"] == [
        {"subject": "Stand-up", "start": "2026-11-25T09:00:00.000Z", "end": "2026-11-25T09:15:00.000Z", "attendees": 0},
        {"subject": "Coaching", "start": "2026-11-25T12:00:00.000Z", "end": "2026-11-25T12:30:00.000Z", "attendees": 2},
        {"subject": "1:1", "start": "2026-11-25T15:00:00.000Z", "end": "2026-11-25T15:30:00.000Z", "attendees": 1},
    ]
    assert replaced.json()["calendar"] == shown["calendar"]
    assert [e["subject"] for e in shown["calendar"]] == ["Stand-up"]
    assert shown == {"locked": False, "microphone": False, "camera": False, "calendar": shown["calendar"], "version": 2}
    assert sim.state.workstation.calendar[0].subject == "Stand-up"


@pytest.mark.parametrize(
    "body",
    [
        {"events": [{"subject": "Backwards", "start": "2026-11-25T10:00:00Z", "end": "2026-11-25T09:00:00Z"}]},
        {"events": [{"subject": "Zero", "start": "2026-11-25T10:00:00Z", "end": "2026-11-25T10:00:00Z"}]},
        {"events": [{"subject": None, "start": "2026-11-25T10:00:00Z", "end": "2026-11-25T11:00:00Z"}]},
        {"events": [{"subject": "When?", "start": "tomorrow", "end": "2026-11-25T11:00:00Z"}]},
        {"events": [{"subject": "Epoch", "start": 1795000000, "end": 1795003600}]},
        {
            "events": [
                {"subject": "Crowd", "start": "2026-11-25T10:00:00Z", "end": "2026-11-25T11:00:00Z", "attendees": -1}
            ]
        },
        {"events": [{"subject": "x", "start": "2026-11-25T10:00:00Z", "end": "2026-11-25T11:00:00Z"}] * 501},
        {"events": "all of them"},
        {},
        {"events": ["not an event"]},
    ],
)
async def test_a_bad_calendar_body_is_a_400_and_the_calendar_stays_as_it_was(api: Api, body: dict[str, Any]) -> None:
    sim, _, client, url = api
    good = {"subject": "Kept", "start": "2026-11-25T10:00:00Z", "end": "2026-11-25T11:00:00Z"}
    await client.post(f"{url}/calendar", json={"events": [good]})
    before = (sim.state.workstation.calendar, sim.state.workstation.version)
    response = await client.post(f"{url}/calendar", json=body)
    assert response.status_code == 400 and response.json()["error"]
    assert (sim.state.workstation.calendar, sim.state.workstation.version) == before


async def test_the_control_state_snapshot_includes_the_workstation(api: Api) -> None:
    _, _, client, url = api
    await client.post(f"{url}/workstation", json={"locked": True})
    state = (await client.get(f"{url}/state")).json()
    assert state["workstation"]["locked"] is True and state["workstation"]["version"] == 1
    assert state["faults"]["userConsentDisabled"] is False


async def test_a_long_poll_answers_as_soon_as_the_workstation_changes(api: Api) -> None:
    sim, _, client, url = api
    version = (await client.get(f"{url}/workstation")).json()["version"]
    poll = asyncio.create_task(client.get(f"{url}/workstation", params={"after": version, "wait": 30}))
    waiter_seen = asyncio.Event()

    async def lock_once_the_poll_waits() -> None:
        # the server has the poll when the simulator holds a waiter for it; then change the lock
        while not sim.state.workstations.polled:  # noqa: ASYNC110 (the simulator's own flag, no event to await)
            await asyncio.sleep(0)
        waiter_seen.set()
        await client.post(f"{url}/workstation", json={"locked": True})

    async with asyncio.timeout(10):
        await lock_once_the_poll_waits()
        answer = (await poll).json()
    assert waiter_seen.is_set()
    assert answer["locked"] is True and answer["version"] == version + 1


async def test_a_long_poll_answers_at_once_when_already_newer_and_after_wait_when_nothing_changes(api: Api) -> None:
    sim, clock, client, url = api
    await client.post(f"{url}/devices", json={"camera": True})
    at_once = (await client.get(f"{url}/workstation", params={"after": 0, "wait": 30})).json()
    sim.state.workstation.lock()
    clock.advance(60)  # Teams turns Away by itself: not a workstation change, so no new version
    sim.state.teams.presence()
    unchanged = (await client.get(f"{url}/workstation", params={"after": 2, "wait": 0.05})).json()
    bad = await client.get(f"{url}/workstation", params={"after": "two", "wait": 1})
    negative = await client.get(f"{url}/workstation", params={"after": 1, "wait": -1})
    assert at_once["camera"] is True and at_once["version"] == 1
    assert unchanged["version"] == 2 and unchanged["locked"] is True
    assert sim.state.teams.presence().availability == "Away"
    assert bad.status_code == 400 and negative.status_code == 400


async def test_user_consent_disabled_is_a_fault_the_control_api_can_set(api: Api) -> None:
    sim, _, client, url = api
    response = await client.post(f"{url}/faults", json={"action": "user_consent_disabled", "disabled": True})
    assert response.status_code == 200 and response.json()["faults"]["userConsentDisabled"] is True
    assert sim.state.faults.user_consent_blocked is True
    await client.post(f"{url}/faults", json={"action": "clear"})
    assert sim.state.faults.user_consent_blocked is False
