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

from tray_agent.clock import iso, parse_iso

from .context import state_of
from .directory import SimUser
from .state import SimulatorState
from .workstation import MAX_EVENTS, Workstation

MAX_LONG_POLL = 30.0  # real seconds a GET /control/api/workstation?wait= may hold the request


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


def teams_sessions_view(state: SimulatorState, person: SimUser) -> dict[str, Any]:
    """One person's presence sessions: the Teams client's own, the apps' live ones, the preferred presence."""
    preferred = state.teams.preferred(person)
    client = state.teams.client_status(person)
    sessions = []
    for session in state.teams.sessions(person):
        now_shows = state.teams.session_status(session)
        sessions.append(
            {
                "sessionId": session.session_id,
                "availability": session.availability,
                "activity": session.activity,
                "showsNow": list(now_shows) if now_shows is not None else None,  # an Available one fades
                "expiresAt": iso(session.expires_at),
                "created": iso(session.created),
                "renewed": iso(session.renewed),
            }
        )
    return {
        "user": person.email,
        "msId": person.ms_id,
        "client": {"availability": client[0], "activity": client[1]},
        "sessions": sessions,
        "preferred": (
            None
            if preferred is None
            else {
                "availability": preferred.availability,
                "activity": preferred.activity,
                "by": preferred.by,
                "expiresAt": iso(preferred.expires_at) if preferred.expires_at is not None else None,
                "setAt": iso(preferred.set_at),
            }
        ),
    }


def user_snapshot(state: SimulatorState, person: SimUser) -> dict[str, Any]:
    t, g = state.teams.presence(person), person.genesys  # what Teams shows now: the aggregation (not Graph's)
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
            **{k: v for k, v in teams_sessions_view(state, person).items() if k not in ("user", "msId")},
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
            "interactions": [
                {"id": i.id, "media": i.media, "acd": i.acd, "connectedAt": iso(i.connected_at)}
                for i in state.genesys.interactions(person)
            ],
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
        "workstation": workstation_view(state.workstation),
        "consents": state.consents.snapshot()[:100],
    }


