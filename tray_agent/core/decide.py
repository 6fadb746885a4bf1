"""The sync decision: a pure function from what we know to what to do, with no I/O.

``decide(teams, genesys, catalog, memory, config, now)`` returns a :class:`Decision`: either a
:class:`Write` to perform, or a reason to hold, plus the updated :class:`SyncMemory`. The engine
performs a write and then calls :func:`confirm_write`; a failed write is simply not confirmed, so the
next decision tries again.

Rules, in order (each is a table row in ``tests/unit/test_decide.py``):

1. No Genesys state, or state older than ``max_genesys_staleness`` → hold (never write blind).
2. If Genesys shows another status than at the last decision (and it was not our write), someone
   else changed it: the episode ends, we own nothing (so nothing of theirs is ever "restored"
   over), and what Teams asks for at that moment counts as acted on. The engine re-reads Teams at
   that moment (our last read may predate a Teams change); while Teams is unknown, the next
   reading is the one acknowledged.
3. Hands off while On Queue (routing status ≠ OFF_QUEUE or presence On Queue), Out of Office, or
   Offline in Genesys (not working in the contact centre). Teams changes seen meanwhile are
   acknowledged, so the status the agent lands on when hands-off ends is theirs.
4. Paused by the agent, or the loop breaker tripped → hold.
5. Sync is edge-triggered on Teams: only a *change* of what Teams asks for (its mapped target) can
   cause a write. A status the agent sets by hand therefore wins until Teams changes again. The
   first look at Teams after start-up is a change only if Teams is not "free" (not Available):
   starting the app never overrides the agent's status with Available.
6. A change must be stable for ``dwell_seconds`` (debounce) before we act on it.
7. "Don't sync" targets (Offline, Unknown by default) leave Genesys alone.
8. When the Teams state that caused our writes ends — Teams returns to what it asked for before our
   first write, or to a "free" target (``restore_signals``, default Available) — and our write is
   still current, the agent's earlier status is restored instead of the mapped one. A chain of
   busy states (meeting → call) keeps the original restore point.
9. Never write when the target equals the current status.
10. More than ``loop_max_writes`` writes in ``loop_window_seconds`` → trip the loop breaker.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

from tray_agent.core.mapping import DONT_SYNC, PresenceMapping
from tray_agent.core.presence import OFFLINE, GenesysState, PresenceCatalog, TeamsPresence


class SyncStatus(enum.Enum):
    """What the sync is doing, for the tray and the logs."""

    SYNCED = "synced"
    WRITING = "writing"
    DEBOUNCING = "debouncing"
    WAITING = "waiting"
    NOT_SYNCED_STATE = "not-synced-state"
    MANUAL = "manual"
    ON_QUEUE = "on-queue"
    OUT_OF_OFFICE = "out-of-office"
    GENESYS_OFFLINE = "genesys-offline"
    PAUSED = "paused"
    LOOP_BREAKER = "loop-breaker"
    MAPPING_ERROR = "mapping-error"

    @property
    def hands_off(self) -> bool:
        return self in _HANDS_OFF


_HANDS_OFF = {SyncStatus.MANUAL, SyncStatus.ON_QUEUE, SyncStatus.OUT_OF_OFFICE, SyncStatus.GENESYS_OFFLINE}


@dataclass(frozen=True, slots=True)
class SyncConfig:
    mapping: PresenceMapping = field(default_factory=PresenceMapping.build)
    dwell_seconds: float = 10.0
    max_genesys_staleness: float = 120.0
    loop_max_writes: int = 8
    loop_window_seconds: float = 600.0
    loop_cooldown_seconds: float = 1800.0
    restore_signals: tuple[str, ...] = ("Available",)


@dataclass(frozen=True, slots=True)
class SyncMemory:
    """What the core remembers between decisions (all of it derived from our own observations)."""

    acted_signal: str | None = None  # the Teams target we last acted on (None: nothing yet)
    candidate_signal: str | None = None  # a Teams change waiting out the dwell
    candidate_since: float = 0.0
    seen_presence_id: str | None = None  # the Genesys status at the last decision (or our write)
    owned_presence_id: str | None = None  # our last write, while Genesys still shows it
    restore_presence_id: str | None = None  # the agent's status before our first write
    baseline_signal: str | None = None  # what Teams asked for before our first write
    manual: bool = False  # the current Genesys status was chosen by the agent
    hands_off: SyncStatus | None = None
    write_times: tuple[float, ...] = ()
    paused_until: float | None = None  # float("inf") = until resumed
    tripped_until: float | None = None
    force: bool = False  # "sync now": act on the current Teams state without waiting out the dwell
    acknowledge_next_teams: bool = False  # Genesys changed by hand while Teams was unknown: the next read is "before"


@dataclass(frozen=True, slots=True)
class Write:
    presence_id: str
    signal: str
    restore: bool  # True: putting back the agent's own earlier status


@dataclass(frozen=True, slots=True)
class Decision:
    status: SyncStatus
    reason: str
    memory: SyncMemory
    write: Write | None = None
    recheck_at: float | None = None  # re-run decide() then even if nothing else happens


def _hold(status: SyncStatus, reason: str, memory: SyncMemory, recheck_at: float | None = None) -> Decision:
    return Decision(status, reason, memory, None, recheck_at)


def _end_episode(memory: SyncMemory) -> SyncMemory:
    return replace(memory, owned_presence_id=None, restore_presence_id=None, baseline_signal=None)


def hands_off_reason(genesys: GenesysState) -> SyncStatus | None:
    if genesys.on_queue:
        return SyncStatus.ON_QUEUE
    if genesys.out_of_office:
        return SyncStatus.OUT_OF_OFFICE
    if genesys.system_presence == OFFLINE:
        return SyncStatus.GENESYS_OFFLINE
    return None


_HANDS_OFF_REASON = {
    SyncStatus.ON_QUEUE: "On Queue in Genesys: hands off until the agent goes off queue",
    SyncStatus.OUT_OF_OFFICE: "Out of Office in Genesys: hands off",
    SyncStatus.GENESYS_OFFLINE: "Offline in Genesys: not bringing the agent online",
}


def _expire_timers(memory: SyncMemory, now: float) -> SyncMemory:
    if memory.tripped_until is not None and now >= memory.tripped_until:
        memory = replace(memory, tripped_until=None, write_times=())
    if memory.paused_until is not None and now >= memory.paused_until:
        memory = replace(memory, paused_until=None)
    return memory


def decide(
    teams: TeamsPresence | None,
    genesys: GenesysState | None,
    catalog: PresenceCatalog,
    memory: SyncMemory,
    config: SyncConfig,
    now: float,
) -> Decision:
    m = _expire_timers(memory, now)

    if genesys is None:
        return _hold(SyncStatus.WAITING, "waiting for the Genesys status", m)
    if now - genesys.confirmed_at > config.max_genesys_staleness:
        return _hold(SyncStatus.WAITING, "Genesys status is not confirmed recently; re-reading first", m)

    signal = config.mapping.signal_for(teams) if teams is not None else None
    if m.seen_presence_id is not None and genesys.presence_id != m.seen_presence_id:
        # Someone else changed Genesys (the agent, a supervisor, routing). Whatever Teams asks for
        # right now was asked before that change, so it is acknowledged: only a later Teams change
        # may override it.
        m = replace(
            _end_episode(m),
            manual=True,
            acted_signal=signal if signal is not None else m.acted_signal,
            acknowledge_next_teams=signal is None,
            candidate_signal=None,
            force=False,
        )
    m = replace(m, seen_presence_id=genesys.presence_id)
    if m.acknowledge_next_teams and signal is not None:
        # The engine re-read Teams right after the agent's change: what Teams shows was there before it.
        m = replace(m, acted_signal=signal, acknowledge_next_teams=False, candidate_signal=None)
    hands_off = hands_off_reason(genesys)
    if hands_off is not None:
        m = replace(
            _end_episode(m),
            hands_off=hands_off,
            manual=False,
            candidate_signal=None,
            force=False,
            acted_signal=signal if signal is not None else m.acted_signal,
        )
        return _hold(hands_off, _HANDS_OFF_REASON[hands_off], m)
    if m.hands_off is not None and signal is None:
        return _hold(SyncStatus.WAITING, "hands-off ended; re-reading Teams before anything else", m)
    if m.hands_off is not None:
        # Hands-off just ended: the status the agent lands on is theirs, and what Teams shows now
        # (the engine re-reads it at this moment) counts as already acted on.
        m = replace(m, hands_off=None, manual=True, acted_signal=signal if signal is not None else m.acted_signal)

    if teams is None or signal is None:
        return _hold(SyncStatus.WAITING, "waiting for the Teams status", m)
    if m.paused_until is not None:
        return _hold(SyncStatus.PAUSED, "sync paused by the agent", m, recheck_at=_finite(m.paused_until))
    if m.tripped_until is not None:
        return _hold(
            SyncStatus.LOOP_BREAKER,
            "too many changes in a short time: sync stopped to break a loop",
            m,
            recheck_at=m.tripped_until,
        )

    if signal == m.acted_signal:
        m = replace(m, candidate_signal=None)  # a change that reverted within the dwell is forgotten
        if signal == DONT_SYNC:
            return _hold(
                SyncStatus.NOT_SYNCED_STATE, f"Teams {teams.describe()} is not synced: leaving Genesys alone", m
            )
        current_target = PresenceMapping.resolve(signal, catalog)
        if current_target is None:
            return _hold(SyncStatus.MAPPING_ERROR, f"none of {signal!r} is a presence in this Genesys org", m)
        if m.manual or genesys.presence_id not in (m.owned_presence_id, current_target.id):
            return _hold(SyncStatus.MANUAL, "the agent set this status by hand; waiting for Teams to change", m)
        return _hold(SyncStatus.SYNCED, f"Teams {teams.describe()}: nothing to change", m)

    if m.acted_signal is None and not m.force and signal in config.restore_signals:
        # First look at Teams after start-up, and Teams is "free": nothing is happening that should
        # override the status the agent already has in Genesys. (No write can follow: no dwell.)
        settled = replace(m, acted_signal=signal, candidate_signal=None)
        return _hold(SyncStatus.SYNCED, f"Teams {teams.describe()}: keeping the agent's Genesys status", settled)

    if m.candidate_signal != signal:
        m = replace(m, candidate_signal=signal, candidate_since=now)
    if not m.force and now - m.candidate_since < config.dwell_seconds:
        until = m.candidate_since + config.dwell_seconds
        return _hold(SyncStatus.DEBOUNCING, f"Teams {teams.describe()}: waiting for it to settle", m, until)

    acknowledged = replace(m, acted_signal=signal, candidate_signal=None, force=False)
    if signal == DONT_SYNC:
        return _hold(
            SyncStatus.NOT_SYNCED_STATE, f"Teams {teams.describe()} is not synced: leaving Genesys alone", acknowledged
        )
    target = PresenceMapping.resolve(signal, catalog)
    if target is None:
        return _hold(SyncStatus.MAPPING_ERROR, f"none of {signal!r} is a presence in this Genesys org", acknowledged)

    target_id, restore = target.id, False
    ends_episode = signal == m.baseline_signal or signal in config.restore_signals
    if m.owned_presence_id is not None and m.restore_presence_id is not None and ends_episode:
        target_id, restore = m.restore_presence_id, True

    if target_id == genesys.presence_id:
        # Teams now asks for what Genesys shows: that status is no longer "set by hand".
        settled = replace(_end_episode(acknowledged) if restore else acknowledged, manual=False)
        return _hold(SyncStatus.SYNCED, f"Teams {teams.describe()}: Genesys already shows it", settled)

    recent = tuple(t for t in m.write_times if now - t < config.loop_window_seconds)
    if len(recent) >= config.loop_max_writes:
        tripped = replace(m, write_times=recent, tripped_until=now + config.loop_cooldown_seconds, force=False)
        return _hold(
            SyncStatus.LOOP_BREAKER,
            f"{len(recent)} writes in {config.loop_window_seconds / 60:g} min: sync stopped to break a loop",
            tripped,
            recheck_at=tripped.tripped_until,
        )

    why = "restoring the agent's earlier status" if restore else f"Teams {teams.describe()}"
    return Decision(SyncStatus.WRITING, why, replace(m, write_times=recent), Write(target_id, signal, restore))


def confirm_write(memory: SyncMemory, write: Write, before: GenesysState, now: float) -> SyncMemory:
    """Record a write the service accepted; ``before`` is the state the decision was made on."""
    if write.restore:
        m = _end_episode(memory)
    elif memory.owned_presence_id is None:
        m = replace(
            memory,
            owned_presence_id=write.presence_id,
            restore_presence_id=before.presence_id,
            baseline_signal=memory.acted_signal,
        )
    else:
        m = replace(memory, owned_presence_id=write.presence_id)
    return replace(
        m,
        seen_presence_id=write.presence_id,
        acted_signal=write.signal,
        candidate_signal=None,
        manual=False,
        force=False,
        write_times=(*memory.write_times, now),
    )


def pause(memory: SyncMemory, until: float) -> SyncMemory:
    return replace(memory, paused_until=until)


def resume(memory: SyncMemory) -> SyncMemory:
    """Resume after a pause or a tripped loop breaker; a Teams change missed meanwhile is acted on."""
    return replace(memory, paused_until=None, tripped_until=None, write_times=())


def sync_now(memory: SyncMemory) -> SyncMemory:
    """Forget what we acted on, so the current Teams state is applied (even over a manual status)."""
    return replace(memory, acted_signal=None, candidate_signal=None, manual=False, force=True)


def _finite(value: float) -> float | None:
    return value if value != float("inf") else None
