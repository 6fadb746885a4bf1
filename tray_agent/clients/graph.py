"""Microsoft Graph: the agent's own presence, ``GET /v1.0/me/presence`` (delegated ``Presence.Read``)."""

from __future__ import annotations

from typing import Any

import httpx

from tray_agent.clients.errors import BadResponse
from tray_agent.clients.http import TokenGetter, json_body, request
from tray_agent.core.presence import TeamsPresence, canonical_graph_value

SERVICE = "Microsoft Graph"
GRAPH_BASE_URL = "https://graph.microsoft.com"


def parse_presence(body: Any) -> TeamsPresence:
    """A Graph ``presence`` object → TeamsPresence; raises BadResponse when it isn't one."""
    if not isinstance(body, dict):
        raise BadResponse(SERVICE, "presence answer is not a JSON object")
    availability, activity = body.get("availability"), body.get("activity")
    if not isinstance(availability, str) and not isinstance(activity, str):
        raise BadResponse(SERVICE, "presence answer has neither availability nor activity")
    sequence = body.get("sequenceNumber")
    ooo = body.get("outOfOfficeSettings")
    return TeamsPresence(
        availability=canonical_graph_value(availability),
        activity=canonical_graph_value(activity),
        sequence=sequence if isinstance(sequence, str) else "",
        out_of_office=bool(isinstance(ooo, dict) and ooo.get("isOutOfOffice") is True),
    )


class GraphPresenceClient:
    def __init__(self, http: httpx.AsyncClient, token: TokenGetter, base_url: str = GRAPH_BASE_URL) -> None:
        self._http = http
        self._token = token
        self._url = base_url.rstrip("/") + "/v1.0/me/presence"

    async def my_presence(self) -> TeamsPresence:
        response = await request(self._http, SERVICE, "GET", self._url, await self._token())
        return parse_presence(json_body(SERVICE, response))
