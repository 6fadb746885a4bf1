"""A fake Teams and a fake Genesys on virtual time, around the real :class:`SyncProtocol`.

The world performs the protocol's effects the way the services would: a Teams read answers with
what Teams showed when it was sent, a Genesys read with what Genesys shows, a write changes Genesys
(and the socket tells of it) — each after ``latency`` seconds. Genesys sends a heartbeat every 30 s,
as the notifications socket does. Nothing here decides anything: every rule is the protocol's.

Stories read as what happens to the agent::

    world = World.synced(teams("Available"), "Available")
    world.teams_shows("Busy", "InAMeeting", at=100)
    world.run_until(200)
    assert world.written == ["Meeting"]
"""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field, replace

from tests.core.org import CATALOG, DEFINITIONS, definition, genesys, teams
from tray_agent.core.events import (
    AgentCommand,
    AgentCommandKind,
    Effect,
    Event,
    GenesysHeartbeat,
    GenesysIdentity,
    GenesysObserved,
    GenesysSocket,
    LocalSignal,
    Persist,
    ReadTeams,
    RefreshGenesys,
    Report,
    Source,
    TeamsRead,
    TeamsReadFailed,
    TeamsReadSkipped,
    Tick,
    WriteAccepted,
    WriteFailed,
    WriteFailure,
    WriteGenesys,
)
from tray_agent.core.memory import MemoryRefused, SyncMemory, Write, decode, encode
from tray_agent.core.polling import Outcome
from tray_agent.core.presence import OFF_QUEUE, GenesysState, PresenceCatalog, TeamsPresence
from tray_agent.core.protocol import ProtocolTiming, SyncProtocol
from tray_agent.core.rules import SyncConfig, SyncStatus
from tray_agent.core.triggers import SignalKind

USER = "user-1"
HEARTBEAT = 30.0


@dataclass(frozen=True)
class _Refresh:
    """A Genesys read the protocol asked for, answered when it is delivered."""

    source: Source


@dataclass(frozen=True)
class _Land:
    """A write arriving at Genesys."""

    write: Write


Delivery = Event | _Refresh | _Land


@dataclass(frozen=True)
class Written:
    at: float
    write: Write
    shown_before: str  # what Genesys showed when the write landed
    label: str
    state_before: GenesysState
    verified: tuple[float, GenesysState] | None  # the last verify read before it: when, and what it showed


@dataclass(frozen=True)
class Reading:
    at: float
    why: str
    teams: TeamsPresence | None


