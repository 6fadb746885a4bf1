"""Shared aiohttp plumbing: the app key for the world model and typed per-request annotations."""

from __future__ import annotations

import re
import uuid
from typing import Any

from aiohttp import web

from .state import SimulatorState

STATE = web.AppKey("state", SimulatorState)


def _key(name: str) -> Any:
    """A per-request storage key: ``web.RequestKey`` where aiohttp has it (newer releases), else a string."""
    factory = getattr(web, "RequestKey", None)
    return factory(name, object) if factory is not None else f"sim.{name}"


_SERVICE = _key("service")
_REQUEST_ID = _key("request_id")
_USER = _key("user_id")
_CLIENT = _key("client_id")


def state_of(request: web.Request) -> SimulatorState:
    return request.app[STATE]


def service_of(request: web.Request) -> str:
    return str(request.get(_SERVICE, "entra"))


def request_id(request: web.Request) -> str:
    """Graph ``request-id`` / Genesys ``inin-correlation-id`` (= ErrorBody ``contextId``) of this request."""
    value = request.get(_REQUEST_ID)
    if value is None:
        value = request[_REQUEST_ID] = str(uuid.uuid4())
    return str(value)


def set_service(request: web.Request, service: str) -> None:
    request[_SERVICE] = service


def identify(request: web.Request, user_id: str | None, client_id: str | None) -> None:
    """Tell the request log whose request this was."""
    request[_USER] = user_id
    request[_CLIENT] = client_id


def identity(request: web.Request) -> tuple[str | None, str | None]:
    return request.get(_USER), request.get(_CLIENT)


def classify(path: str) -> str:
    """Which simulated service a path belongs to (all share one port, as the real paths don't collide)."""
    if path == "/control" or path.startswith("/control/"):
        return "control"
    if path.startswith("/v1.0/"):
        return "graph"
    if path.startswith("/api/v2/"):
        return "genesys"
    if path.startswith("/oauth/"):
        return "genesys-login"
    if path.startswith("/channels/"):
        return "notifications"
    return "entra"


_PRESENCE_WRITE = re.compile(
    r"^/v1\.0/(?:me|users/[^/]+)/presence/"
    r"(setPresence|clearPresence|setUserPreferredPresence|clearUserPreferredPresence)$"
)
_WRITE_TARGETS = {
    "setPresence": "graph_set_presence",
    "clearPresence": "graph_clear_presence",
    "setUserPreferredPresence": "graph_set_user_preferred_presence",
    "clearUserPreferredPresence": "graph_clear_user_preferred_presence",
}


def fault_target(method: str, path: str) -> str | None:
    """The finer fault target (one endpoint, :data:`.faults.TARGETS`) a request belongs to, if any."""
    if method == "GET" and path == "/v1.0/me/presence":
        return "graph_get_presence"
    if method == "GET" and path == "/api/v2/users/me":
        return "genesys_users_me"
    if method == "POST" and (found := _PRESENCE_WRITE.match(path)) is not None:
        return _WRITE_TARGETS[found.group(1)]
    return None
