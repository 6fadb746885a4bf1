"""Errors the service clients raise. Messages are safe to log: they never carry tokens or URLs with
query strings, only the service, the status, the service's error code and its correlation id."""

from __future__ import annotations


class ServiceError(Exception):
    """A call to Graph or Genesys failed (the subclasses say how)."""

    def __init__(self, service: str, message: str, *, status: int | None = None, code: str = "") -> None:
        self.service = service
        self.status = status
        self.code = code
        detail = f" ({status}{' ' + code if code else ''})" if status is not None else ""
        super().__init__(f"{service}: {message}{detail}")


class Unreachable(ServiceError):
    """Network error, timeout or connection reset."""


class ServerError(ServiceError):
    """A 5xx answer."""


class Throttled(ServiceError):
    """A 429 answer. ``retry_after`` is the service's Retry-After in seconds, if it sent one."""

    def __init__(self, service: str, retry_after: float | None, *, code: str = "") -> None:
        self.retry_after = retry_after
        hint = f"retry after {retry_after:g} s" if retry_after is not None else "no Retry-After"
        super().__init__(service, f"throttled, {hint}", status=429, code=code)


class AuthenticationRequired(ServiceError):
    """401: the token is missing, expired or revoked — the agent has to sign in again."""


class Rejected(ServiceError):
    """A 4xx other than 401/429: the request itself was refused (e.g. Out of Office blocks a change)."""


class BadResponse(ServiceError):
    """The service answered, but not with anything we understand. State is left as it was."""


class CertificateNotTrusted(Unreachable):
    """TLS verification failed: the message says why (often a TLS-inspecting proxy whose root is missing)."""


class ProxyAuthenticationRequired(Unreachable):
    """The proxy answered 407: it wants a sign-in the agent cannot give (NTLM/Negotiate/Basic)."""


class NoAnswer(Unreachable):
    """The server accepted the connection (or not) but did not answer in time."""
