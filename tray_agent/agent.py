"""Builds the agent: the one place that knows every concrete class, for every entry point.

:func:`build_agent` assembles an engine from settings, endpoints, a clock, a token store and a
browser; the tray, ``tray-agent run``, the demo, the tests and the bench all call it.
:func:`build_cloud_agent` is that agent for real use: the user's settings, the cloud endpoints,
the OS token store, the system browser and the sync memory in the user's state folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from tray_agent.auth.consent import ConsentOutcome
from tray_agent.auth.genesys_keepalive import GenesysKeepalive
from tray_agent.auth.genesys_pkce import GenesysAuth
from tray_agent.auth.microsoft import PRESENCE_WRITE_SCOPES, MicrosoftAuth
from tray_agent.auth.storage import open_token_store
from tray_agent.auth.tokens import BrowserOpener, TokenStore, system_browser
from tray_agent.clients.genesys import SERVICE as GENESYS
from tray_agent.clients.genesys import GenesysClient
from tray_agent.clients.graph import SERVICE as GRAPH
from tray_agent.clients.graph import GraphPresenceClient
from tray_agent.clients.graph_presence_session import GraphPresenceSession
from tray_agent.clients.http import RetryAfterGate, make_http_client, tls_context
from tray_agent.clients.proxy import ProxyResolver
from tray_agent.clock import Clock, RealClock
from tray_agent.config.endpoints import Endpoints
from tray_agent.config.paths import AgentPaths
from tray_agent.config.settings import Settings, resolver_for
from tray_agent.core.protocol import GENESYS_WAIT_WITHOUT_RETRY_AFTER
from tray_agent.engine.activity import ActivityStore, FileActivity
from tray_agent.engine.engine import Engine
from tray_agent.engine.graph_teams_writer import GraphTeamsWriter
from tray_agent.engine.memory_store import FileMemory, MemoryStore
from tray_agent.engine.snapshot import Command, CommandKind, Snapshot, Transition
from tray_agent.engine.teams_source import GraphTeamsSource
from tray_agent.signals.for_this_workstation import calendar_source, sources_for_this_workstation
from tray_agent.signals.source import SignalSource
from tray_agent.signals.workstation import Workstation


@dataclass
class Agent:
    engine: Engine
    microsoft: MicrosoftAuth
    genesys: GenesysAuth
    _clients: tuple[httpx.AsyncClient, ...]
    # Idle Token Timeout: every Genesys API call counts as use; the engine calls ``keepalive.tick()``
    # when ``keepalive.seconds_until_due()`` has passed (see auth/genesys_keepalive.py).
    keepalive: GenesysKeepalive | None = None

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()

    async def shut_down(self, engine_task: asyncio.Task[None] | None, timeout: float = 10.0) -> None:
        """Ask the engine to stop, wait up to ``timeout`` for the task running it, close the connections."""
        self.engine.submit(Command(CommandKind.STOP))
        if engine_task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(engine_task, timeout)
        await self.aclose()


def build_agent(
    settings: Settings,
    endpoints: Endpoints,
    *,
    clock: Clock,
    store: TokenStore,
    browser: BrowserOpener | None,
    on_snapshot: Callable[[Snapshot], None] | None = None,
    on_transition: Callable[[Transition], None] | None = None,
    rng: random.Random | None = None,
    workstation: Workstation | None = None,
    memory: MemoryStore | None = None,
    proxies: ProxyResolver | None = None,
    signals: Sequence[SignalSource] = (),
    activity: ActivityStore | None = None,
) -> Agent:
    """Must be called on the event loop that will run the engine (httpx clients bind to it).

    ``memory``: where the sync memory survives a restart (none: every start is a clean one). One
    :class:`ProxyResolver` (IT policy, the environment, the OS settings, PAC) decides the proxy of
    every channel, each for its own host, the notifications websocket included. ``signals``: the
    local signal sources whose changes trigger Graph reads (none: the timer alone); the agent's own
    calendar joins them (off, saying so, unless ``settings.calendar_triggers``).
    """
    resolver = proxies or resolver_for(settings)
    graph_http, genesys_http, login_http = _http_clients(endpoints, resolver, clock)
    microsoft, genesys_auth = _sign_ins(settings, endpoints, store, clock, resolver, login_http)
    calendar, calendar_http = _calendar(settings, endpoints, resolver, clock, microsoft, browser, store)
    teams_writer, writer_http = _teams_writer(settings, endpoints, resolver, clock, microsoft, browser, store)
    keepalive = GenesysKeepalive(
        http=genesys_http, api_base_url=endpoints.genesys_api_base, token=genesys_auth.access_token, now=clock.now
    )
    engine = Engine(
        teams=GraphTeamsSource(
            GraphPresenceClient(graph_http, microsoft.access_token, endpoints.graph_base), microsoft
        ),
        genesys=GenesysClient(genesys_http, keepalive.track(genesys_auth.access_token), endpoints.genesys_api_base),
        microsoft_auth=microsoft,
        genesys_auth=genesys_auth,
        clock=clock,
        timing=settings.timing,
        sync=settings.sync,
        ssl_context=tls_context(endpoints.extra_ca_file),
        browser=browser,
        on_snapshot=on_snapshot,
        on_transition=on_transition,
        rng=rng,
        workstation=workstation,
        memory=memory,
        proxy_for=resolver.proxy_url,
        keepalive=keepalive,
        signals=(*signals, calendar),
        writeback=settings.writeback,
        teams_writer=teams_writer,
        activity=activity,
    )
    clients = (graph_http, genesys_http, login_http, calendar_http, writer_http)
    return Agent(engine, microsoft, genesys_auth, clients, keepalive)


def _teams_writer(
    settings: Settings,
    endpoints: Endpoints,
    resolver: ProxyResolver,
    clock: Clock,
    microsoft: MicrosoftAuth,
    browser: BrowserOpener | None,
    store: TokenStore,
) -> tuple[GraphTeamsWriter, httpx.AsyncClient]:
    """Our own Teams presence session (the Genesys → Teams direction), on its own Graph client: a 429
    on a write must not hold back the presence reads of the other direction."""
    writer_http = _own_graph_client(endpoints, resolver, clock)

    async def ask_consent() -> ConsentOutcome:
        assert browser is not None  # noqa: S101 - only offered with a browser
        return await microsoft.ask_consent(PRESENCE_WRITE_SCOPES, browser)

    writer = GraphTeamsWriter(
        GraphPresenceSession(writer_http, endpoints.graph_base),
        microsoft,
        settings.microsoft_client_id,
        ask_consent=ask_consent if browser is not None else None,
        remember=store,
    )
    return writer, writer_http


def _calendar(
    settings: Settings,
    endpoints: Endpoints,
    resolver: ProxyResolver,
    clock: Clock,
    microsoft: MicrosoftAuth,
    browser: BrowserOpener | None,
    store: TokenStore,
) -> tuple[SignalSource, httpx.AsyncClient]:
    """The agent's own calendar as a signal (off, saying so, unless ``settings.calendar_triggers``),
    on its own client: Outlook's 429 (its own limit) must not hold back presence reads."""
    calendar_http = _own_graph_client(endpoints, resolver, clock)
    calendar = calendar_source(
        enabled=settings.calendar_triggers,
        microsoft=microsoft,
        http=calendar_http,
        graph_base=endpoints.graph_base,
        clock=clock,
        browser=browser,
        remember=store,
    )
    return calendar, calendar_http


