"""Test doubles for policy sources: a registry held in a dict, and a policy given as plain layers."""

from __future__ import annotations

from collections.abc import Mapping

from tray_agent.config.policy import POLICY_REGISTRY_KEY, Hive, RawLayer

TENANT = "11111111-2222-3333-4444-555555555555"
MS_CLIENT = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
GENESYS_CLIENT = "99999999-8888-7777-6666-555555555555"


class FakeRegistry:
    """``{(hive, key): {value name: data}}`` — data as winreg returns it (str, int, list[str], bytes)."""

    def __init__(self, keys: Mapping[tuple[Hive, str], Mapping[str, object]] | None = None) -> None:
        self.keys = {location: dict(values) for location, values in (keys or {}).items()}
        self.broken: set[Hive] = set()

    def set(self, hive: Hive, **values: object) -> FakeRegistry:
        self.keys.setdefault((hive, POLICY_REGISTRY_KEY), {}).update(values)
        return self

    def values(self, hive: Hive, key: str) -> dict[str, object] | None:
        if hive in self.broken:
            raise PermissionError(5, "Access is denied")
        found = self.keys.get((hive, key))
        return None if found is None else dict(found)


class GivenPolicy:
    """A policy source that hands over fixed layers."""

    def __init__(self, *layers: RawLayer) -> None:
        self._layers = list(layers)

    def layers(self) -> list[RawLayer]:
        return list(self._layers)


def file_policy(**values: object) -> GivenPolicy:
    return GivenPolicy(RawLayer("/etc/xdg/TeamsGenesysPresence/policy.toml", values))
