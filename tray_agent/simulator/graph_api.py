"""Microsoft Graph v1.0: ``GET /me/presence``, ``GET /me`` and the calendar view (``GET /me/calendarView``).

Presence is what the Teams client showed ``graph_propagation_delay`` seconds ago (:mod:`.teams_presence`).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tray_agent.clock import iso

from .context import identify, state_of
from .directory import SimUser
from .error_answers import graph_error, graph_throttled
from .issued_tokens import EntraToken
from .presence_records import TeamsPresence

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


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1.0/me/presence", me_presence)
    app.router.add_get("/v1.0/me", me)
