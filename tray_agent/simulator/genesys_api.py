"""Genesys Cloud Platform API (``/api/v2``): users, presence, routing status, out of office, tokens, channels.

Every route needs a valid bearer token from the login service and counts against that token's
per-minute budget (``token.rate.per.minute`` = 300). Every error is an ``ErrorBody``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tray_agent.clock import iso, parse_iso

from . import definitions as defs
from . import notification_topics as topics
from .context import identify, state_of
from .directory import ORG_ID, ORG_NAME, PRESENCE_DEFINITION_VIEW, SimUser
from .error_answers import genesys_error, genesys_throttled
from .genesys_presence import PresenceChangeRejected
from .issued_tokens import GenesysToken
from .notification_channels import MAX_TOPICS_PER_CHANNEL, Channel, TopicResult
from .ratelimit import SlidingWindow
from .state import SimulatorState

# real behaviour unknown: the sourceId Genesys reports for the PURECLOUD presence source
PURECLOUD_SOURCE_ID = "e8e3c6b7-4c1f-4a8e-9d61-5a4d1b0e2c3f"

Handler = Callable[[web.Request, GenesysToken, SimUser], Awaitable[web.StreamResponse]]


def _authenticate(request: web.Request) -> GenesysToken | web.Response:
    state = state_of(request)
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        return genesys_error(
            request, 401, "authentication.required", "No authentication bearer token specified in authorization header."
        )
    status, found = state.tokens.genesys_token_status(value)
    if found is not None:
        identify(request, found.user_id, found.client_id)
    if status == "expired":
        return genesys_error(request, 401, "credentials.expired", "The supplied credentials are expired.")
    if status != "ok" or found is None:
        return genesys_error(request, 401, "bad.credentials", "Invalid login credentials.")
    if found.window is None:
        found.window = SlidingWindow(state.tokens.genesys_rate_per_minute, 60.0)
    retry_after = found.window.hit(state.clock.now())
    if retry_after is not None:
        return genesys_throttled(request, retry_after)
    preserve = request.path == "/api/v2/tokens/me" and request.query.get("preserveIdleTTL", "").lower() == "true"
    if not preserve:
        state.tokens.use_genesys_token(found)
    return found


def authed(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def wrapper(request: web.Request) -> web.StreamResponse:
        token = _authenticate(request)
        if isinstance(token, web.Response):
            return token
        person = state_of(request).people.genesys_user(token.user_id)
        if person is None:  # the user was removed after the token was issued
            return genesys_error(request, 401, "bad.credentials", "Invalid login credentials.")
        return await handler(request, token, person)

    return wrapper


async def _json_body(request: web.Request) -> Any:
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _Reject(
            400, "bad.request", "The request could not be understood by the server due to malformed syntax."
        ) from None


class _Reject(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def rejecting(handler: Handler) -> Handler:
    """Turn :class:`_Reject` / :class:`PresenceChangeRejected` raised by ``handler`` into ErrorBody responses."""

    async def wrapper(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
        try:
            return await handler(request, token, person)
        except (_Reject, PresenceChangeRejected) as exc:
            return genesys_error(request, exc.status, exc.code, exc.message)

    return wrapper


def route(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    return authed(rejecting(handler))


def _require(person: SimUser, permission: str) -> None:
    """Refuse as Genesys does when the user's role lacks ``permission`` (SDK: "Requires ALL permissions").

    real behaviour unknown: the exact message text; the status (403) and code are Genesys's usual ones.
    """
    if permission not in person.permissions:
        raise _Reject(
            403,
            "missing.permissions",
            f"Unable to perform the requested action. You are missing the following permission(s): [{permission}]",
        )


def _target(request: web.Request, token: GenesysToken, *, write: bool) -> SimUser:
    """The ``{userId}`` in the path; writing someone else's state is refused."""
    state = state_of(request)
    user_id = request.match_info["userId"]
    person = state.people.genesys_user(user_id)
    if person is None:
        raise _Reject(404, "not.found", f"User {user_id} not found.")
    if write and person.genesys_id != token.user_id:
        # real behaviour unknown: exact code/message (editing others needs presence:userPresence:edit etc.)
        raise _Reject(
            403,
            "missing.permissions",
            "Unable to perform the requested action. You are missing the required permission(s).",
        )
    return person