def _own_graph_client(endpoints: Endpoints, resolver: ProxyResolver, clock: Clock) -> httpx.AsyncClient:
    """A Graph client with its own Retry-After gate (the calendar's, the Teams writer's): a 429 there
    must not hold back the presence reads, which have theirs."""
    return make_http_client(
        endpoints.extra_ca_file, proxy=resolver.proxy_url(endpoints.graph_base), gate=RetryAfterGate(GRAPH, clock.now)
    )


def _http_clients(
    endpoints: Endpoints, resolver: ProxyResolver, clock: Clock
) -> tuple[httpx.AsyncClient, httpx.AsyncClient, httpx.AsyncClient]:
    """Graph's, the Genesys API's (each holding back while its service's Retry-After runs) and the Genesys login's."""
    ca = endpoints.extra_ca_file
    graph_http = make_http_client(
        ca, proxy=resolver.proxy_url(endpoints.graph_base), gate=RetryAfterGate(GRAPH, clock.now)
    )
    genesys_http = make_http_client(
        ca,
        proxy=resolver.proxy_url(endpoints.genesys_api_base),
        gate=RetryAfterGate(GENESYS, clock.now, without_header=GENESYS_WAIT_WITHOUT_RETRY_AFTER),
    )
    login_http = make_http_client(ca, proxy=resolver.proxy_url(endpoints.genesys_login_base))
    return graph_http, genesys_http, login_http


def _sign_ins(
    settings: Settings,
    endpoints: Endpoints,
    store: TokenStore,
    clock: Clock,
    resolver: ProxyResolver,
    login_http: httpx.AsyncClient,
) -> tuple[MicrosoftAuth, GenesysAuth]:
    """Both sign-ins, each asking the other who is signed in there (the same person, unless IT allows otherwise)."""
    microsoft = MicrosoftAuth(
        authority=endpoints.entra_authority,
        client_id=settings.microsoft_client_id,
        store=store,
        ca_file=endpoints.extra_ca_file,
        now=clock.now,
        windows_broker=settings.windows_broker,
        genesys_email=lambda: genesys.email,
        allow_different_emails=settings.allow_different_emails,
        proxy_for=resolver.proxy_url,
    )
    genesys = GenesysAuth(
        login_base_url=endpoints.genesys_login_base,
        api_base_url=endpoints.genesys_api_base,
        client_id=settings.genesys_client_id,
        redirect_port=settings.genesys_redirect_port,
        http=login_http,
        store=store,
        now=clock.now,
        microsoft_email=lambda: microsoft.account_name,
        allow_different_emails=settings.allow_different_emails,
    )
    return microsoft, genesys


def build_cloud_agent(
    settings: Settings,
    *,
    paths: AgentPaths | None = None,
    on_snapshot: Callable[[Snapshot], None] | None = None,
    on_transition: Callable[[Transition], None] | None = None,
) -> Agent:
    """Raises SettingsError when the settings do not name a tenant, region or clients yet, and
    KeyringRefused when the OS keyring is not a secure one (unless the settings allow it)."""
    paths = paths or AgentPaths.for_user()
    return build_agent(
        settings,
        Endpoints.cloud(settings.tenant_id, settings.genesys_region, settings.microsoft_cloud),
        clock=RealClock(),
        store=open_token_store(settings, paths=paths),
        browser=system_browser,
        on_snapshot=on_snapshot,
        on_transition=on_transition,
        memory=FileMemory(paths.state_dir / "sync-memory.json"),
        signals=sources_for_this_workstation(),
        activity=FileActivity(paths.activity_file),
    )
