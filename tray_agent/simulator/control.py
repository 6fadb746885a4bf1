"""Control surface: a small HTML page and a JSON API to drive the simulated world by hand or from tests.

No authentication on purpose: the simulator listens on loopback only and this is test tooling. The page
needs no external assets. Everything here calls the same :class:`SimulatorState` methods as the Python API.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict
from importlib import resources
from typing import Any

from aiohttp import web

from tray_agent.clock import iso

from .context import state_of
from .directory import SimUser
from .state import SimulatorState


def _error(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise web.HTTPBadRequest(text='{"error":"invalid JSON"}', content_type="application/json") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text='{"error":"expected a JSON object"}', content_type="application/json")
    return body


def _user(body: dict[str, Any]) -> str | None:
    """Optional ``"user"``: e-mail, Microsoft id or Genesys id; absent = the default user."""
    value = body.get("user")
    return str(value) if value else None


def user_snapshot(state: SimulatorState, person: SimUser) -> dict[str, Any]:
    t, g = person.teams, person.genesys
    definition = state.definitions[g.definition_id]
    return {
        "name": person.name,
        "email": person.email,
        "msId": person.ms_id,
        "genesysId": person.genesys_id,
        "teams": {
            "availability": t.availability,
            "activity": t.activity,
            "statusMessage": t.status_message,
            "outOfOffice": t.out_of_office,
            "sequenceNumber": t.sequence_number,
        },
        "genesys": {
            "definitionId": definition.id,
            "systemPresence": definition.system_presence,
            "label": definition.label,
            "message": g.message,
            "modifiedDate": iso(g.modified),
            "routingStatus": g.routing_status,
            "routingStartTime": iso(g.routing_start),
            "outOfOffice": g.ooo_active,
        },
    }


def snapshot(state: SimulatorState, *, max_users: int = 50) -> dict[str, Any]:
    """What the control page shows (``GET /control/api/state``): the world at a glance, bounded in size."""
    users = list(itertools.islice(state.people.users.values(), max_users))
    return {
        "now": iso(state.clock.now()),
        "tenantId": state.apps.tenant_id,
        "msClientId": state.apps.ms_client_id,
        "genesysClientId": state.apps.genesys_client_id,
        "userCount": len(state.people.users),
        "users": [user_snapshot(state, u) for u in users],
        "definitions": [
            {
                "id": d.id,
                "systemPresence": d.system_presence,
                "label": d.label,
                "type": d.type,
                "deactivated": d.deactivated,
            }
            for d in state.definitions.values()
        ],
        "faults": state.faults.snapshot(),
        "counters": asdict(state.counters),
        "channels": [
            {
                "id": c.id,
                "userId": c.user_id,
                "connected": c.connected,
                "expires": iso(c.expires),
                "topics": list(c.topics)[:20],
            }
            for c in itertools.islice(state.notifications.channels.values(), 100)
        ],
        "violations": len(state.genesys.violations),
    }


async def page(request: web.Request) -> web.Response:
    text = resources.files("tray_agent.simulator").joinpath("static/control.html").read_text(encoding="utf-8")
    return web.Response(text=text, content_type="text/html")


async def get_state(request: web.Request) -> web.Response:
    return web.json_response(snapshot(state_of(request)))


def _apply(request: web.Request, action: Any) -> web.Response:
    """Run a state mutation, mapping bad input (ValueError/KeyError/TypeError) to a 400."""
    state = state_of(request)
    try:
        action(state)
    except (ValueError, KeyError, TypeError) as exc:
        return _error(str(exc))
    return web.json_response(snapshot(state))


async def post_teams(request: web.Request) -> web.Response:
    body = await _body(request)

    def act(state: SimulatorState) -> None:
        state.teams.set(
            str(body["availability"]),
            str(body.get("activity") or body["availability"]),
            user=_user(body),
            out_of_office=body.get("outOfOffice"),
        )
        if "statusMessage" in body:
            state.teams.set_status_message(body["statusMessage"], user=_user(body))

    return _apply(request, act)


async def post_genesys_presence(request: web.Request) -> web.Response:
    body = await _body(request)
    value = body.get("definitionId") or body.get("systemPresence")
    if not isinstance(value, str):
        return _error("systemPresence or definitionId is required")
    return _apply(request, lambda state: state.genesys.set_presence(value, user=_user(body)))


async def post_genesys_routing(request: web.Request) -> web.Response:
    body = await _body(request)
    return _apply(request, lambda state: state.genesys.set_routing(str(body["status"]), user=_user(body)))


async def post_genesys_ooo(request: web.Request) -> web.Response:
    body = await _body(request)
    if not isinstance(body.get("active"), bool):
        return _error("active (boolean) is required")
    return _apply(request, lambda state: state.genesys.set_out_of_office(body["active"], user=_user(body)))


async def post_faults(request: web.Request) -> web.Response:
    """``{"action": <fault method name>, ...its keyword arguments}``, e.g.
    ``{"action":"fail_next","service":"graph","count":2,"status":503}``,
    ``{"action":"network_down","down":true}``, ``{"action":"set_latency","service":"all","seconds":2}``,
    ``{"action":"clear"}``."""
    body = await _body(request)
    action = body.pop("action", None)
    allowed = {
        "set_latency",
        "fail_next",
        "throttle_next",
        "drop_websockets",
        "socket_closing",
        "stop_heartbeats",
        "expire_tokens",
        "expire_channels",
        "network_down",
        "entra_consent_blocked",
        "clear",
    }
    if action not in allowed:
        return _error(f"action must be one of {sorted(allowed)}")
    return _apply(request, lambda state: getattr(state.faults, action)(**body))


async def get_log(request: web.Request) -> web.Response:
    state = state_of(request)
    try:
        limit = max(1, min(5000, int(request.query.get("limit", "200"))))
    except ValueError:
        return _error("limit must be an integer")
    requests = list(state.request_log)[-limit:]
    events = state.genesys.events[-limit:]
    return web.json_response(
        {
            "requests": [{**e._asdict(), "at": iso(e.at)} for e in requests],
            "events": [{**e._asdict(), "at": iso(e.at)} for e in events],
            "counters": asdict(state.counters),
        }
    )


async def get_setup(request: web.Request) -> web.Response:
    """What an agent started separately (``tray-agent run --simulator``) needs: the simulator's clock
    (epoch seconds and speed, so it can follow simulated time), the tenant, clients and redirects."""
    state = state_of(request)
    return web.json_response(
        {
            "now": state.clock.now(),
            "speed": float(getattr(state.clock, "speed", 1.0)),
            "tenantId": state.apps.tenant_id,
            "msClientId": state.apps.ms_client_id,
            "genesysClientId": state.apps.genesys_client_id,
            "genesysRedirectUris": list(state.apps.genesys_redirect_uris),
            "autoApprove": state.auto_approve,
        }
    )


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/control", page)
    r.add_get("/control/api/state", get_state)
    r.add_get("/control/api/setup", get_setup)
    r.add_post("/control/api/teams", post_teams)
    r.add_post("/control/api/genesys/presence", post_genesys_presence)
    r.add_post("/control/api/genesys/routing", post_genesys_routing)
    r.add_post("/control/api/genesys/out-of-office", post_genesys_ooo)
    r.add_post("/control/api/faults", post_faults)
    r.add_get("/control/api/log", get_log)
