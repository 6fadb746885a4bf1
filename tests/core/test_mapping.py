"""The editable Teams → Genesys mapping (tray_agent/core/mapping.py)."""

from __future__ import annotations

import pytest

from tests.core.org import (
    AVAILABLE,
    AWAY,
    BUSY,
    CATALOG,
    LUNCH,
    MEETING,
    TEAMS_CALL,
    TRAINING,
    catalog_with_deactivated,
    catalog_without,
    teams,
)
from tray_agent.core.mapping import DEFAULT_MAPPING, DONT_SYNC, MappingError, PresenceMapping
from tray_agent.core.presence import GRAPH_ACTIVITY, GRAPH_AVAILABILITY, PresenceCatalog, PresenceDefinition

DEFAULT = PresenceMapping.build()


def target_for(
    mapping: PresenceMapping, availability: str, activity: str | None = None, catalog: PresenceCatalog = CATALOG
) -> PresenceDefinition | None:
    """What Genesys presence the mapping picks for a Teams state in this org (None: don't sync)."""
    return PresenceMapping.resolve(mapping.signal_for(teams(availability, activity)), catalog)


# --- the default table ------------------------------------------------------------------------------


def test_the_default_mapping_has_an_entry_for_every_documented_graph_value_but_the_out_of_office_note() -> None:
    # The OutOfOffice activity is a note on an Available/Busy user: the availability decides.
    assert set(GRAPH_AVAILABILITY) | set(GRAPH_ACTIVITY) - {"OutOfOffice"} <= set(DEFAULT_MAPPING)
    assert "OutOfOffice" not in DEFAULT_MAPPING


# Teams value → the Genesys presence the fixture org gets (None: "don't sync").
DEFAULT_TABLE = [
    ("Available", AVAILABLE),
    ("Away", AWAY),
    ("BeRightBack", AWAY),
    ("Busy", BUSY),
    ("DoNotDisturb", BUSY),
    ("InACall", BUSY),
    ("InAConferenceCall", BUSY),
    ("InAMeeting", MEETING),
    ("Presenting", BUSY),
    ("Focusing", BUSY),
    ("UrgentInterruptionsOnly", BUSY),
    ("AvailableIdle", None),
    ("BusyIdle", None),
    ("Inactive", None),
    ("Offline", None),
    ("OffWork", None),
    ("PresenceUnknown", None),
]


def test_the_default_table_below_covers_the_whole_default_mapping() -> None:
    assert {value for value, _ in DEFAULT_TABLE} == set(DEFAULT_MAPPING)


@pytest.mark.parametrize(("value", "expected"), DEFAULT_TABLE, ids=[value for value, _ in DEFAULT_TABLE])
def test_each_default_teams_value_maps_to_its_genesys_presence(value: str, expected: PresenceDefinition | None) -> None:
    assert target_for(DEFAULT, value, value) == expected


@pytest.mark.parametrize(
    ("availability", "activity", "expected"),
    [
        pytest.param("Available", "Available", AVAILABLE, id="Available"),
        pytest.param("Busy", "Busy", BUSY, id="Busy"),
        pytest.param("Busy", "InACall", BUSY, id="In a call"),
        pytest.param("Busy", "InAConferenceCall", BUSY, id="In a conference call"),
        pytest.param("Busy", "InAMeeting", MEETING, id="In a meeting"),
        pytest.param("DoNotDisturb", "DoNotDisturb", BUSY, id="Do not disturb"),
        pytest.param("DoNotDisturb", "Presenting", BUSY, id="Presenting"),
        pytest.param("Away", "Away", AWAY, id="Away"),
        pytest.param("BeRightBack", "BeRightBack", AWAY, id="Be right back"),
        pytest.param("Offline", "OffWork", None, id="Appear offline"),
        pytest.param("Offline", "Offline", None, id="Offline"),
        pytest.param("PresenceUnknown", "PresenceUnknown", None, id="Unknown"),
    ],
)
def test_the_teams_states_people_see_map_as_documented(
    availability: str, activity: str, expected: PresenceDefinition | None
) -> None:
    assert target_for(DEFAULT, availability, activity) == expected


