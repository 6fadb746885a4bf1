"""Error bodies in each real service's own shape (Entra OAuth JSON, Graph OData error, Genesys ErrorBody...)."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .context import request_id, service_of, state_of
from .faults import InjectedFault


def _now(request: web.Request) -> float:
    return state_of(request).clock.now()


def client_request_id(request: web.Request) -> str:
    return request.headers.get("client-request-id") or request_id(request)


# ---------------------------------------------------------------- Microsoft Entra ID (login)


def entra_error(
    request: web.Request, status: int, error: str, code: int, text: str, *, suberror: str | None = None
) -> web.Response:
    """AAD v2 token-endpoint error: ``error``, ``error_description`` ("AADSTSnnnn: ..."), ``error_codes``...
    and, for some, ``suberror`` (e.g. ``consent_required``, which MSAL passes on in its result)."""
    stamp = datetime.fromtimestamp(_now(request), UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    trace_id = str(uuid.uuid4())
    correlation_id = request.headers.get("client-request-id") or str(uuid.uuid4())
    body = {
        "error": error,
        "error_description": (
            f"AADSTS{code}: {text}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {stamp}"
        ),
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"{state_of(request).base_url}/error?code={code}",
    }
    if suberror is not None:
        body["suberror"] = suberror
    return web.json_response(body, status=status)


# ---------------------------------------------------------------- Microsoft Graph


def graph_error(
    request: web.Request, status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    stamp = datetime.fromtimestamp(_now(request), UTC).strftime("%Y-%m-%dT%H:%M:%S")
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": stamp,
                "request-id": request_id(request),
                "client-request-id": client_request_id(request),
            },
        }
    }
    return web.json_response(body, status=status, headers=headers)


def graph_throttled(request: web.Request, retry_after: float) -> web.Response:
    state_of(request).counters.graph_throttled += 1
    return graph_error(
        request,
        429,
        "TooManyRequests",
        "Too many requests. The presence budget for this application in this tenant is exhausted.",
        {"Retry-After": f"{retry_after:.3f}".rstrip("0").rstrip(".") or "0"},
    )


# ---------------------------------------------------------------- Genesys Cloud Platform API


def genesys_body(request: web.Request, status: int, code: str, message: str) -> dict[str, Any]:
    """Genesys ``ErrorBody``; ``contextId`` equals the ``inin-correlation-id`` response header."""
    return {
        "message": message,
        "code": code,
        "status": status,
        "contextId": request_id(request),
        "details": [],
        "errors": [],
    }


def genesys_error(
    request: web.Request, status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(genesys_body(request, status, code, message), status=status, headers=headers)


def genesys_throttled(request: web.Request, retry_after: float | None) -> web.Response:
    state_of(request).counters.genesys_throttled += 1
    if retry_after is None:
        return genesys_error(request, 429, "too.many.requests", "Rate limit exceeded the maximum. Retry later.")
    seconds = max(1, math.ceil(retry_after))
    return genesys_error(
        request,
        429,
        "too.many.requests.retry.after",
        f"Rate limit exceeded the maximum. Retry the request in [{seconds}] seconds",
        {"Retry-After": str(seconds)},
    )


# ---------------------------------------------------------------- Genesys Cloud login service


def genesys_login_error(request: web.Request, status: int, error: str, description: str) -> web.Response:
    """The login service's OAuth error, e.g. ``{"error":"invalid_client","description":"client not found",
    "error_description":"client not found"}`` (shape seen in the gildas/go-gcloudcx client's tests)."""
    return web.json_response(
        {"error": error, "description": description, "error_description": description}, status=status
    )


# ---------------------------------------------------------------- injected faults and unmatched routes

_GRAPH_5XX = {500: "generalException", 502: "badGateway", 503: "serviceNotAvailable", 504: "gatewayTimeout"}
_GENESYS_5XX = {500: "internal.server.error", 502: "bad.gateway", 503: "service.unavailable", 504: "request.timeout"}


def injected(request: web.Request, fault: InjectedFault) -> web.Response:
    """The response for a fault queued with ``fail_next``/``throttle_next``, shaped for the request's service."""
    service = service_of(request)
    if fault.status == 429:
        if service == "graph":
            return graph_throttled(request, fault.retry_after if fault.retry_after is not None else 1.0)
        if service in ("genesys", "notifications"):
            return genesys_throttled(request, fault.retry_after)
        headers = {"Retry-After": str(max(1, math.ceil(fault.retry_after)))} if fault.retry_after is not None else None
        if service == "genesys-login":
            response = genesys_login_error(request, 429, "too_many_requests", "Rate limit exceeded")
        else:
            response = entra_error(request, 429, "temporarily_unavailable", 50196, "The server is too busy.")
        if headers:
            response.headers.update(headers)
        return response
    status = fault.status
    if service == "graph":
        return graph_error(request, status, _GRAPH_5XX.get(status, "generalException"), "Simulated service failure.")
    if service in ("genesys", "notifications"):
        code = _GENESYS_5XX.get(status, "internal.server.error")
        return genesys_error(request, status, code, "The service is currently unavailable (simulated).")
    if service == "genesys-login":
        return genesys_login_error(request, status, "server_error", "The service is currently unavailable")
    return entra_error(
        request, status, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again."
    )


def not_found(request: web.Request, status: int) -> web.Response | None:
    """Unmatched route / wrong method, in the service's own error shape (None = let aiohttp answer)."""
    service = service_of(request)
    if service == "graph":
        if status == 405:
            return graph_error(
                request, 405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."
            )
        return graph_error(
            request, 400, "BadRequest", f"Resource not found for the segment '{request.path.rsplit('/', 1)[-1]}'."
        )
    if service == "genesys":
        if status == 405:
            return genesys_error(request, 405, "method.not.allowed", "HTTP method not allowed for this resource.")
        return genesys_error(request, 404, "not.found", "The requested resource was not found.")
    return None
