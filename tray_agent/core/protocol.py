"""The whole sync protocol as one sans-I/O state machine: events in, effects out.

Like h11's connection object, :class:`SyncProtocol` does no I/O and reads no clock: the engine feeds
it :mod:`~tray_agent.core.events` (each with its time) and performs the effects it returns — read
Teams, refresh Genesys, write, persist, report — feeding each result back as an event. Between
events the engine sleeps until :meth:`SyncProtocol.next_wake` and then feeds a ``Tick``.

What lives here, and nowhere else:

- **the decision**: the rule table of :mod:`tray_agent.core.rules`, run after every event;
- **verify, then write**: a write the rules ask for is first checked against a fresh Genesys
  read (the window in which it could race the agent going On Queue is one round trip), and only
  sent if the rules still ask for it on that read. One write at a time;
- **when to read Teams** (:mod:`tray_agent.core.polling`, :mod:`tray_agent.core.triggers`): when
  a local signal says Teams may be changing (a prompt read and a follow-up, inside the agent's
  share of the tenant's Graph budget, spread when other agents may share the moment); on the
  timer only while a write could follow (a slow safety net once signals are available); slow
  baseline reads while hands-off; a confirming read ``dwell`` after a change; at once after the
  agent changes Genesys, after "sync now", resume or a sign-in; a reading too old to act on is
  read again; never inside a Retry-After or backoff window;
- **freshness and order**: out-of-order Graph readings (``sequenceNumber``) and Genesys events
  (``modifiedDate``) are dropped, and a timestamp far from our clock is not trusted to order
  anything; a heartbeat confirms the held state; a state not confirmed recently is re-read, and
  while the notifications socket is down Genesys is polled every ``genesys_refresh_every``;
- **failures**: write backoff, a Retry-After over ``max_honoured_retry_after`` pauses sync;
- **identity and memory**: a different Genesys user starts a fresh memory; the persistable part
  of the memory is handed out (``Persist``) whenever it changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from tray_agent.core.backoff import backoff_delay
from tray_agent.core.events import (
    AgentCommand,
    AgentCommandKind,
    Effect,
    Event,
    GenesysHeartbeat,
    GenesysIdentity,
    GenesysInteractions,
    GenesysObserved,
    GenesysRefreshFailed,
    GenesysSocket,
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
from tray_agent.core.interactions import WritebackConfig
from tray_agent.core.memory import InFlight, Phase, SyncMemory, Write, persisted_part
from tray_agent.core.polling import Outcome, PollPolicy, PollState, WorkingHours, after_poll, poll_soon
from tray_agent.core.presence import GenesysState, PresenceCatalog, TeamsPresence
from tray_agent.core.rules import (
    STATUS_WORDS,
    Decision,
    Situation,
    SyncConfig,
    SyncStatus,
    confirm_write,
    decide,
    pause,
    pause_for_genesys,
    resume,
    sync_now,
)
from tray_agent.core.said import Said
from tray_agent.core.service import Service
from tray_agent.core.teams_writeback import SessionResult, TeamsWriteback
from tray_agent.core.triggers import (
    KNOWN_SIGNALS,
    PlannedRead,
    SignalKind,
    TokenBucket,
    TriggerTiming,
    attendees_for,
    plan_reads,
    timer_interval,
    with_signal_reads,
)

TIMER_MAX_PRESSURE_WITH_TRIGGERS = 1.5

# Graph availability values that mean "not at the desk": what Teams turns to after a lock.
AWAY_LIKE = frozenset({"Away", "BeRightBack", "Offline", "AvailableIdle", "BusyIdle"})

# A Genesys modifiedDate further than this from our clock orders nothing (a bad or hostile event
# must not freeze our view of Genesys by looking newer than everything after it).
MAX_CLOCK_SKEW = 300.0
# The stored memory is refused when older than core.memory.MAX_AGE: a long unchanged stretch
# (a whole-day meeting) is saved again now and then so that a restart still finds it.
PERSIST_AGAIN_AFTER = 3600.0


# Genesys's SDKs wait this long for a 429 without Retry-After (.NET RetryConfiguration's default); so
# do the sync's own retries and the Genesys client's gate (agent.py).
GENESYS_WAIT_WITHOUT_RETRY_AFTER = 3.0


@dataclass(frozen=True, slots=True)
class ProtocolTiming:
    poll: PollPolicy = field(default_factory=PollPolicy)
    backoff_base: float = 2.0
    backoff_cap: float = 300.0
    max_honoured_retry_after: float = 180.0  # a longer Retry-After on a write pauses sync and says so
    genesys_refresh_every: float = 30.0  # poll Genesys this often while its socket is down (and when stale)
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    triggers: TriggerTiming = field(default_factory=TriggerTiming)


def local_week_minute(epoch: float) -> tuple[int, int]:
    """(weekday, minute of the day) in local time, for working hours."""
    local = datetime.fromtimestamp(epoch)
    return local.weekday(), local.hour * 60 + local.minute


class SyncProtocol:
    """Feed it events with :meth:`handle`; perform what it returns; wake it at :meth:`next_wake`."""

    def __init__(
        self,
        config: SyncConfig,
        timing: ProtocolTiming,
        *,
        random: Callable[[], float],
        memory: SyncMemory | None = None,
        local_time: Callable[[float], tuple[int, int]] = local_week_minute,
        now: float = 0.0,
        writeback: WritebackConfig | None = None,
    ) -> None:
        self.config = config
        self.timing = timing
        self._random = random
        self._local_time = local_time
        self.memory = memory or SyncMemory()
        self._persisted = persisted_part(self.memory)
        self._persisted_at = now
        self.now = now
        self.teams: TeamsPresence | None = None
        self.teams_read_at: float | None = None
        self.teams_requested_at: float | None = None
        self._genesys_unseen_for = 0.0  # before the latest Genesys observation (rule 5)
        self.genesys: GenesysState | None = None
        self.catalog = PresenceCatalog([])
        self.decision: Decision | None = None
        self.writes = 0
        self._teams_ready = True
        self._reading = False
        self._dropped_stale_reading = False
        self._poll = PollState(next_at=now)
        self._read_why = "start"
        self._refreshing = False
        self._refreshed_at = -math.inf
        self._socket_up = False
        self._refresh_failures = 0
        self._verifying: Write | None = None
        self._verified = False
        self._writing: tuple[Write, str] | None = None  # the write sent, and why
        self._write_failures = 0
        self._write_not_before = -math.inf
        self._genesys_quiet_until = -math.inf  # a Retry-After: no Genesys call of ours before it
        self._planned: tuple[PlannedRead, ...] = ()  # reads local signals asked for, by time
        self._bucket = TokenBucket.for_fleet(timing.triggers.fleet_size, now)
        self._signal_at: float | None = None  # the latest known signal
        self._backed_until = -math.inf  # a reading sent after it, by then, is the signal's (plan_reads)
        self._storm_slot = random()  # this agent's place inside every storm's spread (core.triggers)
        self._meeting_signal: tuple[float, int | None] | None = None  # the latest calendar signal: when, how many
        self._locked_since: float | None = None
        self._triggers_available = False
        # The Genesys → Teams direction: our own Teams session, and whether the reading we hold is it.
        self.writeback = TeamsWriteback(
            writeback or WritebackConfig(), random=random, session=self.memory.teams_session, **_backoff(timing)
        )
        self.writeback.microsoft_ready(True)
        self.teams_is_ours = False
        self._echo_read_at: float | None = None  # the read planned for when our session can no longer show

    # --- the two entry points ------------------------------------------------------------------

    def handle(self, event: Event) -> list[Effect]:
        self.now = max(self.now, event.at)
        effects: list[Effect] = []
        self._observe(event, effects)
        self._step(effects)
        return effects

    def next_wake(self) -> float | None:
        """The earliest future moment something could change without a new event."""
        times: list[float] = []
        if self._reads_allowed():
            read_at = min(self._poll.next_at, self._planned_read_at())
            times.append(self._bucket.available_at(read_at) if math.isfinite(read_at) else read_at)
        if self.decision is not None and self.decision.recheck_at is not None:
            times.append(self.decision.recheck_at)
        if self.decision is not None and self.decision.write is not None and not self._busy_writing():
            times.append(self._write_not_before)
        if self.genesys is not None:
            times.append(max(self._next_refresh_at(), self._genesys_quiet_until) + 0.001)
        writeback_at = self.writeback.next_wake(self.now)
        if writeback_at is not None:
            times.append(writeback_at)
        due = [t for t in times if t > self.now]
        return min(due) if due else None

    @property
    def genesys_socket_up(self) -> bool:
        """The notifications socket is up: Genesys changes arrive by themselves (no polling)."""
        return self._socket_up

    @property
    def next_teams_read_at(self) -> float | None:
        """When Teams will be read next (None: not while paused, signed out or a read is under way)."""
        return self._poll.next_at if self._reads_allowed() else None

    @property
    def next_read_plan(self) -> tuple[float, str] | None:
        """When Teams is read next and why (the timer, "sync now", a local signal); None: no read is
        planned (paused, signed out, or a read is under way)."""
        if not self._reads_allowed():
            return None
        planned_at = self._planned_read_at()
        if planned_at < self._poll.next_at:
            return planned_at, self._planned[0].why
        return self._poll.next_at, self._read_why

    @property
    def user_id(self) -> str | None:
        return self.memory.user_id

    @property
    def status(self) -> SyncStatus:
        return self.decision.status if self.decision else SyncStatus.WAITING

    # --- events --------------------------------------------------------------------------------

    def _observe(self, event: Event, effects: list[Effect]) -> None:
        if isinstance(event, TeamsRead):
            self._teams_read(event, effects)
        elif isinstance(event, TeamsReadFailed):
            self._teams_read_failed(event, effects)
        elif isinstance(event, TeamsReadSkipped):
            self._reading = False
            self._bucket = self._bucket.give_back()  # nothing was sent
            self._poll = replace(self._poll, next_at=self.now + self._interval())
        elif isinstance(event, TeamsSourceReady):
            self._teams_source_ready(event.ready)
        elif isinstance(event, LocalSignal):
            self._local_signal(event, effects)
        elif isinstance(event, TriggersAvailable):
            self._triggers_available = event.available
        elif isinstance(event, GenesysObserved):
            self._genesys_observed(event, effects)
        elif isinstance(event, GenesysSocket):
            self._socket_up = event.connected
        elif isinstance(event, GenesysHeartbeat):
            if self.genesys is not None:
                self.genesys = replace(self.genesys, confirmed_at=self.now)
        elif isinstance(event, GenesysRefreshFailed):
            self._refresh_failed(event, effects)
        elif isinstance(event, GenesysIdentity):
            self._identity(event, effects)
        elif isinstance(event, WriteAccepted):
            self._write_accepted(event, effects)
        elif isinstance(event, WriteFailed):
            self._write_failed(event, effects)
        elif isinstance(event, AgentCommand):
            self._command(event, effects)
        elif isinstance(event, SignedOut):
            self._signed_out(event.service)
        elif isinstance(event, GenesysInteractions):
            self.writeback.interactions(event.summary)
        elif isinstance(event, TeamsSessionAnswered):
            line = self.writeback.answered(event.call, event.result, self.now, event.retry_after, event.detail)
            if line is not None:
                failed = event.result not in (SessionResult.OK, SessionResult.GONE)
                effects.append(Report("error" if failed else "teams", line))
        elif isinstance(event, Leaving):
            self.writeback.leave()
        elif isinstance(event, TeamsWriterPrepared):
            self.writeback.prepared(event.problem)
        elif isinstance(event, SyncConfigChanged):
            self._config_changed(event.config, effects)
        elif isinstance(event, WritebackToggled):
            self._writeback_toggled(event.enabled, effects)
        else:
            assert isinstance(event, Tick)  # noqa: S101 - the last kind

    def _teams_read_failed(self, event: TeamsReadFailed, effects: list[Effect]) -> None:
        self._reading = False
        if event.outcome is Outcome.SIGNED_OUT:
            self._teams_ready = False
            self._reschedule(Outcome.OK)  # nothing was sent: no backoff
            return
        delay = self._reschedule(event.outcome, event.retry_after)
        effects.append(Report("teams", Said("could not read Teams: trying again in {delay:.1f} s", delay=delay)))

    def _writeback_toggled(self, enabled: bool, effects: list[Effect]) -> None:
        self.writeback.set_enabled(enabled)
        shown = Said("Genesys interactions in Teams: on") if enabled else Said("Genesys interactions in Teams: off")
        effects.append(Report("decision", shown))

    def _teams_read(self, event: TeamsRead, effects: list[Effect]) -> None:
        self._reading = False
        self._reschedule(Outcome.OK)
        previous = self.teams
        if _older_sequence(event.presence, previous) and not self._dropped_stale_reading:
            # One out-of-order reading is dropped; a second in a row means the stamps restarted
            # (the service's state was rebuilt), and the new series is followed.
            self._dropped_stale_reading = True
            return
        self._dropped_stale_reading = False
        self.teams, self.teams_read_at = event.presence, self.now
        self.teams_requested_at = event.requested_at if event.requested_at is not None else self.now
        # Judged once, as it arrives: whether our session could show when the read was sent.
        self.teams_is_ours = self.writeback.is_ours(event.presence, self.teams_requested_at)
        if previous is None or (previous.availability, previous.activity) != (
            event.presence.availability,
            event.presence.activity,
        ):
            effects.append(Report("teams", Said("Teams is {teams}", teams=event.presence.describe())))
        self._watch_while_locked(event.presence)

    def _local_signal(self, event: LocalSignal, effects: list[Effect]) -> None:
        triggers = self.timing.triggers
        if event.kind in KNOWN_SIGNALS:
            self._signal_at = self.now
        if event.kind is SignalKind.SESSION_LOCKED:
            self._locked_since = self.now
        elif event.kind is SignalKind.SESSION_UNLOCKED:
            self._locked_since = None
            self._planned = tuple(read for read in self._planned if not read.even_if_away)
        attendees = attendees_for(event.kind, self.now, event.attendees, self._meeting_signal)
        if event.kind in (SignalKind.MEETING_STARTS, SignalKind.MEETING_ENDS):
            self._meeting_signal = (self.now, event.attendees)
        plan = plan_reads(event.kind, self.now, triggers, self._storm_slot, attendees)
        self._planned = with_signal_reads(self._planned, plan.reads)
        if event.kind in KNOWN_SIGNALS:
            self._backed_until = max(self._backed_until, plan.backed_until)
        effects.append(Report("trigger", Said("{signal}: reading Teams", signal=event.kind.value)))

    def _watch_while_locked(self, presence: TeamsPresence) -> None:
        """While locked, Teams is read until it shows Away (it turns Away on its own clock)."""
        locked_since, triggers = self._locked_since, self.timing.triggers
        if locked_since is None or presence.availability in AWAY_LIKE:
            return
        if self.now - locked_since < triggers.give_up_while_locked:
            self._plan(PlannedRead(self.now + triggers.reread_while_locked, "locked: has Teams turned Away?", True))

    def _plan(self, read: PlannedRead) -> None:
        self._planned = tuple(sorted((*self._planned, read), key=lambda planned: planned.at))

    def _planned_read_at(self) -> float:
        """When the first planned read may go: never inside a Retry-After or backoff window."""
        return max(self._planned[0].at, self._poll.not_before) if self._planned else math.inf

    def _teams_source_ready(self, ready: bool) -> None:
        self.writeback.microsoft_ready(ready)
        was_ready, self._teams_ready = self._teams_ready, ready
        if ready and not was_ready:
            self._read_soon("signed in to Microsoft", self.now)

    def _genesys_observed(self, event: GenesysObserved, effects: list[Effect]) -> None:
        if event.source in (Source.VERIFY, Source.STALE, Source.POLL):
            self._refreshing, self._refresh_failures = False, 0
            self._verified = event.source is Source.VERIFY
        state = event.state
        if state.modified_at > self.now + MAX_CLOCK_SKEW:
            state = replace(state, modified_at=0.0)  # orders nothing (see MAX_CLOCK_SKEW)
        previous = self.genesys
        if previous is not None and _overtaken(state, previous, self.now):
            if event.source is not Source.SOCKET:  # a REST read still confirms what we hold
                self.genesys = replace(previous, confirmed_at=self.now)
            return
        self.genesys = replace(state, confirmed_at=self.now)
        self._genesys_unseen_for = self.now - previous.confirmed_at if previous is not None else 0.0
        if previous is None or _shown(previous) != _shown(state):
            effects.append(
                Report(
                    "genesys",
                    Said(
                        "Genesys is {genesys} (via {source})",
                        genesys=describe_genesys(self.catalog, state),
                        source=event.source.value,
                    ),
                )
            )

    def _refresh_failed(self, event: GenesysRefreshFailed, effects: list[Effect]) -> None:
        self._refreshing = False
        self._refresh_failures += 1
        if event.source is Source.VERIFY:
            self._verifying = None
        if event.throttled:  # the limit is the client's: the write path waits it out, whichever call met it
            effects.append(
                Report("genesys", Said("could not re-read the Genesys status: {detail}", detail=event.detail))
            )
            self._genesys_throttled(event.retry_after, effects)
        elif event.source is Source.VERIFY:
            delay = self._write_backoff()
            said = Said(
                "could not re-read the Genesys status: {detail}; trying again in {delay:.1f} s",
                detail=event.detail,
                delay=delay,
            )
            effects.append(Report("genesys", said))
        elif self._refresh_failures == 1:  # not every 30 s while it lasts
            effects.append(
                Report("genesys", Said("could not re-read the Genesys status: {detail}", detail=event.detail))
            )

    def _identity(self, event: GenesysIdentity, effects: list[Effect]) -> None:
        self.catalog = event.catalog
        known = self.memory.user_id
        self.writeback.genesys_signed_in()
        if known is not None and known != event.user_id:
            # Another person signed in: nothing we remember (restore point, our writes) is theirs.
            self.memory = SyncMemory(user_id=event.user_id)
            self.genesys, self._verifying, self._writing = None, None, None
            effects.append(Report("decision", Said("a different Genesys user signed in: starting afresh")))
        else:
            self.memory = replace(self.memory, user_id=event.user_id)

    def _write_accepted(self, event: WriteAccepted, effects: list[Effect]) -> None:
        why = self._writing[1] if self._writing else ""
        self._writing = None
        in_flight = self.memory.in_flight
        if in_flight is not None and in_flight.write == event.write:
            self.memory = confirm_write(self.memory, event.write, in_flight.shown_before, self.now)
        else:  # already recognised from a socket event (rule 2): only count it
            self.memory = replace(self.memory, write_times=(*self.memory.write_times, self.now))
        if self.genesys is not None:
            modified = event.modified_at if 0 < event.modified_at <= self.now + MAX_CLOCK_SKEW else 0.0
            self.genesys = replace(
                self.genesys,
                presence_id=event.presence_id,
                system_presence=event.system_presence,
                modified_at=modified or self.genesys.modified_at,
                confirmed_at=self.now,
            )
        self.writes += 1
        self._write_failures, self._write_not_before = 0, -math.inf
        label = self.catalog.named(event.presence_id, event.system_presence)
        if event.write.restore:
            effects.append(Report("write", Said("Genesys restored to {label} ({why})", label=label, why=why)))
        else:
            effects.append(Report("write", Said("Genesys set to {label} ({why})", label=label, why=why)))

    def _write_failed(self, event: WriteFailed, effects: list[Effect]) -> None:
        self._writing = None
        self.memory = replace(self.memory, in_flight=None)
        retry_after = event.retry_after
        if event.failure is WriteFailure.THROTTLED:
            self._genesys_throttled(retry_after, effects)
        elif event.failure is WriteFailure.REJECTED:
            delay = self._write_backoff(at_least=60.0)
            effects.append(
                Report(
                    "error",
                    Said(
                        "Genesys refused the change: {detail}; trying again in {delay:.1f} s",
                        detail=event.detail,
                        delay=delay,
                    ),
                )
            )
        elif event.failure is WriteFailure.FAILED:
            delay = self._write_backoff()
            said = Said(
                "could not change the Genesys status: {detail}; trying again in {delay:.1f} s",
                detail=event.detail,
                delay=delay,
            )
            effects.append(Report("error", said))
        else:
            self._write_backoff()

    def _genesys_throttled(self, retry_after: float | None, effects: list[Effect]) -> None:
        """A 429 from Genesys: wait it out (3 s without Retry-After, as Genesys's SDKs do) before any
        write or re-read of ours; one longer than ``max_honoured_retry_after`` pauses sync for that
        long, and says so once. (A call made meanwhile meets the client's own gate, which tells the
        time still to wait: that pause lasts no longer, so it is not said again.)"""
        if retry_after is not None and retry_after > self.timing.max_honoured_retry_after:
            paused = pause_for_genesys(self.memory, self.now + retry_after)
            if paused is not self.memory:
                self.memory = paused
                said = Said("Genesys asked us to wait {seconds:.0f} s: sync paused until then", seconds=retry_after)
                effects.append(Report("error", said))
        wait = retry_after or GENESYS_WAIT_WITHOUT_RETRY_AFTER
        delay = self._write_backoff(at_least=wait)
        self._genesys_quiet_until = max(self._genesys_quiet_until, self.now + wait)
        effects.append(Report("genesys", Said("Genesys is busy: trying again in {delay:.1f} s", delay=delay)))

    def _command(self, event: AgentCommand, effects: list[Effect]) -> None:
        if event.kind is AgentCommandKind.PAUSE:
            until = self.now + event.seconds if event.seconds else math.inf
            self.memory = pause(self.memory, until)
            effects.append(Report("decision", Said("sync paused by the agent")))
        elif event.kind is AgentCommandKind.RESUME:
            self.memory = resume(self.memory)
            effects.append(Report("decision", Said("sync resumed by the agent")))
            self._read_soon("resumed", self.now)
        else:
            self.memory = sync_now(self.memory)
            self._write_failures, self._write_not_before = 0, -math.inf
            self._read_soon("sync now", self.now)

    def _config_changed(self, config: SyncConfig, effects: list[Effect]) -> None:
        """New settings apply from the next Teams change: what Teams shows now counts as acted on (or
        pending confirmation) under the new mapping as it was under the old one, so saving the mapping
        never overwrites a status the agent chose by hand, and never writes by itself."""
        old, self.config = self.config, config
        memory = self.memory
        if self.teams is not None:
            was, now = old.mapping.signal_for(self.teams), config.mapping.signal_for(self.teams)
            if memory.acted_signal == was:
                memory = replace(memory, acted_signal=now)
            if memory.candidate is not None and memory.candidate.signal == was:
                memory = replace(memory, candidate=replace(memory.candidate, signal=now))
        self.memory = memory
        effects.append(Report("decision", Said("new sync settings saved: they apply from the next Teams change")))

    def _signed_out(self, service: Service) -> None:
        if service == Service.MICROSOFT:
            self.teams, self.teams_read_at, self._teams_ready = None, None, False
            self.writeback.microsoft_ready(False)
        else:
            self.genesys, self._verifying = None, None

    # --- after every event: decide, then act ---------------------------------------------------

    def _step(self, effects: list[Effect]) -> None:
        before = self.memory
        decision = decide(self._situation(), self.memory)
        self.memory = decision.memory
        self._record(decision, effects)
        self._genesys_unseen_for = 0.0  # only the step of that observation judges by it
        self._follow_phase(before, effects)
        self._verify_or_write(decision, effects)
        self._refresh_if_stale(effects)
        self._write_back(effects)
        self._read_if_due(effects)
        persisted = persisted_part(self.memory)
        if persisted != self._persisted or self.now - self._persisted_at > PERSIST_AGAIN_AFTER:
            self._persisted, self._persisted_at = persisted, self.now
            effects.append(Persist(self.memory))

    def _write_back(self, effects: list[Effect]) -> None:
        """The Genesys → Teams direction; once our session can no longer show, Teams is read again."""
        effects.extend(self.writeback.step(self.now, self.genesys))
        self.memory = replace(self.memory, teams_session=self.writeback.session)
        echo_ends = self.writeback.echo_ends_at()
        if self.teams_is_ours and echo_ends is not None and echo_ends > self.now and self._echo_read_at != echo_ends:
            self._echo_read_at = echo_ends
            self._plan(PlannedRead(echo_ends, "our Teams status has faded"))

    def _situation(self) -> Situation:
        return Situation(
            self.teams,
            self.teams_read_at,
            self.genesys,
            self.catalog,
            self.config,
            self.now,
            self._max_teams_age(),
            self.teams_requested_at,
            self._genesys_unseen_for,
            self._signal_backed(),
            self.teams_is_ours,
        )

    def _signal_backed(self) -> bool:
        """The latest reading was sent after a known local signal (within its window, or while the
        session stays locked): it needs no second reading."""
        requested = self.teams_requested_at
        if requested is None or self.teams_read_at is None:
            return False
        if self._locked_since is not None and requested >= self._locked_since:
            return True
        at = self._signal_at
        if at is None or requested < at:
            return False
        return self.teams_read_at <= max(at + self.timing.triggers.window, self._backed_until)

    def _record(self, decision: Decision, effects: list[Effect]) -> None:
        previous, self.decision = self.decision, decision
        if previous is None or (previous.status, previous.reason) != (decision.status, decision.reason):
            effects.append(
                Report(
                    "decision", Said("{status}: {reason}", status=STATUS_WORDS[decision.status], reason=decision.reason)
                )
            )

    def _follow_phase(self, before: SyncMemory, effects: list[Effect]) -> None:
        """Reads that follow from a change of phase or of what we must acknowledge."""
        after = self.memory
        if after.phase is Phase.HANDS_OFF and before.phase is not Phase.HANDS_OFF:
            # Baseline reads only, at a random point of the slow interval (no fleet-wide burst).
            self._poll = replace(self._poll, next_at=self.now + self.timing.poll.slow_interval * self._random())
        elif before.phase is Phase.HANDS_OFF and after.phase is not Phase.HANDS_OFF:
            # Spread over one interval: agents leave the queue together (all-hands, queue closing).
            self._poll = poll_soon(self._poll, self._policy(), self.now, self._random())
            self._read_why = "hands-off ended"
        if after.acknowledge_from is not None and before.acknowledge_from != after.acknowledge_from:
            self._read_soon("the Genesys status changed", self.now)
        candidate = after.candidate
        if candidate is not None and candidate != before.candidate:
            # Planned, not the timer's next read: a read in between (a signal's) must not move it.
            self._plan(PlannedRead(candidate.first_read_at + self.config.dwell_seconds, "confirming a Teams change"))
        if self._teams_too_old() and self._poll.next_at > self.now + self._policy().base_interval:
            self._read_soon("the Teams reading is too old", self.now)

    def _verify_or_write(self, decision: Decision, effects: list[Effect]) -> None:
        write, verified = decision.write, self._verified
        self._verified = False
        if self._verifying is not None and verified:
            checked, self._verifying = self._verifying, None
            if write is not None and write.presence_id == checked.presence_id:
                self._send(write, decision.reason, effects)
            return
        if write is None or self._busy_writing() or self.now < self._write_not_before:
            return
        self._verifying, self._refreshing, self._refreshed_at = write, True, self.now
        effects.append(RefreshGenesys(Source.VERIFY))

    def _send(self, write: Write, why: str, effects: list[Effect]) -> None:
        assert self.genesys is not None  # noqa: S101 - the rules decided on it
        user_id = self.memory.user_id
        if user_id is None:
            return
        self.memory = replace(self.memory, in_flight=InFlight(write, self.genesys.presence_id))
        self._writing = (write, why)
        effects.append(WriteGenesys(write, user_id))

    def _refresh_if_stale(self, effects: list[Effect]) -> None:
        """Not while a write is on its way: a read sent after it could overtake it, come back with
        what the agent chose meanwhile, and still be overwritten by it (and a test could not tell
        which read the write was checked against)."""
        if self._refreshing or self._busy_writing():
            return
        if self.now < max(self._next_refresh_at(), self._genesys_quiet_until):
            return
        self._refreshing, self._refreshed_at = True, self.now
        effects.append(RefreshGenesys(Source.STALE if self._socket_up else Source.POLL))

    def _next_refresh_at(self) -> float:
        """While the socket is down: every ``genesys_refresh_every``. While it is up: once the state
        has gone unconfirmed past the staleness (a quiet socket after sleep/resume), at that pace."""
        paced = self._refreshed_at + self.timing.genesys_refresh_every
        if self.genesys is None:  # nothing to keep fresh yet (the follower reads it as it connects)
            return math.inf
        if not self._socket_up:
            return paced
        return max(self.genesys.confirmed_at + self.config.max_genesys_staleness, paced)

    def _read_if_due(self, effects: list[Effect]) -> None:
        planned = self._planned[0] if self._planned_read_at() <= self.now else None
        timer_due = self._poll.next_at <= self.now
        if not self._reads_allowed() or not (timer_due or planned):
            return
        # Only the agent's own "sync now" reads outside working hours or with nobody at the desk; every
        # other read (the first one at start-up too) waits for the agent to be working.
        asked = timer_due and self._read_why == "sync now"
        if not asked and not self.timing.working_hours.contains(*self._local_time(self.now)):
            self._poll = replace(self._poll, next_at=self.now + self._interval())
            self._planned = ()
            return
        if self._bucket.available_at(self.now) > self.now:
            return  # over this agent's share of the tenant's budget: next_wake says when
        self._bucket = self._bucket.take(self.now)
        self._planned = tuple(read for read in self._planned if read.at > self.now)
        why = planned.why if planned is not None and not asked else self._read_why
        anyway = asked or (planned is not None and planned.even_if_away)
        self._reading = True
        effects.append(ReadTeams(why, unless_away=not anyway))

    # --- helpers -------------------------------------------------------------------------------

    def _reads_allowed(self) -> bool:
        m = self.memory
        return self._teams_ready and not self._reading and m.paused_until is None and m.tripped_until is None

    def _read_soon(self, why: str, at: float) -> None:
        at = max(at, self._poll.not_before)
        if at < self._poll.next_at:
            self._poll = replace(self._poll, next_at=at)
            self._read_why = why

    def _reschedule(self, outcome: Outcome, retry_after: float | None = None) -> float:
        """Schedules the next timer read after one that ended with ``outcome``; returns the wait."""
        slow = self.memory.phase is Phase.HANDS_OFF
        policy, u = self._policy(), self._random()
        self._poll = after_poll(self._poll, policy, self.now, outcome, u, retry_after=retry_after, slow=slow)
        self._read_why = "timer"
        return self._poll.next_at - self.now

    def _interval(self) -> float:
        policy = self._policy()
        return policy.slow_interval if self.memory.phase is Phase.HANDS_OFF else policy.base_interval

    def _policy(self) -> PollPolicy:
        """The timer's policy: once local signals are available, the timer is a slow safety net, and
        Graph's pressure stretches it by half at most: its share of the budget is already small (the
        bucket holds every read to it), and 8 × 300 s would leave a change unread for 40 minutes."""
        policy = self.timing.poll
        if not self._triggers_available:
            return policy
        return replace(
            policy,
            interval=max(policy.interval, timer_interval(self.timing.triggers)),
            max_pressure=min(policy.max_pressure, TIMER_MAX_PRESSURE_WITH_TRIGGERS),
        )

    def _max_teams_age(self) -> float:
        """Two of the current intervals (stretched under Graph pressure) plus the dwell: a reading
        older than that (the machine slept, reads were held back) is read again before acting."""
        policy = self._policy()
        return 2 * self._interval() * self._poll.pressure + self.config.dwell_seconds + policy.backoff_base

    def _teams_too_old(self) -> bool:
        read_at = self.teams_read_at
        return read_at is not None and self.now - read_at > self._max_teams_age()

    def _busy_writing(self) -> bool:
        return self._verifying is not None or self._writing is not None

    def _write_backoff(self, at_least: float = 0.0) -> float:
        """Holds the write path back after a failure; returns the wait (also told to the agent)."""
        self._write_failures += 1
        delay = backoff_delay(
            self._write_failures, self.timing.backoff_base, self.timing.backoff_cap, self._random(), at_least
        )
        self._write_not_before = self.now + delay
        return delay


def describe_genesys(catalog: PresenceCatalog, state: GenesysState) -> str:
    """The Genesys state for people: the presence by the org's labels (:class:`Named`), then routing and
    Out of Office where they matter."""
    presence = catalog.named(state.presence_id, state.system_presence)
    routing = state.routing_status not in ("OFF_QUEUE", "")
    if routing and state.out_of_office:
        return Said("{presence}, routing {routing}, Out of Office", presence=presence, routing=state.routing_status)
    if routing:
        return Said("{presence}, routing {routing}", presence=presence, routing=state.routing_status)
    if state.out_of_office:
        return Said("{presence}, Out of Office", presence=presence)
    return presence


def _backoff(timing: ProtocolTiming) -> dict[str, float]:
    return {"backoff_base": timing.backoff_base, "backoff_cap": timing.backoff_cap}


def _shown(state: GenesysState) -> tuple[str, str, bool]:
    return state.presence_id, state.routing_status, state.out_of_office


def _overtaken(state: GenesysState, previous: GenesysState, now: float) -> bool:
    """``state`` is older than what we hold (e.g. an event overtaken by the answer to our write)."""
    if not state.modified_at or not previous.modified_at:
        return False
    return state.modified_at < previous.modified_at


def _older_sequence(new: TeamsPresence, previous: TeamsPresence | None) -> bool:
    """Graph's ``sequenceNumber`` sorts lexicographically; only stamps of the same length compare."""
    if previous is None or not new.sequence or not previous.sequence:
        return False
    return len(new.sequence) == len(previous.sequence) and new.sequence < previous.sequence
