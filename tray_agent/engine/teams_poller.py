"""Polls the agent's Teams presence — only when a write could follow, so the tenant's shared Graph
budget (1,500 requests / 30 s for every agent of the company) is spent where it matters."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable

from tray_agent.auth.tokens import SignInRequired, TokenSource
from tray_agent.clients.errors import AuthenticationRequired, ServiceError, Throttled
from tray_agent.clients.graph import GraphPresenceClient, is_stale
from tray_agent.clock import Clock
from tray_agent.core.presence import TeamsPresence
from tray_agent.engine.backoff import Backoff, jittered
from tray_agent.engine.events import Event, LinkChanged, TeamsRead
from tray_agent.engine.snapshot import Link
from tray_agent.settings import Timing

log = logging.getLogger(__name__)


class TeamsPoller:
    def __init__(
        self,
        graph: GraphPresenceClient,
        auth: TokenSource,
        clock: Clock,
        timing: Timing,
        inbox: asyncio.Queue[Event],
        should_poll: Callable[[], bool],
        rng: random.Random | None = None,
    ) -> None:
        self._graph = graph
        self._auth = auth
        self._clock = clock
        self._timing = timing
        self._inbox = inbox
        self._should_poll = should_poll
        self._rng = rng or random.Random()  # noqa: S311 - jitter
        self._backoff = Backoff(timing.backoff_base, timing.backoff_cap, self._rng)
        self._wake = asyncio.Event()
        self._last: TeamsPresence | None = None
        self._not_before = 0.0  # Retry-After / backoff: no request before this (engine clock)
        self.requests = 0

    def poll_now(self) -> None:
        """Read at once (leaving hands-off, sync now, sign-in): skips the rest of the current wait."""
        self._wake.set()

    async def read_once(self) -> TeamsPresence | None:
        """One read, reported to the decision loop; None when it failed (the failure is reported too).

        Never sends a request inside a Retry-After or backoff window, even when asked to poll now.
        """
        if self._clock.now() < self._not_before:
            return None
        try:
            presence = await self._read_refreshing_once()
        except SignInRequired as error:
            await self._inbox.put(LinkChanged("microsoft", Link.SIGN_IN_NEEDED, str(error)))
            return None
        except AuthenticationRequired:
            self._auth.invalidate()
            await self._inbox.put(LinkChanged("microsoft", Link.SIGN_IN_NEEDED, "Graph refused the sign-in"))
            return None
        except Throttled as error:
            self._not_before = self._clock.now() + self._backoff.next_delay(at_least=error.retry_after or 0.0)
            await self._inbox.put(LinkChanged("microsoft", Link.THROTTLED, str(error)))
            return None
        except ServiceError as error:
            self._not_before = self._clock.now() + self._backoff.next_delay()
            await self._inbox.put(LinkChanged("microsoft", Link.OFFLINE, str(error)))
            return None
        self._backoff.reset()
        if is_stale(presence, self._last):
            log.debug("dropped a stale Graph read (older sequenceNumber)")
            return self._last
        self._last = presence
        await self._inbox.put(LinkChanged("microsoft", Link.CONNECTED))
        await self._inbox.put(TeamsRead(presence))
        return presence

    async def _read_refreshing_once(self) -> TeamsPresence:
        """A 401 first forces a silent token refresh and one retry; only then is sign-in needed."""
        self.requests += 1
        try:
            return await self._graph.my_presence()
        except AuthenticationRequired:
            self._auth.invalidate()
            self.requests += 1
            return await self._graph.my_presence()

    async def run(self) -> None:
        while True:
            blocked_for = self._not_before - self._clock.now()
            if blocked_for > 0:
                await self._clock.sleep(blocked_for)  # a Retry-After is honoured even if poll_now() is called
                continue
            if self._should_poll():
                await self.read_once()
                if self._clock.now() < self._not_before:
                    continue
            await self._sleep(jittered(self._timing.poll_interval, self._timing.poll_jitter, self._rng))

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=self._clock.to_real(seconds))
