"""The follower and the conversation summary (the Genesys → Teams direction): off unless a hook is
given; then the summary is read after each connect and every event after it reaches the hook; a
topic Genesys refuses is logged once and the activity is followed without it."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence

import pytest

from tests.engine.fakes import FakeAuth, SummaryGenesys
from tests.engine.virtual_time import LoopClock, run_virtual
from tray_agent.clients.errors import ServiceError
from tray_agent.clients.genesys import ACTIVITY_TOPIC
from tray_agent.clients.genesys_conversations import CONVERSATION_SUMMARY_TOPIC
from tray_agent.config.settings import Timing
from tray_agent.core.events import GenesysObserved
from tray_agent.core.interactions import InteractionSummary, Media
from tray_agent.engine.genesys_follower import GenesysFollower
from tray_agent.engine.inbox import Inbox

EPOCH = 1_800_000_000.0


Seen = list[tuple[InteractionSummary, float]]
Body = Callable[[SummaryGenesys, GenesysFollower, Inbox, Seen], Awaitable[None]]


def following(
    body: Body,
    *,
    refuse: bool = False,
    hooked: bool = True,
    summary_failures: Sequence[Exception] = (),
    hook: Callable[[InteractionSummary, float], None] | None = None,
) -> None:
    """Runs ``body(genesys, follower, inbox, seen)`` on virtual time while the follower follows."""

    async def main() -> None:
        clock = LoopClock(EPOCH)
        genesys = SummaryGenesys(clock, refuse=refuse)
        genesys.summary_failures.extend(summary_failures)
        seen: Seen = []
        inbox: Inbox = asyncio.Queue()
        follower = GenesysFollower(
            genesys,
            FakeAuth("genesys"),
            clock,
            Timing(),
            inbox,
            None,
            lambda: None,
            random.Random(1),
            genesys.connect,
            on_interactions=(hook or (lambda summary, now: seen.append((summary, now)))) if hooked else None,
        )
        task = asyncio.ensure_future(follower.run())
        await settle()
        try:
            await body(genesys, follower, inbox, seen)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    run_virtual(main())


async def settle(seconds: float = 1.0) -> None:
    await asyncio.sleep(seconds)


def drain(inbox: Inbox) -> list[object]:
    items: list[object] = []
    while not inbox.empty():
        items.append(inbox.get_nowait())
    return items


def topics(genesys: SummaryGenesys, *, summary: bool) -> list[str]:
    me = genesys.user_id
    return [ACTIVITY_TOPIC.format(user_id=me), *([CONVERSATION_SUMMARY_TOPIC.format(user_id=me)] if summary else [])]


def test_without_the_hook_nothing_changes_the_activity_topic_alone() -> None:
    async def body(genesys: SummaryGenesys, follower: GenesysFollower, inbox: Inbox, seen: Seen) -> None:
        assert genesys.subscriptions == [topics(genesys, summary=False)]
        assert genesys.summary_reads == 0 and not follower.follows_interactions
        genesys.handles("call")
        await settle()
        assert seen == []

    following(body, hooked=False)


def test_with_the_hook_the_summary_is_read_after_connecting_and_each_event_reaches_it() -> None:
    async def body(genesys: SummaryGenesys, follower: GenesysFollower, inbox: Inbox, seen: Seen) -> None:
        assert genesys.subscriptions == [topics(genesys, summary=True)]
        assert genesys.summary_reads == 1 and [s for s, _ in seen] == [InteractionSummary()]  # read after connecting
        genesys.handles("call", "email")
        await settle()
        genesys.handles()
        await settle()
        assert [summary for summary, _ in seen] == [
            InteractionSummary(),
            InteractionSummary.of([Media.VOICE, Media.EMAIL]),
            InteractionSummary(),
        ]
        assert all(now >= EPOCH for _, now in seen)  # the engine's clock
        genesys.agent_sets("Busy")  # the activity is followed as before
        await settle()
        observed = [item for item in drain(inbox) if isinstance(item, GenesysObserved)]
        assert observed and observed[-1].state.system_presence == "BUSY"

    following(body)


def test_a_refused_summary_topic_is_logged_once_and_the_activity_is_followed_without_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def body(genesys: SummaryGenesys, follower: GenesysFollower, inbox: Inbox, seen: Seen) -> None:
        assert not follower.follows_interactions and genesys.summary_reads == 0
        genesys.handles("call")  # even if Genesys sent one, the topic is not followed
        await settle()
        assert seen == []
        for socket in list(genesys.sockets):  # the channel expires: the refused topic is not asked for again
            socket.put_nowait('{"result": "404"}')
        await settle(10)
        assert genesys.subscriptions == [topics(genesys, summary=True), topics(genesys, summary=False)]
        genesys.agent_sets("Busy")
        await settle()
        assert any(isinstance(item, GenesysObserved) for item in drain(inbox))

    caplog.set_level(logging.WARNING, logger="tray_agent.engine.genesys_follower")
    following(body, refuse=True)
    refusals = [record.getMessage() for record in caplog.records if "conversation summary topic" in record.getMessage()]
    assert len(refusals) == 1 and "Not authorized" in refusals[0]


def test_a_summary_read_that_fails_leaves_the_socket_up_and_the_next_event_brings_it() -> None:
    async def body(genesys: SummaryGenesys, follower: GenesysFollower, inbox: Inbox, seen: Seen) -> None:
        assert seen == [] and follower.connected and follower.connections == 1
        genesys.handles("chat")
        await settle()
        assert [summary for summary, _ in seen] == [InteractionSummary.of([Media.CHAT])]

    following(body, summary_failures=[ServiceError("Genesys Cloud", "service error", status=503)])


def test_a_hook_that_raises_does_not_end_following() -> None:
    calls: list[InteractionSummary] = []

    def hook(summary: InteractionSummary, now: float) -> None:
        calls.append(summary)
        raise RuntimeError("a bug in the engine's hook")

    async def body(genesys: SummaryGenesys, follower: GenesysFollower, inbox: Inbox, seen: Seen) -> None:
        genesys.handles("video")
        await settle()
        assert follower.connections == 1 and follower.connected

    following(body, hook=hook)
    assert calls == [InteractionSummary(), InteractionSummary.of([Media.VIDEO])]
