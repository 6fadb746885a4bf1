"""Microsoft Graph: writing the agent's own Teams presence (the Genesys → Teams direction, opt-in).

Delegated ``Presence.ReadWrite`` (``auth.microsoft.PRESENCE_WRITE_SCOPES``, asked for by incremental
consent only when the feature is on); only ``/me``, never anyone else's presence.

- ``POST /v1.0/me/presence/setPresence`` ``{sessionId, availability, activity, expirationDuration}``:
  an app presence session. ``sessionId`` is the app's client ID; ``expirationDuration`` is ISO 8601
  (``PT5M`` to ``PT4H``), so a session the agent stops renewing ends by itself. What the user sets in
  Teams themselves wins over it.
- ``POST /v1.0/me/presence/clearPresence`` ``{sessionId}``: a 404 means the session is already gone
  (expired, or never set): what clearing wanted, reported as :attr:`WriteOutcome.GONE`.
- ``setUserPreferredPresence`` / ``clearUserPreferredPresence`` (IT policy ``TeamsPreferredPresence``
  only): the user's *preferred* presence, which overrides what they chose themselves.

Every call returns a :class:`WriteResult` and never raises for anything the network or Graph does
(cancellation still propagates). Results and logs carry the status, Graph's error code, a sanitised
and bounded error message and the request id, never the token or a URL's query.
"""

from __future__ import annotations

import enum
import logging
import math
import re
import ssl
from dataclasses import dataclass
from typing import Any, Final

import httpx

from tray_agent.clients import bounded_json
from tray_agent.clients.errors import ServiceError, Throttled
from tray_agent.clients.failures import transport_failure
from tray_agent.clients.graph import GRAPH_BASE_URL, SERVICE
from tray_agent.clients.http import error_code, parse_retry_after
from tray_agent.core.interactions import PREFERRED_PAIRS, SESSION_PAIRS, TeamsPair

log = logging.getLogger(__name__)