@pytest.mark.parametrize(
    ("catalog", "expected"),
    [
        pytest.param(CATALOG, MEETING, id="org-has-Meeting"),
        pytest.param(catalog_with_deactivated("Meeting"), BUSY, id="Meeting-deactivated"),
        pytest.param(catalog_without("Meeting"), BUSY, id="Meeting-missing"),
    ],
)
def test_in_a_meeting_prefers_meeting_and_falls_back_to_busy(
    catalog: PresenceCatalog, expected: PresenceDefinition
) -> None:
    assert target_for(DEFAULT, "Busy", "InAMeeting", catalog) == expected


@pytest.mark.parametrize("value", ["Offline", "OffWork", "PresenceUnknown"])
def test_offline_off_work_and_unknown_are_dont_sync(value: str) -> None:
    assert DEFAULT.signal_for(teams(value)) == DONT_SYNC == ""


# --- which Teams value is looked up -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("availability", "activity", "expected"),
    [
        pytest.param("Busy", "inAMeeting", MEETING, id="camelCase activity"),
        pytest.param("busy", "inAMeeting", MEETING, id="camelCase both"),
        pytest.param("BUSY", "BUSY", BUSY, id="upper case"),
        pytest.param("available", "available", AVAILABLE, id="lower case"),
        pytest.param("DoNotDisturb", "Focusing", BUSY, id="Focusing"),
        pytest.param("Busy", "SomethingNew", BUSY, id="unknown activity falls back to the availability"),
        pytest.param("SomethingNew", "SomethingNew", None, id="unknown both: don't sync"),
        pytest.param("SomethingNew", "InACall", BUSY, id="known activity, unknown availability"),
    ],
)
def test_graph_values_are_matched_case_insensitively_and_unknown_ones_are_tolerated(
    availability: str, activity: str, expected: PresenceDefinition | None
) -> None:
    assert target_for(DEFAULT, availability, activity) == expected


def test_the_activity_is_more_specific_than_the_availability() -> None:
    mapping = PresenceMapping.build({"InACall": "Teams call"})
    assert target_for(mapping, "Busy", "InACall") == TEAMS_CALL
    assert target_for(mapping, "Busy", "Busy") == BUSY


def test_a_dont_sync_activity_is_not_overridden_by_its_availability() -> None:
    assert DEFAULT.signal_for(teams("Available", "Inactive")) == DONT_SYNC


# --- overrides --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "availability", "activity", "expected"),
    [
        pytest.param({"InACall": "Teams call"}, "Busy", "InACall", TEAMS_CALL, id="secondary by label"),
        pytest.param({"InACall": "teams CALL"}, "Busy", "InACall", TEAMS_CALL, id="secondary label any casing"),
        pytest.param({"inacall": "Teams call"}, "Busy", "InACall", TEAMS_CALL, id="override key any casing"),
        pytest.param({" InACall ": "Teams call"}, "Busy", "InACall", TEAMS_CALL, id="override key trimmed"),
        pytest.param({"InAMeeting": "Training"}, "Busy", "InAMeeting", TRAINING, id="another system presence"),
        pytest.param({"Away": "Lunch"}, "Away", "Away", LUNCH, id="secondary under Meal"),
        pytest.param({"Offline": "Away"}, "Offline", "OffWork", None, id="activity entry still decides"),
        pytest.param({"OffWork": "Away"}, "Offline", "OffWork", AWAY, id="syncing a don't-sync value"),
        pytest.param({"Busy": None}, "Busy", "Busy", None, id="None is don't sync"),
        pytest.param({"Busy": False}, "Busy", "Busy", None, id="False is don't sync"),
        pytest.param({"Busy": ""}, "Busy", "Busy", None, id="empty is don't sync"),
        pytest.param({"Busy": "   "}, "Busy", "Busy", None, id="blank is don't sync"),
        pytest.param({"Focusing2": "Away"}, "Busy", "Focusing2", AWAY, id="a value Graph may add later"),
    ],
)
def test_overrides_replace_default_entries(
    overrides: dict[str, object], availability: str, activity: str, expected: PresenceDefinition | None
) -> None:
    assert target_for(PresenceMapping.build(overrides), availability, activity) == expected


def test_overrides_leave_the_other_default_entries_alone() -> None:
    mapping = PresenceMapping.build({"InACall": "Teams call"})
    for value, expected in DEFAULT_TABLE:
        if value != "InACall":
            assert target_for(mapping, value, value) == expected, value


