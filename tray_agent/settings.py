"""Settings: which tenant/org to talk to, and how the sync behaves.

Three layers, each winning over the one before: built-in defaults < the user's ``settings.toml`` <
IT policy (:mod:`tray_agent.policy`). Policy values lock the matching settings: the user's file
cannot change them, and :class:`LayeredSettings` says which are locked (for the tray and ``doctor``).

Endpoints are derived from the Entra tenant and the Genesys region (region table from
shared/reference/genesys-cloud.md §3.1); only the simulator overrides them, and it adds its own CA
to the trusted set — TLS verification is never switched off.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from tray_agent.core.mapping import DEFAULT_MAPPING, MappingError, PresenceMapping
from tray_agent.core.polling import WorkingHours
from tray_agent.core.rules import SyncConfig

if TYPE_CHECKING:
    from tray_agent.paths import AgentPaths
    from tray_agent.policy import Policy, PolicySource

log = logging.getLogger(__name__)

GENESYS_REGIONS: dict[str, str] = {
    "us_east_1": "mypurecloud.com",
    "us_east_2": "use2.us-gov-pure.cloud",
    "us_west_2": "usw2.pure.cloud",
    "ca_central_1": "cac1.pure.cloud",
    "sa_east_1": "sae1.pure.cloud",
    "mx_central_1": "mxc1.pure.cloud",
    "eu_west_1": "mypurecloud.ie",
    "eu_west_2": "euw2.pure.cloud",
    "eu_central_1": "mypurecloud.de",
    "eu_central_2": "euc2.pure.cloud",
    "eusc_de_east_1": "edee1.eusc-pure.cloud",
    "me_central_1": "mec1.pure.cloud",
    "ap_south_1": "aps1.pure.cloud",
    "ap_southeast_1": "apse1.pure.cloud",
    "ap_southeast_2": "mypurecloud.com.au",
    "ap_northeast_1": "mypurecloud.jp",
    "ap_northeast_2": "apne2.pure.cloud",
    "ap_northeast_3": "apne3.pure.cloud",
}

# Microsoft national clouds where Graph presence exists (reference: signals-writeback-enterprise.md §4;
# Microsoft's "national cloud deployments" page): setting value → (Entra sign-in host, Graph host).
MICROSOFT_CLOUDS: dict[str, tuple[str, str]] = {
    "global": ("login.microsoftonline.com", "graph.microsoft.com"),
    "gcc_high": ("login.microsoftonline.us", "graph.microsoft.us"),  # US Government L4
    "dod": ("login.microsoftonline.us", "dod-graph.microsoft.us"),  # US Government L5
}


class SettingsError(ValueError):
    """A setting that cannot be used; the message names it and says what is expected."""


# Every number the settings file takes, with its range (documented in the default file, below). A value
# outside it is a problem line, and that one setting keeps its default; the rest of the file applies.
NUMERIC_RANGES: Final[dict[str, tuple[float, float]]] = {
    "poll_interval": (5, 3600),  # seconds
    "genesys_fallback_poll": (5, 600),  # seconds
    "dwell_seconds": (0, 600),  # seconds
    "loop_max_writes": (1, 100),
    "loop_window_minutes": (1, 1440),
    "genesys_redirect_port": (1024, 65535),
}


@dataclass(frozen=True, slots=True)
class Endpoints:
    entra_authority: str
    graph_base: str
    genesys_login_base: str
    genesys_api_base: str
    extra_ca_file: str | None = None  # the simulator's private CA; added to, never replacing, the trust store

    @classmethod
    def cloud(cls, tenant_id: str, genesys_region: str, microsoft_cloud: str = "global") -> Endpoints:
        domain = GENESYS_REGIONS.get(genesys_region)
        if domain is None:
            raise SettingsError(f"genesys_region {genesys_region!r} is not a Genesys Cloud region")
        hosts = MICROSOFT_CLOUDS.get(microsoft_cloud)
        if hosts is None:
            raise SettingsError(f"microsoft_cloud {microsoft_cloud!r} is not one of: {', '.join(MICROSOFT_CLOUDS)}")
        login, graph = hosts
        return cls(
            entra_authority=f"https://{login}/{tenant_id}",
            graph_base=f"https://{graph}",
            genesys_login_base=f"https://login.{domain}",
            genesys_api_base=f"https://api.{domain}",
        )

    @classmethod
    def simulator(cls, base_url: str, tenant_id: str, ca_file: str) -> Endpoints:
        return cls(f"{base_url}/{tenant_id}", base_url, base_url, base_url, ca_file)


@dataclass(frozen=True, slots=True)
class Timing:
    """How often the engine talks to each service (seconds of the engine's clock)."""

    poll_interval: float = 60.0  # see core/polling.py: the Graph presence budget is shared by the fleet
    poll_floor: float = 0.0  # IT policy minimum (core.polling.fleet_floor gives it from the fleet size)
    poll_jitter: float = 0.1  # ± fraction, so a fleet's polls never line up
    genesys_fallback_poll: float = 30.0  # users/me while the notifications socket is down
    heartbeat_timeout: float = 75.0  # Genesys heartbeats every 30 s; silence this long means a dead socket
    backoff_base: float = 2.0
    backoff_cap: float = 300.0
    max_honoured_retry_after: float = 180.0  # longer Retry-After → pause that service and report
    working_hours: str = ""  # e.g. "Mon-Fri 07:30-18:00" (local time); empty = always (core.polling.WorkingHours)
    pause_when_away: bool = True  # no Graph reads while the session is locked or long idle


@dataclass(frozen=True, slots=True)
class Settings:
    tenant_id: str = ""
    microsoft_client_id: str = ""
    genesys_region: str = "us_east_1"
    genesys_client_id: str = ""
    genesys_redirect_port: int = 8765
    allow_insecure_keyring: bool = False  # store sign-ins without a secure OS keyring (not recommended)
    allow_device_code: bool = True  # Microsoft device-code sign-in (IT may forbid it by policy)
    start_at_login: bool | None = None  # None: each user decides (tray menu); True/False: set by IT policy
    windows_broker: bool = False  # Windows only: sign in to Microsoft through the Web Account Manager (WAM)
    # IT policy only: the Genesys user's email may differ from the Microsoft user name (UPN).
    allow_different_emails: bool = False
    microsoft_cloud: str = "global"  # or gcc_high (US Government L4), dod (L5): MICROSOFT_CLOUDS
    proxy: str = ""  # host:port for every channel (else: PAC file, environment, the OS settings)
    proxy_bypass: str = ""  # hosts that go direct despite ``proxy``: "*.corp.example;<local>"
    pac_url: str = ""  # a PAC file to evaluate (WinHTTP on Windows, pypac elsewhere)
    timing: Timing = field(default_factory=Timing)
    sync: SyncConfig = field(default_factory=SyncConfig)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, problems: list[str] | None = None) -> Settings:
        """Build from a parsed TOML document; raises SettingsError naming the bad key.

        With ``problems``, a number that is not one, or is outside :data:`NUMERIC_RANGES`, is reported
        there instead and that setting keeps its default."""

        def number(key: str, default: float) -> float:
            return _number(general or {}, key, default, problems)

        general = dict(data.get("agent", {})) if isinstance(data.get("agent", {}), Mapping) else None
        if general is None:
            raise SettingsError("[agent] must be a table")
        working_hours = _text(general, "working_hours", "")
        try:
            WorkingHours.parse(working_hours)
        except ValueError as error:
            raise SettingsError(str(error)) from None
        pause_when_away = general.get("pause_when_away", True)
        if not isinstance(pause_when_away, bool):
            raise SettingsError(f"pause_when_away must be true or false, got {pause_when_away!r}")
        timing = Timing(
            poll_interval=number("poll_interval", 60.0),
            genesys_fallback_poll=number("genesys_fallback_poll", 30.0),
            working_hours=working_hours,
            pause_when_away=pause_when_away,
        )
        mapping_table = data.get("mapping", {})
        if not isinstance(mapping_table, Mapping):
            raise SettingsError('[mapping] must be a table of Teams value = "Genesys presence"')
        try:
            mapping = PresenceMapping.build(mapping_table)
        except MappingError as error:
            raise SettingsError(str(error)) from None
        sync = SyncConfig(
            mapping=mapping,
            dwell_seconds=number("dwell_seconds", 10.0),
            loop_max_writes=int(number("loop_max_writes", 8)),
            loop_window_seconds=number("loop_window_minutes", 10.0) * 60,
        )
        port = int(number("genesys_redirect_port", 8765))
        region = _text(general, "genesys_region", "us_east_1")
        if region not in GENESYS_REGIONS:
            raise SettingsError(f"genesys_region {region!r} is not one of: {', '.join(GENESYS_REGIONS)}")
        cloud = _text(general, "microsoft_cloud", "global").lower()
        if cloud not in MICROSOFT_CLOUDS:
            raise SettingsError(f"microsoft_cloud {cloud!r} is not one of: {', '.join(MICROSOFT_CLOUDS)}")
        proxy, pac_url = _text(general, "proxy", ""), _text(general, "pac_url", "")
        _check_proxy_settings(proxy, pac_url)
        return cls(
            tenant_id=_text(general, "tenant_id", ""),
            microsoft_client_id=_text(general, "microsoft_client_id", ""),
            genesys_region=region,
            genesys_client_id=_text(general, "genesys_client_id", ""),
            genesys_redirect_port=port,
            allow_insecure_keyring=_flag(general, "allow_insecure_keyring"),
            windows_broker=_flag(general, "windows_broker"),
            microsoft_cloud=cloud,
            proxy=proxy,
            proxy_bypass=_text(general, "proxy_bypass", ""),
            pac_url=pac_url,
            timing=timing,
            sync=sync,
        )

    @classmethod
    def load(cls, path: Path) -> Settings:
        """The file alone (no policy); raises SettingsError or OSError."""
        return cls.from_mapping(_read_toml(path))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SettingsError(f"{path.name}: not valid TOML ({error})") from None
    except RecursionError:  # tomllib recurses per nested array/table: a damaged or hostile file
        raise SettingsError(f"{path.name}: nested too deeply to be a settings file") from None


