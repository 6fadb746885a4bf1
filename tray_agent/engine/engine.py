"""The engine: one asyncio loop that performs what the sync protocol asks for.

Every rule lives in :class:`tray_agent.core.protocol.SyncProtocol`. The engine feeds it events
(readings, answers, the tray's commands, ``Tick`` when it wakes), performs the effects it returns
(each read and write runs as its own task and reports back through the inbox), keeps the memory
file, and publishes an immutable :class:`Snapshot` after every event. Link states and sign-in
flows are the shell's: they say how each service can be reached, not what to do about the sync.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import replace
from typing import Any, Protocol

import websockets

from tray_agent import i18n
from tray_agent.auth.tokens import BrowserOpener, SignInRequired, TokenSource
from tray_agent.clients.errors import AuthenticationRequired, Rejected, ServiceError, Throttled, Unreachable
from tray_agent.clock import Clock
from tray_agent.config.settings import Timing
from tray_agent.core.events import (
    AgentCommand,
    AgentCommandKind,
    Effect,
    Event,
    GenesysIdentity,
    GenesysInteractions,
    GenesysRefreshFailed,
    Leaving,
    LocalSignal,
    Persist,
    ReadTeams,
    RefreshGenesys,
    Report,
    SignedOut,
    Source,
    SyncConfigChanged,
    TeamsRead,
    TeamsReadFailed,
    TeamsReadSkipped,
    TeamsSessionAnswered,
    TeamsSourceReady,
    TeamsWriterPrepared,
    Tick,
    TriggersAvailable,
    WriteAccepted,
    WritebackToggled,
    WriteFailed,
    WriteFailure,
    WriteGenesys,
)
from tray_agent.core.interactions import InteractionSummary, WritebackConfig
from tray_agent.core.polling import Outcome, PollPolicy, WorkingHours
from tray_agent.core.protocol import ProtocolTiming, SyncProtocol
from tray_agent.core.rules import SyncConfig, SyncStatus
from tray_agent.core.said import Said
from tray_agent.core.service import Service
from tray_agent.core.teams_writeback import ClearTeamsSession, SessionCall, SessionResult, SetTeamsSession
from tray_agent.core.triggers import TriggerTiming
from tray_agent.engine.activity import LIMIT as ACTIVITY_LIMIT
from tray_agent.engine.activity import ActivityStore, NoActivity
from tray_agent.engine.genesys_follower import Connect, GenesysApi, GenesysFollower
from tray_agent.engine.inbox import GenesysSignedIn, Inbox, LinkChanged, Message
from tray_agent.engine.memory_store import MemoryStore, NoMemory
from tray_agent.engine.snapshot import LINK_WORDS, Command, CommandKind, Link, Snapshot, Transition
from tray_agent.engine.teams_source import TeamsSource
from tray_agent.engine.teams_writer import NoTeamsWriter, SessionAnswer, TeamsWriter
from tray_agent.signals.source import SignalSource
from tray_agent.signals.workstation import AlwaysPresent, Workstation, for_this_session

log = logging.getLogger(__name__)

# On quit and sign-out our Teams session is cleared first, waiting this long (real seconds) at most:
# past it, the session's short expiration bounds what Teams shows.
CLEAR_BEFORE_LEAVING_TIMEOUT = 5.0

_AGENT_COMMANDS = {
    CommandKind.PAUSE: AgentCommandKind.PAUSE,
    CommandKind.RESUME: AgentCommandKind.RESUME,
    CommandKind.SYNC_NOW: AgentCommandKind.SYNC_NOW,
}


def protocol_timing(timing: Timing) -> ProtocolTiming:
    try:
        working_hours = WorkingHours.parse(timing.working_hours)
    except ValueError as error:
        log.warning("%s; reading Teams at any hour", error)
        working_hours = WorkingHours()
    return ProtocolTiming(
        poll=PollPolicy(
            interval=timing.poll_interval,
            floor=timing.poll_floor,
            jitter=timing.poll_jitter,
            backoff_base=timing.backoff_base,
            backoff_cap=timing.backoff_cap,
        ),
        backoff_base=timing.backoff_base,
        backoff_cap=timing.backoff_cap,
        max_honoured_retry_after=timing.max_honoured_retry_after,
        genesys_refresh_every=timing.genesys_fallback_poll,
        working_hours=working_hours,
        triggers=TriggerTiming(fleet_size=timing.fleet_size),
    )


class Keepalive(Protocol):
    """Keeps the Genesys token from idling out (:class:`~tray_agent.auth.genesys_keepalive.GenesysKeepalive`)."""

    @property
    def ends_at(self) -> float | None: ...

    async def run(self, sleep: Callable[[float], Awaitable[None]]) -> None: ...


class Engine:
    def __init__(
        self,
        *,
        teams: TeamsSource,
        genesys: GenesysApi,
        microsoft_auth: TokenSource,
        genesys_auth: TokenSource,
        clock: Clock,
        timing: Timing,
        sync: SyncConfig,
        ssl_context: ssl.SSLContext | None,
        browser: BrowserOpener | None = None,
        on_snapshot: Callable[[Snapshot], None] | None = None,
        on_transition: Callable[[Transition], None] | None = None,
        rng: random.Random | None = None,
        workstation: Workstation | None = None,
        memory: MemoryStore | None = None,
        connect: Connect = websockets.connect,
        proxy_for: Callable[[str], str | None] | None = None,
        keepalive: Keepalive | None = None,
        signals: Sequence[SignalSource] = (),
        writeback: WritebackConfig | None = None,
        teams_writer: TeamsWriter | None = None,
        activity: ActivityStore | None = None,
    ) -> None:
        self._clock = clock
        self._teams_source = teams
        self._genesys_api = genesys
        self._auth = {Service.MICROSOFT: microsoft_auth, Service.GENESYS: genesys_auth}
        self._browser = browser
        self._on_snapshot = on_snapshot
        self._on_transition = on_transition
        self._workstation = workstation or (for_this_session() if timing.pause_when_away else AlwaysPresent())
        self._memory_store = memory or NoMemory()
        self._keepalive = keepalive
        self._keepalive_started = False
        self._signal_sources = tuple(signals)
        self._watching: set[str] = set()  # the signal sources that work here
        self._teams_writer: TeamsWriter = teams_writer or NoTeamsWriter()
        rng = rng or random.Random()  # noqa: S311 - jitter
        self._inbox: Inbox = asyncio.Queue()
        memory_now = self._memory_store.load(clock.now())
        self._protocol = SyncProtocol(
            sync, protocol_timing(timing), random=rng.random, memory=memory_now, now=clock.now(), writeback=writeback
        )
        follows = (genesys, genesys_auth, clock, timing, self._inbox, ssl_context, lambda: self._protocol.genesys)
        # With the Genesys → Teams direction available (on, or the agent may turn it on), the follower
        # also follows the agent's own conversation summary (counts only).
        hook = self._interactions if writeback is not None else None
        self._follower = GenesysFollower(*follows, rng, connect, proxy_for, on_interactions=hook)
        self._links = {Service.MICROSOFT: Link.STARTING, Service.GENESYS: Link.STARTING}
        self._last_error, self._sign_in_prompt = "", ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._snapshot: Snapshot | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._activity: ActivityStore = activity or NoActivity()
        self.history: deque[Transition] = deque(self._activity.load(), maxlen=ACTIVITY_LIMIT)

    def _interactions(self, summary: InteractionSummary, at: float) -> None:
        self._inbox.put_nowait(GenesysInteractions(summary, at))

    # --- public surface ------------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot | None:
        return self._snapshot

    @property
    def protocol(self) -> SyncProtocol:
        """Read-only use (tests, diagnostics): only the engine's loop feeds it."""
        return self._protocol

    def submit(self, command: Command) -> None:
        """Thread-safe: the tray calls this from its own thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._inbox.put_nowait, command)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        for service, auth in self._auth.items():
            if not auth.signed_in:
                self._links[service] = Link.SIGN_IN_NEEDED
        if not self._auth[Service.MICROSOFT].signed_in:
            self._feed(TeamsSourceReady(False, self._clock.now()))
        self._feed(Tick(self._clock.now()))
        self._publish()
        self._prepare_writeback()
        self._spawn(self._follower.run(), "genesys-follower")
        for source in self._signal_sources:
            self._spawn(self._follow_signals(source), f"signals-{source.name}")
        try:
            await self._react()
        finally:
            for task in list(self._tasks):
                task.cancel()
            for task in list(self._tasks):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    @property
    def signal_sources(self) -> frozenset[str]:
        """The local signal sources that work on this workstation (for the tray and ``doctor``)."""
        return frozenset(self._watching)

    async def _follow_signals(self, source: SignalSource) -> None:
        """One source's signals into the inbox; a source that cannot work here is simply left off."""
        put = self._inbox.put
        try:
            problem = await source.start()
            if problem is not None:
                log.info("no %s signal here: %s", source.name, problem)
                return
            self._watching.add(source.name)
            await put(TriggersAvailable(True, self._clock.now()))
            async for signal in source.watch():
                await put(LocalSignal(signal.kind, self._clock.now(), signal.attendees))
            log.info("the %s signal stopped; going on without it", source.name)
        except Exception:  # a broken source must not end the agent: go on without it
            log.exception("the %s signal failed; going on without it", source.name)
        if source.name in self._watching:
            self._watching.discard(source.name)
            if not self._watching:
                await put(TriggersAvailable(False, self._clock.now()))

    # --- the loop ------------------------------------------------------------------------------

    async def _react(self) -> None:
        while True:
            message = await self._next_message()
            if isinstance(message, Command) and message.kind is CommandKind.STOP:
                await self._clear_teams_first()
                return
            if message is None:
                self._feed(Tick(self._clock.now()))
            else:
                await self._dispatch(message)
            self._publish()

    async def _next_message(self) -> Message | None:
        """The next message, or None when the protocol's wake time has come. Queued messages always
        come first, so a due timer can never starve the inbox."""
        try:
            return self._inbox.get_nowait()
        except asyncio.QueueEmpty:
            pass
        wake = self._protocol.next_wake()
        if wake is None:
            return await self._inbox.get()
        timeout = self._clock.to_real(wake - self._clock.now())
        if timeout <= 0:
            return None
        try:
            return await asyncio.wait_for(self._inbox.get(), timeout=timeout)
        except TimeoutError:
            return None

    async def _dispatch(self, message: Message) -> None:
        now = self._clock.now()
        if isinstance(message, LinkChanged):
            self._set_link(message.service, message.link, message.detail)
            if message.service == Service.GENESYS and message.link is Link.CONNECTED:
                self._start_keepalive()
            if message.service == Service.MICROSOFT and message.link in (Link.CONNECTED, Link.SIGN_IN_NEEDED):
                self._feed(TeamsSourceReady(message.link is Link.CONNECTED, now))
        elif isinstance(message, GenesysSignedIn):
            # Who it is shows in the tray (Snapshot.genesys_account); the log needs no one's name.
            count = len(message.catalog)
            self._note("genesys", Said("signed in to Genesys; {count} presences in the org", count=count))
            self._feed(GenesysIdentity(message.user_id, message.catalog, now))
        elif isinstance(message, Command):
            await self._command(message)
        else:
            self._feed(message)

    def _feed(self, event: Event) -> None:
        for effect in self._protocol.handle(event):
            self._perform(effect)

    def _perform(self, effect: Effect) -> None:
        if isinstance(effect, ReadTeams):
            self._spawn(self._read_teams(effect), "read-teams")
        elif isinstance(effect, RefreshGenesys):
            self._spawn(self._refresh_genesys(effect), "refresh-genesys")
        elif isinstance(effect, WriteGenesys):
            self._spawn(self._write_genesys(effect), "write-genesys")
        elif isinstance(effect, SetTeamsSession | ClearTeamsSession):
            self._spawn(self._write_teams(effect), "write-teams")
        elif isinstance(effect, Persist):
            self._memory_store.save(effect.memory, self._clock.now())
        elif isinstance(effect, Report):
            if effect.kind == "error":
                self._last_error = effect.text
            self._note(effect.kind, effect.text)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- effects -------------------------------------------------------------------------------

    async def _read_teams(self, effect: ReadTeams) -> None:
        put, sent = self._inbox.put, self._clock.now()
        try:
            if effect.unless_away and await self._workstation.away():
                await put(TeamsReadSkipped(self._clock.now()))
                return
            presence = await self._teams_source.read()
        except (SignInRequired, AuthenticationRequired) as error:
            detail = str(error) if isinstance(error, SignInRequired) else "Graph refused the sign-in"
            await put(LinkChanged(Service.MICROSOFT, Link.SIGN_IN_NEEDED, detail))
            await put(TeamsReadFailed(Outcome.SIGNED_OUT, self._clock.now()))
        except Throttled as error:
            await put(LinkChanged(Service.MICROSOFT, Link.THROTTLED, str(error)))
            await put(TeamsReadFailed(Outcome.THROTTLED, self._clock.now(), error.retry_after))
        except (Unreachable, ServiceError) as error:
            await put(LinkChanged(Service.MICROSOFT, Link.OFFLINE, str(error)))
            outcome = Outcome.UNREACHABLE if isinstance(error, Unreachable) else Outcome.FAILED
            await put(TeamsReadFailed(outcome, self._clock.now()))
        except Exception as error:  # a bug must not end the reading of Teams: report it, back off, go on
            log.exception("unexpected error while reading Teams")
            await put(LinkChanged(Service.MICROSOFT, Link.OFFLINE, f"unexpected error ({error.__class__.__name__})"))
            await put(TeamsReadFailed(Outcome.FAILED, self._clock.now()))
        else:
            await put(LinkChanged(Service.MICROSOFT, Link.CONNECTED))
            await put(TeamsRead(presence, self._clock.now(), sent))

    async def _refresh_genesys(self, effect: RefreshGenesys) -> None:
        try:
            await self._follower.refresh(effect.source)
        except (ServiceError, SignInRequired) as error:
            if isinstance(error, AuthenticationRequired):  # a 401: the sign-in ended, not the network
                self._auth[Service.GENESYS].invalidate()
                await self._inbox.put(LinkChanged(Service.GENESYS, Link.SIGN_IN_NEEDED, "Genesys sign-in needed"))
            elif isinstance(error, ServiceError) and effect.source is Source.POLL:
                await self._inbox.put(LinkChanged(Service.GENESYS, Link.OFFLINE, str(error)))
            throttled = isinstance(error, Throttled)
            retry_after = error.retry_after if isinstance(error, Throttled) else None
            failed = GenesysRefreshFailed(effect.source, str(error), self._clock.now(), throttled, retry_after)
            await self._inbox.put(failed)
        except Exception as error:
            log.exception("unexpected error while reading Genesys")
            detail = f"unexpected error ({error.__class__.__name__})"
            await self._inbox.put(GenesysRefreshFailed(effect.source, detail, self._clock.now()))

    async def _write_genesys(self, effect: WriteGenesys) -> None:
        write, put = effect.write, self._inbox.put
        try:
            presence_id, system, modified = await self._genesys_api.set_my_presence(effect.user_id, write.presence_id)
        except Throttled as error:
            await put(WriteFailed(write, WriteFailure.THROTTLED, str(error), self._clock.now(), error.retry_after))
        except (SignInRequired, AuthenticationRequired) as error:
            if isinstance(error, AuthenticationRequired):
                self._auth[Service.GENESYS].invalidate()
            await put(LinkChanged(Service.GENESYS, Link.SIGN_IN_NEEDED, "Genesys sign-in needed"))
            await put(WriteFailed(write, WriteFailure.SIGNED_OUT, "Genesys sign-in needed", self._clock.now()))
        except Rejected as error:
            await put(WriteFailed(write, WriteFailure.REJECTED, str(error), self._clock.now()))
        except ServiceError as error:
            await put(WriteFailed(write, WriteFailure.FAILED, str(error), self._clock.now()))
        except Exception as error:
            log.exception("unexpected error while writing Genesys")
            detail = f"unexpected error ({error.__class__.__name__})"
            await put(WriteFailed(write, WriteFailure.FAILED, detail, self._clock.now()))
        else:
            await put(WriteAccepted(write, presence_id, system, modified, self._clock.now()))

    async def _write_teams(self, effect: SetTeamsSession | ClearTeamsSession) -> None:
        writer = self._teams_writer
        call = SessionCall.SET if isinstance(effect, SetTeamsSession) else SessionCall.CLEAR
        try:
            if isinstance(effect, SetTeamsSession):
                answer = await writer.set(
                    effect.availability, effect.activity, effect.expiration, preferred=effect.preferred
                )
            else:
                answer = await writer.clear(preferred=effect.preferred)
        except Exception as error:  # a bug must not end the agent: this direction backs off and goes on
            log.exception("unexpected error while writing Teams")
            answer = SessionAnswer(SessionResult.FAILED, f"unexpected error ({error.__class__.__name__})")
        answered = TeamsSessionAnswered(call, answer.result, self._clock.now(), answer.detail, answer.retry_after)
        await self._inbox.put(answered)

    def _prepare_writeback(self) -> None:
        """With the direction on and Microsoft signed in: let the writer ask for its permission (once)."""
        if not self._protocol.writeback.config.enabled or not self._auth[Service.MICROSOFT].signed_in:
            return

        async def prepare() -> None:
            try:
                problem = await self._teams_writer.prepare()
            except Exception:
                log.exception("unexpected error while preparing the Teams write-back")
                return
            if problem is not None:
                self._note("error", Said("Genesys interactions cannot be shown in Teams: {problem}", problem=problem))
            await self._inbox.put(TeamsWriterPrepared(problem, self._clock.now()))

        self._spawn(prepare(), "prepare-teams-writer")

    async def _clear_teams_first(self) -> None:
        """Before quitting or signing out: clear our Teams session, waiting a few seconds at most.
        Other messages meanwhile are handled as usual, commands kept for afterwards."""
        self._feed(Leaving(self._clock.now()))
        loop, kept = asyncio.get_running_loop(), []
        deadline = loop.time() + CLEAR_BEFORE_LEAVING_TIMEOUT
        while self._protocol.writeback.clearing and (remaining := deadline - loop.time()) > 0:
            try:
                message = await asyncio.wait_for(self._inbox.get(), timeout=remaining)
            except TimeoutError:
                break
            if isinstance(message, Command):
                kept.append(message)
            else:
                await self._dispatch(message)
        if self._protocol.writeback.clearing:
            self._note("error", Said("could not clear the Teams status in time: it lapses by itself within minutes"))
        for message in kept:
            self._inbox.put_nowait(message)

    # --- commands ------------------------------------------------------------------------------

    async def _command(self, command: Command) -> None:
        agent_command = _AGENT_COMMANDS.get(command.kind)
        if agent_command is not None:
            self._feed(AgentCommand(agent_command, self._clock.now(), command.seconds))
        elif command.kind is CommandKind.APPLY_SYNC_SETTINGS and command.sync is not None:
            self._feed(SyncConfigChanged(command.sync, self._clock.now()))
        elif command.kind is CommandKind.SET_WRITEBACK:
            self._feed(WritebackToggled(command.enabled, self._clock.now()))
            self._prepare_writeback()
        elif command.service is None:
            return
        elif command.kind is CommandKind.SIGN_IN:
            self._start_sign_in(command.service, device_code=command.device_code)
        elif command.kind is CommandKind.SIGN_OUT:
            await self._sign_out(command.service)

    def _start_sign_in(self, service: Service, *, device_code: bool = False) -> None:
        auth, browser = self._auth.get(service), self._browser
        with_code = getattr(auth, "sign_in_with_device_code", None) if device_code else None
        if auth is None or (browser is None and with_code is None):
            return

        def show_prompt(prompt: str) -> None:
            self._sign_in_prompt = prompt
            self._publish()

        async def sign_in() -> None:
            self._set_link(service, Link.STARTING, "signing in")
            try:
                if with_code is not None:
                    await with_code(show_prompt, 900.0)
                else:
                    assert browser is not None  # noqa: S101 - checked above
                    await auth.sign_in(browser, 120.0)
            except Exception as error:  # the message is shown to the agent; the engine keeps running
                await self._inbox.put(LinkChanged(service, Link.SIGN_IN_NEEDED, f"sign-in failed: {error}"))
                return
            finally:
                self._sign_in_prompt = ""
            still_connected = service == Service.GENESYS and self._follower.connected
            await self._inbox.put(
                LinkChanged(service, Link.CONNECTED if still_connected else Link.STARTING, "signed in")
            )
            if service == Service.GENESYS:
                await self._follower.signed_in_again()
            else:
                await self._inbox.put(TeamsSourceReady(True, self._clock.now()))
                self._prepare_writeback()

        self._spawn(sign_in(), f"sign-in-{service}")

    async def _sign_out(self, service: Service) -> None:
        auth = self._auth.get(service)
        if auth is None:
            return
        await self._clear_teams_first()  # with the Microsoft token still there
        await auth.sign_out()
        self._set_link(service, Link.SIGN_IN_NEEDED, "signed out")
        self._feed(SignedOut(service, self._clock.now()))
        if service == Service.MICROSOFT:
            self._feed(TeamsSourceReady(False, self._clock.now()))

    # --- reporting -----------------------------------------------------------------------------

    def _set_link(self, service: Service, link: Link, detail: str = "") -> None:
        if self._links.get(service) is not link:
            self._links[service] = link
            words = LINK_WORDS[link]
            said = (
                Said("{service}: {link} — {detail}", service=str(service), link=words, detail=detail)
                if detail
                else Said("{service}: {link}", service=str(service), link=words)
            )
            self._note("link", said)
        if link in (Link.SIGN_IN_NEEDED, Link.OFFLINE, Link.THROTTLED) and detail:
            self._last_error = detail

    def _note(self, kind: str, text: str) -> None:
        transition = Transition(self._clock.now(), kind, text)
        self.history.append(transition)
        self._activity.append(transition)
        log.info("%s: %s", kind, text)
        if self._on_transition is not None:
            self._on_transition(transition)

    def _start_keepalive(self) -> None:
        """Genesys's Idle Token Timeout (auth/genesys_keepalive.py): from the first connection on, once."""
        if self._keepalive is not None and not self._keepalive_started:
            self._keepalive_started = True
            self._spawn(self._keepalive.run(self._clock.sleep), "genesys-keepalive")

    def _genesys_expires_at(self) -> float | None:
        """The sooner of the token's lifetime and its idle timeout (the org's Idle Token Timeout)."""
        ends = [self._auth[Service.GENESYS].expires_at, self._keepalive.ends_at if self._keepalive else None]
        known = [at for at in ends if at is not None]
        return min(known) if known else None

    def _publish(self) -> None:
        protocol = self._protocol
        decision, genesys, memory = protocol.decision, protocol.genesys, protocol.memory
        plan = protocol.next_read_plan
        set_by = ""
        if genesys is not None:
            if genesys.on_queue:
                set_by = "routing"
            elif memory.owned_presence_id == genesys.presence_id:
                set_by = "sync"
            else:
                set_by = "you"
        snapshot = Snapshot(
            status=decision.status if decision else SyncStatus.WAITING,
            reason=decision.reason if decision else "starting",
            teams=protocol.teams,
            genesys=genesys,
            genesys_label=(
                protocol.catalog.describe(genesys.presence_id, genesys.system_presence, i18n.current_language())
                if genesys
                else ""
            ),
            set_by=set_by,
            microsoft=self._links[Service.MICROSOFT],
            genesys_link=self._links[Service.GENESYS],
            paused_until=memory.paused_until,
            writes=protocol.writes,
            last_error=self._last_error,
            at=self._clock.now(),
            microsoft_expires_at=self._auth[Service.MICROSOFT].expires_at,
            genesys_expires_at=self._genesys_expires_at(),
            sign_in_prompt=self._sign_in_prompt,
            microsoft_account=_account(self._auth[Service.MICROSOFT], "account_name"),
            genesys_account=_account(self._auth[Service.GENESYS], "email"),
            teams_writeback_enabled=protocol.writeback.config.enabled,
            teams_writeback=protocol.writeback.describe() or "",
            teams_writeback_problem=protocol.writeback.problem or "",
            teams_read_at=protocol.teams_read_at,
            next_read_at=plan[0] if plan else None,
            next_read_why=plan[1] if plan else "",
            watching=tuple(sorted(self._watching)),
            presences=tuple(protocol.catalog.definitions.values()),
            sync=protocol.config,
        )
        if self._snapshot is None or replace(snapshot, at=self._snapshot.at) != self._snapshot:
            self._snapshot = snapshot
            if self._on_snapshot is not None:
                self._on_snapshot(snapshot)


def _account(auth: TokenSource, attribute: str) -> str:
    """Who is signed in to a service, where its sign-in can tell (MSAL's UPN, the Genesys email)."""
    value = getattr(auth, attribute, None) if auth.signed_in else None
    return value if isinstance(value, str) else ""
