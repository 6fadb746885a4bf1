"""The simulated Genesys Cloud organisation's presence definitions and the three casings of a system presence.

Genesys writes the same system presence three ways depending on the surface (see the reference, §3.3):

* the definitions API enum: ``"OnQueue"`` (``GET /api/v2/presence/definitions``),
* REST user presence and the legacy ``/presencedefinitions``: ``"On Queue"`` (display casing),
* notification events / trigger criteria: ``"ON_QUEUE"``.

Every other system presence is a single word, so only On Queue differs between the first two.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

DefinitionType = Literal["System", "User"]

#: The organisation's home division (all definitions live in it).
HOME_DIVISION_ID = "7a1c3e5f-0b2d-4f6a-8c9e-1d3f5a7b9c0e"

#: Enum casing (definitions API) → display casing (REST user presence, legacy definitions).
_DISPLAY = {"OnQueue": "On Queue"}


def display_casing(enum_value: str) -> str:
    """``"OnQueue"`` → ``"On Queue"``; other values are unchanged."""
    return _DISPLAY.get(enum_value, enum_value)


def event_casing(enum_value: str) -> str:
    """``"OnQueue"`` → ``"ON_QUEUE"``, ``"Available"`` → ``"AVAILABLE"`` (notification events)."""
    out = []
    for index, char in enumerate(enum_value):
        if char.isupper() and index > 0:
            out.append("_")
        out.append(char.upper())
    return "".join(out)


def normalise(value: str) -> str:
    """Casing-insensitive key: ``"On Queue"``, ``"ON_QUEUE"`` and ``"OnQueue"`` all → ``"ONQUEUE"``."""
    return value.replace(" ", "").replace("_", "").upper()


@dataclass(frozen=True)
class PresenceDefinition:
    id: str
    system_presence: str  # enum casing, e.g. "OnQueue"
    label: str  # en_US language label
    type: DefinitionType = "System"
    deactivated: bool = False
    translations: tuple[tuple[str, str], ...] = ()  # (locale key, label) besides en_US, e.g. ("de", "Besetzt")

    @property
    def language_labels(self) -> dict[str, str]:
        """``languageLabels`` as Genesys writes them: ``{"en_US": label, "de": …, "fr": …}``."""
        return {"en_US": self.label, **dict(self.translations)}

    @property
    def primary(self) -> bool:
        """The legacy API calls system definitions "primary" and secondary (User) ones not."""
        return self.type == "System"

    @property
    def display_system_presence(self) -> str:
        return display_casing(self.system_presence)

    @property
    def event_system_presence(self) -> str:
        return event_casing(self.system_presence)


# Ids of the system presences as observed in real orgs (reference §3.3). Genesys says ids are per org and
# must be resolved at runtime; the simulator uses the commonly observed ones so captured data looks familiar.
#
# languageLabels: the keys are the ones Genesys documents (the SDKs' localeCode values: "en_US", "de",
# "fr", … "pt_BR", "zh_CN"; see clients/genesys.py parse_language_labels). The German and French texts
# are the simulator's own: German "Verfügbar", "Besetzt" and "On Queue" (kept in English) are the words
# Genesys's German help uses; the others are invented. A real org's captured answer carries only en_US
# on its system presences, so a real agent may well see those in English (label_in falls back to en_US);
# the simulator labels them anyway, to show the agent's choice of language end to end.
AVAILABLE = PresenceDefinition(
    "6a3af858-942f-489d-9700-5f9bcdcdae9b",
    "Available",
    "Available",
    translations=(("de", "Verfügbar"), ("fr", "Disponible")),
)
AWAY = PresenceDefinition(
    "5e5c5c66-ea97-4e7f-ac41-6424784829f2", "Away", "Away", translations=(("de", "Abwesend"), ("fr", "Absent"))
)
BUSY = PresenceDefinition(
    "31fe3bac-dea6-44b7-bed7-47f91660a1a0", "Busy", "Busy", translations=(("de", "Besetzt"), ("fr", "Occupé"))
)
OFFLINE = PresenceDefinition(
    "ccf3c10a-aa2c-4845-8e8d-f59fa48c58e5", "Offline", "Offline", translations=(("de", "Offline"), ("fr", "Hors ligne"))
)
ON_QUEUE = PresenceDefinition(
    "e08eaf1b-ee47-4fa9-a231-1200e284798f",
    "OnQueue",
    "On Queue",
    translations=(("de", "On Queue"), ("fr", "En file d'attente")),
)
MEAL = PresenceDefinition(
    "3fd96123-badb-4f69-bc03-1b1ccc6d8014", "Meal", "Meal", translations=(("de", "Essen"), ("fr", "Repas"))
)
BREAK = PresenceDefinition(
    "227b37e2-f1d0-4dd0-8f50-badd7cf6d158", "Break", "Break", translations=(("de", "Pause"), ("fr", "Pause"))
)
IDLE = PresenceDefinition(
    "7ffa01cd-7866-4ad7-8faa-31e11b42f51f", "Idle", "Idle", translations=(("de", "Inaktiv"), ("fr", "Inactif"))
)
# Meeting / Training: ids taken from one captured org payload; the reference marks them unconfirmed.
MEETING = PresenceDefinition(
    "bbdff279-7ae1-48ea-bade-7831d7234c64",
    "Meeting",
    "Meeting",
    translations=(("de", "Besprechung"), ("fr", "Réunion")),
)
TRAINING = PresenceDefinition(
    "d2390a99-8546-bad9-8f0a-219548e8aeb0",
    "Training",
    "Training",
    translations=(("de", "Schulung"), ("fr", "Formation")),
)

# Secondary ("User") presences: invented ids and labels; every org defines its own.
TEAMS_CALL = PresenceDefinition(
    "4b8f1c2e-9a3d-4e6f-b1c7-2d5e8f0a3b6c",
    "Busy",
    "Teams call",
    "User",
    translations=(("de", "Teams-Anruf"), ("fr", "Appel Teams")),
)
LUNCH = PresenceDefinition(
    "8e2a4c6b-1f3d-4a5e-9c7b-0d2f4e6a8c1b",
    "Meal",
    "Lunch",
    "User",
    translations=(("de", "Mittagspause"), ("fr", "Déjeuner")),
)
# A deactivated secondary presence, so clients can be tested against stale mapping tables (en_US only).
RETIRED = PresenceDefinition(
    "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f", "Away", "Gone fishing (retired)", "User", deactivated=True
)

SYSTEM_DEFINITIONS: tuple[PresenceDefinition, ...] = (
    AVAILABLE,
    AWAY,
    BUSY,
    OFFLINE,
    IDLE,
    ON_QUEUE,
    MEAL,
    TRAINING,
    MEETING,
    BREAK,
)
DEFAULT_DEFINITIONS: tuple[PresenceDefinition, ...] = (*SYSTEM_DEFINITIONS, TEAMS_CALL, LUNCH, RETIRED)


class PresenceDefinitions(Mapping[str, PresenceDefinition]):
    """The organisation's presence definitions by id, and a lookup by system presence in any casing."""

    def __init__(self, definitions: Iterable[PresenceDefinition] = DEFAULT_DEFINITIONS) -> None:
        self._by_id = {d.id: d for d in definitions}
        self._primary_by_system = {normalise(d.system_presence): d for d in self._by_id.values() if d.primary}

    def __getitem__(self, definition_id: str) -> PresenceDefinition:
        return self._by_id[definition_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def resolve(self, value: str) -> PresenceDefinition:
        """A definition id, or a system presence in any casing ("On Queue", "ON_QUEUE", "OnQueue")."""
        found = self._by_id.get(value) or self._primary_by_system.get(normalise(value))
        if found is None:
            raise KeyError(f"unknown presence definition or system presence: {value!r}")
        return found
