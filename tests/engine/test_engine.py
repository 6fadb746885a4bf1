"""The engine's loop with fakes on virtual time: it performs the protocol's effects, feeds back the
results, keeps the memory file and publishes snapshots. Deterministic: a simulated hour runs in
milliseconds, the same way every time.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.engine.fakes import FakeAuth, FakeGenesys, FakeTeams, Unavailable
from tests.engine.virtual_time import LoopClock, run_virtual
from tray_agent.clients.errors import AuthenticationRequired, Throttled
from tray_agent.config.settings import Timing
from tray_agent.core.mapping import PresenceMapping
from tray_agent.core.presence import TeamsPresence
from tray_agent.core.rules import SyncConfig, SyncStatus
from tray_agent.core.service import Service
from tray_agent.core.triggers import SignalKind
from tray_agent.engine.engine import Engine
from tray_agent.engine.memory_store import FileMemory, MemoryStore
from tray_agent.engine.snapshot import Command, CommandKind, Link, Snapshot
from tray_agent.signals.source import Signal, SignalSource
from tray_agent.signals.workstation import AlwaysPresent

EPOCH = 1_800_000_000.0
TIMING = Timing(poll_interval=60.0)
MEETING = TeamsPresence("Busy", "InAMeeting")


@dataclass
class Rig:
    clock: LoopClock
    teams: FakeTeams
    genesys: FakeGenesys
    engine: Engine
    snapshots: list[Snapshot] = field(default_factory=list)

    async def until(self, condition: Callable[[], bool], *, within: float) -> float:
        """Virtual seconds until ``condition`` holds (checked after every step of the loop)."""
        start = self.clock.now()
        while not condition():
            if self.clock.now() - start > within:
                raise AssertionError(f"not within {within} s; last snapshot: {self.snapshots[-1:]}")
            await self.clock.sleep(0.05)  # the engine's clock: virtual time, the loop jumps to it
        return self.clock.now() - start

    async def wait(self, seconds: float) -> None:
        """Virtual seconds: the loop's clock jumps, nothing waits on the wall clock."""
        await self.clock.sleep(seconds)


def with_engine(
    test: Callable[[Rig], Awaitable[None]],
    *,
    memory: MemoryStore | None = None,
    sync: SyncConfig | None = None,
    epoch: float = EPOCH,
    teams_shows: TeamsPresence | None = None,
    genesys_shows: str = "Available",
    signals: Sequence[SignalSource] = (),
) -> None:
    async def main() -> None:
        clock = LoopClock(epoch)
        teams, genesys = FakeTeams(clock), FakeGenesys(clock, genesys_shows)
        teams.shows = teams_shows or teams.shows
        snapshots: list[Snapshot] = []

        async def browser(url: str) -> None:
            return None

        engine = Engine(
            teams=teams,
            genesys=genesys,
            microsoft_auth=FakeAuth("Microsoft"),
            genesys_auth=FakeAuth("Genesys Cloud"),
            clock=clock,
            timing=TIMING,
            sync=sync or SyncConfig(),
            ssl_context=None,
            on_snapshot=snapshots.append,
            rng=random.Random(7),
            workstation=AlwaysPresent(),
            browser=browser,
            memory=memory,
            connect=genesys.connect,
            signals=signals,
        )
        task = asyncio.create_task(engine.run())
        rig = Rig(clock, teams, genesys, engine, snapshots)
        try:
            await rig.until(
                lambda: engine.snapshot is not None and engine.snapshot.genesys_link is Link.CONNECTED, within=30
            )
            await test(rig)
        finally:
            engine.submit(Command(CommandKind.STOP))
            await asyncio.wait_for(task, 10)

    run_virtual(main())


def test_a_meeting_reaches_genesys_after_a_confirming_read_and_a_verify_read() -> None:
    async def story(rig: Rig) -> None:
        await rig.wait(100)
        rig.teams.shows = MEETING
        took = await rig.until(lambda: rig.genesys.shows == "Meeting", within=200)
        assert took <= 60 * 1.1 + 10 + 3
        assert [label for _, label in rig.genesys.writes] == ["Meeting"]
        snapshot = rig.engine.snapshot
        assert snapshot is not None and snapshot.set_by == "sync" and snapshot.status is SyncStatus.SYNCED

    with_engine(story)


