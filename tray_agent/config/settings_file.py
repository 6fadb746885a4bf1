"""Changing one value of the user's ``settings.toml`` from the agent itself (the tray's toggles).

The file is the agent's own to edit by hand too, so a change keeps every comment, blank line and
value around it (tomlkit round-trips TOML). It is written atomically: a temporary file in the same
folder, readable by the user only, flushed to disk, then renamed over the old one, so a crash never
leaves half a file. A file that is not valid TOML is left exactly as it is and the change is refused
with the parser's words.
"""

from __future__ import annotations

from pathlib import Path

import tomlkit
from tomlkit.exceptions import TOMLKitError

from tray_agent.config.paths import write_private
from tray_agent.config.settings import DEFAULT_SETTINGS_TOML
from tray_agent.config.settings_error import SettingsError

Value = bool | int | float | str | list[str]


def set_setting(path: Path, table: str, key: str, value: Value) -> None:
    """``[table] key = value`` in the file at ``path`` (the commented default first if there is none)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = DEFAULT_SETTINGS_TOML
    try:
        document = tomlkit.parse(text)
    except TOMLKitError as error:
        raise SettingsError(f"{path.name} is not valid TOML ({error}); it was left as it is") from None
    section = document.get(table)
    if section is None:
        section = tomlkit.table()
        document.add(table, section)
    if not isinstance(section, dict):
        raise SettingsError(f"{path.name}: {table} is not a table; it was left as it is")
    section[key] = value
    write_private(path, tomlkit.dumps(document))