# ---------------------------------------------------------------- bodies


def _definition_ref(definition: defs.PresenceDefinition) -> dict[str, Any]:
    return {
        "id": definition.id,
        "systemPresence": definition.display_system_presence,
        "selfUri": f"/api/v2/presencedefinitions/{definition.id}",
    }


def user_presence_body(state: SimulatorState, person: SimUser) -> dict[str, Any]:
    g = person.genesys
    return {
        "source": "PURECLOUD",
        "sourceId": PURECLOUD_SOURCE_ID,
        "primary": g.primary_source == "PURECLOUD",
        "presenceDefinition": _definition_ref(state.definitions[g.definition_id]),
        "message": g.message,
        "modifiedDate": iso(g.modified),
        "selfUri": f"/api/v2/users/{person.genesys_id}/presences/PURECLOUD",
    }


def routing_body(person: SimUser) -> dict[str, Any]:
    g = person.genesys
    return {"userId": person.genesys_id, "status": g.routing_status, "startTime": iso(g.routing_start)}


def out_of_office_body(state: SimulatorState, person: SimUser) -> dict[str, Any]:
    return {**topics.out_of_office_body(person), "selfUri": f"/api/v2/users/{person.genesys_id}/outofoffice"}


def user_body(state: SimulatorState, person: SimUser, expand: set[str], *, me: bool = False) -> dict[str, Any]:
    gid = person.genesys_id
    body: dict[str, Any] = {
        "id": gid,
        "name": person.name,
        "division": {
            "id": defs.HOME_DIVISION_ID,
            "name": "Home",
            "selfUri": f"/api/v2/authorization/divisions/{defs.HOME_DIVISION_ID}",
        },
        "chat": {"jabberId": f"{gid.replace('-', '')[:24]}@contoso.orgspan.com"},
        "email": person.email,
        "primaryContactInfo": [{"address": person.email, "mediaType": "EMAIL", "type": "PRIMARY"}],
        "addresses": [],
        "state": "active",
        "username": person.email,
        "version": 1,
        "acdAutoAnswer": False,
        "selfUri": f"/api/v2/users/{gid}",
    }
    if "presence" in expand:
        body["presence"] = user_presence_body(state, person)
    if "routingstatus" in expand:
        body["routingStatus"] = routing_body(person)
    if "outofoffice" in expand:
        body["outOfOffice"] = out_of_office_body(state, person)
    if me and "conversationsummary" in expand:
        # UserMe.conversationSummary (the users/me expand list names it). Inferred: only users/me has it;
        # GET /users/{id} ignores that expand (strict: no one's conversation counts through it).
        body["conversationSummary"] = state.genesys.conversation_summary(person)
    return body


def _expand(request: web.Request) -> set[str]:
    return {part.strip().lower() for value in request.query.getall("expand", []) for part in value.split(",")}


def definition_body(definition: defs.PresenceDefinition) -> dict[str, Any]:
    """``OrganizationPresenceDefinition`` (new API, enum casing)."""
    return {
        "id": definition.id,
        "type": definition.type,
        "languageLabels": definition.language_labels,
        "systemPresence": definition.system_presence,
        "divisionId": defs.HOME_DIVISION_ID,
        "deactivated": definition.deactivated,
        "selfUri": f"/api/v2/presence/definitions/{definition.id}",
    }


def legacy_definition_body(definition: defs.PresenceDefinition) -> dict[str, Any]:
    """``OrganizationPresence`` (legacy ``/presencedefinitions``, display casing as in a captured payload)."""
    return {
        "id": definition.id,
        "name": definition.label,
        "languageLabels": definition.language_labels,
        "systemPresence": definition.display_system_presence,
        "deactivated": definition.deactivated,
        "primary": definition.primary,
        "selfUri": f"/api/v2/presencedefinitions/{definition.id}",
    }


# ---------------------------------------------------------------- users


