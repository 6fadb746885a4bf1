"""Shared aiohttp plumbing: the app key for the world model and typed per-request annotations."""

from __future__ import annotations

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
