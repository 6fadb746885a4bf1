"""Keeping the Genesys token alive under the org's Idle Token Timeout, and knowing when it really ends.

Orgs can turn on Idle Token Timeout (5 min to 8 h; at most 15 min with HIPAA): a token that is not used
for that long is ended, whatever its ``expires_in`` said. An agent that only *listens* on the
notifications socket does not use its token (inferred: websocket traffic is not documented as use), so
it would be signed out early, and an expiry warning computed from ``expires_in`` would be wrong.

``GET /api/v2/tokens/me`` is the documented, cheap call for this (TokensApi.md; requires no
permission): without ``preserveIdleTTL=true`` it counts as use, and its ``TokenInfo.dateTokenIdles`` is
"when the token is due to expire" — the real end, idle timeout included.

:class:`GenesysKeepalive` is self-contained:

- :meth:`track` wraps the token getter the Genesys client uses, so every API call counts as use
  (no keepalive is sent while the agent is busy anyway);
- :meth:`due` / :meth:`seconds_until_due` say when a keepalive is needed: at the first chance (to learn
  the idle window), then once half the learned window has passed without use;
- :meth:`tick` sends it when due and returns the seconds until it is next due;
- :attr:`ends_at` is the token's real end (engine clock), from the last ``dateTokenIdles``, moved on by
  later use; the engine should warn from ``min(GenesysAuth.expires_at, ends_at)``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tray_agent.auth.tokens import SignInRequired
from tray_agent.clients.errors import ServiceError
from tray_agent.clients.http import TokenGetter, json_body, request
from tray_agent.clock import parse_iso

log = logging.getLogger(__name__)

SERVICE = "Genesys Cloud"
MIN_INTERVAL = 60.0  # never more often than this, whatever the window
MAX_IDLE_TIMEOUT = 8 * 3600.0  # Genesys's longest idle timeout: a later end is the token's own expiry
NO_IDLE_TIMEOUT_INTERVAL = 3600.0  # without an idle timeout: check the real end hourly


def parse_date_token_idles(body: Any, wall_now: float) -> float | None:
    """Seconds from now until ``dateTokenIdles`` (None when absent or not a date; never negative)."""
    if not isinstance(body, dict) or not isinstance(body.get("dateTokenIdles"), str):
        return None
    try:
        return max(parse_iso(body["dateTokenIdles"]) - wall_now, 0.0)
    except ValueError:
        return None


class GenesysKeepalive:
    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        api_base_url: str,
        token: TokenGetter,
        now: Callable[[], float],
        wall_now: Callable[[], float] | None = None,
    ) -> None:
        """``now`` is the engine's clock (for scheduling); ``wall_now`` the real time ``dateTokenIdles`` is in."""
        self._http = http
        self._url = api_base_url.rstrip("/") + "/api/v2/tokens/me"
        self._token = token
        self._now = now
        self._wall_now = wall_now or now
        self._last_use: float | None = None
        self._last_check: float | None = None
        self._retry_at: float | None = None  # after a failed keepalive (not signed in yet, network down)
        self._window: float | None = None  # the idle window, once Genesys has shown there is one
        self._ends_at: float | None = None
        self.keepalives_sent = 0

    # --- use -----------------------------------------------------------------------------------

    def track(self, getter: TokenGetter) -> TokenGetter:
        """``getter`` that also records each use (every Genesys API call asks for the token once)."""

        async def tracked() -> str:
            token = await getter()
            self.note_use()
            return token

        return tracked

    def note_use(self) -> None:
        now = self._now()
        self._last_use = now
        if self._window is not None and self._ends_at is not None:
            self._ends_at = max(self._ends_at, now + self._window)

    # --- schedule ------------------------------------------------------------------------------

    @property
    def ends_at(self) -> float | None:
        """When the token really ends (engine clock) as far as Genesys last said, moved on by later use;
        None until asked. Not later than the token's own expiry in truth: use ``min`` with it."""
        return self._ends_at

    @property
    def idle_window(self) -> float | None:
        return self._window

    def seconds_until_due(self) -> float:
        now = self._now()
        if self._last_check is None:
            return 0.0 if self._retry_at is None else max(self._retry_at - now, 0.0)
        if self._window is None:
            return max(self._last_check + NO_IDLE_TIMEOUT_INTERVAL - now, 0.0)
        last = max(self._last_use or self._last_check, self._last_check)
        return max(last + max(self._window / 2, MIN_INTERVAL) - now, 0.0)

    def due(self) -> bool:
        return self.seconds_until_due() <= 0.0

    async def tick(self) -> float:
        """Send the keepalive if it is due; the seconds until the next one is due.

        Failures are logged and not raised: the engine's own calls report an ended sign-in (401).
        """
        if self.due():
            try:
                await self.keep_alive()
            except (ServiceError, SignInRequired) as error:
                log.info("Genesys keepalive failed (%s); trying again in %.0f s", error, MIN_INTERVAL)
                self._retry_at = self._now() + MIN_INTERVAL  # soon (the window may be short), not in a loop
                if self._last_check is not None:
                    self._last_check = None  # a failure teaches nothing about the window: ask again
        return self.seconds_until_due()

    async def keep_alive(self) -> None:
        """``GET /api/v2/tokens/me`` (counts as use) and learn the real end from ``dateTokenIdles``."""
        asked = self._now()
        response = await request(self._http, SERVICE, "GET", self._url, await self._token())
        self.keepalives_sent += 1
        self._last_check = self._last_use = asked
        self._retry_at = None
        remaining = parse_date_token_idles(json_body(SERVICE, response), self._wall_now())
        if remaining is None:
            return  # no end reported: only the sign-in's own expiry counts
        self._ends_at = asked + remaining
        # An end within Genesys's longest idle timeout is (or may be) the idle timeout: keep within it.
        self._window = remaining if remaining <= MAX_IDLE_TIMEOUT else None
        log.debug("Genesys token ends in %.0f s unless used", remaining)

    async def run(self, sleep: Callable[[float], Awaitable[None]]) -> None:
        """For a caller without a scheduler: tick for ever (cancel the task to stop)."""
        while True:
            await sleep(max(await self.tick(), MIN_INTERVAL / 4))
