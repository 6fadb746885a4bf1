"""Messages from the engine's I/O tasks to its single decision loop."""

from __future__ import annotations

from dataclasses import dataclass

from tray_agent.core.presence import GenesysState, PresenceCatalog, TeamsPresence
from tray_agent.engine.snapshot import Command, Link


@dataclass(frozen=True, slots=True)
class TeamsRead:
    presence: TeamsPresence


@dataclass(frozen=True, slots=True)
class GenesysObserved:
    state: GenesysState
    source: str  # "rest", "socket" or "heartbeat"


@dataclass(frozen=True, slots=True)
class GenesysIdentity:
    user_id: str
    name: str
    catalog: PresenceCatalog


@dataclass(frozen=True, slots=True)
class LinkChanged:
    service: str  # "microsoft" or "genesys"
    link: Link
    detail: str = ""


Event = TeamsRead | GenesysObserved | GenesysIdentity | LinkChanged | Command
