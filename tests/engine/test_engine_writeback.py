"""The engine and the Genesys → Teams direction, with fakes on virtual time: the conversation summary
reaches the protocol, our Teams session is set and cleared through the writer, and quitting or
signing out clears it first (with the Microsoft token still there)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tests.engine.fakes import FakeAuth, FakeGenesys, FakeTeams
from tests.engine.virtual_time import LoopClock, run_virtual
from tray_agent.config.settings import Timing
from tray_agent.core.interactions import InteractionSummary, Media, WritebackConfig
from tray_agent.core.rules import SyncConfig
from tray_agent.core.service import Service
from tray_agent.core.teams_writeback import SessionResult
from tray_agent.engine.engine import Engine
from tray_agent.engine.snapshot import Command, CommandKind, Link
from tray_agent.engine.teams_writer import SessionAnswer
from tray_agent.signals.workstation import AlwaysPresent

EPOCH = 1_800_000_000.0


@dataclass
class FakeWriter:
    """Graph's presence session as the writer sees it; ``answers`` are used first, in order."""

    clock: LoopClock
    auth: FakeAuth
    calls: list[tuple[float, str]] = field(default_factory=list)
    answers: list[SessionAnswer | Exception] = field(default_factory=list)
    prepared: int = 0
    shows: tuple[str, str] | None = None

    async def prepare(self) -> str | None:
        self.prepared += 1
        return None

    async def set(self, availability: str, activity: str, expiration: float, *, preferred: bool) -> SessionAnswer:
        return await self._call(f"set {availability}/{activity} for {expiration:g} s", (availability, activity))

    async def clear(self, *, preferred: bool) -> SessionAnswer:
        return await self._call("clear", None)

    async def _call(self, what: str, shows: tuple[str, str] | None) -> SessionAnswer:
        assert self.auth.signed_in, "a Teams write needs the Microsoft token"
        self.calls.append((self.clock.now(), what))
        await self.clock.sleep(0.2)  # Graph's round trip, on the engine's (virtual) clock
        if self.answers:
            answer = self.answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        self.shows = shows
        return SessionAnswer(SessionResult.OK)


@dataclass
class Rig:
    clock: LoopClock
    genesys: FakeGenesys
    writer: FakeWriter
    microsoft: FakeAuth
    engine: Engine

    async def until(self, condition: Callable[[], bool], *, within: float) -> float:
        start = self.clock.now()
        while not condition():
            if self.clock.now() - start > within:
                raise AssertionError(f"not within {within} s; calls: {self.writer.calls}")
            await self.clock.sleep(0.05)
        return self.clock.now() - start

    def call(self, *media: str) -> None:
        """Genesys: the agent's conversations now (routing follows, as Genesys does)."""
        self.genesys.summary = InteractionSummary.of(Media(m) for m in media)
        self.genesys.handles(*("call" if m == "voice" else m for m in media))


def with_engine(test: Callable[[Rig], Awaitable[None]], *, writeback: WritebackConfig, stop: bool = True) -> None:
    async def main() -> None:
        clock = LoopClock(EPOCH)
        genesys = FakeGenesys(clock)
        microsoft = FakeAuth("Microsoft")
        writer = FakeWriter(clock, microsoft)

        async def browser(url: str) -> None:
            return None

        engine = Engine(
            teams=FakeTeams(clock),
            genesys=genesys,
            microsoft_auth=microsoft,
            genesys_auth=FakeAuth("Genesys Cloud"),
            clock=clock,
            timing=Timing(poll_interval=60.0),
            sync=SyncConfig(),
            ssl_context=None,
            rng=random.Random(7),
            workstation=AlwaysPresent(),
            browser=browser,
            connect=genesys.connect,
            writeback=writeback,
            teams_writer=writer,
        )
        task = asyncio.create_task(engine.run())
        rig = Rig(clock, genesys, writer, microsoft, engine)
        try:
            await rig.until(
                lambda: engine.snapshot is not None and engine.snapshot.genesys_link is Link.CONNECTED, within=30
            )
            await test(rig)
        finally:
            if stop:
                engine.submit(Command(CommandKind.STOP))
            await asyncio.wait_for(task, 10)

    run_virtual(main())


ON = WritebackConfig(enabled=True)


def test_a_genesys_call_shows_in_teams_while_it_lasts_and_the_tray_says_so() -> None:
    async def story(rig: Rig) -> None:
        assert rig.writer.prepared == 1, "the permission is seen to at start, not in the middle of a call"
        rig.call("voice")
        await rig.until(lambda: rig.writer.shows == ("Busy", "InACall"), within=5)
        snapshot = rig.engine.snapshot
        assert snapshot is not None
        assert snapshot.teams_writeback == "Busy / InACall – set by sync (Genesys voice interaction)"
        rig.call()
        await rig.until(lambda: rig.writer.shows is None and len(rig.writer.calls) == 2, within=5)

    with_engine(story, writeback=ON)


def test_quitting_during_a_call_clears_teams_before_the_engine_stops() -> None:
    seen: list[list[tuple[float, str]]] = []

    async def story(rig: Rig) -> None:
        rig.call("voice")
        await rig.until(lambda: rig.writer.shows is not None, within=5)
        rig.engine.submit(Command(CommandKind.STOP))
        await rig.until(lambda: rig.writer.shows is None, within=6)
        seen.append(list(rig.writer.calls))

    with_engine(story, writeback=ON, stop=False)
    assert [what for _, what in seen[0]] == ["set Busy/InACall for 300 s", "clear"]


def test_signing_out_of_microsoft_during_a_call_clears_teams_with_the_token_still_there() -> None:
    async def story(rig: Rig) -> None:
        rig.call("voice")
        await rig.until(lambda: rig.writer.shows is not None, within=5)
        rig.engine.submit(Command(CommandKind.SIGN_OUT, service=Service.MICROSOFT))
        await rig.until(lambda: not rig.microsoft.signed_in, within=10)
        assert rig.writer.shows is None and rig.writer.calls[-1][1] == "clear"

    with_engine(story, writeback=ON)


def test_turning_it_off_during_a_call_clears_teams_and_on_again_shows_it() -> None:
    async def story(rig: Rig) -> None:
        rig.call("chat")
        await rig.until(lambda: rig.writer.shows is not None, within=5)
        rig.engine.submit(Command(CommandKind.SET_WRITEBACK, enabled=False))
        await rig.until(lambda: rig.writer.shows is None, within=5)
        rig.engine.submit(Command(CommandKind.SET_WRITEBACK, enabled=True))
        await rig.until(lambda: rig.writer.shows == ("Busy", "InACall"), within=5)
        assert rig.writer.prepared == 2

    with_engine(story, writeback=ON)


def test_a_writer_that_breaks_is_retried_with_backoff_and_the_engine_goes_on() -> None:
    async def story(rig: Rig) -> None:
        rig.writer.answers = [RuntimeError("bug"), SessionAnswer(SessionResult.THROTTLED, "429", 4.0)]
        rig.call("voice")
        await rig.until(lambda: rig.writer.shows is not None, within=60)
        (first, _), (second, _), (third, _) = rig.writer.calls
        assert second - first >= 1.0 and third - second >= 4.0

    with_engine(story, writeback=ON)


def test_with_the_feature_off_nothing_is_written_and_no_permission_is_asked() -> None:
    async def story(rig: Rig) -> None:
        rig.call("voice")
        await rig.clock.sleep(600)
        assert rig.writer.calls == [] and rig.writer.prepared == 0

    with_engine(story, writeback=WritebackConfig())
