"""The simulator's workstation as the agent's local signals: lock and unlock, microphone and camera.

In the demo and in ``tray-agent run --simulator`` the agent's trigger sources read the simulated
workstation (the simulator's ``/control/api/workstation``), never this machine's own lock or
microphone: the person driving the simulator locks *that* workstation. Against real services the
real sources are used (:mod:`tray_agent.signals.for_this_workstation`).

It long-polls ``GET /control/api/workstation?after=<version>&wait=<seconds>``, which answers as
soon as the workstation changes, and reports each change the way the real sources do: the first
answer is the baseline, not a change; a lock or unlock once; the microphone or camera going into
use, and both being released, once. It is also the engine's :class:`~tray_agent.signals.workstation.Workstation`
(away while the simulated session is locked), so "nobody at the desk" follows the simulator too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from tray_agent.clients import bounded_json
from tray_agent.clients.http import tls_context
from tray_agent.core.triggers import SignalKind
from tray_agent.signals.source import Signal

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 25.0  # the simulator answers at once on a change, else after this (it caps at 30)
RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0)  # after a failed poll; the last repeats
FAILURES_ALLOWED = 30  # in a row (about five minutes): then the simulator is gone, the watch ends


class WorkstationAnswerInvalid(ValueError):
    """The simulator's answer is not a workstation (the message names the field, never the data)."""


@dataclass(frozen=True, slots=True)
class WorkstationState:
    locked: bool
    microphone: bool
    camera: bool
    version: int

    @property
    def device_in_use(self) -> bool:
        return self.microphone or self.camera


def parse_workstation(body: Any) -> WorkstationState:
    if not isinstance(body, dict):
        raise WorkstationAnswerInvalid("the answer is not an object")
    for key in ("locked", "microphone", "camera"):
        if not isinstance(body.get(key), bool):
            raise WorkstationAnswerInvalid(f"{key} is not true or false")
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise WorkstationAnswerInvalid("version is not a whole number")
    return WorkstationState(body["locked"], body["microphone"], body["camera"], version)


def changes(before: WorkstationState, after: WorkstationState) -> list[SignalKind]:
    """The signals between two readings, lock first (it decides whether reads wait for Away)."""
    kinds: list[SignalKind] = []
    if after.locked != before.locked:
        kinds.append(SignalKind.SESSION_LOCKED if after.locked else SignalKind.SESSION_UNLOCKED)
    if after.device_in_use != before.device_in_use:
        kinds.append(SignalKind.DEVICE_IN_USE if after.device_in_use else SignalKind.DEVICE_RELEASED)
    return kinds


class SimulatedWorkstation:
    """:class:`~tray_agent.signals.source.SignalSource` and ``Workstation`` over the simulator's control API."""

    name = "simulated workstation"

    def __init__(
        self,
        base_url: str,
        ca_file: str,
        *,
        long_poll: float = LONG_POLL_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._url = f"{base_url.rstrip('/')}/control/api/workstation"
        self._ca_file = ca_file
        self._long_poll = long_poll
        self._transport = transport
        self._sleep = sleep
        self._state: WorkstationState | None = None

    async def away(self) -> bool:
        return self._state is not None and self._state.locked

    async def start(self) -> str | None:
        try:
            async with self._client() as http:
                self._state = await self._read(http, None)
        except (httpx.HTTPError, ValueError) as error:
            return f"the simulator's workstation does not answer ({type(error).__name__}: {error})"
        return None

    async def watch(self) -> AsyncIterator[Signal]:
        failures = 0
        async with self._client() as http:
            while True:
                before = self._state
                try:
                    after = await self._read(http, before.version if before else None)
                except (httpx.HTTPError, ValueError) as error:
                    failures += 1
                    if failures >= FAILURES_ALLOWED:
                        log.warning("the simulator's workstation did not answer %d times; watching stops", failures)
                        return
                    if failures == 1:
                        log.info("the simulator's workstation does not answer (%s); trying again", type(error).__name__)
                    await self._sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1])
                    continue
                failures = 0
                self._state = after
                for kind in changes(before, after) if before is not None else ():
                    yield Signal(kind)

    def _client(self) -> httpx.AsyncClient:
        """Real seconds: the long poll waits on the wall clock, whatever the simulated clock's speed."""
        return httpx.AsyncClient(
            verify=tls_context(self._ca_file),
            timeout=httpx.Timeout(10.0, read=self._long_poll + 10.0),
            transport=self._transport,
            trust_env=False,  # the simulator is on loopback: never through a proxy
        )

    async def _read(self, http: httpx.AsyncClient, after: int | None) -> WorkstationState:
        params = {} if after is None else {"after": str(after), "wait": f"{self._long_poll:g}"}
        answer = await http.get(self._url, params=params)
        answer.raise_for_status()
        return parse_workstation(bounded_json.loads(answer.content))
