"""The sync rules: one small pure function each, run in this order on every decision.

A rule either *decides* (returns a :class:`Decision`: hold with a reason, or write) or *updates
the memory and passes on* (returns the new :class:`SyncMemory`). :data:`RULES` is the table;
:func:`decide` runs it. Each row is specified by a table of cases in ``tests/core/test_rules.py``.

 #  rule                                   what it says
 1  know_genesys                           No Genesys state, or one older than ``max_genesys_staleness``
                                           → hold (never write blind).
 2  recognise_our_write                    Genesys shows the write we sent but whose answer has not come
                                           (socket first, or a crash after the PATCH) → it is ours.
 3  someone_else_changed_genesys           Genesys shows another status than at the last decision →
                                           the agent (or a supervisor) chose it: phase MANUAL, the
                                           episode ends, and the first Teams reading from now on is
                                           acknowledged as "what Teams showed when they chose".
 4  hands_off                              On Queue (routing ≠ OFF_QUEUE), Out of Office or Offline →
                                           hold; Teams readings meanwhile are acknowledged, so they
                                           are the baseline when hands-off ends.
 5  hands_off_ended                        Hands-off just ended → the status the agent landed on is
                                           theirs (MANUAL). A Teams state that was the baseline is not
                                           pushed; one that begins after it is acted on.
 6  paused                                 Paused by the agent, or by Genesys (a long Retry-After) → hold.
 7  loop_breaker_tripped                   The loop breaker tripped → hold until it cools down.
 8  teams_shows_our_own_status             The Teams reading may be our own session (the Genesys → Teams
                                           direction, core.teams_writeback) → hold: it is never acted on
                                           or taken as what Teams showed; Teams is read again once our
                                           session can no longer show.
 9  know_teams                             No Teams reading, one too old, or one older than the
                                           agent's change → hold and read Teams.
10  teams_unchanged                        Sync is edge-triggered: Teams asks for what we acted on →
                                           hold. A status set by hand therefore stands.
11  first_look_at_a_free_teams             The first reading after start-up is "free" (Available) →
                                           keep the agent's status (starting never writes Available).
12  confirm_with_a_second_reading          A change is acted on only when a reading at least
                                           ``dwell_seconds`` after the first one still shows it, or
                                           when it was read just after a known local signal (lock,
                                           microphone, calendar: core.triggers) that vouches for it.
13  dont_sync                              "Don't sync" targets leave Genesys alone.
14  target_exists                          None of the target's names is a presence of this org → hold.
15  already_showing                        The target (or the restore point) is already shown → no write.
16  the_agents_choice_outlives_the_episode The agent chose a status, then Teams went free again (the
                                           meeting ended) → no write: a restore never overwrites a
                                           status the agent chose. Only a new busy state overrides it.
17  loop_breaker                           More than ``loop_max_writes`` writes in
                                           ``loop_window_seconds`` → trip.
18  write                                  Write the target; at the end of an episode (Teams back to
                                           its baseline or free) and while our write still shows,
                                           restore the agent's earlier status instead. A chain of
                                           busy states (meeting → call) keeps the first restore point.

"Free" (rules 11, 16, 18) is whatever Teams Available maps to under the mapping in effect
(:attr:`SyncConfig.free_signals`), so a mapping the agent edits in the window keeps these rules right.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from tray_agent.core.mapping import DONT_SYNC, PresenceMapping
from tray_agent.core.memory import Candidate, Episode, PausedBy, Phase, SyncMemory, Write
from tray_agent.core.presence import OFFLINE, GenesysState, PresenceCatalog, TeamsPresence
from tray_agent.core.said import Said


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


# Each status as the activity names it ("debouncing: Teams …"): its value, sayable in the agent's language.
STATUS_WORDS: dict[SyncStatus, Said] = {
    SyncStatus.SYNCED: Said("synced"),
    SyncStatus.WRITING: Said("writing"),
    SyncStatus.DEBOUNCING: Said("debouncing"),
    SyncStatus.WAITING: Said("waiting"),
    SyncStatus.NOT_SYNCED_STATE: Said("not-synced-state"),
    SyncStatus.MANUAL: Said("manual"),
    SyncStatus.ON_QUEUE: Said("on-queue"),
    SyncStatus.OUT_OF_OFFICE: Said("out-of-office"),
    SyncStatus.GENESYS_OFFLINE: Said("genesys-offline"),
    SyncStatus.PAUSED: Said("paused"),
    SyncStatus.LOOP_BREAKER: Said("loop-breaker"),
    SyncStatus.MAPPING_ERROR: Said("mapping-error"),
}


TEAMS_FREE = TeamsPresence("Available", "Available")  # a meeting or call over

_HANDS_OFF = {SyncStatus.MANUAL, SyncStatus.ON_QUEUE, SyncStatus.OUT_OF_OFFICE, SyncStatus.GENESYS_OFFLINE}


@dataclass(frozen=True, slots=True)
class SyncConfig:
    mapping: PresenceMapping = field(default_factory=PresenceMapping.build)
    dwell_seconds: float = 10.0  # the confirming reading comes at least this long after the first
    max_genesys_staleness: float = 120.0
    loop_max_writes: int = 8
    loop_window_seconds: float = 600.0
    loop_cooldown_seconds: float = 1800.0
    # At an episode's end (a meeting or call over), put back the status from before it (rule 18); off:
    # Genesys simply follows Teams' mapping again. A status the agent chose still wins (rule 16).
    restore_earlier: bool = True

    @property
    def free_signals(self) -> tuple[str, ...]:
        """What "Teams is free again" (a meeting or call over) asks for: what Teams Available maps to
        now. Derived from the mapping, so one the agent edits keeps rules 11, 16 and 18 right."""
        signal = self.mapping.signal_for(TEAMS_FREE)
        return (signal,) if signal != DONT_SYNC else ()


@dataclass(frozen=True, slots=True)
class Situation:
    """What the rules see: the latest readings of both services, the org's presences, the time."""

    teams: TeamsPresence | None
    teams_read_at: float | None
    genesys: GenesysState | None
    catalog: PresenceCatalog
    config: SyncConfig
    now: float
    max_teams_age: float = math.inf  # a reading older than this is read again before it is acted on
    teams_requested_at: float | None = None  # when the latest reading was sent (None: when it came)
    genesys_unseen_for: float = 0.0  # how long Genesys had gone unconfirmed before this observation
    signal_backed: bool = False  # the reading follows a known local signal: it needs no second one
    teams_is_ours: bool = False  # the reading may be our own Teams session (core.teams_writeback)

    @property
    def signal(self) -> str | None:
        """What the Teams reading asks for; None for none, and for our own session showing (rule 8)."""
        if self.teams is None or self.teams_is_ours:
            return None
        return self.config.mapping.signal_for(self.teams)

    def describe_teams(self) -> str:
        return self.teams.describe() if self.teams is not None else "unknown"


