"""Reads the agent's Teams presence — only when a write could follow, and on the schedule of
:mod:`tray_agent.core.polling`, so the tenant's shared Graph budget (1,500 requests / 30 s for every
agent of the company) is spent where it matters."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from tray_agent.auth.tokens import SignInRequired, TokenSource
from tray_agent.clients.errors import AuthenticationRequired, ServiceError, Throttled, Unreachable
from tray_agent.clients.graph import GraphPresenceClient, is_stale
from tray_agent.clock import Clock
from tray_agent.core.polling import (
    Outcome,
    PollPolicy,
    PollState,
    WorkingHours,
    after_poll,
    poll_now,
    poll_soon,
)
from tray_agent.core.presence import TeamsPresence
from tray_agent.engine.events import Event, LinkChanged, TeamsRead
from tray_agent.engine.snapshot import Link
from tray_agent.engine.workstation import AlwaysPresent, Workstation
from tray_agent.settings import Timing

log = logging.getLogger(__name__)


def poll_policy(timing: Timing) -> PollPolicy:
    return PollPolicy(
        interval=timing.poll_interval,
        floor=timing.poll_floor,
        jitter=timing.poll_jitter,
        backoff_base=timing.backoff_base,
        backoff_cap=timing.backoff_cap,
    )


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
        workstation: Workstation | None = None,
    ) -> None:
        self._graph = graph
        self._auth = auth
        self._clock = clock
        self._policy = poll_policy(timing)
        self._inbox = inbox
        self._should_poll = should_poll
        self._workstation = workstation or AlwaysPresent()
        try:
            self._working_hours = WorkingHours.parse(timing.working_hours)
        except ValueError as error:
            log.warning("%s; polling at any hour", error)
            self._working_hours = WorkingHours()
        self._rng = rng or random.Random()  # noqa: S311 - jitter
        self._schedule = PollState()
        self._wake = asyncio.Event()
        self._last: TeamsPresence | None = None
        self._dropped_stale = False
        self.requests = 0

    def poll_now(self) -> None:
        """Read as soon as allowed (sync now, resume, sign-in); a Retry-After still holds."""
        self._schedule = poll_now(self._schedule, self._clock.now())
        self._wake.set()

    def poll_soon(self) -> None:
        """Read within one interval, at a random point (leaving hands-off: no fleet-wide burst)."""
        self._schedule = poll_soon(self._schedule, self._policy, self._clock.now(), self._rng.random())
        self._wake.set()

    async def read_once(self) -> TeamsPresence | None:
        """One read, reported to the decision loop; None when it failed (the failure is reported too).

        Never sends a request inside a Retry-After or backoff window, even when asked to poll now.
        """
        if self._clock.now() < self._schedule.not_before:
            return None
        try:
            presence = await self._read_refreshing_once()
        except SignInRequired as error:
            self._reschedule(Outcome.OK)  # nothing was sent; look again after a normal interval
            await self._inbox.put(LinkChanged("microsoft", Link.SIGN_IN_NEEDED, str(error)))
            return None
        except AuthenticationRequired:
            self._reschedule(Outcome.OK)
            await self._inbox.put(LinkChanged("microsoft", Link.SIGN_IN_NEEDED, "Graph refused the sign-in"))
            return None
        except Throttled as error:
            self._reschedule(Outcome.THROTTLED, error.retry_after)
            await self._inbox.put(LinkChanged("microsoft", Link.THROTTLED, str(error)))
            return None
        except Unreachable as error:
            self._reschedule(Outcome.UNREACHABLE)
            await self._inbox.put(LinkChanged("microsoft", Link.OFFLINE, str(error)))
            return None
        except ServiceError as error:
            self._reschedule(Outcome.FAILED)
            await self._inbox.put(LinkChanged("microsoft", Link.OFFLINE, str(error)))
            return None
        self._reschedule(Outcome.OK)
        if is_stale(presence, self._last) and not self._dropped_stale:
            # One out-of-order read is dropped; a second in a row means the stamps restarted (e.g. the
            # service's state was rebuilt), and the new series is followed.
            self._dropped_stale = True
            log.debug("dropped a stale Graph read (older sequenceNumber)")
            return self._last
        self._dropped_stale = False
        self._last = presence
        await self._inbox.put(LinkChanged("microsoft", Link.CONNECTED))
        await self._inbox.put(TeamsRead(presence))
        return presence

    def _reschedule(self, outcome: Outcome, retry_after: float | None = None) -> None:
        self._schedule = after_poll(
            self._schedule, self._policy, self._clock.now(), outcome, self._rng.random(), retry_after=retry_after
        )

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
            wait = self._schedule.next_at - self._clock.now()
            if wait > 0:
                await self._sleep(wait)
                continue
            try:
                working = self._should_poll() and await self._agent_is_working()
                if working:
                    await self.read_once()
            except Exception as error:  # a bug must not end the polling: report it, back off, go on
                log.exception("unexpected error while reading Teams")
                self._reschedule(Outcome.FAILED)
                await self._inbox.put(
                    LinkChanged("microsoft", Link.OFFLINE, f"unexpected error ({error.__class__.__name__})")
                )
                continue
            if not working:
                # Nothing to read for (hands-off, paused): look again after an interval or when woken.
                self._schedule = replace(self._schedule, next_at=self._clock.now() + self._policy.base_interval)

    async def _agent_is_working(self) -> bool:
        """Inside working hours and at the workstation (where the OS can tell). Explicit reads —
        sync now, the read on leaving hands-off — do not ask this."""
        local = datetime.fromtimestamp(self._clock.now())
        if not self._working_hours.contains(local.weekday(), local.hour * 60 + local.minute):
            return False
        return not await self._workstation.away()

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=self._clock.to_real(seconds))
