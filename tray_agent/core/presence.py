"""What the two services say about the agent, normalised into small immutable values.

Graph returns PascalCase values today but its newest generated docs list camelCase (and new values
such as ``Focusing`` appear over time), so values are matched case-insensitively and unknown values
are kept as they are. Genesys writes ``systemPresence`` three ways (REST ``"On Queue"``, definitions
``"OnQueue"``, activity events ``"ON_QUEUE"``); everything is normalised to UPPER_SNAKE.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tray_agent.core.said import Named, locale_key, pick_in_language

GRAPH_AVAILABILITY = (
    "Available",
    "AvailableIdle",
    "Away",
    "BeRightBack",
    "Busy",
    "BusyIdle",
    "DoNotDisturb",
    "Offline",
    "PresenceUnknown",
)
GRAPH_ACTIVITY = (
    "Available",
    "Away",
    "BeRightBack",
    "Busy",
    "DoNotDisturb",
    "InACall",
    "InAConferenceCall",
    "Inactive",
    "InAMeeting",
    "Offline",
    "OffWork",
    "OutOfOffice",
    "PresenceUnknown",
    "Presenting",
    "UrgentInterruptionsOnly",
    "Focusing",
)
_CANONICAL_GRAPH = {value.lower(): value for value in (*GRAPH_AVAILABILITY, *GRAPH_ACTIVITY)}
UNKNOWN = "PresenceUnknown"


def canonical_graph_value(raw: object) -> str:
    """``"inAMeeting"`` → ``"InAMeeting"``; unknown strings are kept (trimmed); non-strings → unknown."""
    if not isinstance(raw, str) or not raw.strip():
        return UNKNOWN
    text = raw.strip()
    return _CANONICAL_GRAPH.get(text.lower(), text)


@dataclass(frozen=True, slots=True)
class TeamsPresence:
    """The agent's Teams presence as read from ``GET /v1.0/me/presence``."""

    availability: str
    activity: str
    sequence: str = ""
    out_of_office: bool = False

    def describe(self) -> str:
        if self.activity == self.availability or self.activity == UNKNOWN:
            return self.availability
        return f"{self.availability} / {self.activity}"


# --- Genesys -------------------------------------------------------------------------------------

ON_QUEUE = "ON_QUEUE"
OFF_QUEUE = "OFF_QUEUE"
OFFLINE = "OFFLINE"
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def normalise_system_presence(raw: object) -> str:
    """``"On Queue"``, ``"OnQueue"`` and ``"ON_QUEUE"`` all become ``"ON_QUEUE"``."""
    if not isinstance(raw, str) or not raw.strip():
        return ""
    text = _CAMEL_BOUNDARY.sub("_", raw.strip())
    return re.sub(r"[\s_-]+", "_", text).upper()


def display_system_presence(normalised: str) -> str:
    """``"ON_QUEUE"`` → ``"On Queue"`` for people."""
    return " ".join(part.capitalize() for part in normalised.split("_")) if normalised else "Unknown"


EN_US = "en_US"  # the locale key Genesys writes for US English, the label mapping targets are matched by


@dataclass(frozen=True, slots=True)
class PresenceDefinition:
    """One of the org's Genesys presences: a system presence or a secondary (``type: User``) one.

    ``labels`` are the definition's ``languageLabels`` as Genesys writes them, in the order it sent them:
    (locale key, label) pairs such as ``("en_US", "Teams call")``, ``("de", "Teams-Anruf")``. The keys
    Genesys documents are ``en_US``, ``pt_BR``, ``pt_PT``, ``zh_CN``, ``zh_TW`` and bare languages
    (``de``, ``fr``, ``es``, ``ja`` …; clients/genesys.py says where that comes from), but any key is
    kept and compared case-insensitively, ``-`` and ``_`` alike. ``label`` stays the en_US label: the
    name the settings file's mapping targets are matched by (:meth:`PresenceCatalog.by_name`).
    """

    id: str
    system_presence: str  # normalised, e.g. "BUSY"
    label: str  # the en_US label, e.g. "Busy" or "Teams call"
    secondary: bool = False
    deactivated: bool = False
    labels: tuple[tuple[str, str], ...] = ()  # (locale key as Genesys writes it, label)

    def label_in(self, language: str) -> str:
        """The label for an agent language (``"de"``, ``"de_DE"``, ``"de-AT"``, ``"pt-BR"``, ``"en"``).

        In order: the exact locale; else a label in the same base language (a bare key such as ``de``
        first, then the others by key, so the choice does not depend on the order Genesys sent them in);
        else the en_US label; else :attr:`label`.
        """
        chosen = pick_in_language(self.labels, language)
        if chosen:
            return chosen
        en_us = next((text for key, text in self.labels if text and locale_key(key) == locale_key(EN_US)), "")
        return en_us or self.label

    def describe(self, language: str = "") -> str:
        """For people: ``"Busy"``, ``"Teams call (Busy)"``; in ``language`` when the org has that label.

        A secondary presence's system presence is said in English here (a definition alone does not
        know its system presence's labels); :meth:`PresenceCatalog.describe` says it in ``language`` too.
        """
        return _described(self, language, display_system_presence(self.system_presence))


