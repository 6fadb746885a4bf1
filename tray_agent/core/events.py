"""The sync protocol's vocabulary: events the engine feeds in, effects it gets back.

Every event carries ``at``, the engine clock's time when it happened (a reading: when its answer
arrived). Effects are requests; the engine performs each and feeds the result back as an event.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from tray_agent.core.interactions import InteractionSummary
from tray_agent.core.memory import SyncMemory, Write
from tray_agent.core.polling import Outcome
from tray_agent.core.presence import GenesysState, PresenceCatalog, TeamsPresence
from tray_agent.core.rules import SyncConfig
from tray_agent.core.service import Service
from tray_agent.core.teams_writeback import ClearTeamsSession, SessionCall, SessionResult, SetTeamsSession
from tray_agent.core.triggers import SignalKind

# --- events ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed (the engine woke at :meth:`SyncProtocol.next_wake`)."""

    at: float


@dataclass(frozen=True, slots=True)
class TeamsRead:
    presence: TeamsPresence
    at: float  # when the answer arrived
    requested_at: float | None = None  # when the read was sent (it shows Teams as of then); None: ``at``


@dataclass(frozen=True, slots=True)
class TeamsReadFailed:
    outcome: Outcome
    at: float
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class TeamsReadSkipped:
    """A timer read was not sent: nobody is at the workstation (locked or long idle)."""

    at: float


@dataclass(frozen=True, slots=True)
class LocalSignal:
    """Something on the workstation says Teams may be changing (:mod:`tray_agent.core.triggers`).

    ``attendees``: for a calendar meeting, how many people are invited (how many agents the same
    moment may trigger); None when unknown."""

    kind: SignalKind
    at: float
    attendees: int | None = None


@dataclass(frozen=True, slots=True)
class TriggersAvailable:
    """Whether any signal source works here; with one, the timer becomes a slow safety net."""

    available: bool
    at: float


@dataclass(frozen=True, slots=True)
class TeamsSourceReady:
    """Microsoft is signed in (``ready``) or needs a sign-in: no reads are asked for meanwhile."""

    ready: bool
    at: float


class Source(enum.Enum):
    REST = "rest"  # users/me read by the Genesys follower (connect, socket down)
    SOCKET = "socket"  # an activity event on the notifications socket
    VERIFY = "verify"  # the read this protocol asked for before a write
    STALE = "stale"  # the read this protocol asked for because the state was not confirmed recently
    POLL = "poll"  # the read this protocol asks for every ``genesys_refresh_every`` while the socket is down


@dataclass(frozen=True, slots=True)
class GenesysObserved:
    state: GenesysState
    source: Source
    at: float


@dataclass(frozen=True, slots=True)
class GenesysSocket:
    """The notifications socket is up (``connected``) or down: while down, Genesys is polled."""

    connected: bool
    at: float


@dataclass(frozen=True, slots=True)
class GenesysHeartbeat:
    """The socket is alive: the state we hold is still current (Genesys would have told us)."""

    at: float


@dataclass(frozen=True, slots=True)
class GenesysRefreshFailed:
    source: Source  # VERIFY, STALE or POLL
    detail: str
    at: float
    throttled: bool = False  # a 429: wait at least ``retry_after`` (3 s without one, as the SDK does)
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class GenesysIdentity:
    user_id: str
    catalog: PresenceCatalog
    at: float


@dataclass(frozen=True, slots=True)
class WriteAccepted:
    """Genesys took the write; its answer says what it shows now."""

    write: Write
    presence_id: str
    system_presence: str
    modified_at: float
    at: float


class WriteFailure(enum.Enum):
    THROTTLED = "throttled"
    REJECTED = "rejected"  # 4xx: Genesys will not take this change
    FAILED = "failed"  # 5xx, timeouts, bad answers
    SIGNED_OUT = "signed-out"


@dataclass(frozen=True, slots=True)
class WriteFailed:
    write: Write
    failure: WriteFailure
    detail: str
    at: float
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class GenesysInteractions:
    """The agent's own conversation summary: which media are active (None: not known, e.g. the
    topic was refused; the routing status stands in for it)."""

    summary: InteractionSummary | None
    at: float


@dataclass(frozen=True, slots=True)
class TeamsSessionAnswered:
    """Graph's answer to a :class:`SetTeamsSession` or :class:`ClearTeamsSession` of ours."""

    call: SessionCall
    result: SessionResult
    at: float
    detail: str = ""
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class WritebackToggled:
    """The agent turned the Genesys → Teams direction on or off (where IT policy lets them)."""

    enabled: bool
    at: float


@dataclass(frozen=True, slots=True)
class SyncConfigChanged:
    """The agent saved new sync settings (the mapping, dwell, restore): they apply from now on."""

    config: SyncConfig
    at: float


@dataclass(frozen=True, slots=True)
class TeamsWriterPrepared:
    """The writer saw to its permission (the consent page, once): ``problem`` says what is missing."""

    problem: str | None
    at: float


@dataclass(frozen=True, slots=True)
class Leaving:
    """The agent quits or signs out: our Teams session is cleared first."""

    at: float


class AgentCommandKind(enum.Enum):
    PAUSE = "pause"
    RESUME = "resume"
    SYNC_NOW = "sync-now"


@dataclass(frozen=True, slots=True)
class AgentCommand:
    kind: AgentCommandKind
    at: float
    seconds: float | None = None  # PAUSE: how long (None = until resumed)


@dataclass(frozen=True, slots=True)
class SignedOut:
    service: Service  # its readings are forgotten
    at: float


Event = (
    Tick
    | TeamsRead
    | TeamsReadFailed
    | TeamsReadSkipped
    | TeamsSourceReady
    | LocalSignal
    | TriggersAvailable
    | GenesysObserved
    | GenesysHeartbeat
    | GenesysSocket
    | GenesysRefreshFailed
    | GenesysIdentity
    | WriteAccepted
    | WriteFailed
    | AgentCommand
    | SignedOut
    | GenesysInteractions
    | TeamsSessionAnswered
    | WritebackToggled
    | SyncConfigChanged
    | TeamsWriterPrepared
    | Leaving
)

# --- effects ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadTeams:
    why: str
    unless_away: bool  # a timer read: skip it (TeamsReadSkipped) when nobody is at the workstation


@dataclass(frozen=True, slots=True)
class RefreshGenesys:
    source: Source  # VERIFY, STALE or POLL: answer with GenesysObserved(source) or GenesysRefreshFailed


@dataclass(frozen=True, slots=True)
class WriteGenesys:
    write: Write
    user_id: str


@dataclass(frozen=True, slots=True)
class Persist:
    memory: SyncMemory


@dataclass(frozen=True, slots=True)
class Report:
    """One line of the agent's story: ``kind`` is "teams", "genesys", "decision", "write" or "error"."""

    kind: str
    text: str


Effect = ReadTeams | RefreshGenesys | WriteGenesys | Persist | Report | SetTeamsSession | ClearTeamsSession