def workstation_view(workstation: Workstation) -> dict[str, Any]:
    """``GET /control/api/workstation``: lock, devices, calendar (attendees as a count) and the version."""
    return {
        "locked": workstation.locked,
        "microphone": workstation.microphone,
        "camera": workstation.camera,
        "calendar": [
            {"subject": e.subject, "start": iso(e.start), "end": iso(e.end), "attendees": len(e.attendees)}
            for e in workstation.calendar
        ],
        "version": workstation.version,
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
    """``{"availability", "activity"?, "byHand"?, "outOfOffice"?, "statusMessage"?, "user"?}``: what the
    Teams client session shows; ``"byHand": true`` = chosen in Teams' own status menu (user-configured:
    beats app sessions). ``{"resetStatus": true}``: "Reset status" in that menu."""
    body = await _body(request)
    by_hand = body.get("byHand", False)
    if not isinstance(by_hand, bool):
        return _error("byHand must be a boolean")
    if body.get("resetStatus") is True:
        return _apply(request, lambda state: state.teams.reset_status(_user(body)))

    def act(state: SimulatorState) -> None:
        state.teams.set(
            str(body["availability"]),
            str(body.get("activity") or body["availability"]),
            user=_user(body),
            out_of_office=body.get("outOfOffice"),
            by_hand=by_hand,
        )
        if "statusMessage" in body:
            state.teams.set_status_message(body["statusMessage"], user=_user(body))

    return _apply(request, act)


async def get_teams_sessions(request: web.Request) -> web.Response:
    """``GET /control/api/teams/sessions[?user=]``: every person's (or one person's) presence sessions."""
    state = state_of(request)
    user = request.query.get("user") or None
    try:
        people = [state.people.user(user)] if user else list(itertools.islice(state.people.users.values(), 200))
    except KeyError as exc:
        return _error(str(exc).strip("'\""))
    return web.json_response({"now": iso(state.clock.now()), "users": [teams_sessions_view(state, p) for p in people]})


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


async def post_genesys_interaction(request: web.Request) -> web.Response:
    """``{"media": "voice"|"callback"|"chat"|"message"|"email", "state": "connected"|"ended", "acd"?: true,
    "user"?, "id"?}``. Connected answers ``{"id": <conversation id>, ...}``; ended takes that id (or ends the
    user's latest interaction in ``media``). Bad input: 400, nothing changed."""
    body = await _body(request)
    state_name, media, acd = body.get("state"), body.get("media"), body.get("acd", True)
    conversation_id = body.get("id")
    if state_name not in ("connected", "ended"):
        return _error('state must be "connected" or "ended"')
    if media is not None and not isinstance(media, str):
        return _error("media must be a string")
    if not isinstance(acd, bool):
        return _error("acd must be a boolean")
    if conversation_id is not None and (not isinstance(conversation_id, str) or not conversation_id):
        return _error("id must be a conversation id (a string)")
    state = state_of(request)
    try:
        if state_name == "connected":
            if media is None:
                raise ValueError("media is required")
            found = state.genesys.connect_interaction(media, user=_user(body), acd=acd, conversation_id=conversation_id)
        else:
            found = state.genesys.end_interaction(conversation_id, user=_user(body), media=media)
    except (ValueError, KeyError) as exc:
        return _error(str(exc).strip("'\""))
    person = state.people.user(found.user_id)
    return web.json_response(
        {
            "id": found.id,
            "media": found.media,
            "acd": found.acd,
            "state": state_name,
            "routingStatus": person.genesys.routing_status,
            "conversationSummary": state.genesys.conversation_summary(person),
        }
    )


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
        "user_consent_disabled",
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


async def get_workstation(request: web.Request) -> web.Response:
    """``?after=<version>&wait=<seconds>``: a long poll, answered as soon as ``version > after`` or after
    ``wait`` real seconds (at most 30). Only lock, device and calendar edits bump the version (Teams' own
    automatic changes do not). ``?user=`` picks someone other than the default user."""
    state = state_of(request)
    try:
        after = int(request.query["after"]) if "after" in request.query else None
        wait = float(request.query.get("wait", "0"))
    except ValueError:
        return _error("after must be an integer and wait a number of seconds")
    if not 0 <= wait < float("inf"):
        return _error("wait must be a number of seconds >= 0")
    user = request.query.get("user") or None
    try:
        workstation = state.workstations.of(user)
    except KeyError as exc:
        return _error(str(exc))
    if after is not None and wait > 0:
        workstation = await state.workstations.wait_for_change(user, after, min(wait, MAX_LONG_POLL))
    return web.json_response(workstation_view(workstation))


def _workstation_action(request: web.Request, body: dict[str, Any], action: Any) -> web.Response:
    """Run ``action(workstation)`` on the body's user's workstation; bad input → 400, nothing changed."""
    state = state_of(request)
    try:
        workstation = state.workstations.of(_user(body))
        action(workstation)
    except (ValueError, KeyError, TypeError) as exc:
        return _error(str(exc).strip("'\""))
    return web.json_response(workstation_view(workstation))


async def post_workstation(request: web.Request) -> web.Response:
    """``{"locked": true|false}``: lock or unlock the session."""
    body = await _body(request)
    locked = body.get("locked")
    if not isinstance(locked, bool):
        return _error("locked (boolean) is required")
    return _workstation_action(request, body, lambda w: w.lock() if locked else w.unlock())


async def post_devices(request: web.Request) -> web.Response:
    """``{"microphone": bool, "camera": bool}``, either may be left out (at least one is needed)."""
    body = await _body(request)
    if "microphone" not in body and "camera" not in body:
        return _error("microphone and/or camera (boolean) is required")
    for name in ("microphone", "camera"):
        if name in body and not isinstance(body[name], bool):
            return _error(f"{name} must be a boolean")
    return _workstation_action(
        request, body, lambda w: w.set_devices(microphone=body.get("microphone"), camera=body.get("camera"))
    )


def _calendar_events(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The body's events with ISO 8601 times turned into epoch seconds; raises ValueError."""
    events = body.get("events")
    if not isinstance(events, list):
        raise ValueError("events (a list) is required")
    if len(events) > MAX_EVENTS:
        raise ValueError(f"events: at most {MAX_EVENTS}")
    out = []
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            raise ValueError(f"events[{index}]: an object")
        converted = dict(event)
        for key in ("start", "end"):
            value = event.get(key)
            if not isinstance(value, str):
                raise ValueError(f"events[{index}].{key}: an ISO 8601 time, e.g. 2026-11-25T12:00:00Z")
            try:
                converted[key] = parse_iso(value)
            except ValueError:
                raise ValueError(f"events[{index}].{key}: not an ISO 8601 time: {value!r}") from None
        out.append(converted)
    return out


async def post_calendar(request: web.Request) -> web.Response:
    """``{"events": [{"subject", "start", "end", "attendees"?}]}``: replaces the calendar (ISO times on
    the simulator's clock; ``attendees`` a count or a list of e-mail addresses)."""
    body = await _body(request)
    try:
        events = _calendar_events(body)
    except ValueError as exc:
        return _error(str(exc))
    return _workstation_action(request, body, lambda w: w.set_calendar(events))


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/control", page)
    r.add_get("/control/api/state", get_state)
    r.add_get("/control/api/setup", get_setup)
    r.add_post("/control/api/teams", post_teams)
    r.add_get("/control/api/teams/sessions", get_teams_sessions)
    r.add_post("/control/api/genesys/presence", post_genesys_presence)
    r.add_post("/control/api/genesys/routing", post_genesys_routing)
    r.add_post("/control/api/genesys/out-of-office", post_genesys_ooo)
    r.add_post("/control/api/genesys/interaction", post_genesys_interaction)
    r.add_post("/control/api/faults", post_faults)
    r.add_get("/control/api/workstation", get_workstation)
    r.add_post("/control/api/workstation", post_workstation)
    r.add_post("/control/api/devices", post_devices)
    r.add_post("/control/api/calendar", post_calendar)
    r.add_get("/control/api/log", get_log)