def _described(definition: PresenceDefinition, language: str, system_name: str) -> str:
    label = definition.label_in(language) if language else definition.label
    if definition.secondary:
        return f"{label} ({system_name})"
    return label or system_name


@dataclass(frozen=True, slots=True)
class GenesysState:
    """The agent's Genesys state, as last confirmed by REST or the notifications socket."""

    presence_id: str
    system_presence: str  # normalised
    routing_status: str  # e.g. "OFF_QUEUE", "IDLE", "INTERACTING"
    out_of_office: bool
    confirmed_at: float  # when this was last known to be current (epoch seconds, engine clock)
    modified_at: float = 0.0  # presence modifiedDate, to drop out-of-order events

    @property
    def on_queue(self) -> bool:
        """On Queue unless Genesys positively says OFF_QUEUE: an unknown routing status is never taken as off."""
        return self.system_presence == ON_QUEUE or self.routing_status != OFF_QUEUE


def _squash(normalised: str) -> str:
    """``ON_QUEUE`` and ``ONQUEUE`` (from "onqueue") compare equal."""
    return normalised.replace("_", "")


class PresenceCatalog:
    """The org's presence definitions, indexed for resolving mapping targets by name."""

    def __init__(self, definitions: Iterable[PresenceDefinition]) -> None:
        active = [d for d in definitions if not d.deactivated]
        self._by_id: dict[str, PresenceDefinition] = {d.id: d for d in active}
        self._system: dict[str, PresenceDefinition] = {}
        self._secondary: dict[str, PresenceDefinition] = {}
        for definition in active:
            if definition.secondary:
                self._secondary.setdefault(definition.label.strip().lower(), definition)
            else:
                self._system.setdefault(_squash(definition.system_presence), definition)

    def __len__(self) -> int:
        return len(self._by_id)

    def by_id(self, presence_id: str) -> PresenceDefinition | None:
        return self._by_id.get(presence_id)

    def by_name(self, name: str) -> PresenceDefinition | None:
        """A system presence by name in any casing (``"On Queue"``), else a secondary one by label."""
        system = self._system_definition(name)
        if system is not None:
            return system
        return self._secondary.get(name.strip().lower())

    def describe(self, presence_id: str, fallback_system_presence: str = "", language: str = "") -> str:
        """The presence for people, in ``language`` (``"de"``) where the org has labels in it.

        A presence the catalog does not know is named by ``fallback_system_presence``. Without a
        ``language`` (the log, the history), everything is in English as before.
        """
        definition = self._by_id.get(presence_id)
        if definition is not None:
            return _described(definition, language, self._system_name(definition.system_presence, language))
        return self._system_name(fallback_system_presence, language)

    def named(self, presence_id: str, fallback_system_presence: str = "") -> Named:
        """:meth:`describe` as the log has it (en_US labels), carrying it in every language the org has
        labels in: a sentence made in the core (which knows no agent language) is said in the agent's."""
        definition = self._by_id.get(presence_id)
        system_presence = definition.system_presence if definition is not None else fallback_system_presence
        system = self._system_definition(system_presence)
        keys = {key for d in (definition, system) if d is not None for key, text in d.labels if text}
        names = tuple((key, self.describe(presence_id, fallback_system_presence, key)) for key in sorted(keys))
        return Named(self.describe(presence_id, fallback_system_presence), names)

    def _system_definition(self, system_presence: str) -> PresenceDefinition | None:
        """The org's definition of a system presence, in any spelling (``"On Queue"``, ``"ON_QUEUE"``)."""
        return self._system.get(_squash(normalise_system_presence(system_presence)))

    def _system_name(self, system_presence: str, language: str) -> str:
        """A system presence by the org's own label for it in ``language``; English without one."""
        system = self._system_definition(system_presence) if language else None
        if system is not None and system.label_in(language):
            return system.label_in(language)
        return display_system_presence(system_presence)

    @property
    def definitions(self) -> Mapping[str, PresenceDefinition]:
        return self._by_id
