"""The snapshot names the Genesys presence in the agent's language (``i18n.current_language()``) when the
org labels it so, and in en_US when it does not; what the engine writes and matches stays the same."""

from __future__ import annotations

from tests.engine.test_engine import MEETING, Rig, with_engine
from tray_agent import i18n


def label(rig: Rig) -> str:
    snapshot = rig.engine.snapshot
    assert snapshot is not None
    return snapshot.genesys_label


def test_in_german_the_snapshot_names_the_presence_by_the_orgs_german_label() -> None:
    async def story(rig: Rig) -> None:
        i18n.set_language("de")  # tests/conftest.py goes back to English after the test
        await rig.wait(100)
        rig.teams.shows = MEETING
        await rig.until(lambda: label(rig) == "Besprechung", within=200)
        assert [written for _, written in rig.genesys.writes] == ["Meeting"]  # matched by its en_US name
        rig.genesys.agent_sets("Busy")
        await rig.until(lambda: label(rig) == "Besetzt", within=30)
        rig.genesys.agent_sets("Teams call")
        await rig.until(lambda: label(rig) == "Teams-Anruf (Besetzt)", within=30)
        rig.genesys.agent_sets("Break")  # the org has no German label for Break: en_US
        await rig.until(lambda: label(rig) == "Break", within=30)

    with_engine(story)


def test_in_english_the_snapshot_names_the_presence_as_before() -> None:
    async def story(rig: Rig) -> None:
        rig.genesys.agent_sets("Teams call")
        await rig.until(lambda: label(rig) == "Teams call (Busy)", within=30)

    with_engine(story)