@dataclass(frozen=True, slots=True)
class Decision:
    status: SyncStatus
    reason: str
    memory: SyncMemory
    write: Write | None = None
    recheck_at: float | None = None  # decide again then, even if nothing else happens


Step = Decision | SyncMemory
Rule = Callable[[Situation, SyncMemory], Step]


def _hold(status: SyncStatus, reason: str, memory: SyncMemory, recheck_at: float | None = None) -> Decision:
    return Decision(status, reason, memory, None, recheck_at)


def _acknowledge(memory: SyncMemory, signal: str) -> SyncMemory:
    return replace(memory, acted_signal=signal, candidate=None, force=False)


def hands_off_reason(genesys: GenesysState) -> SyncStatus | None:
    if genesys.on_queue:
        return SyncStatus.ON_QUEUE
    if genesys.out_of_office:
        return SyncStatus.OUT_OF_OFFICE
    if genesys.system_presence == OFFLINE:
        return SyncStatus.GENESYS_OFFLINE
    return None


_HANDS_OFF_REASON = {
    SyncStatus.ON_QUEUE: Said("On Queue in Genesys: hands off until the agent goes off queue"),
    SyncStatus.OUT_OF_OFFICE: Said("Out of Office in Genesys: hands off"),
    SyncStatus.GENESYS_OFFLINE: Said("Offline in Genesys: not bringing the agent online"),
}


# --- the rules, in table order ---------------------------------------------------------------------


def know_genesys(s: Situation, m: SyncMemory) -> Step:
    if s.genesys is None:
        return _hold(SyncStatus.WAITING, Said("waiting for the Genesys status"), m)
    if s.now - s.genesys.confirmed_at > s.config.max_genesys_staleness:
        return _hold(SyncStatus.WAITING, Said("Genesys status is not confirmed recently; re-reading first"), m)
    return m


def recognise_our_write(s: Situation, m: SyncMemory) -> Step:
    assert s.genesys is not None  # noqa: S101 - rule 1
    if m.in_flight is not None and s.genesys.presence_id == m.in_flight.write.presence_id:
        return confirm_write(m, m.in_flight.write, m.in_flight.shown_before, s.now, count=False)
    return m