@route
async def users_me(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    return web.json_response(user_body(state_of(request), person, _expand(request), me=True))


@route
async def get_user(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    target = _target(request, token, write=False)
    return web.json_response(user_body(state_of(request), target, _expand(request)))


@route
async def conversation_summary(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    """``GET /api/v2/users/{userId}/conversations/summary``: ``UserConversationSummary`` (counts only).

    Real behaviour unknown, and what we chose (strict): only the caller's own user id is accepted; another
    user's is a 403 (as writing someone else's state is here), ``me`` is no user id (404); no permission
    beyond the token is asked for (none is documented in the reference).
    """
    target = _target(request, token, write=True)
    return web.json_response(state_of(request).genesys.conversation_summary(target))


# ---------------------------------------------------------------- presence definitions


@route
async def presence_definitions(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    _require(person, PRESENCE_DEFINITION_VIEW)  # SDK PresenceApi.md: get_presence_definitions
    state = state_of(request)
    wanted = request.query.get("deactivated")
    entities = [
        definition_body(d)
        for d in state.definitions.values()
        if wanted is None or str(d.deactivated).lower() == wanted.lower()
    ]
    # real behaviour unknown: listing fields beyond "entities" for this unpaged endpoint; and which labels
    # come back without localeCode or with a single one (ALL: "fetch everything"): every label, always
    return web.json_response({"entities": entities, "total": len(entities)})


@route
async def presence_definition(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    _require(person, PRESENCE_DEFINITION_VIEW)
    found = state_of(request).definitions.get(request.match_info["definitionId"])
    if found is None:
        raise _Reject(404, "not.found", "Presence definition not found.")
    return web.json_response(definition_body(found))


@route
async def legacy_presence_definitions(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    state = state_of(request)
    try:
        page_number = max(1, int(request.query.get("pageNumber", "1")))
        page_size = min(100, max(1, int(request.query.get("pageSize", "25"))))
    except ValueError:
        raise _Reject(400, "bad.request", "pageNumber and pageSize must be integers.") from None
    deleted = request.query.get("deleted", "false").lower() == "true"
    everything = [legacy_definition_body(d) for d in state.definitions.values() if deleted or not d.deactivated]
    start = (page_number - 1) * page_size
    return web.json_response(
        {
            "entities": everything[start : start + page_size],
            "pageSize": page_size,
            "pageNumber": page_number,
            "total": len(everything),
            "pageCount": max(1, math.ceil(len(everything) / page_size)),
        }
    )


@route
async def legacy_presence_definition(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    _require(person, PRESENCE_DEFINITION_VIEW)  # the single legacy definition does need it (SDK); the list does not
    found = state_of(request).definitions.get(request.match_info["definitionId"])
    if found is None:
        raise _Reject(404, "not.found", "Presence definition not found.")
    return web.json_response(legacy_definition_body(found))


@route
async def system_presences(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    # real behaviour unknown: SystemPresence ids; we use the upper-case names
    return web.json_response(
        [
            {
                "id": d.event_system_presence,
                "name": d.display_system_presence,
                "selfUri": f"/api/v2/systempresences/{d.event_system_presence}",
            }
            for d in defs.SYSTEM_DEFINITIONS
        ]
    )


# ---------------------------------------------------------------- user presence


def _source_is_purecloud(request: web.Request) -> bool:
    return request.match_info["sourceId"].lower() in ("purecloud", PURECLOUD_SOURCE_ID)


@route
async def get_presence(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    target = _target(request, token, write=False)
    if not _source_is_purecloud(request):
        raise _Reject(404, "not.found", "Presence source not found.")
    return web.json_response(user_presence_body(state_of(request), target))


@route
async def patch_presence(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    state = state_of(request)
    target = _target(request, token, write=True)
    if not _source_is_purecloud(request):
        raise _Reject(400, "bad.request", "This endpoint does not support registered presence sources.")
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise _Reject(400, "bad.request", "The request body must be a UserPresence object.")
    definition_id: str | None = None
    if "presenceDefinition" in body and body["presenceDefinition"] is not None:
        ref = body["presenceDefinition"]
        if not isinstance(ref, dict) or not isinstance(ref.get("id"), str):
            raise _Reject(400, "bad.request", "presenceDefinition.id is required.")
        definition_id = ref["id"]
    message = body.get("message")
    if message is not None and not isinstance(message, str):
        raise _Reject(400, "bad.request", "message must be a string.")
    primary = body.get("primary")
    if primary is not None and not isinstance(primary, bool):
        raise _Reject(400, "bad.request", "primary must be true or false.")
    if definition_id is None and message is None and primary is not True:
        raise _Reject(400, "bad.request", "Provide presenceDefinition, message and/or primary=true.")
    state.genesys.api_patch_presence(
        target, definition_id=definition_id, message=message, client_id=token.client_id, primary=primary is True
    )
    return web.json_response(user_presence_body(state, target))


# ---------------------------------------------------------------- routing status


@route
async def get_routing(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    user_id = request.match_info["userId"]
    target = state_of(request).people.genesys_user(user_id)
    if target is None:  # documented: "OFF_QUEUE will be returned if the specified user does not exist"
        return web.json_response({"userId": user_id, "status": "OFF_QUEUE"})
    return web.json_response(routing_body(target))


@route
async def put_routing(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    state = state_of(request)
    target = _target(request, token, write=True)
    body = await _json_body(request)
    status = body.get("status") if isinstance(body, dict) else None
    if status not in ("OFF_QUEUE", "IDLE"):
        # real behaviour unknown: other statuses are set by the routing engine, so we refuse them here
        raise _Reject(400, "bad.request", "status must be OFF_QUEUE or IDLE.")
    state.genesys.api_put_routing(target, status, token.client_id)
    return web.json_response(routing_body(target))


# ---------------------------------------------------------------- out of office


@route
async def get_out_of_office(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    target = _target(request, token, write=False)
    return web.json_response(out_of_office_body(state_of(request), target))


def _date(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Reject(400, "bad.request", f"{name} must be an ISO-8601 date-time.")
    try:
        return parse_iso(value)
    except ValueError:
        raise _Reject(400, "bad.request", f"{name} must be an ISO-8601 date-time.") from None


@route
async def put_out_of_office(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    state = state_of(request)
    target = _target(request, token, write=True)
    body = await _json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("active"), bool):
        raise _Reject(400, "bad.request", "active (boolean) is required.")
    indefinite = body.get("indefinite")
    state.genesys.api_put_out_of_office(
        target,
        active=body["active"],
        start=_date(body.get("startDate"), "startDate"),
        end=_date(body.get("endDate"), "endDate"),
        indefinite=indefinite if isinstance(indefinite, bool) else None,
        client_id=token.client_id,
    )
    return web.json_response(out_of_office_body(state, target))


# ---------------------------------------------------------------- tokens


@route
async def tokens_me(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    organization = {"id": ORG_ID, "name": ORG_NAME, "selfUri": f"/api/v2/organizations/{ORG_ID}"}
    return web.json_response(
        {
            "organization": organization,
            "homeOrganization": organization,
            "authorizedScope": ["presence", "users:readonly", "routing", "notifications"],
            "OAuthClient": {
                "id": token.client_id,
                "name": "Teams presence tray agent",
                "organization": {"id": ORG_ID, "selfUri": f"/api/v2/organizations/{ORG_ID}"},
            },
            # TokenInfo.dateTokenIdles: "Date/Time when token is due to expire" (SDK). With an idle timeout,
            # the sooner of the idle end and the expiry (real behaviour unknown: whether it is sent without one).
            "dateTokenIdles": iso(
                min(token.expires_at, token.idles_at(state_of(request).tokens.genesys_idle_timeout) or math.inf)
            ),
        }
    )


@route
async def delete_tokens_me(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    state_of(request).revoke_genesys_token(token.token)
    return web.Response(status=204)


# ---------------------------------------------------------------- notification channels


def channel_body(state: SimulatorState, channel: Channel) -> dict[str, Any]:
    host = state.base_url.replace("https://", "wss://", 1)
    return {"connectUri": f"{host}/channels/{channel.id}", "id": channel.id, "expires": iso(channel.expires)}


@route
async def create_channel(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    state = state_of(request)
    return web.json_response(channel_body(state, state.notifications.create_channel(token)))


@route
async def list_channels(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    state = state_of(request)
    scope = request.query.get("includechannels", "token").lower()
    channels = state.notifications.channels_of(
        token.user_id, token.client_id, token.token if scope == "token" else None
    )
    return web.json_response({"entities": [channel_body(state, c) for c in channels]})


def _own_channel(request: web.Request, token: GenesysToken) -> Channel:
    channel = state_of(request).notifications.live_channel(request.match_info["channelId"])
    if channel is None or channel.user_id != token.user_id:
        raise _Reject(404, "not.found", "Channel not found.")
    return channel


@route
async def head_channel(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    try:
        _own_channel(request, token)
    except _Reject:
        return web.Response(status=404)
    return web.Response(status=200)


def _topics_body(results: list[TopicResult]) -> dict[str, Any]:
    entities = []
    for r in results:
        entity: dict[str, Any] = {"id": r.id, "state": r.state}
        if r.rejection_reason:
            entity["rejectionReason"] = r.rejection_reason
        entities.append(entity)
    return {"entities": entities}


@route
async def get_subscriptions(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    channel = _own_channel(request, token)
    return web.json_response(
        {
            "entities": [
                {"id": t, "state": "Permitted", "selfUri": f"/api/v2/notifications/channels/{channel.id}/subscriptions"}
                for t in channel.topics
            ]
        }
    )


async def _subscribe(request: web.Request, token: GenesysToken, *, replace: bool) -> web.StreamResponse:
    state = state_of(request)
    channel = _own_channel(request, token)
    body = await _json_body(request)
    if not isinstance(body, list) or not all(isinstance(t, dict) and isinstance(t.get("id"), str) for t in body):
        raise _Reject(400, "bad.request", 'The body must be a list of topics: [{"id": "v2.users.<id>.activity"}].')
    topics = [str(t["id"]) for t in body]
    ignore_errors = request.query.get("ignoreErrors", "false").lower() == "true"
    bad = [t for t in topics if state.notifications.check_topic(channel, t) is None]
    if bad and not ignore_errors:
        # real behaviour unknown: the exact code for an unknown topic name
        raise _Reject(400, "notification.channel.topic.invalid", f"Invalid topic(s): {', '.join(bad)}")
    current = 0 if replace else len(channel.topics)
    if current + len(topics) > MAX_TOPICS_PER_CHANNEL:
        raise _Reject(400, "bad.request", f"A channel may have at most {MAX_TOPICS_PER_CHANNEL} topics.")
    results = state.notifications.subscribe(channel, topics, replace=replace)
    results += [TopicResult(t, "Rejected", "Topic not found") for t in bad]
    return web.json_response(_topics_body(results))


@route
async def put_subscriptions(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    return await _subscribe(request, token, replace=True)


@route
async def post_subscriptions(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    return await _subscribe(request, token, replace=False)


@route
async def delete_subscriptions(request: web.Request, token: GenesysToken, person: SimUser) -> web.StreamResponse:
    channel = _own_channel(request, token)
    state_of(request).notifications.unsubscribe(channel, None)
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v2/users/me", users_me)
    r.add_get("/api/v2/users/{userId}", get_user)
    r.add_get("/api/v2/users/{userId}/conversations/summary", conversation_summary)
    r.add_get("/api/v2/presence/definitions", presence_definitions)
    r.add_get("/api/v2/presence/definitions/{definitionId}", presence_definition)
    r.add_get("/api/v2/presencedefinitions", legacy_presence_definitions)
    r.add_get("/api/v2/presencedefinitions/{definitionId}", legacy_presence_definition)
    r.add_get("/api/v2/systempresences", system_presences)
    r.add_get("/api/v2/users/{userId}/presences/{sourceId}", get_presence)
    r.add_patch("/api/v2/users/{userId}/presences/{sourceId}", patch_presence)
    r.add_get("/api/v2/users/{userId}/routingstatus", get_routing)
    r.add_put("/api/v2/users/{userId}/routingstatus", put_routing)
    r.add_get("/api/v2/users/{userId}/outofoffice", get_out_of_office)
    r.add_put("/api/v2/users/{userId}/outofoffice", put_out_of_office)
    r.add_get("/api/v2/tokens/me", tokens_me)
    r.add_delete("/api/v2/tokens/me", delete_tokens_me)
    r.add_post("/api/v2/notifications/channels", create_channel)
    r.add_get("/api/v2/notifications/channels", list_channels)
    r.add_route("HEAD", "/api/v2/notifications/channels/{channelId}", head_channel)
    r.add_get("/api/v2/notifications/channels/{channelId}/subscriptions", get_subscriptions, allow_head=False)
    r.add_put("/api/v2/notifications/channels/{channelId}/subscriptions", put_subscriptions)
    r.add_post("/api/v2/notifications/channels/{channelId}/subscriptions", post_subscriptions)
    r.add_delete("/api/v2/notifications/channels/{channelId}/subscriptions", delete_subscriptions)
