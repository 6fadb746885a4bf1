"""Microsoft Graph v1.0: ``GET /me/presence``, the presence writes, ``GET /me`` (the calendar view is
:mod:`.calendar_view`).

Presence is what Teams showed ``graph_propagation_delay`` seconds ago (:mod:`.teams_presence`): the
aggregation of the Teams client session, app sessions and the preferred presence.

Presence writes (learn.microsoft.com presence-setpresence, -clearpresence, -setuserpreferredpresence,
-clearuserpreferredpresence), ``POST /v1.0/me/presence/<action>`` or ``/v1.0/users/{id}/presence/<action>``
for the caller's own object id or user principal name (anyone else's: 403; real behaviour: writing
another user's presence needs an application permission, which a delegated token never has):

- the delegated permission ``Presence.ReadWrite`` must be in the token (else 403 ``Forbidden``);
- ``setPresence`` ``{sessionId, availability, activity, expirationDuration?}``: ``sessionId`` must be the
  calling app's client id (real behaviour for a mismatch unknown: 400); only the documented pairs, in
  exact PascalCase; ``expirationDuration`` ISO 8601, PT5M..PT4H, default PT5M;
- ``clearPresence`` ``{sessionId}``: the caller's own session only (400 otherwise, as for setPresence);
  404 if there is no such live session;
- ``setUserPreferredPresence`` ``{availability, activity, expirationDuration?}`` and
  ``clearUserPreferredPresence`` (no body);
- success: 200 with an empty body. Errors are Graph's OData error (real behaviour unknown: the exact codes
  and texts of the 400s; we answer ``BadRequest`` with a message naming the problem). Unknown body
  properties are refused (400) as OData action parameters are.

Budget: real behaviour unknown whether presence writes share the documented 1,500 requests / 30 s per
app per tenant with reads; the strict reading counts them in the same bucket (:meth:`Tokens.graph_window`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from tray_agent.clock import iso

from .context import identify, state_of
from .directory import SimUser
from .error_answers import graph_error, graph_throttled
from .issued_tokens import EntraToken
from .presence_records import TeamsPresence
from .teams_presence import SESSION_DEFAULT_EXPIRY

_WWW_AUTHENTICATE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
    'client_id="00000003-0000-0000-c000-000000000000"'
)


def authenticate(request: web.Request) -> tuple[EntraToken, SimUser] | web.Response:
    state = state_of(request)
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        return graph_error(
            request,
            401,
            "InvalidAuthenticationToken",
            "Access token is empty.",
            {"WWW-Authenticate": _WWW_AUTHENTICATE},
        )
    status, found = state.tokens.entra_token_status(value)
    if found is not None:
        identify(request, found.user_id, found.client_id)
    if status == "expired":
        return graph_error(
            request,
            401,
            "InvalidAuthenticationToken",
            "Lifetime validation failed, the token is expired.",
            {"WWW-Authenticate": _WWW_AUTHENTICATE},
        )
    if status != "ok" or found is None:
        return graph_error(
            request,
            401,
            "InvalidAuthenticationToken",
            "Access token validation failure. Invalid audience.",
            {"WWW-Authenticate": _WWW_AUTHENTICATE},
        )
    return found, state.people.users[found.user_id]


def presence_body(person: SimUser, t: TeamsPresence) -> dict[str, Any]:
    status_message: dict[str, Any] | None = None
    if t.status_message is not None:
        status_message = {
            "message": {"content": t.status_message, "contentType": "text"},
            # real behaviour unknown: the exact "never expires" sentinel Graph returns
            "expiryDateTime": {
                "dateTime": (
                    iso(t.status_message_expiry).rstrip("Z") + "0000"
                    if t.status_message_expiry is not None
                    else "9999-12-31T00:00:00.0000000"
                ),
                "timeZone": "UTC",
            },
            "publishedDateTime": iso(t.status_message_published) if t.status_message_published else None,
        }
    return {
        "@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#users('{person.ms_id}')/presence/$entity",
        "id": person.ms_id,
        "availability": t.availability,
        "activity": t.activity,
        "statusMessage": status_message,
        "outOfOfficeSettings": {"isOutOfOffice": t.out_of_office, "message": t.out_of_office_message},
        "sequenceNumber": t.sequence_number,
    }


async def me_presence(request: web.Request) -> web.Response:
    authenticated = authenticate(request)
    if isinstance(authenticated, web.Response):
        return authenticated
    token, person = authenticated
    state = state_of(request)
    state.counters.graph_presence_requests += 1
    # 1,500 presence requests / 30 s per application per tenant, shared by every user of the app.
    retry_after = state.tokens.graph_window(token.client_id).hit(state.clock.now())
    if retry_after is not None:
        return graph_throttled(request, retry_after)
    return web.json_response(presence_body(person, state.teams.graph_presence(person)))


async def me(request: web.Request) -> web.Response:
    authenticated = authenticate(request)
    if isinstance(authenticated, web.Response):
        return authenticated
    _, person = authenticated
    given, _, surname = person.name.partition(" ")
    return web.json_response(
        {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
            "businessPhones": [],
            "displayName": person.name,
            "givenName": given,
            "jobTitle": "Contact centre agent",
            "mail": person.email,
            "mobilePhone": None,
            "officeLocation": None,
            "preferredLanguage": "en-GB",
            "surname": surname or None,
            "userPrincipalName": person.email,
            "id": person.ms_id,
        }
    )


# ---------------------------------------------------------------- presence writes

WRITE_SCOPE = "presence.readwrite"  # delegated; Presence.ReadWrite.All is an application permission
# ISO 8601 durations as .NET's XmlConvert reads them, limited to days, hours, minutes and seconds (real
# behaviour unknown whether years, months or weeks are taken: strict, they are refused).
_DURATION = re.compile(r"^P(?!$)(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def parse_duration(text: str) -> float:
    """Seconds of an ISO 8601 duration such as ``PT5M``, ``PT1H30M``, ``P1D``, ``PT300S``; raises ValueError."""
    found = _DURATION.match(text)
    if found is None:
        raise ValueError(f"'{text}' is not a valid ISO 8601 duration")
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in found.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


class _BadRequest(Exception):
    pass


def _forbidden(request: web.Request) -> web.Response:
    return graph_error(request, 403, "Forbidden", "Insufficient privileges to complete the operation.")


async def _parameters(request: web.Request, allowed: tuple[str, ...], *, required: tuple[str, ...]) -> dict[str, Any]:
    """The action's JSON parameters (an object; only ``allowed`` names; ``required`` present as strings)."""
    raw = await request.read()
    if not raw.strip():
        if required:
            raise _BadRequest("Empty Payload. JSON content expected.")
        return {}
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _BadRequest("Unable to read JSON request payload. Please ensure Content-Type header is set.") from None
    if not isinstance(body, dict):
        raise _BadRequest("The request payload must be a JSON object.")
    for name in body:
        if name not in allowed:
            raise _BadRequest(
                f"The parameter '{name}' in the request payload is not a valid parameter for the operation."
            )
    for name in required:
        if name not in body or body[name] is None:
            raise _BadRequest(f"The parameter '{name}' is required.")
    for name, value in body.items():
        if name in allowed and value is not None and not isinstance(value, str):
            raise _BadRequest(f"The parameter '{name}' must be a string.")
    return body


