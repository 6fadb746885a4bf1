"""What arrives in the engine's inbox: the sync protocol's events, plus what only the shell handles
(how each service's link stands, who signed in to Genesys, the tray's commands)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from tray_agent.core.events import Event as ProtocolEvent
from tray_agent.core.presence import PresenceCatalog
from tray_agent.core.service import Service
from tray_agent.engine.snapshot import Command, Link


@dataclass(frozen=True, slots=True)
class LinkChanged:
    service: Service
    link: Link
    detail: str = ""


@dataclass(frozen=True, slots=True)
class GenesysSignedIn:
    user_id: str
    name: str
    catalog: PresenceCatalog


Message = ProtocolEvent | LinkChanged | GenesysSignedIn | Command
Inbox = asyncio.Queue[Message]