def test_a_status_set_by_hand_is_seen_over_the_socket_and_kept() -> None:
    async def story(rig: Rig) -> None:
        await rig.wait(100)
        rig.teams.shows = MEETING
        await rig.until(lambda: rig.genesys.shows == "Meeting", within=200)
        rig.genesys.agent_sets("Break")
        await rig.until(
            lambda: rig.engine.snapshot is not None and rig.engine.snapshot.status is SyncStatus.MANUAL, within=30
        )
        rig.teams.shows = TeamsPresence("Available", "Available")
        await rig.wait(600)
        assert rig.genesys.shows == "Break" and len(rig.genesys.writes) == 1

    with_engine(story)


def test_teams_is_not_read_while_on_queue_except_slowly_for_a_baseline() -> None:
    async def story(rig: Rig) -> None:
        rig.genesys.goes_on_queue()
        await rig.until(
            lambda: rig.engine.snapshot is not None and rig.engine.snapshot.status is SyncStatus.ON_QUEUE, within=30
        )
        before = len(rig.teams.reads)
        await rig.wait(3600)
        assert len(rig.teams.reads) - before <= 3600 / (300 * 0.9) + 1
        assert rig.genesys.writes == []

    with_engine(story)


def test_a_failing_write_is_retried_with_backoff_and_the_error_shown() -> None:
    async def story(rig: Rig) -> None:
        rig.genesys.write_failures = [Unavailable(), Throttled("Genesys Cloud", 20.0)]
        rig.teams.shows = MEETING
        await rig.until(lambda: rig.genesys.shows == "Meeting", within=300)
        errors = {s.last_error for s in rig.snapshots}
        assert any("could not change the Genesys status" in error for error in errors)

    with_engine(story)


def test_a_heartbeat_keeps_the_genesys_state_confirmed_without_rest_reads() -> None:
    async def story(rig: Rig) -> None:
        for _ in range(10):
            await rig.wait(30)
            rig.genesys.heartbeat()
        snapshot = rig.engine.snapshot
        assert snapshot is not None and snapshot.genesys is not None
        assert rig.clock.now() - snapshot.genesys.confirmed_at < 31

    with_engine(story)


def test_the_memory_file_lets_a_new_engine_restore_after_the_meeting(tmp_path: Path) -> None:
    store = FileMemory(tmp_path / "sync-memory.json")

    async def first_run(rig: Rig) -> None:
        rig.genesys.agent_sets("Training")
        await rig.wait(100)
        rig.teams.shows = MEETING
        await rig.until(lambda: rig.genesys.shows == "Meeting", within=200)

    with_engine(first_run, memory=store)
    assert (tmp_path / "sync-memory.json").stat().st_mode & 0o077 == 0

    async def after_restart(rig: Rig) -> None:
        await rig.wait(120)
        rig.teams.shows = TeamsPresence("Available", "Available")
        await rig.until(lambda: rig.genesys.shows == "Training", within=300)

    # Ten minutes later, a new process; Genesys still shows our Meeting, Teams the meeting.
    with_engine(after_restart, memory=store, epoch=EPOCH + 600, teams_shows=MEETING, genesys_shows="Meeting")


def test_pause_stops_reads_and_resume_reads_at_once() -> None:
    async def story(rig: Rig) -> None:
        rig.engine.submit(Command(CommandKind.PAUSE))
        await rig.wait(1)
        before = len(rig.teams.reads)
        await rig.wait(900)
        assert len(rig.teams.reads) == before
        rig.engine.submit(Command(CommandKind.RESUME))
        await rig.until(lambda: len(rig.teams.reads) > before, within=5)

    with_engine(story)


def test_signing_out_and_in_as_someone_else_replaces_user_channel_and_memory(tmp_path: Path) -> None:
    store = FileMemory(tmp_path / "sync-memory.json")

    async def story(rig: Rig) -> None:
        rig.genesys.agent_sets("Training")
        await rig.wait(100)
        rig.teams.shows = MEETING
        await rig.until(lambda: rig.genesys.shows == "Meeting", within=200)
        rig.engine.submit(Command(CommandKind.SIGN_OUT, service=Service.GENESYS))
        await rig.wait(5)
        rig.genesys.another_person_signs_in("user-2", "Available")
        rig.engine.submit(Command(CommandKind.SIGN_IN, service=Service.GENESYS))
        await rig.until(lambda: rig.engine.protocol.user_id == "user-2", within=60)
        assert rig.genesys.subscribed[-1] == "v2.users.user-2.activity", "a fresh channel for the new user"
        assert rig.engine.protocol.memory.episode is None, "nothing of the previous user's episode is kept"
        await rig.until(lambda: '"user_id":"user-2"' in (tmp_path / "sync-memory.json").read_text(), within=60)
        rig.teams.shows = TeamsPresence("Busy", "InACall")
        await rig.until(lambda: rig.genesys.shows == "Busy", within=300)
        assert rig.genesys.written_for == ["user-1", "user-2"]

    with_engine(story, memory=store)


