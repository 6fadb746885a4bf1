"""A small fixture world for the sync-core specifications.

* The org: the ten Genesys system presences plus two secondary ones ("Teams call" under Busy, "Lunch"
  under Meal), with readable ids (``"id-available"``, ``"id-on-queue"``, ``"id-teams-call"`` …).
* Value constructors: :func:`teams` for a Teams presence, :func:`genesys` for a Genesys state
  confirmed "now".
* :class:`Driver`: runs decide → write → confirm_write the way the engine does, against a simulated
  Genesys that shows our writes, so multi-step scenarios read as a story. :func:`drive` does the
  same for a plain list of ``(teams, genesys, now)`` steps.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from tray_agent.core import decide as core
from tray_agent.core.decide import Decision, SyncConfig, SyncMemory, SyncStatus, Write
from tray_agent.core.presence import OFF_QUEUE, GenesysState, PresenceCatalog, PresenceDefinition, TeamsPresence

# --- the org's presences ---------------------------------------------------------------------------

AVAILABLE = PresenceDefinition("id-available", "AVAILABLE", "Available")
AWAY = PresenceDefinition("id-away", "AWAY", "Away")
BUSY = PresenceDefinition("id-busy", "BUSY", "Busy")
BREAK = PresenceDefinition("id-break", "BREAK", "Break")
MEAL = PresenceDefinition("id-meal", "MEAL", "Meal")
MEETING = PresenceDefinition("id-meeting", "MEETING", "Meeting")
TRAINING = PresenceDefinition("id-training", "TRAINING", "Training")
ON_QUEUE = PresenceDefinition("id-on-queue", "ON_QUEUE", "On Queue")
OFFLINE = PresenceDefinition("id-offline", "OFFLINE", "Offline")
IDLE = PresenceDefinition("id-idle", "IDLE", "Idle")
TEAMS_CALL = PresenceDefinition("id-teams-call", "BUSY", "Teams call", secondary=True)
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


# --- the driver ------------------------------------------------------------------------------------


class _Unchanged(enum.Enum):
    UNCHANGED = "unchanged"


UNCHANGED = _Unchanged.UNCHANGED
"""In a step: keep the simulated value (for Genesys: what it shows now, incl. our writes, re-confirmed)."""


@dataclass(frozen=True)
class Written:
    at: float
    write: Write

    @property
    def presence_id(self) -> str:
        return self.write.presence_id


@dataclass(frozen=True)
class Step:
    """One decision: what decide() was given and what it said, and whether its write was applied."""

    now: float
    teams: TeamsPresence | None
    genesys: GenesysState | None
    memory_before: SyncMemory
    decision: Decision
    applied: bool


@dataclass
class Driver:
    """Runs decide + confirm_write like the engine, against a simulated Genesys that applies our writes."""

    teams: TeamsPresence | None = None
    genesys: GenesysState | None = None
    config: SyncConfig = field(default_factory=SyncConfig)
    catalog: PresenceCatalog = CATALOG
    memory: SyncMemory = field(default_factory=SyncMemory)
    now: float = 0.0
    writes_fail: bool = False
    writes: list[Written] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    system_presence_of: dict[str, str] = field(default_factory=dict)  # ids the catalog does not know

    # --- the engine's loop ---

    def step(
        self,
        at: float | None = None,
        *,
        teams: TeamsPresence | _Unchanged | None = UNCHANGED,
        genesys: GenesysState | _Unchanged | None = UNCHANGED,
        reconfirm: bool = True,
    ) -> Decision:
        """Advance to ``at``, apply what changed, decide, and perform + confirm a write if there is one.

        With ``genesys`` left unchanged the simulated state is re-confirmed at ``at`` (the engine keeps
        it current through the notifications socket) unless ``reconfirm=False``.
        """
        if at is not None:
            assert at >= self.now, f"time runs forwards: {at} < {self.now}"
            self.now = at
        if not isinstance(teams, _Unchanged):
            self.teams = teams
        if not isinstance(genesys, _Unchanged):
            self.genesys = genesys
        elif self.genesys is not None and reconfirm:
            self.genesys = replace(self.genesys, confirmed_at=self.now)
        seen, memory_before = self.genesys, self.memory
        decision = core.decide(self.teams, seen, self.catalog, self.memory, self.config, self.now)
        self.memory = decision.memory
        applied = False
        if decision.write is not None and seen is not None and not self.writes_fail:
            self.genesys = self._apply(seen, decision.write)
            self.memory = core.confirm_write(self.memory, decision.write, seen, self.now)
            self.writes.append(Written(self.now, decision.write))
            applied = True
        self.steps.append(Step(self.now, self.teams, seen, memory_before, decision, applied))
        return decision

    def _apply(self, state: GenesysState, write: Write) -> GenesysState:
        written = self.catalog.by_id(write.presence_id)
        system = written.system_presence if written else self.system_presence_of.get(write.presence_id, "")
        return replace(
            state, presence_id=write.presence_id, system_presence=system, confirmed_at=self.now, modified_at=self.now
        )

    # --- the story vocabulary ---

    @classmethod
    def synced(
        cls,
        teams_now: TeamsPresence,
        genesys_shows: str,
        *,
        at: float = 0.0,
        config: SyncConfig | None = None,
        catalog: PresenceCatalog = CATALOG,
    ) -> Driver:
        """A running agent whose Teams state has been acknowledged, with Genesys showing ``genesys_shows``.

        Genesys must show what Teams maps to (or Teams must be a don't-sync state, or Genesys hands-off),
        so no write happens.
        """
        driver = cls(config=config or SyncConfig(), catalog=catalog)
        start = at - driver.config.dwell_seconds
        driver.now = start
        driver.step(start, teams=teams_now, genesys=genesys(genesys_shows, at=start, catalog=driver.catalog))
        settled = driver.step(at)
        assert settled.write is None and not driver.writes, f"the fixture start wrote: {settled}"
        assert settled.status is not SyncStatus.DEBOUNCING, settled
        return driver

    def teams_shows(self, availability: str | TeamsPresence, activity: str | None = None, *, at: float) -> Decision:
        value = availability if isinstance(availability, TeamsPresence) else teams(availability, activity)
        self._follow_timers(at)
        return self.step(at, teams=value)

    def teams_is_unknown(self, *, at: float) -> Decision:
        self._follow_timers(at)
        return self.step(at, teams=None)

    def agent_sets(self, name: str, *, at: float) -> Decision:
        """The agent picks a status in Genesys by hand (which also takes them off queue)."""
        self._follow_timers(at)
        shown = definition(name, self.catalog)
        assert self.genesys is not None
        state = replace(
            self.genesys,
            presence_id=shown.id,
            system_presence=shown.system_presence,
            routing_status=OFF_QUEUE,
            confirmed_at=at,
            modified_at=at,
        )
        return self.step(at, genesys=state)

    def goes_on_queue(self, *, at: float, routing: str = "IDLE") -> Decision:
        self._follow_timers(at)
        return self.step(at, genesys=on_queue(at=at, routing=routing))

    def goes_off_queue(self, *, at: float, lands_on: str = "Available") -> Decision:
        self._follow_timers(at)
        return self.step(at, genesys=genesys(lands_on, at=at, catalog=self.catalog))

    def routing_becomes(self, status: str, *, at: float) -> Decision:
        self._follow_timers(at)
        assert self.genesys is not None
        return self.step(at, genesys=replace(self.genesys, routing_status=status, confirmed_at=at))

    def out_of_office(self, active: bool, *, at: float) -> Decision:
        self._follow_timers(at)
        assert self.genesys is not None
        return self.step(at, genesys=replace(self.genesys, out_of_office=active, confirmed_at=at))

    def wait(self, *, at: float, reconfirm: bool = True) -> Decision:
        """Let time pass until ``at`` (following the core's timers on the way) and decide again."""
        if self._follow_timers(at, reconfirm=reconfirm) and self.now == at:
            return self.steps[-1].decision  # the timer fired at ``at`` itself
        return self.step(at, reconfirm=reconfirm)

    def _follow_timers(self, until: float, *, reconfirm: bool = True) -> int:
        """Re-decide at each ``recheck_at`` the core asked for up to ``until``, like the engine's timer.

        A timer due at the very moment of an event fires first. Returns how many fired.
        """
        fired = 0
        while self.steps and (due := self.steps[-1].decision.recheck_at) is not None and self.now < due <= until:
            self.step(due, reconfirm=reconfirm)
            fired += 1
        return fired

    def pause(self, *, at: float, until: float = float("inf")) -> Decision:
        self._follow_timers(at)
        self.memory = core.pause(self.memory, until)
        return self.step(at)

    def resume(self, *, at: float) -> Decision:
        self._follow_timers(at)
        self.memory = core.resume(self.memory)
        return self.step(at)

    def sync_now(self, *, at: float) -> Decision:
        self._follow_timers(at)
        self.memory = core.sync_now(self.memory)
        return self.step(at)

    # --- what the story can check ---

    @property
    def shows(self) -> str:
        """The label of what Genesys shows now (``"Break"``, ``"Teams call"``)."""
        assert self.genesys is not None
        known = self.catalog.by_id(self.genesys.presence_id)
        return known.label if known else self.genesys.presence_id

    @property
    def written(self) -> list[str]:
        """Labels of everything we wrote so far, in order."""
        return [self.label_of(w.presence_id) for w in self.writes]

    def writes_since(self, at: float) -> list[Written]:
        return [w for w in self.writes if w.at >= at]

    def label_of(self, presence_id: str) -> str:
        known = self.catalog.by_id(presence_id) or next((d for d in DEFINITIONS if d.id == presence_id), None)
        return known.label if known else presence_id

    def story(self) -> str:
        """The steps so far, one a line, for assertion messages."""
        lines = []
        for s in self.steps:
            shown = self.label_of(s.genesys.presence_id) if s.genesys else "-"
            wrote = f" → wrote {self.label_of(s.decision.write.presence_id)}" if s.decision.write else ""
            lines.append(
                f"t={s.now:g} teams={s.teams.describe() if s.teams else None} genesys={shown}: "
                f"{s.decision.status.value}{wrote}"
            )
        return "\n".join(lines)


def drive(
    steps: Iterable[tuple[TeamsPresence | _Unchanged | None, GenesysState | _Unchanged | None, float]],
    *,
    config: SyncConfig | None = None,
    catalog: PresenceCatalog = CATALOG,
    memory: SyncMemory | None = None,
) -> Driver:
    """Run ``(teams, genesys, now)`` steps through the engine loop; returns the driver to inspect."""
    driver = Driver(config=config or SyncConfig(), catalog=catalog, memory=memory or SyncMemory())
    for teams_now, genesys_now, now in steps:
        if not driver.steps:
            driver.now = now
        driver.step(now, teams=teams_now, genesys=genesys_now)
    return driver
