"""The settings in effect: built-in defaults < the user's ``settings.toml`` < IT policy.

Policy values lock the matching settings: the user's file cannot change them, and
:class:`LayeredSettings` says which are locked (for the tray and ``doctor``). A file that cannot be
used leaves the last good one in effect.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tray_agent.config.paths import AgentPaths, write_private
from tray_agent.config.policy import Policy, PolicySource, read_policy
from tray_agent.config.settings import DEFAULT_SETTINGS_TOML, Settings, SettingsError, read_toml
from tray_agent.core.interactions import Media
from tray_agent.core.mapping import DEFAULT_MAPPING, PresenceMapping

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LayeredSettings:
    """The settings in effect (defaults < user file < IT policy), and what the user cannot change."""

    settings: Settings
    locked: frozenset[str]  # setting names set by policy (and "mapping.<TeamsValue>" per mapping entry)
    problems: tuple[str, ...]  # policy problems, then the settings file's; each a sentence for people
    policy: Policy
    file_problem: str | None = None  # the user's file could not be used (its values are not in effect)
    ignored: frozenset[str] = frozenset()  # keys the user's file sets that policy overrides
    user_keys: frozenset[str] = frozenset()  # what the file in effect sets: [agent] keys, "mapping.<teamsvalue>"
    last_good_in_effect: bool = False  # the file could not be used: its last good copy's values are in effect


def apply_policy(settings: Settings, policy: Policy) -> Settings:
    """``settings`` with every locked value replaced by policy's (or the built-in default where the
    policy value was unusable). ``min_poll_interval`` becomes ``Timing.poll_floor``, under the user's interval."""
    defaults = Settings()
    changes: dict[str, Any] = {}
    for name in (
        "tenant_id",
        "microsoft_client_id",
        "genesys_region",
        "genesys_client_id",
        "genesys_redirect_port",
        "allow_insecure_keyring",
        "allow_device_code",
        "start_at_login",
        "windows_broker",
        "calendar_triggers",
        "teams_writeback",
        "teams_writeback_media",
        "teams_busy_while_on_queue",
        "teams_preferred_presence",
        "allow_different_emails",
        "microsoft_cloud",
        "proxy",
        "proxy_bypass",
        "pac_url",
    ):
        if name in policy.locked:
            value = policy.value_of(name)
            changes[name] = getattr(defaults, name) if value is None else value
    timing = settings.timing
    if policy.min_poll_interval is not None:
        timing = dataclasses.replace(timing, poll_floor=policy.min_poll_interval)  # the engine polls at max(both)
    if policy.fleet_size is not None:
        timing = dataclasses.replace(timing, fleet_size=policy.fleet_size)  # core.triggers: the agent's share
    table = dict(settings.sync.mapping.entries)
    from_policy = {name.lower(): target for name, target in policy.mapping}
    default_targets = {name.lower(): target for name, target in DEFAULT_MAPPING.items()}
    for locked in policy.locked:
        if locked.startswith("mapping."):
            name = locked.removeprefix("mapping.").lower()
            target = from_policy.get(name, default_targets.get(name))
            if target is None:
                table.pop(name, None)
            else:
                table[name] = target
    sync = dataclasses.replace(settings.sync, mapping=PresenceMapping(tuple(sorted(table.items()))))
    return dataclasses.replace(settings, **changes, timing=timing, sync=sync)


def default_settings_text(policy: Policy | None = None) -> str:
    """The commented default settings file; with policy, it names the settings IT has set."""
    if policy is None or not policy.locked:
        return DEFAULT_SETTINGS_TOML
    from_policy = dict(policy.mapping)
    lines = ["# Set by your IT department (policy), so changing these here has no effect:"]
    for name in sorted(policy.locked):
        if name.startswith("mapping."):
            teams = name.removeprefix("mapping.")
            value: object = from_policy.get(teams)
            label = f"[mapping] {teams}"
        else:
            value, label = policy.value_of(name), name
        lines.append(f"#   {label} = {_toml_literal(value)}" if value is not None else f"#   {label} (default)")
    header, _, rest = DEFAULT_SETTINGS_TOML.partition("\n\n")
    return f"{header}\n" + "\n".join(lines) + f"\n\n{rest}"