def someone_else_changed_genesys(s: Situation, m: SyncMemory) -> Step:
    assert s.genesys is not None  # noqa: S101 - rule 1
    shown = s.genesys.presence_id
    if m.seen_presence_id is None or shown == m.seen_presence_id or m.phase is Phase.HANDS_OFF:
        return replace(m, seen_presence_id=shown)  # leaving hands-off is rule 5's
    signal = s.signal if s.signal is not None else m.acted_signal
    return replace(
        m,
        phase=Phase.MANUAL,
        seen_presence_id=shown,
        episode=None,
        candidate=None,
        force=False,
        acted_signal=signal,
        acknowledge_from=s.now,  # Teams is read again now; that reading is what they reacted to
    )


def hands_off(s: Situation, m: SyncMemory) -> Step:
    assert s.genesys is not None  # noqa: S101 - rule 1
    reason = hands_off_reason(s.genesys)
    if reason is None:
        return m
    acted = s.signal if s.signal is not None else m.acted_signal
    held = replace(m, phase=Phase.HANDS_OFF, episode=None, candidate=None, force=False, acknowledge_from=None)
    return _hold(reason, _HANDS_OFF_REASON[reason], replace(held, acted_signal=acted))


def hands_off_ended(s: Situation, m: SyncMemory) -> Step:
    # The last reading sent during hands-off is the baseline (acted_signal): what Teams showed then
    # is not pushed over the status the agent landed on; a later change is (rule 12 onwards). If
    # Genesys had gone unseen (signed out, offline), when hands-off ended is unknown: like a change
    # by hand, the next reading is what Teams showed.
    if m.phase is not Phase.HANDS_OFF:
        return m
    if s.genesys_unseen_for > s.config.max_genesys_staleness:
        return replace(m, phase=Phase.MANUAL, acknowledge_from=s.now)
    return replace(m, phase=Phase.MANUAL, baseline_until=s.now)


def teams_shows_our_own_status(s: Situation, m: SyncMemory) -> Step:
    if not s.teams_is_ours:
        return m
    reason = Said("Teams shows {teams}, set by this agent for Genesys: not carried back", teams=s.describe_teams())
    return _hold(SyncStatus.WAITING, reason, m)


def know_teams(s: Situation, m: SyncMemory) -> Step:
    signal = s.signal
    if signal is None or s.teams_read_at is None:
        return _hold(SyncStatus.WAITING, Said("waiting for the Teams status"), m)
    if m.acknowledge_from is not None:
        if s.teams_read_at < m.acknowledge_from:
            return _hold(SyncStatus.WAITING, Said("re-reading Teams after the change in Genesys"), m)
        m = replace(_acknowledge(m, signal), acknowledge_from=None)
    if m.baseline_until is not None:  # a reading sent before hands-off ended is still the baseline
        sent = s.teams_requested_at if s.teams_requested_at is not None else s.teams_read_at
        m = _acknowledge(m, signal) if sent < m.baseline_until else replace(m, baseline_until=None)
    if s.now - s.teams_read_at > s.max_teams_age:
        return _hold(SyncStatus.WAITING, Said("the Teams reading is too old to act on; re-reading it"), m)
    return m


def paused(s: Situation, m: SyncMemory) -> Step:
    if m.paused_until is None:
        return m
    until = m.paused_until if math.isfinite(m.paused_until) else None
    if m.paused_by is PausedBy.GENESYS:
        return _hold(SyncStatus.PAUSED, Said("Genesys asked us to wait: sync paused until then"), m, recheck_at=until)
    return _hold(SyncStatus.PAUSED, Said("sync paused by the agent"), m, recheck_at=until)


def loop_breaker_tripped(s: Situation, m: SyncMemory) -> Step:
    if m.tripped_until is None:
        return m
    reason = Said("too many changes in a short time: sync stopped to break a loop")
    return _hold(SyncStatus.LOOP_BREAKER, reason, m, recheck_at=m.tripped_until)


def teams_unchanged(s: Situation, m: SyncMemory) -> Step:
    assert s.genesys is not None  # noqa: S101 - rule 1
    signal = s.signal
    if signal is None or signal != m.acted_signal or m.force:
        return m
    m = replace(m, candidate=None)  # a change that reverted before its second reading is forgotten
    if signal == DONT_SYNC:
        return _hold(
            SyncStatus.NOT_SYNCED_STATE,
            Said("Teams {teams} is not synced: leaving Genesys alone", teams=s.describe_teams()),
            m,
        )
    target = PresenceMapping.resolve(signal, s.catalog)
    if target is None:
        return _hold(
            SyncStatus.MAPPING_ERROR, Said("none of {signal!r} is a presence in this Genesys org", signal=signal), m
        )
    if s.genesys.presence_id == target.id or (
        m.phase is not Phase.MANUAL and s.genesys.presence_id == m.owned_presence_id
    ):
        return _hold(SyncStatus.SYNCED, Said("Teams {teams}: nothing to change", teams=s.describe_teams()), m)
    return _hold(SyncStatus.MANUAL, Said("the agent set this status by hand; waiting for Teams to change"), m)


