"""The fixture org for the sync-core specifications.

* The org: the ten Genesys system presences plus two secondary ones ("Teams call" under Busy, "Lunch"
  under Meal), with readable ids (``"id-available"``, ``"id-on-queue"``, ``"id-teams-call"`` …).
  Busy, Meeting and Teams call also have German labels (``de``, Genesys's key for German), Teams call a
  French one too; the others have only their en_US label, as in a real org's captured answer.
* Value constructors: :func:`teams` for a Teams presence, :func:`genesys` for a Genesys state
  confirmed at a given time.
"""

from __future__ import annotations

from dataclasses import replace

from tray_agent.core.presence import OFF_QUEUE, GenesysState, PresenceCatalog, PresenceDefinition, TeamsPresence

# --- the org's presences ---------------------------------------------------------------------------

AVAILABLE = PresenceDefinition("id-available", "AVAILABLE", "Available")
AWAY = PresenceDefinition("id-away", "AWAY", "Away")
BUSY = PresenceDefinition("id-busy", "BUSY", "Busy", labels=(("en_US", "Busy"), ("de", "Besetzt")))
BREAK = PresenceDefinition("id-break", "BREAK", "Break")
MEAL = PresenceDefinition("id-meal", "MEAL", "Meal")
MEETING = PresenceDefinition("id-meeting", "MEETING", "Meeting", labels=(("en_US", "Meeting"), ("de", "Besprechung")))
TRAINING = PresenceDefinition("id-training", "TRAINING", "Training")
ON_QUEUE = PresenceDefinition("id-on-queue", "ON_QUEUE", "On Queue")
OFFLINE = PresenceDefinition("id-offline", "OFFLINE", "Offline")
IDLE = PresenceDefinition("id-idle", "IDLE", "Idle")
TEAMS_CALL = PresenceDefinition(
    "id-teams-call",
    "BUSY",
    "Teams call",
    secondary=True,
    labels=(("en_US", "Teams call"), ("de", "Teams-Anruf"), ("fr", "Appel Teams")),
)
LUNCH = PresenceDefinition("id-lunch", "MEAL", "Lunch", secondary=True)

SYSTEM_DEFINITIONS = (AVAILABLE, AWAY, BUSY, BREAK, MEAL, MEETING, TRAINING, ON_QUEUE, OFFLINE, IDLE)
SECONDARY_DEFINITIONS = (TEAMS_CALL, LUNCH)
DEFINITIONS = SYSTEM_DEFINITIONS + SECONDARY_DEFINITIONS
CATALOG = PresenceCatalog(DEFINITIONS)


def catalog_without(*labels: str) -> PresenceCatalog:
    """The fixture org with some presences missing altogether."""
    return PresenceCatalog(d for d in DEFINITIONS if d.label not in labels)


def catalog_with_deactivated(*labels: str) -> PresenceCatalog:
    """The fixture org with some presences present but deactivated."""
    return PresenceCatalog(replace(d, deactivated=True) if d.label in labels else d for d in DEFINITIONS)


def definition(name: str, catalog: PresenceCatalog = CATALOG) -> PresenceDefinition:
    found = catalog.by_name(name) or next((d for d in DEFINITIONS if d.label == name), None)
    if found is None:
        raise KeyError(name)
    return found


# --- value constructors ----------------------------------------------------------------------------


def teams(availability: str, activity: str | None = None) -> TeamsPresence:
    """``teams("Busy", "InAMeeting")``; the activity defaults to the availability (``Busy / Busy``)."""
    return TeamsPresence(availability, activity if activity is not None else availability)


TEAMS_AVAILABLE = teams("Available")
TEAMS_AWAY = teams("Away")
TEAMS_BUSY = teams("Busy")
TEAMS_IN_A_MEETING = teams("Busy", "InAMeeting")
TEAMS_IN_A_CALL = teams("Busy", "InACall")
TEAMS_OFFLINE = teams("Offline", "OffWork")


def genesys(
    name: str,
    *,
    at: float = 0.0,
    routing: str = OFF_QUEUE,
    out_of_office: bool = False,
    catalog: PresenceCatalog = CATALOG,
) -> GenesysState:
    """The agent's Genesys state showing presence ``name``, confirmed at ``at``."""
    shown = definition(name, catalog)
    return GenesysState(shown.id, shown.system_presence, routing, out_of_office, confirmed_at=at, modified_at=at)


def on_queue(*, at: float = 0.0, routing: str = "IDLE") -> GenesysState:
    return genesys("On Queue", at=at, routing=routing)
