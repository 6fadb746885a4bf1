"""Changing values of the user's ``settings.toml`` from the agent itself (the tray's toggles, the
window's mapping editor).

The file is the agent's own to edit by hand too, so a change keeps every comment, blank line and
value around it (tomlkit round-trips TOML). It is written atomically: a temporary file in the same
folder, readable by the user only, flushed to disk, then renamed over the old one, so a crash never
leaves half a file. A file that is not valid TOML is left exactly as it is and the change is refused
with the parser's words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import tomlkit
from tomlkit.exceptions import TOMLKitError

from tray_agent.config.layers import LayeredSettings, layer_settings
from tray_agent.config.paths import write_private
from tray_agent.config.policy import Policy, read_policy
from tray_agent.config.settings import DEFAULT_SETTINGS_TOML
from tray_agent.config.settings_error import SettingsError

Value = bool | int | float | str | list[str]
CASE_FOLDED = frozenset({"mapping"})  # tables whose keys are read without regard to case


def set_setting(path: Path, table: str, key: str, value: Value) -> None:
    """``[table] key = value`` in the file at ``path`` (the commented default first if there is none)."""
    set_settings(path, {(table, key): value})


def set_settings(path: Path, changes: Mapping[tuple[str, str], Value | None]) -> None:
    """Every ``(table, key) → value`` of ``changes`` in one atomic write (None removes the key, so the
    default applies again); everything else in the file, comments included, stays as it was."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = DEFAULT_SETTINGS_TOML
    try:
        document = tomlkit.parse(text)
    except TOMLKitError as error:
        raise SettingsError(f"{path.name} is not valid TOML ({error}); it was left as it is") from None
    for (table, key), value in changes.items():
        section = document.get(table)
        if section is None:
            if value is None:
                continue
            section = tomlkit.table()
            document.add(table, section)
        if not isinstance(section, dict):
            raise SettingsError(f"{path.name}: [{table}] is not a table; it was left as it is")
        if table in CASE_FOLDED:  # one entry per Teams value, however the user spelled its name
            for spelled in [name for name in section if name.lower() == key.lower() and name != key]:
                del section[spelled]
        if value is None:
            section.pop(key, None)
        else:
            section[key] = value
    write_private(path, tomlkit.dumps(document))


class UserSettingsFile:
    """The user's ``settings.toml`` under this machine's IT policy, for the window's editor: what is in
    effect (and locked) now, and saving changes to it (policy is read again each time: IT may change it)."""

    def __init__(self, path: Path, policy: Callable[[], Policy] = read_policy) -> None:
        self.path = path
        self._policy = policy

    def current(self) -> LayeredSettings:
        return layer_settings(self.path, self._policy())

    def save(self, changes: Mapping[tuple[str, str], Value | None]) -> LayeredSettings:
        """Writes ``changes`` (raises SettingsError or OSError, leaving the file as it was) and returns
        the settings now in effect."""
        set_settings(self.path, changes)
        return self.current()
