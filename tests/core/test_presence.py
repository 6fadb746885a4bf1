"""What the two services say about the agent, normalised (tray_agent/core/presence.py)."""

from __future__ import annotations

import pytest

from tests.core.org import (
    AVAILABLE,
    BUSY,
    CATALOG,
    DEFINITIONS,
    LUNCH,
    MEAL,
    MEETING,
    ON_QUEUE,
    SYSTEM_DEFINITIONS,
    TEAMS_CALL,
    catalog_with_deactivated,
    genesys,
)
from tray_agent.core.presence import (
    GRAPH_ACTIVITY,
    GRAPH_AVAILABILITY,
    UNKNOWN,
    GenesysState,
    PresenceCatalog,
    PresenceDefinition,
    TeamsPresence,
    canonical_graph_value,
    display_system_presence,
    normalise_system_presence,
)

# --- Genesys systemPresence: three spellings, one value -------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("On Queue", id="REST user presence"),
        pytest.param("OnQueue", id="presence definitions"),
        pytest.param("ON_QUEUE", id="activity events"),
        pytest.param("on_queue", id="lower snake"),
        pytest.param("on queue", id="lower words"),
        pytest.param("  On Queue  ", id="padded"),
        pytest.param("On-Queue", id="hyphenated"),
    ],
)
def test_every_spelling_of_on_queue_normalises_to_ON_QUEUE(raw: str) -> None:
    assert normalise_system_presence(raw) == "ON_QUEUE"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Available", "AVAILABLE"),
        ("available", "AVAILABLE"),
        ("AVAILABLE", "AVAILABLE"),
        ("Meal", "MEAL"),
        ("Offline", "OFFLINE"),
        ("Idle", "IDLE"),
        ("OFF_QUEUE", "OFF_QUEUE"),
    ],
)
def test_single_word_system_presences_normalise_to_upper_case(raw: str, expected: str) -> None:
    assert normalise_system_presence(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "   ", 3, ["On Queue"]], ids=repr)
def test_a_missing_or_non_text_system_presence_normalises_to_empty(raw: object) -> None:
    assert normalise_system_presence(raw) == ""


@pytest.mark.parametrize(
    ("normalised", "shown"),
    [("ON_QUEUE", "On Queue"), ("AVAILABLE", "Available"), ("MEAL", "Meal"), ("", "Unknown")],
)
def test_a_normalised_system_presence_is_shown_to_people_in_words(normalised: str, shown: str) -> None:
    assert display_system_presence(normalised) == shown


# --- Graph presence values: matched case-insensitively, unknown ones kept ---------------------------


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        pytest.param("inAMeeting", "InAMeeting", id="camelCase from the newest docs"),
        pytest.param("BUSY", "Busy", id="upper"),
        pytest.param("donotdisturb", "DoNotDisturb", id="lower"),
        pytest.param("focusing", "Focusing", id="newer value, any case"),
        pytest.param("  Away  ", "Away", id="padded"),
        pytest.param("\tbeRightBack\n", "BeRightBack", id="whitespace and camelCase"),
        pytest.param("SomethingNew", "SomethingNew", id="unknown value kept"),
        pytest.param("  SomethingNew ", "SomethingNew", id="unknown value kept, trimmed"),
    ],
)
def test_graph_values_are_canonicalised_by_case_and_whitespace(raw: str, canonical: str) -> None:
    assert canonical_graph_value(raw) == canonical


@pytest.mark.parametrize("value", sorted(set(GRAPH_AVAILABILITY + GRAPH_ACTIVITY)))
def test_every_documented_graph_value_is_recognised_in_any_casing(value: str) -> None:
    for spelling in (value, value.lower(), value.upper(), value[0].lower() + value[1:]):
        assert canonical_graph_value(spelling) == value


@pytest.mark.parametrize("raw", [None, "", "   ", 0, 1.5, True, ["Busy"], {"availability": "Busy"}], ids=repr)
def test_a_missing_or_non_text_graph_value_is_presence_unknown(raw: object) -> None:
    assert canonical_graph_value(raw) == UNKNOWN == "PresenceUnknown"


@pytest.mark.parametrize(
    ("presence", "described"),
    [
        (TeamsPresence("Busy", "InAMeeting"), "Busy / InAMeeting"),
        (TeamsPresence("Busy", "Busy"), "Busy"),
        (TeamsPresence("Available", "PresenceUnknown"), "Available"),
    ],
)
def test_a_teams_presence_describes_itself_without_repeating_itself(presence: TeamsPresence, described: str) -> None:
    assert presence.describe() == described