def test_without_the_base_only_the_overrides_are_synced() -> None:
    mapping = PresenceMapping.build({"Busy": "Busy"}, base=False)
    assert target_for(mapping, "Busy", "Busy") == BUSY
    assert target_for(mapping, "Busy", "InAMeeting") == BUSY  # the activity is unmapped: the availability decides
    assert target_for(mapping, "Available", "Available") is None


def test_the_built_mapping_stores_lower_cased_keys_and_tidied_targets() -> None:
    mapping = PresenceMapping.build({"InACall": " Teams call | Busy "})
    entries = dict(mapping.entries)
    assert entries["inacall"] == "Teams call|Busy"
    assert entries["inameeting"] == "Meeting|Busy"
    assert all(key == key.lower() for key in entries)
    assert PresenceMapping.build() == PresenceMapping.build(None) == PresenceMapping.build({})


# --- the | fallback syntax --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "catalog", "expected"),
    [
        pytest.param("Training|Meeting|Busy", CATALOG, TRAINING, id="first name the org has"),
        pytest.param("Training|Meeting|Busy", catalog_without("Training"), MEETING, id="skips a missing name"),
        pytest.param(
            "Training|Meeting|Busy", catalog_with_deactivated("Training", "Meeting"), BUSY, id="skips deactivated names"
        ),
        pytest.param("Nope|Busy", CATALOG, BUSY, id="skips an unknown name"),
        pytest.param("meeting|BUSY", CATALOG, MEETING, id="names in any casing"),
        pytest.param("Teams call|Busy", CATALOG, TEAMS_CALL, id="secondary first"),
        pytest.param("Teams call|Busy", catalog_without("Teams call"), BUSY, id="secondary missing"),
        pytest.param("Nope|AlsoNope", CATALOG, None, id="nothing the org has"),
        pytest.param("", CATALOG, None, id="don't sync resolves to nothing"),
    ],
)
def test_the_first_name_the_org_has_wins(
    target: str, catalog: PresenceCatalog, expected: PresenceDefinition | None
) -> None:
    mapping = PresenceMapping.build({"Busy": target})
    assert target_for(mapping, "Busy", "Busy", catalog) == expected


# --- bad entries ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "mentions"),
    [
        pytest.param({"Busy": 3}, "Busy", id="number target"),
        pytest.param({"Busy": True}, "Busy", id="True target"),
        pytest.param({"Busy": ["Busy", "Away"]}, "Busy", id="list target"),
        pytest.param({"Busy": {"name": "Busy"}}, "Busy", id="dict target"),
        pytest.param({"": "Busy"}, "", id="empty key"),
        pytest.param({"   ": "Busy"}, "", id="blank key"),
        pytest.param({3: "Busy"}, "3", id="non-string key"),
        pytest.param({"Busy": "Busy||Away"}, "Busy||Away", id="double bar"),
        pytest.param({"Busy": "|Busy"}, "|Busy", id="leading bar"),
        pytest.param({"Busy": "Busy|"}, "Busy|", id="trailing bar"),
        pytest.param({"Busy": "Busy| |Away"}, "Busy| |Away", id="blank name"),
        pytest.param({"Busy": "|"}, "|", id="only a bar"),
    ],
)
def test_a_bad_entry_is_refused_with_a_message_naming_it(overrides: dict[object, object], mentions: str) -> None:
    with pytest.raises(MappingError) as raised:
        PresenceMapping.build(overrides)  # type: ignore[arg-type]
    assert mentions in str(raised.value)


def test_a_mapping_error_is_a_value_error() -> None:
    assert issubclass(MappingError, ValueError)


@pytest.mark.parametrize(
    ("availability", "expected"),
    [("Available", AVAILABLE), ("Busy", BUSY), ("OutOfOffice", None)],
    ids=["Available, out of office", "Busy, out of office", "Out of office"],
)
def test_an_out_of_office_note_is_synced_by_the_availability(
    availability: str, expected: PresenceDefinition | None
) -> None:
    assert target_for(DEFAULT, availability, "OutOfOffice") == expected


@pytest.mark.parametrize("target", ["On Queue", "OnQueue", "ON_QUEUE", "Offline", "Busy|Offline"])
def test_on_queue_and_offline_cannot_be_sync_targets(target: str) -> None:
    with pytest.raises(MappingError, match="cannot be a sync target"):
        PresenceMapping.build({"InACall": target})