def _duration(body: dict[str, Any], default: float | None) -> float | None:
    text = body.get("expirationDuration")
    if text is None:
        return default
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise _BadRequest(str(exc)) from None


async def _presence_write(request: web.Request, action: str) -> web.Response:
    authenticated = authenticate(request)
    if isinstance(authenticated, web.Response):
        return authenticated
    token, person = authenticated
    state = state_of(request)
    user_id = request.match_info.get("userId")
    if user_id is not None and user_id.lower() not in (person.ms_id.lower(), person.email.lower()):
        return _forbidden(request)
    if WRITE_SCOPE not in {s.lower() for s in token.scopes}:
        return _forbidden(request)
    state.counters.graph_presence_writes += 1
    retry_after = state.tokens.graph_window(token.client_id).hit(state.clock.now())
    if retry_after is not None:
        return graph_throttled(request, retry_after)
    teams = state.teams
    try:
        if action == "setPresence":
            body = await _parameters(
                request,
                ("sessionId", "availability", "activity", "expirationDuration"),
                required=("sessionId", "availability", "activity"),
            )
            if body["sessionId"] != token.client_id:
                raise _BadRequest("The sessionId must be the client id of the calling application.")
            duration = _duration(body, SESSION_DEFAULT_EXPIRY) or 0.0  # never None with a default (0: refused)
            teams.set_session(body["sessionId"], body["availability"], body["activity"], duration, user=person)
        elif action == "clearPresence":
            body = await _parameters(request, ("sessionId",), required=("sessionId",))
            if body["sessionId"] != token.client_id:  # another app's session (real behaviour unknown: strict)
                raise _BadRequest("The sessionId must be the client id of the calling application.")
            if not teams.clear_session(body["sessionId"], user=person):
                return graph_error(
                    request, 404, "NotFound", f"The presence session {body['sessionId']} does not exist."
                )
        elif action == "setUserPreferredPresence":
            body = await _parameters(
                request, ("availability", "activity", "expirationDuration"), required=("availability", "activity")
            )
            teams.set_user_preferred(body["availability"], body["activity"], _duration(body, None), user=person)
        else:
            await _parameters(request, (), required=())
            teams.clear_user_preferred(person)
    except (_BadRequest, ValueError) as exc:
        return graph_error(request, 400, "BadRequest", str(exc))
    return web.Response(status=200)


def _write_handler(action: str) -> Any:
    async def handler(request: web.Request) -> web.Response:
        return await _presence_write(request, action)

    return handler


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1.0/me/presence", me_presence)
    app.router.add_get("/v1.0/me", me)
    for action in ("setPresence", "clearPresence", "setUserPreferredPresence", "clearUserPreferredPresence"):
        app.router.add_post(f"/v1.0/me/presence/{action}", _write_handler(action))
        app.router.add_post(f"/v1.0/users/{{userId}}/presence/{action}", _write_handler(action))
