"""Snapshots for the tray's unit tests: a healthy, synced agent unless told otherwise."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tray_agent.core.presence import GenesysState, TeamsPresence
from tray_agent.core.rules import SyncStatus
from tray_agent.engine.snapshot import Link, Snapshot

NOW = 1_800_000_000.0
IDS = {
    "AVAILABLE": "6a3af858-942f-489d-9700-5f9bcdcdae9b",
    "BUSY": "31fe3bac-dea6-44b7-bed7-47f91660a1a0",
    "MEETING": "bbdff279-7ae1-48ea-bade-7831d7234c64",
    "BREAK": "227b37e2-f1d0-4dd0-8f50-badd7cf6d158",
    "AWAY": "5e5c5c66-ea97-4e7f-ac41-6424784829f2",
    "ON_QUEUE": "e08eaf1b-ee47-4fa9-a231-1200e284798f",
    "OFFLINE": "ccf3c10a-aa2c-4845-8e8d-f59fa48c58e5",
}


def genesys(system: str = "AVAILABLE", *, routing: str = "OFF_QUEUE", ooo: bool = False) -> GenesysState:
    return GenesysState(IDS.get(system, system), system, routing, ooo, confirmed_at=NOW)


def snapshot(**changes: Any) -> Snapshot:
    base = Snapshot(
        status=SyncStatus.SYNCED,
        reason="Teams Available: nothing to change",
        teams=TeamsPresence("Available", "Available"),
        genesys=genesys(),
        genesys_label="Available",
        set_by="you",
        microsoft=Link.CONNECTED,
        genesys_link=Link.CONNECTED,
        paused_until=None,
        writes=0,
        last_error="",
        at=NOW,
        microsoft_expires_at=NOW + 3000,
        genesys_expires_at=NOW + 80_000,
    )
    return replace(base, **changes)


def in_meeting(**changes: Any) -> Snapshot:
    """Teams says meeting, and sync has set Genesys to Meeting."""
    meeting: dict[str, Any] = {
        "teams": TeamsPresence("Busy", "InAMeeting"),
        "genesys": genesys("MEETING"),
        "genesys_label": "Meeting",
        "set_by": "sync",
        "writes": 1,
    }
    return snapshot(**{**meeting, **changes})
