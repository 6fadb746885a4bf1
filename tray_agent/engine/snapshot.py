"""What the engine publishes (immutable snapshots) and accepts (commands).

The tray and the demo never touch engine state: they read the latest :class:`Snapshot` and send
:class:`Command` values, which the engine applies on its own event loop.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from tray_agent.core.presence import GenesysState, PresenceDefinition, TeamsPresence
from tray_agent.core.rules import SyncConfig, SyncStatus
from tray_agent.core.said import Said
from tray_agent.core.service import Service


class Link(enum.Enum):
    """How we stand with one service."""

    STARTING = "starting"
    CONNECTED = "connected"
    DEGRADED = "degraded"  # reachable, but e.g. polling Genesys because the socket is down
    OFFLINE = "offline"
    THROTTLED = "throttled"
    SIGN_IN_NEEDED = "sign-in-needed"


# Each link as the activity names it ("genesys: offline — …"), sayable in the agent's language.
LINK_WORDS: dict[Link, Said] = {
    Link.STARTING: Said("starting"),
    Link.CONNECTED: Said("connected"),
    Link.DEGRADED: Said("degraded"),
    Link.OFFLINE: Said("offline"),
    Link.THROTTLED: Said("throttled"),
    Link.SIGN_IN_NEEDED: Said("sign-in-needed"),
}


@dataclass(frozen=True, slots=True)
class Snapshot:
    status: SyncStatus
    reason: str
    teams: TeamsPresence | None
    genesys: GenesysState | None
    genesys_label: str  # e.g. "Busy", "Teams call (Busy)"
    set_by: str  # "sync", "you", "routing", "" (unknown)
    microsoft: Link
    genesys_link: Link
    paused_until: float | None
    writes: int
    last_error: str
    at: float
    microsoft_expires_at: float | None = None  # access token expiry, engine clock
    genesys_expires_at: float | None = None  # Genesys has no refresh for PKCE: the agent signs in again
    sign_in_prompt: str = ""  # device-code sign-in: where to go and which code to enter (no secret)
    microsoft_account: str = ""  # who is signed in (the UPN), for the tray
    genesys_account: str = ""  # the Genesys user's email
    teams_writeback_enabled: bool = False  # the Genesys → Teams direction is on
    # What Teams shows from us ("Busy / InACall – set by sync (Genesys voice interaction)"), or why not.
    teams_writeback: str = ""
    teams_writeback_problem: str = ""  # why the Genesys → Teams direction stopped (a refusal), while it is on
    teams_read_at: float | None = None  # when the latest Teams reading arrived (engine clock)
    next_read_at: float | None = None  # when Teams is read next (None: not while paused or signed out)
    next_read_why: str = ""  # why then: "timer", "sync now", a local signal, …
    watching: tuple[str, ...] = ()  # the local signals that work here (lock, microphone, calendar)
    presences: tuple[PresenceDefinition, ...] = ()  # the org's active presences (the mapping editor's choices)
    sync: SyncConfig | None = None  # the sync settings in effect


class CommandKind(enum.Enum):
    PAUSE = "pause"
    RESUME = "resume"
    SYNC_NOW = "sync-now"
    SIGN_IN = "sign-in"
    SIGN_OUT = "sign-out"
    STOP = "stop"
    SET_WRITEBACK = "set-writeback"  # ``enabled``: Genesys interactions shown in Teams, or not
    APPLY_SYNC_SETTINGS = "apply-sync-settings"  # ``sync``: the mapping, dwell and restore just saved


@dataclass(frozen=True, slots=True)
class Command:
    kind: CommandKind
    seconds: float | None = None  # PAUSE: how long (None = until resumed)
    service: Service | None = None  # SIGN_IN / SIGN_OUT: which one
    device_code: bool = False  # SIGN_IN to Microsoft with a code entered on another device
    enabled: bool = False  # SET_WRITEBACK: on or off
    sync: SyncConfig | None = None  # APPLY_SYNC_SETTINGS: the new sync settings


@dataclass(frozen=True, slots=True)
class Transition:
    """One line of the agent's story, for the demo's output and the tests: what happened and why."""

    at: float
    kind: str  # "teams", "genesys", "decision", "write", "error", "link"
    text: str


def transition_printer(out: TextIO) -> Callable[[Transition], None]:
    """Prints each transition as ``[HH:MM:SS] kind     text`` (engine clock, UTC): the headless output."""

    def show(transition: Transition) -> None:
        stamp = datetime.fromtimestamp(transition.at, UTC).strftime("%H:%M:%S")
        out.write(f"[{stamp}] {transition.kind:<8} {transition.text}\n")
        out.flush()

    return show
