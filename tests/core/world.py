"""A fake Teams and a fake Genesys on virtual time, around the real :class:`SyncProtocol`.

The world performs the protocol's effects the way the services would: a Teams read answers with
what Teams showed when it was sent, a Genesys read with what Genesys shows, a write changes Genesys
(and the socket tells of it) — each after ``latency`` seconds. Genesys sends a heartbeat every 30 s,
as the notifications socket does. Nothing here decides anything: every rule is the protocol's.

With ``writeback`` (the Genesys → Teams direction), Graph holds our presence session too: a set or a
clear lands after ``latency``, Graph's readings show it ``graph_lag`` later, and a reading is the
aggregation of the Teams client's own state and our session (a status the agent chose by hand in
Teams, ``teams_chooses``, beats both; among the rest DoNotDisturb > Busy > Available > Away, the
client's own on a tie). Genesys interactions (``interaction``) move the routing status as Genesys
does and the conversation summary follows.

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
    GenesysInteractions,
    GenesysObserved,
    GenesysSocket,
    Leaving,
    LocalSignal,
    Persist,
    ReadTeams,
    RefreshGenesys,
    Report,
    Source,
    SyncConfigChanged,
    TeamsRead,
    TeamsReadFailed,
    TeamsReadSkipped,
    TeamsSessionAnswered,
    Tick,
    WriteAccepted,
    WriteFailed,
    WriteFailure,
    WriteGenesys,
)
from tray_agent.core.interactions import InteractionSummary, Media, TeamsPair, WritebackConfig
from tray_agent.core.memory import MemoryRefused, SyncMemory, Write, decode, encode
from tray_agent.core.polling import Outcome
from tray_agent.core.presence import OFF_QUEUE, GenesysState, PresenceCatalog, TeamsPresence
from tray_agent.core.protocol import ProtocolTiming, SyncProtocol
from tray_agent.core.rules import SyncConfig, SyncStatus
from tray_agent.core.teams_writeback import ClearTeamsSession, SessionCall, SessionResult, SetTeamsSession
from tray_agent.core.triggers import SignalKind

USER = "user-1"
HEARTBEAT = 30.0
_RANK = {"DoNotDisturb": 4, "Busy": 3, "Available": 2, "Away": 1}  # Graph's aggregation among sessions


@dataclass(frozen=True)
class _Refresh:
    """A Genesys read the protocol asked for, answered when it is delivered."""

    source: Source


@dataclass(frozen=True)
class _Land:
    """A write arriving at Genesys."""

    write: Write


@dataclass(frozen=True)
class Written:
    at: float
    write: Write
    shown_before: str  # what Genesys showed when the write landed
    label: str
    state_before: GenesysState
    verified: tuple[float, GenesysState] | None  # the last verify read before it: when, and what it showed


@dataclass(frozen=True)
class _SessionLands:
    """Our set or clear arriving at Graph."""

    effect: SetTeamsSession | ClearTeamsSession


Delivery = Event | _Refresh | _Land | _SessionLands


@dataclass(frozen=True)
class SessionState:
    """What Graph holds of our session from ``at`` on (None: no session)."""

    at: float
    pair: TeamsPair | None
    expires_at: float = float("inf")


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
    writeback: WritebackConfig | None = None
    graph_lag: float = 3.0  # Graph's readings show our session's changes this much later

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
        self.session_history: list[SessionState] = [SessionState(-1e18, None)]  # Graph's view of our session
        self.session_calls: list[tuple[float, SetTeamsSession | ClearTeamsSession]] = []  # sent: when, what
        self.session_fails: list[tuple[SessionResult, float | None]] = []  # the next calls fail so (Retry-After)
        self.teams_by_hand: TeamsPair | None = None  # chosen by hand in Teams: beats every app session
        self.active_media: set[Media] = set()
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
            writeback=self.writeback,
        )

    def _connect(self) -> None:
        """What the Genesys follower reports on connecting: who the user is, and users/me."""
        self.feed(GenesysIdentity(USER, self.catalog, self.now))
        self.feed(GenesysSocket(True, self.now))
        self.feed(GenesysObserved(self._genesys_read(), Source.REST, self.now))
        if self.writeback is not None:
            self.feed(GenesysInteractions(InteractionSummary.of(self.active_media), self.now))
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
            seen = self.graph_shows()
            self.readings.append(Reading(self.now, effect.why, seen))
            if self.graph_fails:
                self._later(self.latency, TeamsReadFailed(self.graph_fails.pop(0), self.now + self.latency))
            else:
                self._later(self.latency, TeamsRead(seen, self.now + self.latency, self.now))
        elif isinstance(effect, SetTeamsSession | ClearTeamsSession):
            self.session_calls.append((self.now, effect))
            self._later(self.latency, _SessionLands(effect))
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
        elif isinstance(delivery, _SessionLands):
            self._session_lands(delivery.effect)
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

    def _session_lands(self, effect: SetTeamsSession | ClearTeamsSession) -> None:
        call = SessionCall.SET if isinstance(effect, SetTeamsSession) else SessionCall.CLEAR
        if self.session_fails:
            result, retry_after = self.session_fails.pop(0)
            self.feed(TeamsSessionAnswered(call, result, self.now, "refused by the test", retry_after))
            return
        if isinstance(effect, SetTeamsSession):
            pair = (effect.availability, effect.activity)
            self.session_history.append(SessionState(self.now, pair, self.now + effect.expiration))
            self.feed(TeamsSessionAnswered(call, SessionResult.OK, self.now))
            return
        existed = self.session_at(self.now) is not None
        self.session_history.append(SessionState(self.now, None))
        self.feed(TeamsSessionAnswered(call, SessionResult.OK if existed else SessionResult.GONE, self.now))

    def session_at(self, at: float) -> TeamsPair | None:
        """Our session as Graph holds it at ``at`` (an expired one is gone)."""
        state = [s for s in self.session_history if s.at <= at][-1]
        return state.pair if at < state.expires_at else None

    def graph_shows(self) -> TeamsPresence:
        """What a Teams read sent now answers: the aggregation, our session ``graph_lag`` late."""
        if self.teams_by_hand is not None:
            return teams(*self.teams_by_hand)
        ours = self.session_at(self.now - self.graph_lag)
        client = self.teams_now
        if ours is not None and _RANK.get(ours[0], 0) > _RANK.get(client.availability, 0):
            return teams(*ours)
        return client

    # --- the story vocabulary ------------------------------------------------------------------

    def interaction(self, media: str, *, at: float, ended: bool = False) -> None:
        """A Genesys conversation in ``media`` connects (or ends): routing and the summary follow."""
        self.run_until(at)
        kind = Media(media)
        if ended:
            self.active_media.discard(kind)
        else:
            self.active_media.add(kind)
        if self.genesys_now.routing_status != OFF_QUEUE:
            routing = "INTERACTING" if self.active_media else "IDLE"
            self._genesys_changes(replace(self.genesys_now, routing_status=routing))
        summary = InteractionSummary.of(self.active_media)
        self._later(self.latency / 2, GenesysInteractions(summary, self.now + self.latency / 2))

    def teams_chooses(self, pair: TeamsPair | None, *, at: float) -> None:
        """The agent picks a status by hand in Teams (None: "reset status")."""
        self.run_until(at)
        self.teams_by_hand = pair

    def leaves(self, *, at: float) -> None:
        """The agent quits or signs out: the engine feeds Leaving first."""
        self.run_until(at)
        self.feed(Leaving(self.now))

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

    def saves_settings(self, config: SyncConfig, *, at: float) -> None:
        """The agent saves new sync settings in the window (they are kept for a restart too)."""
        self.run_until(at)
        self.config = config
        self.feed(SyncConfigChanged(config, self.now))

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
