"""What the sync remembers between decisions, and how that memory survives a restart.

The memory is derived from our own observations only. Its persisted part (:func:`encode` /
:func:`decode`) is everything the rules need to carry on after the agent restarts mid-meeting:
the phase, our last write and the restore point of the episode, what Teams asked for, the pause
and the loop breaker's times, and a write that was sent but not yet confirmed. Readings (Teams,
Genesys) are not persisted: after a restart both are read again.

The stored form is versioned and bounded in age: anything damaged, of another version, from
another Genesys user or older than ``MAX_AGE`` is refused with one reason, and the agent starts
clean.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from tray_agent.core.teams_writeback import OwnSession

SCHEMA_VERSION = 1
MAX_AGE = 12 * 3600.0  # a restore point older than a shift is not trusted


class PausedBy(enum.Enum):
    """Who paused sync: the agent (Pause in the tray or window), or Genesys (a Retry-After too long to wait)."""

    AGENT = "agent"
    GENESYS = "genesys"


class Phase(enum.Enum):
    """Who the status Genesys shows belongs to. Exactly one holds at a time."""

    STARTING = "starting"  # nothing acted on since start-up: the first look at Teams decides
    FOLLOWING = "following"  # Genesys shows what sync wrote, or what Teams asks for anyway
    MANUAL = "manual"  # the agent (or a supervisor) chose the shown status
    HANDS_OFF = "hands-off"  # On Queue, Out of Office or Offline in Genesys


@dataclass(frozen=True, slots=True)
class Episode:
    """A run of our own writes, from the first one until the status is restored or taken over."""

    owned_presence_id: str  # our last write, while Genesys still shows it
    restore_presence_id: str  # the agent's status before our first write
    baseline_signal: str  # what Teams asked for before our first write


@dataclass(frozen=True, slots=True)
class Candidate:
    """A Teams change read once; it is acted on only when a reading ``dwell`` later still shows it."""

    signal: str
    first_read_at: float


@dataclass(frozen=True, slots=True)
class Write:
    presence_id: str
    signal: str
    restore: bool  # True: putting back the agent's own earlier status


@dataclass(frozen=True, slots=True)
class InFlight:
    """A write sent to Genesys and not yet answered (persisted: a crash after the PATCH is not lost)."""

    write: Write
    shown_before: str  # the presence Genesys showed when the write was decided


@dataclass(frozen=True, slots=True)
class SyncMemory:
    phase: Phase = Phase.STARTING
    acted_signal: str | None = None  # the Teams target last acted on or acknowledged
    seen_presence_id: str | None = None  # the Genesys status at the last decision (or our write)
    episode: Episode | None = None
    candidate: Candidate | None = None
    acknowledge_from: float | None = None  # the first Teams reading at/after this is "what was there"
    baseline_until: float | None = None  # hands-off ended then: readings sent before it are the baseline
    write_times: tuple[float, ...] = ()
    paused_until: float | None = None  # float("inf") = until resumed
    paused_by: PausedBy = PausedBy.AGENT
    tripped_until: float | None = None
    force: bool = False  # "sync now": apply the current Teams state without the second reading
    in_flight: InFlight | None = None
    user_id: str | None = None  # the Genesys user this memory is about
    teams_session: OwnSession | None = None  # what Teams may show from us (core.teams_writeback)

    @property
    def owned_presence_id(self) -> str | None:
        return self.episode.owned_presence_id if self.episode else None


# --- persistence ---------------------------------------------------------------------------------


class MemoryRefused(ValueError):
    """A stored memory that cannot be used; the message says why (for one log line)."""


def persisted_part(memory: SyncMemory) -> SyncMemory:
    """The memory without what a restart must forget (a half-read change, a 'sync now')."""
    return replace(memory, candidate=None, force=False, acknowledge_from=None, baseline_until=None)


def encode(memory: SyncMemory, now: float) -> dict[str, Any]:
    m = persisted_part(memory)
    return {
        "version": SCHEMA_VERSION,
        "saved_at": now,
        "phase": m.phase.value,
        "acted_signal": m.acted_signal,
        "seen_presence_id": m.seen_presence_id,
        "episode": None
        if m.episode is None
        else {
            "owned": m.episode.owned_presence_id,
            "restore": m.episode.restore_presence_id,
            "baseline": m.episode.baseline_signal,
        },
        "write_times": list(m.write_times),
        "paused_until": _encode_until(m.paused_until),
        "paused_by": m.paused_by.value,
        "tripped_until": m.tripped_until,
        "in_flight": None
        if m.in_flight is None
        else {
            "presence_id": m.in_flight.write.presence_id,
            "signal": m.in_flight.write.signal,
            "restore": m.in_flight.write.restore,
            "shown_before": m.in_flight.shown_before,
        },
        "user_id": m.user_id,
        "teams_session": None
        if m.teams_session is None
        else {
            "availability": m.teams_session.availability,
            "activity": m.teams_session.activity,
            "since": m.teams_session.since,
            "lapse_at": m.teams_session.lapse_at,
            "cleared_at": m.teams_session.cleared_at,
        },
    }


def decode(data: object, now: float) -> SyncMemory:
    """The stored memory, or :class:`MemoryRefused` saying why it cannot be used."""
    if not isinstance(data, Mapping):
        raise MemoryRefused("not a JSON object")
    if data.get("version") != SCHEMA_VERSION:
        raise MemoryRefused(f"schema version {data.get('version')!r}, expected {SCHEMA_VERSION}")
    saved_at = _number(data, "saved_at")
    if saved_at is None or not 0 <= now - saved_at <= MAX_AGE:
        raise MemoryRefused(f"older than {MAX_AGE / 3600:g} h (or from the future)")
    try:
        phase = Phase(data.get("phase"))
    except ValueError:
        raise MemoryRefused(f"unknown phase {data.get('phase')!r}") from None
    write_times = data.get("write_times")
    if not isinstance(write_times, list) or not all(_finite(t) for t in write_times):
        raise MemoryRefused("write_times must be a list of numbers")
    return SyncMemory(
        phase=phase,
        acted_signal=_text(data, "acted_signal"),
        seen_presence_id=_text(data, "seen_presence_id"),
        episode=_episode(data.get("episode")),
        write_times=tuple(float(t) for t in write_times[-64:]),
        paused_until=_decode_until(data.get("paused_until")),
        paused_by=_paused_by(data.get("paused_by")),
        tripped_until=_number(data, "tripped_until"),
        in_flight=_in_flight(data.get("in_flight")),
        user_id=_text(data, "user_id"),
        teams_session=_teams_session(data.get("teams_session")),
    )


def _paused_by(raw: object) -> PausedBy:
    """Optional: a store from before it was kept says nothing, and its pause counts as the agent's."""
    if raw is None:
        return PausedBy.AGENT
    try:
        return PausedBy(raw)
    except ValueError:
        raise MemoryRefused(f"unknown paused_by {raw!r}") from None


