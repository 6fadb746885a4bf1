"""The real sources in the engine, with fake readers on virtual time: a call seen on the microphone
reaches Genesys within seconds, and so does a calendar meeting as it starts and ends; a source whose
reader stops answering is left off."""

from __future__ import annotations

from collections.abc import Sequence

from tests.engine.test_engine import EPOCH, Rig, with_engine
from tests.engine.virtual_time import LoopClock
from tests.signals.fakes import TimelineReader
from tray_agent.clients.graph_calendar import Meeting
from tray_agent.core.presence import TeamsPresence
from tray_agent.core.triggers import SignalKind
from tray_agent.signals.calendar import CalendarSource
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


class OneMeeting:
    """A calendar with one meeting, 20 minutes after the engine starts, for 30 minutes."""

    def __init__(self, epoch: float) -> None:
        self.meeting = Meeting(epoch + 1200, epoch + 1200 + 1800, attendees=12)  # the virtual loop starts at 0

    async def meetings_between(self, start: float, end: float) -> tuple[Meeting, ...]:
        return (self.meeting,)


class Consented:
    signed_in = True
    account_id = "6e7b768e-07e2-4810-8459-485f84f8f204"

    async def token_for(self, scopes: Sequence[str], *, force_refresh: bool = False) -> str:
        return "calendar-token"


def test_a_calendar_meeting_reaches_genesys_as_it_starts_and_the_agents_status_comes_back_as_it_ends() -> None:
    epoch = EPOCH + 600
    calendar = OneMeeting(epoch)
    source = CalendarSource(enabled=True, auth=Consented(), calendar=calendar, clock=LoopClock(epoch))

    async def story(rig: Rig) -> None:
        await rig.until(lambda: rig.engine.signal_sources == {"calendar"}, within=5)
        await rig.wait(calendar.meeting.start - rig.clock.now())
        rig.teams.shows = TeamsPresence("Busy", "InAMeeting")  # Teams shows the meeting at its start
        took = await rig.until(lambda: rig.genesys.shows == "Meeting", within=120)
        assert took <= 10  # the signal's prompt read and follow-up, not the 5-minute timer
        await rig.wait(calendar.meeting.end - rig.clock.now())
        rig.teams.shows = TeamsPresence("Available", "Available")
        took = await rig.until(lambda: rig.genesys.shows == "Available", within=120)
        assert took <= 10

    with_engine(story, signals=[source], epoch=epoch)