def first_look_at_a_free_teams(s: Situation, m: SyncMemory) -> Step:
    assert s.genesys is not None and s.signal is not None  # noqa: S101 - rules 1 and 9
    if m.phase is not Phase.STARTING or m.force or s.signal not in s.config.free_signals:
        return m
    target = PresenceMapping.resolve(s.signal, s.catalog)
    phase = Phase.FOLLOWING if target is not None and target.id == s.genesys.presence_id else Phase.MANUAL
    settled = replace(_acknowledge(m, s.signal), phase=phase)
    return _hold(
        SyncStatus.SYNCED, Said("Teams {teams}: keeping the agent's Genesys status", teams=s.describe_teams()), settled
    )


def confirm_with_a_second_reading(s: Situation, m: SyncMemory) -> Step:
    assert s.signal is not None and s.teams_read_at is not None  # noqa: S101 - rule 9
    if m.force or s.signal_backed:
        return replace(m, candidate=None) if s.signal_backed else m
    if m.candidate is None or m.candidate.signal != s.signal:
        m = replace(m, candidate=Candidate(s.signal, s.teams_read_at))
    assert m.candidate is not None  # noqa: S101 - just set
    confirm_at = m.candidate.first_read_at + s.config.dwell_seconds
    if s.teams_read_at < confirm_at:
        reason = Said("Teams {teams}: reading it again before acting", teams=s.describe_teams())
        return _hold(SyncStatus.DEBOUNCING, reason, m, recheck_at=confirm_at)
    return m


def dont_sync(s: Situation, m: SyncMemory) -> Step:
    if s.signal != DONT_SYNC:
        return m
    reason = Said("Teams {teams} is not synced: leaving Genesys alone", teams=s.describe_teams())
    return _hold(SyncStatus.NOT_SYNCED_STATE, reason, _acknowledge(m, DONT_SYNC))


def target_exists(s: Situation, m: SyncMemory) -> Step:
    assert s.signal is not None  # noqa: S101 - rule 9
    if PresenceMapping.resolve(s.signal, s.catalog) is not None:
        return m
    reason = Said("none of {signal!r} is a presence in this Genesys org", signal=s.signal)
    return _hold(SyncStatus.MAPPING_ERROR, reason, _acknowledge(m, s.signal))


def the_agents_choice_outlives_the_episode(s: Situation, m: SyncMemory) -> Step:
    assert s.signal is not None  # noqa: S101 - rule 9
    if m.phase is not Phase.MANUAL or m.force or s.signal not in s.config.free_signals:
        return m
    reason = Said("Teams {teams} again: keeping the status the agent chose", teams=s.describe_teams())
    return _hold(SyncStatus.MANUAL, reason, _acknowledge(m, s.signal))


def already_showing(s: Situation, m: SyncMemory) -> Step:
    assert s.genesys is not None and s.signal is not None  # noqa: S101 - rules 1 and 9
    target_id, restore = _target(s, m)
    if target_id != s.genesys.presence_id:
        return m
    settled = replace(_acknowledge(m, s.signal), phase=Phase.FOLLOWING, episode=None if restore else m.episode)
    return _hold(SyncStatus.SYNCED, Said("Teams {teams}: Genesys already shows it", teams=s.describe_teams()), settled)


def loop_breaker(s: Situation, m: SyncMemory) -> Step:
    window = s.config.loop_window_seconds
    recent = tuple(t for t in m.write_times if s.now - t < window)
    if len(recent) < s.config.loop_max_writes:
        return replace(m, write_times=recent)
    tripped = replace(m, write_times=recent, tripped_until=s.now + s.config.loop_cooldown_seconds, force=False)
    reason = Said(
        "{count} writes in {minutes:g} min: sync stopped to break a loop", count=len(recent), minutes=window / 60
    )
    return _hold(SyncStatus.LOOP_BREAKER, reason, tripped, recheck_at=tripped.tripped_until)


