"""Where the engine reads the agent's Teams presence: ``GET /v1.0/me/presence``, one read per call.

*When* to read is the sync protocol's (:mod:`tray_agent.core.protocol`); this only reads, renewing
the Microsoft token once on a 401.
"""

from __future__ import annotations

from typing import Protocol

from tray_agent.auth.tokens import TokenSource
from tray_agent.clients.errors import AuthenticationRequired
from tray_agent.clients.graph import GraphPresenceClient
from tray_agent.core.presence import TeamsPresence


class TeamsSource(Protocol):
    async def read(self) -> TeamsPresence:
        """One reading; raises the client errors (Throttled, Unreachable, ServiceError, SignInRequired…)."""
        ...


class GraphTeamsSource:
    def __init__(self, graph: GraphPresenceClient, auth: TokenSource) -> None:
        self._graph = graph
        self._auth = auth

    async def read(self) -> TeamsPresence:
        """A 401 first forces a silent token refresh and one retry; only then is sign-in needed."""
        try:
            return await self._graph.my_presence()
        except AuthenticationRequired:
            self._auth.invalidate()
            return await self._graph.my_presence()