def _toml_literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple):  # teams_writeback_media: a TOML array of names
        return json.dumps([item.value if isinstance(item, Media) else str(item) for item in value])
    return str(value)


def _user_keys(document: Mapping[str, Any]) -> set[str]:
    keys: set[str] = set()
    agent, mapping = document.get("agent"), document.get("mapping")
    if isinstance(agent, Mapping):
        keys.update(str(name) for name in agent)
    if isinstance(mapping, Mapping):
        keys.update(f"mapping.{str(name).lower()}" for name in mapping)
    return keys


def layer_settings(path: Path, policy: Policy) -> LayeredSettings:
    """Defaults < the settings file at ``path`` < ``policy``. Writes the commented default file when
    there is none. A file that cannot be used counts as empty (and is left as it is for the user)."""

    file_problem: str | None = None
    document: dict[str, Any] = {}
    from_last_good = False
    if not path.exists():
        try:
            write_private(path, default_settings_text(policy))
        except OSError as error:
            file_problem = f"{path.name}: could not be created ({error.strerror}) — using defaults"
    else:
        last_good = path.with_name(path.name + ".last-good")
        value_problems: list[str] = []
        try:
            document = read_toml(path)
            # validate the file on its own: its problems are the user's
            Settings.from_mapping(document, problems=value_problems)
        except (SettingsError, OSError) as error:
            document = _last_good(last_good)
            from_last_good = bool(document)
            fallback = "the last good settings" if document else "defaults"
            said = str(error).removeprefix(f"{path.name}: ")  # read_toml names the file already
            file_problem = f"{path.name}: {said} — using {fallback} until it is fixed"
        else:
            if value_problems:  # the rest of the file applies; those values keep their defaults
                file_problem = f"{path.name}: " + "; ".join(value_problems)
            else:
                _remember_good(path, last_good)
    user = Settings.from_mapping(document, problems=[]) if document else Settings()
    settings = apply_policy(user, policy)
    user_keys = _user_keys(document)
    ignored = {name for name in policy.locked if name in user_keys or name.lower() in user_keys}
    if "poll_interval" in user_keys and user.timing.poll_interval < settings.timing.poll_floor:
        ignored.add("poll_interval")
    problems = (*policy.problems, *((file_problem,) if file_problem else ()))
    return LayeredSettings(
        settings,
        policy.locked,
        problems,
        policy,
        file_problem,
        frozenset(ignored),
        frozenset(user_keys),
        from_last_good,
    )


def _remember_good(path: Path, last_good: Path) -> None:
    """Keep a copy of a settings file that loaded, for when a later save is half-written."""

    try:
        text = path.read_text(encoding="utf-8")
        if not last_good.exists() or last_good.read_text(encoding="utf-8") != text:
            write_private(last_good, text)
    except OSError as error:
        log.warning("could not keep a copy of the good settings: %s", error.strerror)


def _last_good(last_good: Path) -> dict[str, Any]:
    try:
        document = read_toml(last_good)
        Settings.from_mapping(document)
    except (SettingsError, OSError):
        return {}
    return document


def load_effective_settings(paths: AgentPaths, *, policy_source: PolicySource | None = None) -> LayeredSettings:
    """The settings in effect for this user: built-in defaults < ``paths.settings_file`` < this
    machine's IT policy (or ``policy_source``). Never raises for bad content: see ``problems``."""

    return layer_settings(paths.settings_file, read_policy(policy_source))


def load_user_settings(path: Path, *, policy_source: PolicySource | None = None) -> tuple[Settings, str | None]:
    """The settings in effect (the user's file at ``path``, under this machine's IT policy), creating
    the commented default file if there is none.

    A file that cannot be used gives the defaults (still under policy) and a message saying what is
    wrong; the file is left as it is for the agent to fix. Policy problems do not stop the agent:
    they are logged here, and :func:`load_effective_settings` returns them for display.
    """

    layered = layer_settings(path, read_policy(policy_source))
    for problem in layered.policy.problems:
        log.warning("IT policy: %s", problem)
    return layered.settings, layered.file_problem