# --- Genesys state: what counts as On Queue --------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "is_on_queue"),
    [
        pytest.param(genesys("On Queue", routing="IDLE"), True, id="On Queue, idle"),
        pytest.param(genesys("On Queue", routing="OFF_QUEUE"), True, id="presence On Queue before routing catches up"),
        pytest.param(genesys("Available", routing="INTERACTING"), True, id="routing interacting"),
        pytest.param(genesys("Available", routing="IDLE"), True, id="routing idle"),
        pytest.param(genesys("Busy", routing="NOT_RESPONDING"), True, id="routing not responding"),
        pytest.param(genesys("Busy", routing="COMMUNICATING"), True, id="routing communicating"),
        pytest.param(genesys("Available", routing="OFF_QUEUE"), False, id="off queue, Available"),
        pytest.param(genesys("Break", routing="OFF_QUEUE"), False, id="off queue, Break"),
    ],
)
def test_a_genesys_state_is_on_queue_when_presence_or_routing_says_so(state: GenesysState, is_on_queue: bool) -> None:
    assert state.on_queue is is_on_queue


# --- the presence catalog ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Available", AVAILABLE),
        ("available", AVAILABLE),
        ("AVAILABLE", AVAILABLE),
        ("  Busy ", BUSY),
        ("meeting", MEETING),
        ("On Queue", ON_QUEUE),
        ("on queue", ON_QUEUE),
        ("OnQueue", ON_QUEUE),
        ("ON_QUEUE", ON_QUEUE),
        ("on_queue", ON_QUEUE),
        pytest.param("onqueue", ON_QUEUE, id="onqueue-lower-case-of-OnQueue"),
        pytest.param("ONQUEUE", ON_QUEUE, id="ONQUEUE-upper-case-of-OnQueue"),
    ],
)
def test_the_catalog_finds_a_system_presence_by_name_in_any_casing(name: str, expected: PresenceDefinition) -> None:
    assert CATALOG.by_name(name) == expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Teams call", TEAMS_CALL),
        ("teams call", TEAMS_CALL),
        ("TEAMS CALL", TEAMS_CALL),
        (" Teams call ", TEAMS_CALL),
        ("Lunch", LUNCH),
        ("lunch", LUNCH),
    ],
)
def test_the_catalog_finds_a_secondary_presence_by_its_label(label: str, expected: PresenceDefinition) -> None:
    assert CATALOG.by_name(label) == expected


@pytest.mark.parametrize("name", ["Coffee", "", "   ", "Teams", "Busy Teams call"])
def test_the_catalog_finds_nothing_for_a_name_the_org_does_not_have(name: str) -> None:
    assert CATALOG.by_name(name) is None


def test_a_system_name_finds_the_system_presence_not_a_secondary_with_the_same_label() -> None:
    secondary_busy = PresenceDefinition("id-busy-2", "BUSY", "Busy", secondary=True)
    catalog = PresenceCatalog([secondary_busy, *SYSTEM_DEFINITIONS])
    assert catalog.by_name("Busy") == BUSY


def test_the_catalog_indexes_every_definition_by_id() -> None:
    assert len(CATALOG) == len(DEFINITIONS) == 12
    for d in DEFINITIONS:
        assert CATALOG.by_id(d.id) == d
    assert CATALOG.by_id("id-nope") is None
    assert set(CATALOG.definitions) == {d.id for d in DEFINITIONS}


@pytest.mark.parametrize("deactivated", ["Meeting", "Lunch", "Teams call", "Break"])
def test_a_deactivated_definition_is_as_good_as_absent(deactivated: str) -> None:
    catalog = catalog_with_deactivated(deactivated)
    gone = next(d for d in DEFINITIONS if d.label == deactivated)
    assert catalog.by_name(deactivated) is None
    assert catalog.by_id(gone.id) is None
    assert gone.id not in catalog.definitions
    assert len(catalog) == len(DEFINITIONS) - 1


def test_a_deactivated_system_presence_does_not_hide_an_active_secondary_of_the_same_name() -> None:
    secondary_meeting = PresenceDefinition("id-meeting-2", "BUSY", "Meeting", secondary=True)
    catalog = PresenceCatalog([*catalog_with_deactivated("Meeting").definitions.values(), secondary_meeting])
    assert catalog.by_name("Meeting") == secondary_meeting


@pytest.mark.parametrize(
    ("presence_id", "fallback", "described"),
    [
        ("id-break", "", "Break"),
        ("id-teams-call", "", "Teams call (Busy)"),
        ("id-lunch", "", "Lunch (Meal)"),
        ("id-gone", "ON_QUEUE", "On Queue"),
        ("id-gone", "", "Unknown"),
    ],
)
def test_the_catalog_describes_a_presence_for_people(presence_id: str, fallback: str, described: str) -> None:
    assert CATALOG.describe(presence_id, fallback) == described


def test_a_secondary_presence_is_described_with_its_system_presence() -> None:
    assert LUNCH.describe() == "Lunch (Meal)"
    assert MEAL.describe() == "Meal"
    assert PresenceDefinition("id-x", "ON_QUEUE", "").describe() == "On Queue"