# Graph v1.0 presence-setpresence: "expirationDuration … PT5M to PT4H"; the default is five minutes.
MIN_EXPIRATION: Final = 300
MAX_EXPIRATION: Final = 4 * 3600
MAX_MESSAGE_CHARS: Final = 200
MAX_ERROR_BYTES: Final = 64 * 1024  # an error body is a few hundred bytes; more is not read

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_URL_TAIL = re.compile(r"(https?://[^\s?#]*)[?#]\S*", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


class WriteOutcome(enum.Enum):
    OK = "ok"
    GONE = "gone"  # a clear found nothing to clear (404): the session had expired or was never set
    THROTTLED = "throttled"  # 429: wait ``retry_after`` seconds (None: Graph did not say)
    SIGNED_OUT = "signed-out"  # 401, or no token: the Microsoft sign-in is needed again
    NOT_CONSENTED = "not-consented"  # 403: Presence.ReadWrite was not granted (or was revoked)
    REJECTED = "rejected"  # another 4xx: Graph refused this request (``code``, ``message``)
    FAILED = "failed"  # 5xx, no answer in time, a network error, an answer we do not understand


@dataclass(frozen=True, slots=True)
class WriteResult:
    outcome: WriteOutcome
    status: int | None = None  # the HTTP status, when Graph answered
    code: str = ""  # Graph's error code (bounded)
    message: str = ""  # why, for logs and the tray: sanitised, at most MAX_MESSAGE_CHARS
    retry_after: float | None = None  # THROTTLED only

    @property
    def done(self) -> bool:
        """Teams is as asked: written, or (for a clear) nothing was there."""
        return self.outcome in (WriteOutcome.OK, WriteOutcome.GONE)

    def describe(self) -> str:
        parts = [self.outcome.value]
        if self.status is not None:
            parts.append(str(self.status) + (f" {self.code}" if self.code else ""))
        if self.retry_after is not None:
            parts.append(f"retry after {self.retry_after:g} s")
        return " ".join(parts) + (f": {self.message}" if self.message else "")


def iso_duration(seconds: float) -> str:
    """Whole seconds as an ISO 8601 duration, as Graph writes them: 300 → ``PT5M``, 5400 → ``PT1H30M``."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"not a duration: {seconds!r}")
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{secs}S" if secs else "")
    return "PT" + (text or "0S")


def session_expiration(seconds: float) -> str:
    """``expirationDuration`` within what Graph takes (5 min to 4 h): a shorter or longer ask is clamped."""
    if not math.isfinite(seconds):
        seconds = MIN_EXPIRATION
    return iso_duration(min(max(seconds, MIN_EXPIRATION), MAX_EXPIRATION))


def sanitised(text: object, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Graph's error message fit for a log line: one line, no control characters, no URL query, bounded."""
    if not isinstance(text, str):
        return ""
    clean = _SPACES.sub(" ", _CONTROL.sub(" ", text[: limit * 4])).strip()
    clean = _URL_TAIL.sub(r"\1?…", clean)
    return clean if len(clean) <= limit else clean[: limit - 1].rstrip() + "…"


def _graph_message(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    return sanitised(error.get("message")) if isinstance(error, dict) else ""


class GraphPresenceSession:
    """The agent's own Teams presence, written. ``http`` is the Graph client (``make_http_client``:
    the OS trust store, the resolved proxy, timeouts and the shared Retry-After gate)."""

    def __init__(self, http: httpx.AsyncClient, base_url: str = GRAPH_BASE_URL) -> None:
        self._http = http
        self._base = httpx.URL(base_url.rstrip("/") + "/v1.0/me/presence/")

    async def set_presence(
        self, token: str, session_id: str, availability: str, activity: str, expiration_seconds: float
    ) -> WriteResult:
        """Set (or renew: the same call) the app's presence session. ``(availability, activity)`` must be
        one of :data:`~tray_agent.core.interactions.SESSION_PAIRS` (ValueError otherwise: a bug here)."""
        _check(session_id, (availability, activity), SESSION_PAIRS, "setPresence")
        payload = {
            "sessionId": session_id,
            "availability": availability,
            "activity": activity,
            "expirationDuration": session_expiration(expiration_seconds),
        }
        return await self._post("setPresence", token, payload)

    async def clear_presence(self, token: str, session_id: str) -> WriteResult:
        """End the app's session; :attr:`WriteOutcome.GONE` when there was none (404)."""
        if not session_id.strip():
            raise ValueError("clearPresence needs the app's client ID as the session ID")
        return await self._post("clearPresence", token, {"sessionId": session_id}, clearing=True)

    async def set_preferred_presence(
        self, token: str, availability: str, activity: str, expiration_seconds: float | None = None
    ) -> WriteResult:
        """setUserPreferredPresence (IT policy only: it overrides the user's own choice). The pair must be
        one of :data:`~tray_agent.core.interactions.PREFERRED_PAIRS`; without ``expiration_seconds`` Graph
        applies its own default (a day for Busy and DoNotDisturb, a week for the others)."""
        _check("-", (availability, activity), PREFERRED_PAIRS, "setUserPreferredPresence")
        payload: dict[str, str] = {"availability": availability, "activity": activity}
        if expiration_seconds is not None:
            payload["expirationDuration"] = session_expiration(expiration_seconds)
        return await self._post("setUserPreferredPresence", token, payload)

    async def clear_preferred_presence(self, token: str) -> WriteResult:
        """clearUserPreferredPresence (no body); :attr:`WriteOutcome.GONE` on a 404."""
        return await self._post("clearUserPreferredPresence", token, None, clearing=True)

    async def _post(
        self, action: str, token: str, payload: dict[str, str] | None, *, clearing: bool = False
    ) -> WriteResult:
        if not token:
            return WriteResult(WriteOutcome.SIGNED_OUT, message="not signed in to Microsoft")
        url = self._base.join(action)
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        try:
            response = await self._http.post(url, json=payload, headers=headers)
        except httpx.TimeoutException:
            return WriteResult(WriteOutcome.FAILED, message=f"{url.host} did not answer in time")
        except Throttled as error:  # the client's Retry-After gate: an earlier 429 is still being waited out
            return WriteResult(WriteOutcome.THROTTLED, 429, error.code[:80], retry_after=error.retry_after)
        except ServiceError as error:
            return WriteResult(WriteOutcome.FAILED, error.status, error.code[:80], sanitised(str(error)))
        except (httpx.TransportError, ssl.SSLError, OSError) as error:
            failure = transport_failure(SERVICE, error, url.host)
            return WriteResult(WriteOutcome.FAILED, message=sanitised(str(failure)))
        result = _result(response, clearing=clearing)
        if not result.done:
            request_id = response.headers.get("request-id") or response.headers.get("client-request-id") or "-"
            log.info("Teams presence %s: %s (request %s)", action, result.describe(), sanitised(request_id, 64))
        return result


def _check(session_id: str, pair: TeamsPair, allowed: frozenset[TeamsPair], action: str) -> None:
    if not session_id.strip():
        raise ValueError(f"{action} needs the app's client ID as the session ID")
    if pair not in allowed:
        raise ValueError(f"{action} does not take {pair[0]}/{pair[1]} (it takes: {sorted(allowed)})")


def _result(response: httpx.Response, *, clearing: bool) -> WriteResult:
    status = response.status_code
    if 200 <= status < 300:
        return WriteResult(WriteOutcome.OK, status)
    try:
        body = bounded_json.loads(response.content, max_bytes=MAX_ERROR_BYTES)
    except ValueError:
        body = None
    code, message = error_code(body), _graph_message(body)
    if status == 404 and clearing:
        return WriteResult(WriteOutcome.GONE, status, code, message or "there was nothing to clear")
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return WriteResult(WriteOutcome.THROTTLED, status, code, message, retry_after)
    if status == 401:
        return WriteResult(WriteOutcome.SIGNED_OUT, status, code, message or "Microsoft sign-in required")
    if status == 403:
        hint = "Presence.ReadWrite was not granted: ask IT to grant consent for it, or turn Teams write-back off"
        return WriteResult(
            WriteOutcome.NOT_CONSENTED, status, code, sanitised(f"{hint} ({message})" if message else hint)
        )
    if 400 <= status < 500:
        return WriteResult(WriteOutcome.REJECTED, status, code, message or "request refused")
    if status >= 500:
        return WriteResult(WriteOutcome.FAILED, status, code, message or "service error")
    return WriteResult(WriteOutcome.FAILED, status, code, f"unexpected answer {status}")
