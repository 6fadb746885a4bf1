"""The engine: one asyncio loop that owns all sync state.

I/O tasks (the Teams poller and the Genesys follower) only post events to an inbox; the decision
loop handles one event at a time, asks the pure core what to do, performs at most one write, and
publishes an immutable :class:`Snapshot`. Nothing else mutates state, so there are no locks.

Before every write the engine re-reads Genesys and asks the core again (verify-then-write): the
window in which a write could race the agent going On Queue is one round trip, not a poll interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
from collections import deque
from collections.abc import Callable
from dataclasses import replace

from tray_agent.auth.tokens import BrowserOpener, SignInRequired, TokenSource
from tray_agent.clients.errors import AuthenticationRequired, Rejected, ServiceError, Throttled
from tray_agent.clients.genesys import GenesysClient
from tray_agent.clients.graph import GraphPresenceClient
from tray_agent.clock import Clock
from tray_agent.core.decide import (
    Decision,
    SyncConfig,
    SyncMemory,
    SyncStatus,
    confirm_write,
    decide,
    hands_off_reason,
    pause,
    resume,
    sync_now,
)
from tray_agent.core.presence import GenesysState, PresenceCatalog, TeamsPresence
from tray_agent.engine.backoff import Backoff
from tray_agent.engine.events import Event, GenesysIdentity, GenesysObserved, LinkChanged, TeamsRead
from tray_agent.engine.genesys_follower import GenesysFollower
from tray_agent.engine.snapshot import Command, CommandKind, Link, Snapshot, Transition
from tray_agent.engine.teams_poller import TeamsPoller
from tray_agent.engine.workstation import AlwaysPresent, Workstation, for_this_session
from tray_agent.settings import Timing

log = logging.getLogger(__name__)

# While the core would not write anyway, Graph is not polled (the tenant budget is shared).
_NO_POLL = {
    SyncStatus.ON_QUEUE,
    SyncStatus.OUT_OF_OFFICE,
    SyncStatus.GENESYS_OFFLINE,
    SyncStatus.PAUSED,
    SyncStatus.LOOP_BREAKER,
}


_HANDS_OFF = {SyncStatus.ON_QUEUE, SyncStatus.OUT_OF_OFFICE, SyncStatus.GENESYS_OFFLINE}


class Engine:
    def __init__(
        self,
        *,
        graph: GraphPresenceClient,
        genesys: GenesysClient,
        microsoft_auth: TokenSource,
        genesys_auth: TokenSource,
        clock: Clock,
        timing: Timing,
        sync: SyncConfig,
        ssl_context: ssl.SSLContext,
        browser: BrowserOpener | None = None,
        on_snapshot: Callable[[Snapshot], None] | None = None,
        on_transition: Callable[[Transition], None] | None = None,
        rng: random.Random | None = None,
        workstation: Workstation | None = None,
    ) -> None:
        self._clock = clock
        self._timing = timing
        self._sync = sync
        self._genesys_client = genesys
        self._auth = {"microsoft": microsoft_auth, "genesys": genesys_auth}
        self._browser = browser
        self._on_snapshot = on_snapshot
        self._on_transition = on_transition
        rng = rng or random.Random()  # noqa: S311 - jitter
        self._inbox: asyncio.Queue[Event] = asyncio.Queue()
        self._poller = TeamsPoller(
            graph,
            microsoft_auth,
            clock,
            timing,
            self._inbox,
            self._should_poll,
            rng,
            workstation or (for_this_session() if timing.pause_when_away else AlwaysPresent()),
        )
        self._follower = GenesysFollower(
            genesys, genesys_auth, clock, timing, self._inbox, ssl_context, lambda: self._genesys, rng
        )
        self._write_backoff = Backoff(timing.backoff_base, timing.backoff_cap, rng)

        self._teams: TeamsPresence | None = None
        self._genesys: GenesysState | None = None
        self._catalog = PresenceCatalog([])
        self._user_id: str | None = None
        self._memory = SyncMemory()
        self._decision: Decision | None = None
        self._links = {"microsoft": Link.STARTING, "genesys": Link.STARTING}
        self._last_error = ""
        self._write_not_before = 0.0
        self._stale_reread_at = float("-inf")
        self._sign_in_prompt = ""
        self._teams_read_at = 0.0
        # A Teams reading older than two intervals plus the dwell is not acted on.
        self._max_teams_age = 2 * max(timing.poll_interval, timing.poll_floor) + sync.dwell_seconds
        self._writes = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._snapshot: Snapshot | None = None
        self._sign_in_tasks: set[asyncio.Task[None]] = set()
        self.history: deque[Transition] = deque(maxlen=500)

    # --- public surface ------------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot | None:
        return self._snapshot

    @property
    def graph_requests(self) -> int:
        return self._poller.requests

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
        self._publish()
        tasks = [
            asyncio.create_task(self._poller.run(), name="teams-poller"),
            asyncio.create_task(self._follower.run(), name="genesys-follower"),
        ]
        try:
            await self._react()
        finally:
            for task in [*tasks, *self._sign_in_tasks]:
                task.cancel()
            for task in [*tasks, *self._sign_in_tasks]:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    # --- the decision loop ---------------------------------------------------------------------

    async def _react(self) -> None:
        while True:
            event = await self._next_event()
            if isinstance(event, Command) and event.kind is CommandKind.STOP:
                return
            if event is not None:
                await self._handle(event)
            await self._decide_and_act()
            self._publish()

    async def _next_event(self) -> Event | None:
        """The next event, or None when a timer is due. Queued events always come first, so a timer
        that is already due can never starve the inbox (``wait_for(get(), 0)`` would cancel the
        ``get()`` before it ran, every time)."""
        try:
            return self._inbox.get_nowait()
        except asyncio.QueueEmpty:
            pass
        wake = self._next_wake()
        if wake is None:
            return await self._inbox.get()
        timeout = self._clock.to_real(wake - self._clock.now())
        if timeout <= 0:
            return None
        try:
            return await asyncio.wait_for(self._inbox.get(), timeout=timeout)
        except TimeoutError:
            return None

    def _next_wake(self) -> float | None:
        """The earliest future moment the decision could change without any new event."""
        now = self._clock.now()
        candidates = []
        if self._decision is not None and self._decision.recheck_at is not None:
            candidates.append(self._decision.recheck_at)
        if self._decision is not None and self._decision.write is not None and self._write_not_before:
            candidates.append(self._write_not_before)
        if self._genesys is not None:
            stale_at = self._genesys.confirmed_at + self._sync.max_genesys_staleness + 1.0
            if stale_at > now:  # once stale, only a new event (a heartbeat, a re-read) can change it
                candidates.append(stale_at)
        due = [at for at in candidates if at > now]  # a past moment was already decided on: no busy loop
        return min(due) if due else None

    async def _handle(self, event: Event) -> None:
        if isinstance(event, TeamsRead):
            self._observe_teams(event.presence)
        elif isinstance(event, GenesysObserved):
            await self._observe_genesys(event.state, event.source)
        elif isinstance(event, GenesysIdentity):
            self._user_id = event.user_id
            self._catalog = event.catalog
            self._note(
                "genesys", f"signed in as {event.name or event.user_id}; {len(event.catalog)} presences in the org"
            )
        elif isinstance(event, LinkChanged):
            self._set_link(event.service, event.link, event.detail)
        else:
            await self._command(event)

    def _observe_teams(self, presence: TeamsPresence) -> None:
        previous = self._teams
        self._teams = presence
        self._teams_read_at = self._clock.now()
        if previous is None or (previous.availability, previous.activity) != (presence.availability, presence.activity):
            self._note("teams", f"Teams is {presence.describe()}")

    async def _observe_genesys(self, state: GenesysState, source: str) -> None:
        previous = self._genesys
        if (
            previous is not None
            and state.modified_at
            and previous.modified_at
            and state.modified_at < previous.modified_at
        ):
            return  # an event that was overtaken (e.g. by the answer to our own write)
        self._genesys = state
        if previous is not None and (previous.presence_id, previous.routing_status, previous.out_of_office) == (
            state.presence_id,
            state.routing_status,
            state.out_of_office,
        ):
            return
        self._note("genesys", f"Genesys is {self._describe_genesys(state)} (via {source})")
        if previous is not None and state.presence_id not in (previous.presence_id, self._memory.seen_presence_id):
            # Someone else changed Genesys. Our last Teams read may predate a Teams change the agent
            # is reacting to, so Teams is re-read now and that reading is what gets acknowledged.
            self._teams = None
            self._poller.poll_now()
        was_hands_off = previous is not None and hands_off_reason(previous) is not None
        if was_hands_off and hands_off_reason(state) is None:
            # Hands-off ended: the core must acknowledge what Teams shows *now*, not what it showed
            # before; until the next read (spread over an interval, see core.polling.poll_soon) it waits.
            self._teams = None
            self._poller.poll_soon()

    def _describe_genesys(self, state: GenesysState) -> str:
        text = self._catalog.describe(state.presence_id, state.system_presence)
        if state.routing_status not in ("OFF_QUEUE", ""):
            text += f", routing {state.routing_status}"
        if state.out_of_office:
            text += ", Out of Office"
        return text

    async def _decide_and_act(self) -> None:
        now = self._clock.now()
        if self._teams is not None and now - self._teams_read_at > self._max_teams_age:
            # Too old to act on (the machine slept, or reads were held back): read again first.
            self._teams = None
            self._poller.poll_now()
        decision = decide(self._teams, self._genesys, self._catalog, self._memory, self._sync, now)
        self._memory = decision.memory
        self._record(decision)
        if decision.write is not None and now >= self._write_not_before:
            await self._write(decision)
        elif (
            self._follower.connected  # a quiet socket; while it is down the follower polls users/me itself
            and self._genesys_is_stale(now)
            and now - self._stale_reread_at >= self._timing.genesys_fallback_poll
        ):
            await self._reread_genesys(now)

    def _genesys_is_stale(self, now: float) -> bool:
        return self._genesys is not None and now - self._genesys.confirmed_at > self._sync.max_genesys_staleness

    async def _reread_genesys(self, now: float) -> None:
        """The socket has been quiet too long (e.g. after sleep/resume): confirm the state over REST."""
        self._stale_reread_at = now
        try:
            fresh = await self._follower.refresh()
        except (ServiceError, SignInRequired) as error:
            self._note("genesys", f"could not re-read the Genesys status: {error}")
            return
        self._genesys = fresh.state
        await self._decide_and_act()

    def _record(self, decision: Decision) -> None:
        previous = self._decision
        self._decision = decision
        if previous is None or (previous.status, previous.reason) != (decision.status, decision.reason):
            self._note("decision", f"{decision.status.value}: {decision.reason}")
        if previous is not None and previous.status in _NO_POLL and decision.status not in _NO_POLL:
            if previous.status in _HANDS_OFF:
                self._poller.poll_soon()
            else:
                self._poller.poll_now()

    async def _write(self, decision: Decision) -> None:
        assert decision.write is not None  # noqa: S101 - checked by the caller
        try:
            fresh = (await self._follower.refresh()).state
            self._genesys = fresh
            memory_before = self._memory
            checked = decide(self._teams, fresh, self._catalog, memory_before, self._sync, self._clock.now())
            self._memory = checked.memory
            if checked.write is None or checked.write.presence_id != decision.write.presence_id:
                self._record(checked)
                return
            write = checked.write
            user_id = self._user_id
            if user_id is None:
                return
            presence_id, system, modified = await self._genesys_client.set_my_presence(user_id, write.presence_id)
            now = self._clock.now()
            self._memory = confirm_write(self._memory, write, fresh, now)
            self._genesys = replace(
                fresh,
                presence_id=presence_id,
                system_presence=system,
                modified_at=modified or fresh.modified_at,
                confirmed_at=now,
            )
            self._writes += 1
            self._write_backoff.reset()
            self._write_not_before = 0.0
            what = "restored" if write.restore else "set"
            label = self._catalog.describe(presence_id, system)
            self._note("write", f"Genesys {what} to {label} ({checked.reason})")
        except Throttled as error:
            retry_after = error.retry_after
            if retry_after is not None and retry_after > self._timing.max_honoured_retry_after:
                self._memory = pause(self._memory, self._clock.now() + retry_after)
                self._error(f"Genesys asked us to wait {retry_after:.0f} s: sync paused until then")
            self._write_not_before = self._clock.now() + self._write_backoff.next_delay(at_least=retry_after or 3.0)
        except (SignInRequired, AuthenticationRequired) as error:
            if isinstance(error, AuthenticationRequired):
                self._auth["genesys"].invalidate()
            self._set_link("genesys", Link.SIGN_IN_NEEDED, "Genesys sign-in needed")
        except Rejected as error:
            self._error(f"Genesys refused the change: {error}")
            self._write_not_before = self._clock.now() + self._write_backoff.next_delay(at_least=60.0)
        except ServiceError as error:
            self._error(f"could not change the Genesys status: {error}")
            self._write_not_before = self._clock.now() + self._write_backoff.next_delay()

    # --- commands ------------------------------------------------------------------------------

    async def _command(self, command: Command) -> None:
        now = self._clock.now()
        if command.kind is CommandKind.PAUSE:
            until = now + command.seconds if command.seconds else float("inf")
            self._memory = pause(self._memory, until)
            self._note("decision", "sync paused by the agent")
        elif command.kind is CommandKind.RESUME:
            self._memory = resume(self._memory)
            self._note("decision", "sync resumed by the agent")
            self._poller.poll_now()
        elif command.kind is CommandKind.SYNC_NOW:
            self._memory = sync_now(self._memory)
            self._write_not_before = 0.0
            fresh = await self._poller.read_once()
            if fresh is not None:
                self._observe_teams(fresh)
        elif command.kind is CommandKind.SIGN_IN:
            self._start_sign_in(command.service, device_code=command.device_code)
        elif command.kind is CommandKind.SIGN_OUT:
            await self._sign_out(command.service)

    def _start_sign_in(self, service: str, *, device_code: bool = False) -> None:
        auth, browser = self._auth.get(service), self._browser
        with_code = getattr(auth, "sign_in_with_device_code", None) if device_code else None
        if auth is None or (browser is None and with_code is None):
            return

        def show_prompt(prompt: str) -> None:
            self._sign_in_prompt = prompt
            self._note("link", f"{service}: {prompt}")
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
            still_connected = service == "genesys" and self._follower.connected
            await self._inbox.put(
                LinkChanged(service, Link.CONNECTED if still_connected else Link.STARTING, "signed in")
            )
            if service == "genesys":
                self._follower.signed_in_again()
            else:
                self._poller.poll_now()

        task = asyncio.create_task(sign_in(), name=f"sign-in-{service}")
        self._sign_in_tasks.add(task)
        task.add_done_callback(self._sign_in_tasks.discard)

    async def _sign_out(self, service: str) -> None:
        auth = self._auth.get(service)
        if auth is None:
            return
        await auth.sign_out()
        self._set_link(service, Link.SIGN_IN_NEEDED, "signed out")
        if service == "microsoft":
            self._teams = None
        else:
            self._genesys = None

    # --- reporting -----------------------------------------------------------------------------

    def _should_poll(self) -> bool:
        if self._links["microsoft"] is Link.SIGN_IN_NEEDED:
            return False
        return self._decision is None or self._decision.status not in _NO_POLL

    def _set_link(self, service: str, link: Link, detail: str = "") -> None:
        if self._links.get(service) is not link:
            self._links[service] = link
            self._note("link", f"{service}: {link.value}{' — ' + detail if detail else ''}")
        if link in (Link.SIGN_IN_NEEDED, Link.OFFLINE, Link.THROTTLED) and detail:
            self._last_error = detail

    def _error(self, text: str) -> None:
        self._last_error = text
        self._note("error", text)

    def _note(self, kind: str, text: str) -> None:
        transition = Transition(self._clock.now(), kind, text)
        self.history.append(transition)
        log.info("%s: %s", kind, text)
        if self._on_transition is not None:
            self._on_transition(transition)

    def _publish(self) -> None:
        decision, genesys = self._decision, self._genesys
        set_by = ""
        if genesys is not None:
            if genesys.on_queue:
                set_by = "routing"
            elif self._memory.owned_presence_id == genesys.presence_id:
                set_by = "sync"
            else:
                set_by = "you"
        snapshot = Snapshot(
            status=decision.status if decision else SyncStatus.WAITING,
            reason=decision.reason if decision else "starting",
            teams=self._teams,
            genesys=genesys,
            genesys_label=self._catalog.describe(genesys.presence_id, genesys.system_presence) if genesys else "",
            set_by=set_by,
            microsoft=self._links["microsoft"],
            genesys_link=self._links["genesys"],
            paused_until=self._memory.paused_until,
            writes=self._writes,
            last_error=self._last_error,
            at=self._clock.now(),
            microsoft_expires_at=self._auth["microsoft"].expires_at,
            genesys_expires_at=self._auth["genesys"].expires_at,
            sign_in_prompt=self._sign_in_prompt,
        )
        if self._snapshot is None or replace(snapshot, at=self._snapshot.at) != self._snapshot:
            self._snapshot = snapshot
            if self._on_snapshot is not None:
                self._on_snapshot(snapshot)