@dataclass
class World:
    config: SyncConfig = field(default_factory=SyncConfig)
    timing: ProtocolTiming = field(default_factory=ProtocolTiming)
    catalog: PresenceCatalog = CATALOG
    latency: float = 0.5
    seed: int = 0
    start: float = 0.0
    memory: SyncMemory | None = None
    teams_at_start: TeamsPresence = field(default_factory=lambda: teams("Available"))
    genesys_at_start: str = "Available"

    def __post_init__(self) -> None:
        self.now = self.start
        self.teams_now: TeamsPresence = self.teams_at_start
        self.genesys_now: GenesysState = genesys(self.genesys_at_start, at=self.start, catalog=self.catalog)
        self.writes: list[Written] = []
        self.readings: list[Reading] = []
        self.verify_reads: list[tuple[float, GenesysState]] = []
        self.reports: list[tuple[float, str, str]] = []
        self.stored: dict[str, object] | None = None
        self.graph_fails: list[Outcome] = []  # the next Teams reads fail like this, in order
        self.writes_fail: list[WriteFailure | tuple[WriteFailure, float]] = []  # (failure, Retry-After)
        self.write_latency: float | None = None  # a slow network for writes (None: ``latency``)
        self.refreshes: list[tuple[float, Source]] = []  # every Genesys read asked for: when, why
        self.sent_writes: list[float] = []  # when each write was sent
        self.locked = False  # nobody at the desk: a read that waits for the agent is skipped
        self.skipped: list[float] = []  # when a read was skipped for that
        self._queue: list[tuple[float, int, Delivery]] = []
        self._order = itertools.count()
        self._rng = random.Random(self.seed)
        self.protocol = self._new_protocol(self.memory)
        self._connect()

    # --- setting up ----------------------------------------------------------------------------

    @classmethod
    def synced(cls, teams_now: TeamsPresence, genesys_shows: str, *, at: float = 100.0, **options: object) -> World:
        """A running agent that has read Teams and acknowledged it, Genesys showing ``genesys_shows``."""
        world = cls(teams_at_start=teams_now, genesys_at_start=genesys_shows, **options)  # type: ignore[arg-type]
        world.run_until(at)
        assert not world.writes, f"the fixture start wrote: {world.story()}"
        return world

    def _new_protocol(self, memory: SyncMemory | None) -> SyncProtocol:
        return SyncProtocol(
            self.config,
            self.timing,
            random=self._rng.random,
            memory=memory,
            local_time=lambda _: (0, 12 * 60),
            now=self.now,
        )

    def _connect(self) -> None:
        """What the Genesys follower reports on connecting: who the user is, and users/me."""
        self.feed(GenesysIdentity(USER, self.catalog, self.now))
        self.feed(GenesysSocket(True, self.now))
        self.feed(GenesysObserved(self._genesys_read(), Source.REST, self.now))
        self._later(HEARTBEAT, GenesysHeartbeat(self.now + HEARTBEAT))

    # --- the loop ------------------------------------------------------------------------------

    def feed(self, event: Event) -> None:
        for effect in self.protocol.handle(event):
            self._perform(effect)

    def run_until(self, until: float) -> None:
        """Let time pass to ``until``: answers arrive, the protocol's timers fire."""
        for _ in range(100_000):
            wake = self.protocol.next_wake()
            due = self._queue[0][0] if self._queue else None
            nxt = min(t for t in (wake, due) if t is not None) if (wake or due) is not None else None
            if nxt is None or nxt > until:
                break
            self.now = max(self.now, nxt)
            if due is not None and due <= nxt:
                at, _, delivery = heapq.heappop(self._queue)
                if isinstance(delivery, GenesysHeartbeat):
                    self._later(HEARTBEAT, GenesysHeartbeat(at + HEARTBEAT))
                self._deliver(delivery)
            else:
                self.feed(Tick(self.now))
        else:
            raise AssertionError(f"the protocol never settles:\n{self.story()}")
        self.now = max(self.now, until)
        self.feed(Tick(self.now))

    def _later(self, delay: float, delivery: Delivery) -> None:
        heapq.heappush(self._queue, (self.now + delay, next(self._order), delivery))

    def _perform(self, effect: Effect) -> None:
        if isinstance(effect, ReadTeams) and effect.unless_away and self.locked:
            self.skipped.append(self.now)
            self._later(0.0, TeamsReadSkipped(self.now))
        elif isinstance(effect, ReadTeams):
            self.readings.append(Reading(self.now, effect.why, self.teams_now))
            if self.graph_fails:
                self._later(self.latency, TeamsReadFailed(self.graph_fails.pop(0), self.now + self.latency))
            else:
                self._later(self.latency, TeamsRead(self.teams_now, self.now + self.latency, self.now))
        elif isinstance(effect, RefreshGenesys):
            self.refreshes.append((self.now, effect.source))
            self._later(self.latency, _Refresh(effect.source))
        elif isinstance(effect, WriteGenesys):
            self.sent_writes.append(self.now)
            self._later(self.latency if self.write_latency is None else self.write_latency, _Land(effect.write))
        elif isinstance(effect, Persist):
            self.stored = encode(effect.memory, self.now)
        elif isinstance(effect, Report):
            self.reports.append((self.now, effect.kind, effect.text))

    def _genesys_read(self) -> GenesysState:
        return replace(self.genesys_now, confirmed_at=self.now)

    # --- services answering (delivered through the queue) ---------------------------------------

    def _deliver(self, delivery: Delivery) -> None:
        if isinstance(delivery, _Refresh):
            if delivery.source is Source.VERIFY:
                self.verify_reads.append((self.now, self._genesys_read()))
            self.feed(GenesysObserved(self._genesys_read(), delivery.source, self.now))
        elif isinstance(delivery, _Land):
            self._land(delivery.write)
        else:
            self.feed(delivery)

    def _land(self, write: Write) -> None:
        if self.writes_fail:
            failure = self.writes_fail.pop(0)
            kind, retry_after = failure if isinstance(failure, tuple) else (failure, None)
            self.feed(WriteFailed(write, kind, "refused by the test", self.now, retry_after))
            return
        written = self.catalog.by_id(write.presence_id)
        before = self.genesys_now
        system = written.system_presence if written else ""
        self.genesys_now = replace(
            self.genesys_now, presence_id=write.presence_id, system_presence=system, modified_at=self.now
        )
        verified = self.verify_reads[-1] if self.verify_reads else None
        label = self.label_of(write.presence_id)
        self.writes.append(Written(self.now, write, before.presence_id, label, before, verified))
        self.feed(WriteAccepted(write, write.presence_id, system, self.now, self.now))
        self._later(0.1, GenesysObserved(self.genesys_now, Source.SOCKET, self.now + 0.1))

    # --- the story vocabulary ------------------------------------------------------------------

    def teams_shows(self, availability: str | TeamsPresence, activity: str | None = None, *, at: float) -> None:
        self.run_until(at)
        self.teams_now = availability if isinstance(availability, TeamsPresence) else teams(availability, activity)

    def signal(self, kind: SignalKind, *, at: float, attendees: int | None = None) -> None:
        """A local signal source reports ``kind`` (the lock, the microphone, the calendar)."""
        self.run_until(at)
        if kind is SignalKind.SESSION_LOCKED:
            self.locked = True
        elif kind is SignalKind.SESSION_UNLOCKED:
            self.locked = False
        self.feed(LocalSignal(kind, self.now, attendees))

    def agent_sets(self, name: str, *, at: float) -> None:
        """The agent picks a status in Genesys by hand (which also takes them off queue)."""
        self.run_until(at)
        shown = definition(name, self.catalog)
        self._genesys_changes(
            replace(
                self.genesys_now, presence_id=shown.id, system_presence=shown.system_presence, routing_status=OFF_QUEUE
            )
        )

    def goes_on_queue(self, *, at: float, routing: str = "IDLE") -> None:
        self.run_until(at)
        shown = definition("On Queue", self.catalog)
        self._genesys_changes(
            replace(
                self.genesys_now, presence_id=shown.id, system_presence=shown.system_presence, routing_status=routing
            )
        )

    def goes_off_queue(self, *, at: float, lands_on: str = "Available") -> None:
        self.agent_sets(lands_on, at=at)

    def out_of_office(self, active: bool, *, at: float) -> None:
        self.run_until(at)
        self._genesys_changes(replace(self.genesys_now, out_of_office=active))

    def command(self, kind: AgentCommandKind, *, at: float, seconds: float | None = None) -> None:
        self.run_until(at)
        self.feed(AgentCommand(kind, self.now, seconds))

    def restart(self, *, at: float, downtime: float = 0.0) -> None:
        """The agent process ends at ``at`` and starts again ``downtime`` later, with its stored memory."""
        self.run_until(at)
        stored = self.stored
        self._queue = [item for item in self._queue if isinstance(item[2], GenesysHeartbeat)]
        self.now += downtime
        try:
            memory = decode(stored, self.now) if stored is not None else None
        except MemoryRefused:
            memory = None  # as the engine's memory file does: start clean
        self.protocol = self._new_protocol(memory)
        self._connect()

    def _showing(self, name: str, *, routing: str) -> GenesysState:
        shown = definition(name, self.catalog)
        return replace(
            self.genesys_now, presence_id=shown.id, system_presence=shown.system_presence, routing_status=routing
        )

    def _genesys_changes(self, state: GenesysState) -> None:
        self.genesys_now = replace(state, modified_at=self.now, confirmed_at=self.now)
        self._later(self.latency / 2, GenesysObserved(self.genesys_now, Source.SOCKET, self.now + self.latency / 2))

    # --- what a story can check ----------------------------------------------------------------

    @property
    def shows(self) -> str:
        return self.label_of(self.genesys_now.presence_id)

    @property
    def written(self) -> list[str]:
        return [w.label for w in self.writes]

    @property
    def status(self) -> SyncStatus:
        return self.protocol.status

    @property
    def next_read_at(self) -> float:
        at = self.protocol.next_teams_read_at
        assert at is not None, "no Teams read is planned"
        return at

    def readings_between(self, start: float, end: float) -> list[Reading]:
        return [r for r in self.readings if start <= r.at < end]

    def writes_since(self, at: float) -> list[Written]:
        return [w for w in self.writes if w.at >= at]

    def label_of(self, presence_id: str) -> str:
        known = self.catalog.by_id(presence_id) or next((d for d in DEFINITIONS if d.id == presence_id), None)
        return known.label if known else presence_id

    def story(self) -> str:
        lines = [f"t={at:g} {kind}: {text}" for at, kind, text in self.reports[-40:]]
        return "\n".join(lines)
