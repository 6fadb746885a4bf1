"""Assembly: one aiohttp app on one HTTPS port serving every simulated host's real paths.

Microsoft login ``/{tenant}/...``, Graph ``/v1.0/...``, Genesys login ``/oauth/...``, Genesys API
``/api/v2/...``, Genesys streaming ``/channels/{id}`` and the control surface ``/control...``. Clients swap
base URLs only. A middleware applies faults (network loss, latency, injected 5xx/429), shapes unmatched
routes per service, stamps correlation headers and writes the request log.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from aiohttp import web

from tray_agent.clock import Clock, RealClock

from . import (
    calendar_view,
    certificates,
    control,
    entra,
    error_answers,
    genesys_api,
    genesys_auth,
    genesys_notifications,
    graph_api,
)
from .context import STATE, classify, fault_target, identity, request_id, set_service, state_of
from .genesys_notifications import NotificationHub
from .request_log import RequestLogEntry
from .state import SimulatorState

DEFAULT_TENANT_ID = "11111111-2222-3333-4444-555555555555"
DEFAULT_MS_CLIENT_ID = "8a1d4c2e-6b3f-4e5a-9c7d-0e1f2a3b4c5d"
DEFAULT_GENESYS_CLIENT_ID = "4f6e8d0c-2b1a-4c3d-8e5f-6a7b8c9d0e1f"
DEFAULT_GENESYS_REDIRECT_URIS = ("http://localhost:8765/callback", "http://127.0.0.1:8765/callback")

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _simulate(request: web.Request, handler: _Handler) -> web.StreamResponse:
    state = state_of(request)
    service = classify(request.path)
    set_service(request, service)
    arrived = state.clock.now()
    if service == "control":
        # Not subject to faults (it must keep working while the "network" is down). Only changes are logged:
        # the page polls GET /control/api/state every second.
        response = await handler(request)
        if request.method != "GET":
            state.log_request(
                RequestLogEntry(arrived, request.method, request.path, response.status, service, None, None)
            )
        return response
    counters = state.counters
    if service == "graph":
        counters.graph_requests += 1
    elif service == "genesys":
        counters.genesys_requests += 1

    def log(status: int) -> None:
        user_id, client_id = identity(request)
        state.log_request(RequestLogEntry(arrived, request.method, request.path, status, service, user_id, client_id))

    if state.faults.is_network_down:
        counters.network_aborts += 1
        log(0)
        if request.transport is not None:
            request.transport.abort()
        # Never delivered: writing to the aborted transport fails and aiohttp drops it quietly.
        return web.Response(status=503)

    target = fault_target(request.method, request.path)
    latency = state.faults.latency_for(service, target)
    if latency > 0:
        await state.clock.sleep(latency)

    fault = state.faults.take(service, target)
    try:
        response = error_answers.injected(request, fault) if fault is not None else await handler(request)
    except web.HTTPException as exc:
        converted = error_answers.not_found(request, exc.status) if exc.status in (404, 405) else None
        if converted is None:
            log(exc.status)
            raise
        response = converted

    if not response.prepared:
        if service == "graph":
            response.headers.setdefault("request-id", request_id(request))
            response.headers.setdefault("client-request-id", error_answers.client_request_id(request))
        elif service in ("genesys", "notifications"):
            response.headers.setdefault("inin-correlation-id", request_id(request))
    if response.status == 401:
        if service == "graph":
            counters.graph_unauthorized += 1
        elif service == "genesys":
            counters.genesys_unauthorized += 1
    log(response.status)
    return response


def build_app(state: SimulatorState, hub: NotificationHub) -> web.Application:
    app = web.Application(middlewares=[_simulate])
    app[STATE] = state
    # Fixed-prefix routes first; the catch-all "/{tenant}/..." Microsoft routes last.
    control.add_routes(app)
    graph_api.add_routes(app)
    calendar_view.add_routes(app)
    genesys_api.add_routes(app)
    genesys_auth.add_routes(app)
    genesys_notifications.add_routes(app, hub)
    entra.add_routes(app)

    async def on_shutdown(_: web.Application) -> None:
        await hub.shutdown()

    app.on_shutdown.append(on_shutdown)
    return app


class Simulator:
    """Microsoft Entra ID + Graph presence + Genesys Cloud (login, API, notifications) on one loopback port.

    ``await sim.start()`` / ``await sim.stop()``, or ``async with Simulator(...) as sim``. All time logic uses
    ``clock`` (default :class:`RealClock`), so a :class:`ScaledClock` runs a simulated day in seconds.
    """

    def __init__(
        self,
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        auto_approve: bool = False,
        tenant_id: str = DEFAULT_TENANT_ID,
        ms_client_id: str = DEFAULT_MS_CLIENT_ID,
        genesys_client_id: str = DEFAULT_GENESYS_CLIENT_ID,
        genesys_redirect_uris: Sequence[str] = DEFAULT_GENESYS_REDIRECT_URIS,
        genesys_issue_refresh_tokens: bool = False,
        heartbeat_interval: float = 30.0,
        genesys_token_lifetime: int = 86400,
        genesys_idle_timeout: float | None = None,
        entra_token_lifetime: int = 3599,
        genesys_rate_per_minute: int = 300,
        graph_limit_per_30s: int = 1500,
        device_code_interval: int = 5,
        request_log_size: int = 10_000,
        teams_away_after_lock: float = 10.0,
        graph_propagation_delay: float = 3.0,
    ) -> None:
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError("the simulator binds loopback (127.0.0.1) only")
        self.clock: Clock = clock or RealClock()
        self._port = port
        self.state = SimulatorState(
            self.clock,
            tenant_id=tenant_id,
            ms_client_id=ms_client_id,
            genesys_client_id=genesys_client_id,
            genesys_redirect_uris=genesys_redirect_uris,
            entra_token_lifetime=entra_token_lifetime,
            genesys_token_lifetime=genesys_token_lifetime,
            genesys_rate_per_minute=genesys_rate_per_minute,
            graph_limit_per_30s=graph_limit_per_30s,
            genesys_issue_refresh_tokens=genesys_issue_refresh_tokens,
            auto_approve=auto_approve,
            heartbeat_interval=heartbeat_interval,
            device_code_interval=device_code_interval,
            request_log_size=request_log_size,
            # Seconds after a lock until Teams shows Away (real behaviour: inferred, the client's own
            # delay, at once or within minutes), and how far Graph's GET /me/presence lags the client.
            teams_away_after_lock=teams_away_after_lock,
            graph_propagation_delay=graph_propagation_delay,
        )
        if genesys_idle_timeout is not None and not 300 <= genesys_idle_timeout <= 8 * 3600:
            raise ValueError("genesys_idle_timeout: Genesys allows 5 min to 8 h")
        self.state.tokens.genesys_idle_timeout = genesys_idle_timeout
        self.hub = NotificationHub(self.state)
        self.state.notifications.observer = self.hub
        self._runner: web.AppRunner | None = None
        self._tmp: Path | None = None
        self._tls: certificates.TlsFiles | None = None
        self._base_url: str | None = None

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("simulator already started")
        self._tmp = Path(tempfile.mkdtemp(prefix="tray-agent-sim-"))
        try:
            self._tls = certificates.generate(self._tmp)
            runner = web.AppRunner(build_app(self.state, self.hub), access_log=None, shutdown_timeout=2.0)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", self._port, ssl_context=self._tls.server_context())
            await site.start()
        except BaseException:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
            raise
        self._runner = runner
        port = runner.addresses[0][1]
        self._base_url = f"https://127.0.0.1:{port}"
        self.state.base_url = self._base_url

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------ addresses

    @property
    def base_url(self) -> str:
        """``https://127.0.0.1:<port>`` — the stand-in for every real host."""
        if self._base_url is None:
            raise RuntimeError("simulator not started")
        return self._base_url

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def ca_path(self) -> str:
        """PEM of the simulator's throwaway CA: pass it as the TLS trust bundle (``verify=sim.ca_path``)."""
        if self._tls is None:
            raise RuntimeError("simulator not started")
        return str(self._tls.ca_path)

    @property
    def authority(self) -> str:
        """An MSAL authority for the simulated tenant (use ``instance_discovery=False``)."""
        return f"{self.base_url}/{self.state.apps.tenant_id}"

    @property
    def control_url(self) -> str:
        return f"{self.base_url}/control"

    @property
    def tenant_id(self) -> str:
        return self.state.apps.tenant_id

    @property
    def ms_client_id(self) -> str:
        return self.state.apps.ms_client_id

    @property
    def genesys_client_id(self) -> str:
        return self.state.apps.genesys_client_id