def _teams_session(raw: object) -> OwnSession | None:
    """Optional (stores from before the Genesys → Teams direction have none)."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise MemoryRefused("teams_session must be an object")
    availability, activity = (_text(raw, key, required=True) for key in ("availability", "activity"))
    since, lapse_at = _number(raw, "since"), _number(raw, "lapse_at")
    if since is None or lapse_at is None:
        raise MemoryRefused("teams_session needs 'since' and 'lapse_at'")
    assert availability is not None and activity is not None  # noqa: S101 - required
    return OwnSession(availability, activity, since, lapse_at, _number(raw, "cleared_at"))


def _episode(raw: object) -> Episode | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise MemoryRefused("episode must be an object")
    owned, restore, baseline = (_text(raw, key, required=True) for key in ("owned", "restore", "baseline"))
    assert owned is not None and restore is not None and baseline is not None  # noqa: S101 - required
    return Episode(owned, restore, baseline)


def _in_flight(raw: object) -> InFlight | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("restore"), bool):
        raise MemoryRefused("in_flight must be an object with a boolean 'restore'")
    presence, signal, before = (_text(raw, key, required=True) for key in ("presence_id", "signal", "shown_before"))
    assert presence is not None and signal is not None and before is not None  # noqa: S101 - required
    return InFlight(Write(presence, signal, bool(raw["restore"])), before)


def _text(data: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) > 256:
        raise MemoryRefused(f"{key} must be a short string")
    return value


def _number(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if not _finite(value):
        raise MemoryRefused(f"{key} must be a finite number")
    return float(value)


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _encode_until(value: float | None) -> float | str | None:
    return "resumed" if value == math.inf else value


def _decode_until(value: object) -> float | None:
    if value == "resumed":
        return math.inf
    if value is None:
        return None
    if not _finite(value):
        raise MemoryRefused("paused_until must be a number or 'resumed'")
    return float(value)  # type: ignore[arg-type]