def _check_proxy_settings(proxy: str, pac_url: str) -> None:
    from tray_agent.clients.proxy import ProxyResolver

    try:
        ProxyResolver(policy_proxy=proxy, pac_url=pac_url, environ={})
    except ValueError as error:
        raise SettingsError(f"proxy/pac_url: {error}") from None


def _number(table: Mapping[str, Any], key: str, default: float, problems: list[str] | None) -> float:
    value = table.get(key, default)
    low, high = NUMERIC_RANGES[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        complaint = f"{key} must be a number, got {value!r:.40}"
    elif not math.isfinite(value):
        complaint = f"{key} must be a finite number, got {value!r}"
    elif value < low:
        complaint = f"{key} must be at least {low:g}, got {value!r:.40}"
    elif value > high:
        complaint = f"{key} must be at most {high:g}, got {value!r:.40}"
    else:
        return float(value)
    if problems is None:
        raise SettingsError(f"{complaint} (range {low:g}–{high:g})")
    problems.append(f"{complaint} (range {low:g}–{high:g}) — using the default, {default:g}")
    return float(default)


def _flag(table: Mapping[str, Any], key: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise SettingsError(f"{key} must be true or false, got {value!r}")
    return value


def _text(table: Mapping[str, Any], key: str, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise SettingsError(f"{key} must be text, got {value!r}")
    return value.strip()


DEFAULT_SETTINGS_TOML = """\
# Teams → Genesys presence agent: your settings.
# Lines starting with # are comments. Remove the # in front of a line to change that setting.
# Settings your IT department has set by policy cannot be changed here.

[agent]
# Your organisation's Microsoft Entra tenant ID and the agent's app registration (ask IT).
# tenant_id = "00000000-0000-0000-0000-000000000000"
# microsoft_client_id = "00000000-0000-0000-0000-000000000000"

# Your Genesys Cloud region (e.g. us_east_1, eu_west_1, ap_southeast_2) and OAuth client (ask IT).
# genesys_region = "us_east_1"
# genesys_client_id = "00000000-0000-0000-0000-000000000000"
# The port registered for the Genesys sign-in redirect (1024–65535).
# genesys_redirect_port = 8765

# How often Teams is checked, in seconds: 5–3600 (IT may set a higher minimum).
# poll_interval = 60
# How often Genesys is checked while its live connection is down, in seconds: 5–600.
# genesys_fallback_poll = 30
# How long a Teams change must last before Genesys follows, in seconds: 0–600.
# dwell_seconds = 10
# Safety stop: more than loop_max_writes (1–100) changes within loop_window_minutes (1–1440) pauses sync.
# loop_max_writes = 8
# loop_window_minutes = 10

# When you work (local time). Outside these hours Teams is not checked. Empty = always.
# working_hours = "Mon-Fri 07:30-18:00"
# Don't check Teams while your session is locked or idle (saves the company's shared Graph budget).
# pause_when_away = true

# Windows only: sign in to Microsoft with your Windows account (Web Account Manager) instead of the browser.
# windows_broker = false

# Microsoft cloud: global, gcc_high (US Government L4) or dod (US Government L5). Ask IT.
# microsoft_cloud = "global"

# Network. Normally nothing to set: the agent uses your system's proxy settings (on Windows including
# PAC/WPAD) or HTTPS_PROXY/NO_PROXY. Set these only if IT tells you to.
# proxy = "proxy.example.com:8080"
# proxy_bypass = "*.example.com;<local>"
# pac_url = "http://wpad.example.com/proxy.pac"

# Sign-ins are kept in your system's secure keyring. Only if you have none (and accept the risk):
# allow_insecure_keyring = false

[mapping]
# Teams status = Genesys status. Names are Genesys system presences or your org's secondary
# presences by label. "A|B" means A where your org has it, otherwise B. "" means: don't sync.
# Available = "Available"
# Away = "Away"
# BeRightBack = "Away"
# Busy = "Busy"
# DoNotDisturb = "Busy"
# InACall = "Busy"
# InAMeeting = "Meeting|Busy"
# Presenting = "Busy"
# Offline = ""
"""


@dataclass(frozen=True, slots=True)
class LayeredSettings:
    """The settings in effect (defaults < user file < IT policy), and what the user cannot change."""

    settings: Settings
    locked: frozenset[str]  # setting names set by policy (and "mapping.<TeamsValue>" per mapping entry)
    problems: tuple[str, ...]  # policy problems, then the settings file's; each a sentence for people
    policy: Policy
    file_problem: str | None = None  # the user's file could not be used (its values are not in effect)
    ignored: frozenset[str] = frozenset()  # keys the user's file sets that policy overrides


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
    from tray_agent.paths import write_private

    file_problem: str | None = None
    document: dict[str, Any] = {}
    if not path.exists():
        try:
            write_private(path, default_settings_text(policy))
        except OSError as error:
            file_problem = f"{path.name}: could not be created ({error.strerror}) — using defaults"
    else:
        last_good = path.with_name(path.name + ".last-good")
        value_problems: list[str] = []
        try:
            document = _read_toml(path)
            # validate the file on its own: its problems are the user's
            Settings.from_mapping(document, problems=value_problems)
        except (SettingsError, OSError) as error:
            document = _last_good(last_good)
            fallback = "the last good settings" if document else "defaults"
            file_problem = f"{path.name}: {error} — using {fallback} until it is fixed"
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
    return LayeredSettings(settings, policy.locked, problems, policy, file_problem, frozenset(ignored))


def _remember_good(path: Path, last_good: Path) -> None:
    """Keep a copy of a settings file that loaded, for when a later save is half-written."""
    from tray_agent.paths import write_private

    try:
        text = path.read_text(encoding="utf-8")
        if not last_good.exists() or last_good.read_text(encoding="utf-8") != text:
            write_private(last_good, text)
    except OSError as error:
        log.warning("could not keep a copy of the good settings: %s", error.strerror)


def _last_good(last_good: Path) -> dict[str, Any]:
    try:
        document = _read_toml(last_good)
        Settings.from_mapping(document)
    except (SettingsError, OSError):
        return {}
    return document


def load_effective_settings(paths: AgentPaths, *, policy_source: PolicySource | None = None) -> LayeredSettings:
    """The settings in effect for this user: built-in defaults < ``paths.settings_file`` < this
    machine's IT policy (or ``policy_source``). Never raises for bad content: see ``problems``."""
    from tray_agent.policy import read_policy

    return layer_settings(paths.settings_file, read_policy(policy_source))


def load_user_settings(path: Path, *, policy_source: PolicySource | None = None) -> tuple[Settings, str | None]:
    """The settings in effect (the user's file at ``path``, under this machine's IT policy), creating
    the commented default file if there is none.

    A file that cannot be used gives the defaults (still under policy) and a message saying what is
    wrong; the file is left as it is for the agent to fix. Policy problems do not stop the agent:
    they are logged here, and :func:`load_effective_settings` returns them for display.
    """
    from tray_agent.policy import read_policy

    layered = layer_settings(path, read_policy(policy_source))
    for problem in layered.policy.problems:
        log.warning("IT policy: %s", problem)
    return layered.settings, layered.file_problem
