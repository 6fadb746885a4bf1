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


# --- the presence's name in the agent's language (languageLabels) ----------------------------------


def labelled(*labels: tuple[str, str], label: str = "Teams call") -> PresenceDefinition:
    return PresenceDefinition("id-x", "BUSY", label, secondary=True, labels=labels)


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        pytest.param("de", "Teams-Anruf", id="the exact locale"),
        pytest.param("DE", "Teams-Anruf", id="in any casing"),
        pytest.param("de_DE", "Teams-Anruf", id="a region of a language the org labels without one"),
        pytest.param("de-AT", "Teams-Anruf", id="hyphenated"),
        pytest.param("fr", "Appel Teams", id="another language"),
        pytest.param("ja", "Teams call", id="a language the org has no label in: en_US"),
        pytest.param("en", "Teams call", id="English"),
        pytest.param("", "Teams call", id="no language: en_US"),
    ],
)
def test_a_presence_is_named_in_the_agents_language_when_the_org_labels_it_so(language: str, shown: str) -> None:
    assert TEAMS_CALL.label_in(language) == shown


def test_an_exact_locale_wins_over_another_region_of_the_same_language() -> None:
    brazil_and_portugal = labelled(("en_US", "Lunch"), ("pt_PT", "Almoço"), ("pt_BR", "Almoço BR"), label="Lunch")
    assert brazil_and_portugal.label_in("pt-BR") == "Almoço BR"
    assert brazil_and_portugal.label_in("pt_pt") == "Almoço"


def test_the_same_language_in_another_region_is_chosen_the_same_way_whatever_order_genesys_sent() -> None:
    one_way = labelled(("pt_PT", "Almoço PT"), ("pt_BR", "Almoço BR"))
    other_way = labelled(("pt_BR", "Almoço BR"), ("pt_PT", "Almoço PT"))
    assert one_way.label_in("pt") == other_way.label_in("pt") == "Almoço BR"  # by key: pt_BR before pt_PT
    assert one_way.label_in("pt_AO") == "Almoço BR"
    with_the_bare_language = labelled(("zh_TW", "通話"), ("zh", "通话 (zh)"), ("zh_CN", "通话"))
    assert with_the_bare_language.label_in("zh_SG") == "通话 (zh)"  # the bare language first


def test_without_a_label_in_the_language_the_en_us_label_then_the_label_is_shown() -> None:
    assert labelled(("en_US", "Teams call (US)"), ("de", "Teams-Anruf")).label_in("it") == "Teams call (US)"
    assert labelled(("EN-us", "Teams call (US)")).label_in("it") == "Teams call (US)"  # any casing of en_US
    assert labelled(("de", "Teams-Anruf")).label_in("it") == "Teams call"  # no en_US: the label
    assert labelled().label_in("de") == "Teams call"  # no languageLabels at all
    assert labelled(("de", "")).label_in("de") == "Teams call"  # an empty label is no label


def test_the_label_stays_the_en_us_name_mapping_targets_are_matched_by() -> None:
    assert TEAMS_CALL.label == "Teams call"
    assert CATALOG.by_name("Teams call") == TEAMS_CALL
    assert CATALOG.by_name("Teams-Anruf") is None  # the settings file names presences in en_US
    assert CATALOG.by_name("Besetzt") is None


def test_a_definition_describes_itself_in_the_agents_language() -> None:
    assert BUSY.describe("de") == "Besetzt"
    assert MEAL.describe("de") == "Meal"  # no German label: en_US
    assert TEAMS_CALL.describe("de") == "Teams-Anruf (Busy)"  # alone, it does not know Busy's labels
    assert TEAMS_CALL.describe() == "Teams call (Busy)"


@pytest.mark.parametrize(
    ("presence_id", "fallback", "described"),
    [
        pytest.param("id-busy", "", "Besetzt", id="a system presence with a German label"),
        pytest.param("id-meeting", "", "Besprechung", id="another"),
        pytest.param("id-break", "", "Break", id="a system presence without one: en_US"),
        pytest.param("id-teams-call", "", "Teams-Anruf (Besetzt)", id="a secondary one, with its system presence"),
        pytest.param("id-lunch", "", "Lunch (Meal)", id="a secondary one without German labels"),
        pytest.param("id-gone", "BUSY", "Besetzt", id="an unknown id: the org's label for the system presence"),
        pytest.param("id-gone", "ON_QUEUE", "On Queue", id="an unknown id, a system presence without a German label"),
        pytest.param("id-gone", "", "Unknown", id="nothing known"),
    ],
)
def test_the_catalog_names_a_presence_in_the_agents_language(presence_id: str, fallback: str, described: str) -> None:
    assert CATALOG.describe(presence_id, fallback, language="de") == described


def test_without_a_language_the_catalog_describes_in_english_as_before() -> None:
    assert CATALOG.describe("id-teams-call") == "Teams call (Busy)"
    assert CATALOG.describe("id-gone", "BUSY") == "Busy"
    assert CATALOG.describe("id-busy", language="en") == "Busy"


@pytest.mark.parametrize(
    ("presence_id", "fallback", "english", "german"),
    [
        pytest.param("id-meeting", "", "Meeting", "Besprechung", id="a system presence"),
        pytest.param("id-teams-call", "", "Teams call (Busy)", "Teams-Anruf (Besetzt)", id="a secondary one"),
        pytest.param("id-lunch", "", "Lunch (Meal)", "Lunch (Meal)", id="one without German labels"),
        pytest.param("id-gone", "BUSY", "Busy", "Besetzt", id="an unknown id, by its system presence"),
        pytest.param("id-gone", "", "Unknown", "Unknown", id="nothing known"),
    ],
)
def test_a_name_made_in_the_core_carries_the_presence_in_every_language_the_org_labels_it_in(
    presence_id: str, fallback: str, english: str, german: str
) -> None:
    """The core knows no agent language: its "Genesys set to …" is English text that the window can
    still say with the org's German label (tray_agent.i18n.say)."""
    named = CATALOG.named(presence_id, fallback)
    assert named == english and named.in_language("de_AT") == german
    assert named.in_language("ja") == english  # no label in the language: as the log has it
