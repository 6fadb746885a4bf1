"""What the simulator saw: every request (a bounded log) and running counters per service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class RequestLogEntry(NamedTuple):
    """One HTTP request (or websocket upgrade) as the simulator saw it."""

    at: float  # simulated epoch seconds when the request arrived
    method: str
    path: str  # without the query string
    status: int  # 0 = connection aborted (network_down)
    service: str  # "graph" | "genesys" | "entra" | "genesys-login" | "notifications" | "control"
    user_id: str | None  # Microsoft object id (graph/entra) or Genesys user id (genesys*)
    client_id: str | None


@dataclass
class Counters:
    graph_requests: int = 0  # every request under /v1.0, whatever its status
    graph_presence_requests: int = 0  # GET /v1.0/me/presence that passed auth (incl. 429s)
    graph_presence_writes: int = 0  # POST .../presence/set*|clear* that passed auth and scope (incl. 429s)
    graph_throttled: int = 0  # 429s from Graph (budget or injected)
    graph_calendar_requests: int = 0  # GET .../calendarView that passed auth (not in the presence budget)
    graph_calendar_throttled: int = 0  # 429s from Outlook's own per-mailbox limit
    graph_unauthorized: int = 0
    entra_token_requests: int = 0
    genesys_requests: int = 0  # every request under /api/v2
    genesys_throttled: int = 0
    genesys_unauthorized: int = 0
    genesys_presence_patches: int = 0  # successful PATCH .../presences/purecloud
    genesys_routing_puts: int = 0  # successful PUT .../routingstatus
    genesys_token_requests: int = 0
    channels_created: int = 0
    websocket_connections: int = 0
    events_published: int = 0  # topic messages for topics some channel subscribed to (connected or not)
    network_aborts: int = 0