class FakeSignals:
    """A signal source the story drives: ``cannot`` says why it cannot work; ``breaks`` ends it badly."""

    name = "microphone"

    def __init__(self, cannot: str | None = None) -> None:
        self.cannot = cannot
        self.queue: asyncio.Queue[Signal | Exception] = asyncio.Queue()

    async def start(self) -> str | None:
        return self.cannot

    async def watch(self) -> AsyncIterator[Signal]:
        while True:
            item = await self.queue.get()
            if isinstance(item, Exception):
                raise item
            yield item


def test_a_signal_reads_teams_at_once_and_the_call_reaches_genesys_within_seconds() -> None:
    source = FakeSignals()

    async def story(rig: Rig) -> None:
        await rig.until(lambda: rig.engine.signal_sources == {"microphone"}, within=5)
        await rig.wait(100)
        rig.teams.shows = TeamsPresence("Busy", "InACall")
        source.queue.put_nowait(Signal(SignalKind.DEVICE_IN_USE))
        took = await rig.until(lambda: rig.genesys.shows == "Busy", within=60)
        assert took <= 10

    with_engine(story, signals=[source], epoch=EPOCH + 600)  # not at :00/:30 (no storm spread)


def test_with_a_signal_source_the_timer_reads_only_every_five_minutes() -> None:
    async def story(rig: Rig) -> None:
        await rig.wait(60)
        before = len(rig.teams.reads)
        await rig.wait(3000)
        assert len(rig.teams.reads) - before <= 3000 / (300 * 0.9) + 1

    with_engine(story, signals=[FakeSignals()])


def test_a_source_that_cannot_work_here_is_left_off_and_the_timer_keeps_its_pace() -> None:
    async def story(rig: Rig) -> None:
        await rig.wait(60)
        assert rig.engine.signal_sources == frozenset()
        before = len(rig.teams.reads)
        await rig.wait(600)
        assert len(rig.teams.reads) - before >= 600 / (60 * 1.1) - 1

    with_engine(story, signals=[FakeSignals(cannot="no PipeWire on this machine")])


def test_a_source_that_breaks_is_left_off_and_the_agent_goes_on() -> None:
    source = FakeSignals()

    async def story(rig: Rig) -> None:
        await rig.until(lambda: rig.engine.signal_sources == {"microphone"}, within=5)
        source.queue.put_nowait(RuntimeError("the audio service went away"))
        await rig.until(lambda: rig.engine.signal_sources == frozenset(), within=5)
        await rig.wait(100)
        rig.teams.shows = MEETING
        await rig.until(lambda: rig.genesys.shows == "Meeting", within=200)  # the timer (60 s again) saw it

    with_engine(story, signals=[source])


def test_a_401_on_a_genesys_re_read_asks_the_agent_to_sign_in_and_the_tray_keeps_saying_so() -> None:
    # Regression (found by the stress run): a 401 on a re-read set "offline" over "sign in needed".
    async def story(rig: Rig) -> None:
        rig.genesys.read_failures = [AuthenticationRequired("Genesys Cloud", "sign-in required", status=401)] * 50

        def link() -> Link | None:
            return rig.engine.snapshot.genesys_link if rig.engine.snapshot else None

        await rig.until(lambda: link() is Link.SIGN_IN_NEEDED, within=600)  # no heartbeats: a re-read comes
        await rig.wait(300)
        assert link() is Link.SIGN_IN_NEEDED

    with_engine(story)


def test_sync_settings_saved_in_the_window_apply_without_a_restart() -> None:
    async def story(rig: Rig) -> None:
        await rig.wait(100)
        snapshot = rig.engine.snapshot
        assert snapshot is not None and snapshot.sync == SyncConfig()
        assert snapshot.next_read_at is not None and snapshot.next_read_why == "timer"
        assert {d.label for d in snapshot.presences} >= {"Available", "Busy", "Meeting"}
        saved = SyncConfig(mapping=PresenceMapping.build({"InAMeeting": "Busy"}), dwell_seconds=0)
        rig.engine.submit(Command(CommandKind.APPLY_SYNC_SETTINGS, sync=saved))
        await rig.until(lambda: rig.engine.snapshot is not None and rig.engine.snapshot.sync == saved, within=5)
        rig.teams.shows = MEETING
        await rig.until(lambda: rig.genesys.shows == "Busy", within=200)
        assert [label for _, label in rig.genesys.writes] == ["Busy"]

    with_engine(story)