def write(s: Situation, m: SyncMemory) -> Step:
    assert s.signal is not None  # noqa: S101 - rule 9
    target_id, restore = _target(s, m)
    why = Said("restoring the agent's earlier status") if restore else Said("Teams {teams}", teams=s.describe_teams())
    return Decision(SyncStatus.WRITING, why, m, Write(target_id, s.signal, restore))


def _target(s: Situation, m: SyncMemory) -> tuple[str, bool]:
    """The presence to write, and whether it is a restore (rule 18)."""
    assert s.signal is not None  # noqa: S101 - rule 9
    resolved = PresenceMapping.resolve(s.signal, s.catalog)
    assert resolved is not None  # noqa: S101 - rule 14
    episode = m.episode
    ends_episode = episode is not None and (s.signal == episode.baseline_signal or s.signal in s.config.free_signals)
    if episode is not None and ends_episode and s.config.restore_earlier:
        return episode.restore_presence_id, True
    return resolved.id, False


RULES: tuple[Rule, ...] = (
    know_genesys,
    recognise_our_write,
    someone_else_changed_genesys,
    hands_off,
    hands_off_ended,
    paused,
    loop_breaker_tripped,
    teams_shows_our_own_status,
    know_teams,
    teams_unchanged,
    first_look_at_a_free_teams,
    confirm_with_a_second_reading,
    dont_sync,
    target_exists,
    already_showing,
    the_agents_choice_outlives_the_episode,
    loop_breaker,
    write,
)


def decide(situation: Situation, memory: SyncMemory) -> Decision:
    m = expire_timers(memory, situation.now)
    for rule in RULES:
        step = rule(situation, m)
        if isinstance(step, Decision):
            return step
        m = step
    raise AssertionError("the last rule always decides")  # pragma: no cover


# --- what follows a decision, and the agent's commands ---------------------------------------------


def expire_timers(memory: SyncMemory, now: float) -> SyncMemory:
    if memory.tripped_until is not None and now >= memory.tripped_until:
        memory = replace(memory, tripped_until=None, write_times=())
    if memory.paused_until is not None and now >= memory.paused_until:
        memory = replace(memory, paused_until=None, paused_by=PausedBy.AGENT)
    return memory


def confirm_write(memory: SyncMemory, write: Write, shown_before: str, now: float, *, count: bool = True) -> SyncMemory:
    """Record a write Genesys accepted; ``shown_before`` is what it showed when the write was decided.

    After a restore, the status shown is the agent's own choice again (MANUAL): Teams going free
    later does not override it, only a new busy state does (rule 16).

    ``count=False`` when the write was recognised from Genesys itself (rule 2): it was counted
    for the loop breaker when it was sent.
    """
    if write.restore:
        episode = None
    elif memory.episode is None:
        episode = Episode(write.presence_id, shown_before, memory.acted_signal or DONT_SYNC)
    else:
        episode = replace(memory.episode, owned_presence_id=write.presence_id)
    return replace(
        memory,
        phase=Phase.MANUAL if write.restore else Phase.FOLLOWING,
        episode=episode,
        seen_presence_id=write.presence_id,
        acted_signal=write.signal,
        candidate=None,
        force=False,
        in_flight=None,
        write_times=(*memory.write_times, now) if count else memory.write_times,
    )


def pause(memory: SyncMemory, until: float) -> SyncMemory:
    """The agent's pause: it replaces any pause before it."""
    return replace(memory, paused_until=until, paused_by=PausedBy.AGENT)


def pause_for_genesys(memory: SyncMemory, until: float) -> SyncMemory:
    """Genesys asked us to wait until ``until``. It never shortens a pause (the agent's "until I
    resume" stays), and a pause that already lasts as long stays as it is, with its cause: the
    same memory, so nothing is said again. "As long" allows a second, because a call made during
    the pause meets the client's gate, whose time still to wait is measured a moment apart from ours."""
    if memory.paused_until is not None and memory.paused_until >= until - 1.0:
        return memory
    return replace(memory, paused_until=until, paused_by=PausedBy.GENESYS)


def resume(memory: SyncMemory) -> SyncMemory:
    """Resume after a pause or a tripped loop breaker; a Teams change missed meanwhile is acted on."""
    return replace(memory, paused_until=None, paused_by=PausedBy.AGENT, tripped_until=None, write_times=())


def sync_now(memory: SyncMemory) -> SyncMemory:
    """Apply the current Teams state at the next reading, even over a status set by hand."""
    phase = Phase.FOLLOWING if memory.phase is not Phase.HANDS_OFF else memory.phase
    return replace(memory, phase=phase, acted_signal=None, candidate=None, force=True)
