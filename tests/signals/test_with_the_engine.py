"""The real sources in the engine, with fake readers on virtual time: a call seen on the microphone
reaches Genesys within seconds; a source whose reader stops answering is left off."""

from __future__ import annotations

from tests.engine.test_engine import EPOCH, Rig, with_engine
from tests.signals.fakes import TimelineReader
from tray_agent.core.presence import TeamsPresence
from tray_agent.core.triggers import SignalKind
from tray_agent.signals.polled_source import PolledSource, ReadFailed


def microphone(reader: TimelineReader) -> PolledSource:
    return PolledSource(
        "microphone or camera", reader, became_true=SignalKind.DEVICE_IN_USE, became_false=SignalKind.DEVICE_RELEASED
    )


def test_teams_taking_the_microphone_reaches_genesys_within_seconds() -> None:
    reader = TimelineReader((0, False))

    async def story(rig: Rig) -> None:
        await rig.until(lambda: rig.engine.signal_sources == {"microphone or camera"}, within=5)
        await rig.wait(100)
        rig.teams.shows = TeamsPresence("Busy", "InACall")
        reader.from_now(True)
        took = await rig.until(lambda: rig.genesys.shows == "Busy", within=60)
        assert took <= 2 + 10  # one poll, then the prompt read

    with_engine(story, signals=[microphone(reader)], epoch=EPOCH + 600)  # not at :00/:30 (no storm spread)


def test_a_source_whose_reader_stops_answering_is_left_off() -> None:
    reader = TimelineReader((0, False))

    async def story(rig: Rig) -> None:
        await rig.until(lambda: rig.engine.signal_sources == {"microphone or camera"}, within=5)
        reader.from_now(ReadFailed("pw-dump exited with status 1"))
        await rig.until(lambda: rig.engine.signal_sources == frozenset(), within=30)

    with_engine(story, signals=[microphone(reader)])
