"""The editable Teams → Genesys mapping.

Each entry maps one Teams value (an ``activity`` or an ``availability``) to a Genesys target written
as names separated by ``|`` — the first one the org has wins, so ``"Meeting|Busy"`` means "Meeting
where the org has it, else Busy". Names are system presences in any casing or secondary presences
by label. An empty target means "don't sync": Genesys is left alone while Teams is in that state.

The default is the seed blueprint's table (GenesysCloudBlueprints/gc-presence-update-from-ms-teams),
except that Offline/OffWork are "don't sync" (leave Genesys alone when Teams goes offline) and
InAMeeting prefers Meeting. The activity ``OutOfOffice`` (an out-of-office note on an otherwise
Available or Busy user) has no entry, so the availability decides. On Queue and Offline are refused
as targets.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field

from tray_agent.core.presence import PresenceCatalog, PresenceDefinition, TeamsPresence, normalise_system_presence

DEFAULT_MAPPING: dict[str, str] = {
    "Available": "Available",
    "Away": "Away",
    "BeRightBack": "Away",
    "Busy": "Busy",
    "DoNotDisturb": "Busy",
    "InACall": "Busy",
    "InAConferenceCall": "Busy",
    "InAMeeting": "Meeting|Busy",
    "Presenting": "Busy",
    "Focusing": "Busy",
    "UrgentInterruptionsOnly": "Busy",
    "AvailableIdle": "",
    "BusyIdle": "",
    "Inactive": "",
    "Offline": "",
    "OffWork": "",
    "PresenceUnknown": "",
}

DONT_SYNC = ""
_NEVER_TARGETS = {"ONQUEUE", "OFFLINE"}


class MappingError(ValueError):
    """A mapping entry that cannot be used; the message says which and why."""


def _normalise_target(raw: object, key: str) -> str:
    if raw is None or raw is False:
        return DONT_SYNC
    if not isinstance(raw, str):
        raise MappingError(f"mapping entry {key!r}: target must be a string of presence names, got {raw!r}")
    names = [name.strip() for name in raw.split("|")]
    if any(not name for name in names) and raw.strip():
        raise MappingError(f"mapping entry {key!r}: empty name in {raw!r}")
    for name in names:
        if normalise_system_presence(name).replace("_", "") in _NEVER_TARGETS:
            raise MappingError(
                f"mapping entry {key!r}: {name!r} cannot be a sync target "
                "(On Queue is routing's to set, and Offline would stop the sync for good)"
            )
    return "|".join(names) if raw.strip() else DONT_SYNC


@dataclass(frozen=True)
class PresenceMapping:
    """Teams value (lower-cased) → target (``"Meeting|Busy"``, or ``""`` for don't sync)."""

    entries: tuple[tuple[str, str], ...]
    _table: dict[str, str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_table", dict(self.entries))

    @classmethod
    def build(cls, overrides: MappingABC[str, object] | None = None, *, base: bool = True) -> PresenceMapping:
        """The default mapping with ``overrides`` applied; raises MappingError on a bad entry."""
        merged: dict[str, str] = {}
        if base:
            merged.update({key.lower(): value for key, value in DEFAULT_MAPPING.items()})
        for key, value in (overrides or {}).items():
            if not isinstance(key, str) or not key.strip():
                raise MappingError(f"mapping key must be a Teams presence value, got {key!r}")
            merged[key.strip().lower()] = _normalise_target(value, key)
        return cls(tuple(sorted(merged.items())))

    def signal_for(self, teams: TeamsPresence) -> str:
        """The target Teams is asking for: activity first (more specific), then availability."""
        for value in (teams.activity, teams.availability):
            target = self._table.get(value.lower())
            if target is not None:
                return target
        return DONT_SYNC

    @staticmethod
    def resolve(signal: str, catalog: PresenceCatalog) -> PresenceDefinition | None:
        """The first name in ``signal`` that the org has as an active presence."""
        for name in signal.split("|"):
            if name:
                definition = catalog.by_name(name)
                if definition is not None:
                    return definition
        return None
