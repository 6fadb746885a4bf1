"""IT policy: machine-wide values that win over the user's settings file and lock those settings.

Where the agent looks (first source that sets a key wins, per key):

- **Windows**: the registry, 64-bit view. ``HKLM\\Software\\Policies\\TrayAgent\\TeamsGenesysPresence``
  (written by the MSI's public properties, by Group Policy through the ADMX template, or by Intune),
  then the same key under ``HKCU`` (user-targeted GPO). HKLM wins.
- **macOS**: the managed preferences an MDM configuration profile installs
  (``/Library/Managed Preferences/com.trayagent.teams-genesys-presence.plist``, registry names as keys),
  then ``/Library/Application Support/TeamsGenesysPresence/policy.toml``.
- **Linux**: ``/etc/xdg/TeamsGenesysPresence/policy.toml``. The path is fixed (not taken from
  ``XDG_CONFIG_DIRS``, which users control and some desktops point elsewhere).

A policy file has the same shape as the user's ``settings.toml`` (``[agent]`` and ``[mapping]``) with
the keys in :data:`POLICY_KEYS`. It must be owned by root and not writable by anyone else, or it is
ignored (anyone could otherwise "set policy").

A bad value never stops the agent: it is reported in :attr:`Policy.problems` (for ``doctor`` and the
tray), the setting keeps its built-in default, and it stays locked — IT meant to control it, so the
user's file does not silently take over. An empty value (what the MSI writes for a property left out)
means "not set by policy".

``python -m tray_agent.config.policy`` prints the policy in effect on this machine (for IT).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import plistlib
import re
import sys
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Final, Literal, Protocol

from tray_agent.clients.proxy import normalise_proxy
from tray_agent.config.endpoints import GENESYS_REGIONS, MICROSOFT_CLOUDS
from tray_agent.config.paths import APP_AUTHOR, APP_NAME
from tray_agent.config.settings import media_names
from tray_agent.core.interactions import Media
from tray_agent.core.mapping import DEFAULT_MAPPING, MappingError, PresenceMapping

POLICY_REGISTRY_KEY: Final = rf"Software\Policies\{APP_AUTHOR}\{APP_NAME}"
MACOS_BUNDLE_ID: Final = "com.trayagent.teams-genesys-presence"
LINUX_POLICY_FILE: Final = Path("/etc/xdg") / APP_NAME / "policy.toml"
MACOS_POLICY_FILE: Final = Path("/Library/Application Support") / APP_NAME / "policy.toml"
MACOS_MANAGED_PREFERENCES: Final = Path("/Library/Managed Preferences") / f"{MACOS_BUNDLE_ID}.plist"

Kind = Literal[
    "tenant", "guid", "region", "port", "seconds", "count", "flag", "mapping", "cloud", "proxy", "hosts", "pac", "media"
]
Hive = Literal["HKLM", "HKCU"]

MIN_POLL_INTERVAL_RANGE: Final = (5, 3600)
FLEET_SIZE_RANGE: Final = (1, 1_000_000)


@dataclass(frozen=True, slots=True)
class PolicyKey:
    """One thing IT can set. ``setting`` is the name in policy.toml / settings.toml (and in ``locked``);
    ``registry`` is the registry value name, ADMX ``valueName`` and macOS profile key; ``msi_property``
    is the MSI public property that writes it."""

    setting: str
    registry: str
    msi_property: str
    kind: Kind
    meaning: str


POLICY_KEYS: Final[tuple[PolicyKey, ...]] = (
    PolicyKey("tenant_id", "TenantId", "TENANTID", "tenant", "Microsoft Entra tenant ID (GUID or verified domain)"),
    PolicyKey("microsoft_client_id", "MicrosoftClientId", "CLIENTID", "guid", "Entra app registration client ID"),
    PolicyKey("genesys_region", "GenesysRegion", "GENESYSREGION", "region", "Genesys Cloud region, e.g. eu_west_1"),
    PolicyKey("genesys_client_id", "GenesysClientId", "GENESYSCLIENTID", "guid", "Genesys Cloud OAuth client ID"),
    PolicyKey(
        "genesys_redirect_port", "GenesysRedirectPort", "REDIRECTPORT", "port", "loopback port of the Genesys sign-in"
    ),
    PolicyKey("min_poll_interval", "MinPollInterval", "MINPOLLINTERVAL", "seconds", "shortest Teams poll interval"),
    PolicyKey("fleet_size", "FleetSize", "FLEETSIZE", "count", "how many agents share the tenant's Graph budget"),
    PolicyKey("start_at_login", "StartAtLogin", "AUTOSTART", "flag", "start the agent when a user signs in"),
    PolicyKey("allow_device_code", "AllowDeviceCode", "ALLOWDEVICECODE", "flag", "allow Microsoft device-code sign-in"),
    PolicyKey(
        "allow_insecure_keyring",
        "AllowInsecureKeyring",
        "ALLOWINSECUREKEYRING",
        "flag",
        "allow sign-ins to be kept without a secure OS keyring",
    ),
    PolicyKey("windows_broker", "WindowsBroker", "WINDOWSBROKER", "flag", "Windows: Microsoft sign-in through WAM"),
    PolicyKey(
        "calendar_triggers",
        "CalendarTriggers",
        "CALENDARTRIGGERS",
        "flag",
        "meetings in the agent's own calendar ask for Teams reads (needs Calendars.ReadBasic)",
    ),
    PolicyKey(
        "teams_writeback",
        "TeamsWriteback",
        "TEAMSWRITEBACK",
        "flag",
        "show the agent's Genesys interactions in their Teams presence (needs Presence.ReadWrite)",
    ),
    PolicyKey(
        "teams_writeback_media",
        "TeamsWritebackMedia",
        "TEAMSWRITEBACKMEDIA",
        "media",
        "the interaction media that show in Teams, e.g. voice,chat,email",
    ),
    PolicyKey(
        "teams_busy_while_on_queue",
        "TeamsBusyWhileOnQueue",
        "TEAMSBUSYWHILEONQUEUE",
        "flag",
        "Teams shows Busy (in a call) whenever the agent is On Queue",
    ),
    PolicyKey(
        "teams_preferred_presence",
        "TeamsPreferredPresence",
        "TEAMSPREFERREDPRESENCE",
        "flag",
        "write Teams with setUserPreferredPresence (overrides the user's own choice) instead of a session",
    ),
    PolicyKey(
        "allow_different_emails",
        "AllowDifferentEmails",
        "ALLOWDIFFERENTEMAILS",
        "flag",
        "allow a Genesys user whose email is not the Microsoft user name (UPN)",
    ),
    PolicyKey(
        "microsoft_cloud", "MicrosoftCloud", "MICROSOFTCLOUD", "cloud", "Microsoft cloud: global, gcc_high or dod"
    ),
    PolicyKey("proxy", "Proxy", "PROXY", "proxy", "proxy (host:port) for every channel"),
    PolicyKey("proxy_bypass", "ProxyBypass", "PROXYBYPASS", "hosts", "hosts reached without the Proxy"),
    PolicyKey("pac_url", "PacUrl", "PACURL", "pac", "PAC file address (evaluated for the agent's hosts)"),
    PolicyKey("mapping", "Mapping", "MAPPING", "mapping", "Teams → Genesys mapping overrides"),
)

_BY_SETTING: Final = {key.setting: key for key in POLICY_KEYS}
_BY_REGISTRY: Final = {key.registry.lower(): key for key in POLICY_KEYS}
# User settings that have a policy counterpart under another name (so a policy file can say what to use).
_USER_ONLY_HINTS: Final = {"poll_interval": "use min_poll_interval (a floor) in a policy file"}

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DOMAIN = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_CANONICAL_TEAMS_NAMES: Final = {name.lower(): name for name in DEFAULT_MAPPING}


class PolicyValueError(ValueError):
    """A policy value that cannot be used; the message says what is expected."""


# --- what a source hands over -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RawLayer:
    """One place policy was read from: ``values`` maps setting names to the raw data found there."""

    origin: str
    values: Mapping[str, object]
    problems: tuple[str, ...] = ()
    names: Literal["registry", "file"] = "file"  # how ``origin`` names keys, for messages


class PolicySource(Protocol):
    def layers(self) -> list[RawLayer]:
        """Highest precedence first. Never raises: anything unreadable becomes a problem."""
        ...


# --- the result ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Policy:
    """Validated policy. ``None`` means "not set by policy" (or set to something unusable: see ``problems``)."""

    tenant_id: str | None = None
    microsoft_client_id: str | None = None
    genesys_region: str | None = None
    genesys_client_id: str | None = None
    genesys_redirect_port: int | None = None
    min_poll_interval: float | None = None
    fleet_size: int | None = None
    start_at_login: bool | None = None
    allow_device_code: bool | None = None
    allow_insecure_keyring: bool | None = None
    windows_broker: bool | None = None
    calendar_triggers: bool | None = None
    teams_writeback: bool | None = None
    teams_writeback_media: tuple[Media, ...] | None = None
    teams_busy_while_on_queue: bool | None = None
    teams_preferred_presence: bool | None = None
    allow_different_emails: bool | None = None
    microsoft_cloud: str | None = None
    proxy: str | None = None
    proxy_bypass: str | None = None
    pac_url: str | None = None
    mapping: tuple[tuple[str, str], ...] = ()  # (Teams value as IT wrote it, normalised target)
    locked: frozenset[str] = frozenset()  # setting names, and "mapping.<TeamsValue>" per mapping entry
    problems: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()  # where values were found, highest precedence first

    def value_of(self, setting: str) -> object:
        return getattr(self, setting)


def resolve(layers: Sequence[RawLayer]) -> Policy:
    """Validate the layers into a :class:`Policy`: per key, the first layer that sets it wins."""
    values: dict[str, Any] = {}
    locked: set[str] = set()
    problems: list[str] = []
    origins: list[str] = []
    for layer in layers:
        problems.extend(layer.problems)
        if layer.values and layer.origin not in origins:
            origins.append(layer.origin)
    for key in POLICY_KEYS:
        winner = next((layer for layer in layers if _is_set(layer.values.get(key.setting))), None)
        if winner is None:
            continue
        raw = winner.values[key.setting]
        where = f"{winner.origin}: {key.registry if winner.names == 'registry' else key.setting}"
        if key.kind == "mapping":
            entries, entry_problems = _parse_mapping(raw)
            problems.extend(f"{where}: {problem}" for problem in entry_problems)
            values["mapping"] = tuple((name, target) for name, target in entries.items() if target is not None)
            locked.update(f"mapping.{name}" for name in entries)
            continue
        locked.add(key.setting)
        try:
            values[key.setting] = _PARSERS[key.kind](raw)
        except PolicyValueError as error:
            problems.append(f"{where}: {error} — ignored, the built-in default applies")
    return Policy(**values, locked=frozenset(locked), problems=tuple(problems), origins=tuple(origins))


def _is_set(raw: object) -> bool:
    if raw is None:
        return False
    if isinstance(raw, str):
        return bool(raw.strip())
    if isinstance(raw, list | tuple | dict):
        return bool(raw)
    return True


# --- value parsers ------------------------------------------------------------------------------


def _text(raw: object) -> str:
    if not isinstance(raw, str):
        raise PolicyValueError(f"must be text, got {raw!r}")
    return raw.strip()


def _parse_tenant(raw: object) -> str:
    value = _text(raw)
    if not (_GUID.match(value) or _DOMAIN.match(value)):
        raise PolicyValueError(f"{value!r} is not a tenant ID (a GUID) or a domain such as contoso.onmicrosoft.com")
    return value


def _parse_guid(raw: object) -> str:
    value = _text(raw).strip("{}")
    if not _GUID.match(value):
        raise PolicyValueError(f"{value!r} is not a client ID (a GUID like 00000000-0000-0000-0000-000000000000)")
    return value.lower()


def _one_of(raw: object, names: Iterable[str], what: str) -> str:
    """A name from ``names`` (case and ``-``/``_`` as IT may write them)."""
    value, known = _text(raw).lower().replace("-", "_"), list(names)
    if value not in known:
        raise PolicyValueError(f"{value!r} is not {what} (one of: {', '.join(known)})")
    return value


def _parse_region(raw: object) -> str:
    return _one_of(raw, GENESYS_REGIONS, "a Genesys Cloud region")


def _integer(raw: object) -> int:
    if isinstance(raw, bool):
        raise PolicyValueError(f"must be a whole number, got {raw!r}")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and raw.strip().isdecimal():  # isdigit() also accepts "²", which int() refuses
        try:
            return int(raw.strip())
        except ValueError:
            pass
    raise PolicyValueError(f"must be a whole number, got {raw!r}")


def _whole_in(raw: object, low: int, high: int, what: str) -> int:
    value = _integer(raw)
    if not low <= value <= high:
        raise PolicyValueError(f"must be {what}, got {value}")
    return value


def _parse_port(raw: object) -> int:
    return _whole_in(raw, 1024, 65535, "a port number from 1024 to 65535")


def _parse_seconds(raw: object) -> float:
    low, high = MIN_POLL_INTERVAL_RANGE
    return float(_whole_in(raw, low, high, f"between {low} and {high} seconds"))


def _parse_count(raw: object) -> int:
    low, high = FLEET_SIZE_RANGE
    return _whole_in(raw, low, high, f"a number of agents from {low:,} to {high:,}")


def _parse_flag(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise PolicyValueError(f"must be 1 or 0 (true or false), got {raw!r}")


def _parse_cloud(raw: object) -> str:
    return _one_of(raw, MICROSOFT_CLOUDS, "a Microsoft cloud")


def _parse_proxy(raw: object) -> str:
    value = _text(raw)
    try:
        normalise_proxy(value)
    except ValueError as error:
        raise PolicyValueError(str(error)) from None
    return value


def _parse_hosts(raw: object) -> str:
    if isinstance(raw, list | tuple) and all(isinstance(item, str) for item in raw):  # REG_MULTI_SZ, plist array
        raw = ";".join(str(item) for item in raw)
    value = _text(raw)
    if not re.fullmatch(r"[A-Za-z0-9.*<>:\[\]_-]+([;,\s]+[A-Za-z0-9.*<>:\[\]_-]+)*[;,\s]*", value):
        raise PolicyValueError(f"{value!r} is not a list of host names such as *.corp.example;<local>")
    return value


def _parse_media(raw: object) -> tuple[Media, ...]:
    """``"voice,chat,email"`` (REG_SZ, as the MSI and the ADMX write it), or an array (policy.toml, plist)."""
    media, complaint = media_names(raw)
    if complaint is not None:
        raise PolicyValueError(complaint)
    return media


def _parse_pac(raw: object) -> str:
    value = _text(raw)
    if not re.match(r"^(https?|file)://\S+$", value):
        raise PolicyValueError(f"{value!r} is not a PAC file address (http://, https:// or file://)")
    return value


_PARSERS: Final[dict[Kind, Callable[[object], object]]] = {
    "tenant": _parse_tenant,
    "guid": _parse_guid,
    "region": _parse_region,
    "port": _parse_port,
    "seconds": _parse_seconds,
    "count": _parse_count,
    "flag": _parse_flag,
    "cloud": _parse_cloud,
    "proxy": _parse_proxy,
    "hosts": _parse_hosts,
    "pac": _parse_pac,
    "media": _parse_media,
}


def _mapping_pairs(raw: object) -> tuple[list[tuple[object, object]], list[str]]:
    """A TOML/plist table, or lines ``TeamsValue=Genesys target`` (REG_MULTI_SZ items or ``;``-separated)."""
    if isinstance(raw, Mapping):
        return list(raw.items()), []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list | tuple):
        return [], [f"must be lines of TeamsValue=Genesys presence, got {raw!r}"]
    pairs: list[tuple[object, object]] = []
    problems: list[str] = []
    for item in raw:
        if not isinstance(item, str):
            problems.append(f"entry {item!r} is not text — ignored")
            continue
        for entry in re.split(r"[;\r\n]+", item):
            if not entry.strip():
                continue
            name, equals, target = entry.partition("=")
            if not equals or not name.strip():
                problems.append(f"entry {entry.strip()!r} is not TeamsValue=Genesys presence — ignored")
                continue
            pairs.append((name.strip(), target.strip()))
    return pairs, problems


def _parse_mapping(raw: object) -> tuple[dict[str, str | None], list[str]]:
    """Teams value → normalised target, or None where the entry was bad (the default then applies, locked)."""
    pairs, problems = _mapping_pairs(raw)
    entries: dict[str, str | None] = {}
    for name, target in pairs:
        if not isinstance(name, str) or not name.strip():
            problems.append(f"entry {name!r} is not a Teams presence value — ignored")
            continue
        canonical = _CANONICAL_TEAMS_NAMES.get(name.strip().lower(), name.strip())
        try:
            built = PresenceMapping.build({canonical: target}, base=False)
        except MappingError as error:
            problems.append(f"{error} — the built-in default applies")
            entries[canonical] = None
            continue
        entries[canonical] = built.entries[0][1]
    return entries, problems


# --- Windows registry ---------------------------------------------------------------------------


class RegistryReader(Protocol):
    """Read-only access to one registry key's values (winreg on Windows; a dict in tests)."""

    def values(self, hive: Hive, key: str) -> dict[str, object] | None:
        """Every value under ``key`` as winreg returns it (str, int, list[str] or bytes); None if no key."""
        ...


class WinRegistryReader:
    """:class:`RegistryReader` over ``winreg``, always in the 64-bit view (where the x64 MSI writes).

    ``winreg_module`` is for tests; by default the real module is imported (on Windows only)."""

    def __init__(self, winreg_module: ModuleType | None = None) -> None:
        self._winreg_module = winreg_module

    def values(self, hive: Hive, key: str) -> dict[str, object] | None:
        winreg: Any = self._winreg_module or importlib.import_module("winreg")  # only exists on Windows
        root = winreg.HKEY_LOCAL_MACHINE if hive == "HKLM" else winreg.HKEY_CURRENT_USER
        try:
            handle = winreg.OpenKey(root, key, 0, winreg.KEY_READ | winreg.KEY_WOW64_64KEY)
        except OSError:
            return None
        found: dict[str, object] = {}
        with handle:
            index = 0
            while True:
                try:
                    name, data, _kind = winreg.EnumValue(handle, index)
                except OSError:  # ERROR_NO_MORE_ITEMS
                    break
                found[str(name)] = data
                index += 1
        return found


class RegistryPolicySource:
    def __init__(self, registry: RegistryReader, key: str = POLICY_REGISTRY_KEY) -> None:
        self._registry = registry
        self._key = key

    def layers(self) -> list[RawLayer]:
        layers = []
        for hive in ("HKLM", "HKCU"):
            origin = f"{hive}\\{self._key}"
            try:
                found = self._registry.values(hive, self._key)
            except OSError as error:
                layers.append(RawLayer(origin, {}, (f"{origin}: cannot be read ({error}) — ignored",)))
                continue
            layers.append(_registry_style_layer(origin, found or {}))
        return layers


def _registry_style_layer(origin: str, found: Mapping[str, object]) -> RawLayer:
    """Values named as in the registry (``TenantId``…), case-insensitively: registry and macOS profiles."""
    values: dict[str, object] = {}
    problems: list[str] = []
    for name, data in found.items():
        key = _BY_REGISTRY.get(name.lower())
        if key is None:
            if name:  # the unnamed (default) value is not ours to judge
                known = ", ".join(k.registry for k in POLICY_KEYS)
                problems.append(f"{origin}: unknown value {name!r} — ignored (known: {known})")
            continue
        values[key.setting] = data
    return RawLayer(origin, values, tuple(problems), names="registry")


# --- policy files (Linux, macOS) ----------------------------------------------------------------


class FilePolicySource:
    """A ``policy.toml`` with ``[agent]`` and ``[mapping]`` like settings.toml. A missing file is no policy.

    ``trusted_owner`` is the uid that must own the file (root); ``None`` skips that check (tests)."""

    def __init__(self, path: Path, *, trusted_owner: int | None = 0) -> None:
        self.path = path
        self._trusted_owner = trusted_owner

    def layers(self) -> list[RawLayer]:
        origin = str(self.path)
        try:
            with self.path.open("rb") as handle:
                problem = self._untrusted(os.fstat(handle.fileno())) or self._untrusted_folder()
                if problem:
                    return [RawLayer(origin, {}, (f"{origin}: {problem} — the whole file is ignored",))]
                document = tomllib.load(handle)
        except FileNotFoundError:
            return []
        except OSError as error:
            return [RawLayer(origin, {}, (f"{origin}: cannot be read ({error.strerror}) — ignored",))]
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            return [RawLayer(origin, {}, (f"{origin}: not valid TOML ({error}) — the whole file is ignored",))]
        except RecursionError:
            return [RawLayer(origin, {}, (f"{origin}: nested too deeply to be read — the whole file is ignored",))]
        return [_toml_layer(origin, document)]

    def _untrusted(self, status: os.stat_result) -> str | None:
        if os.name != "posix":
            return None
        if self._trusted_owner is not None and status.st_uid != self._trusted_owner:
            return f"is not owned by {'root' if self._trusted_owner == 0 else f'uid {self._trusted_owner}'}"
        if status.st_mode & 0o022:
            return "can be changed by users other than its owner (chmod go-w)"
        return None

    def _untrusted_folder(self) -> str | None:
        """Whoever can write the folder can replace the file (a rename needs no right on the file)."""
        if os.name != "posix":
            return None
        folder = self.path.parent
        try:
            status = os.stat(folder)
        except OSError as error:
            return f"its folder cannot be checked ({error.strerror})"
        if self._trusted_owner is not None and status.st_uid != self._trusted_owner:
            owner = "root" if self._trusted_owner == 0 else f"uid {self._trusted_owner}"
            return f"its folder {folder} is not owned by {owner}"
        if status.st_mode & 0o022:
            return f"its folder {folder} can be changed by users other than its owner (chmod go-w)"
        return None


def _toml_layer(origin: str, document: Mapping[str, Any]) -> RawLayer:
    values: dict[str, object] = {}
    problems: list[str] = []
    for table, content in document.items():
        if table == "mapping":
            values["mapping"] = content
            continue
        if table != "agent" or not isinstance(content, Mapping):
            problems.append(f"{origin}: unknown table or key {table!r} — ignored (use [agent] and [mapping])")
            continue
        for name, data in content.items():
            key = _BY_SETTING.get(name)
            if key is None or key.kind == "mapping":
                hint = _USER_ONLY_HINTS.get(name, f"known: {', '.join(k.setting for k in POLICY_KEYS[:-1])}")
                problems.append(f"{origin}: [agent] {name!r} cannot be set by policy — ignored ({hint})")
                continue
            values[name] = data
    return RawLayer(origin, values, tuple(problems))


class PlistPolicySource:
    """macOS managed preferences (a configuration profile's payload): registry-style key names."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def layers(self) -> list[RawLayer]:
        origin = str(self.path)
        try:
            document = plistlib.loads(self.path.read_bytes())
        except FileNotFoundError:
            return []
        except RecursionError:
            return [RawLayer(origin, {}, (f"{origin}: nested too deeply to be read — ignored",))]
        except (OSError, plistlib.InvalidFileException, ValueError) as error:
            return [RawLayer(origin, {}, (f"{origin}: cannot be read ({error}) — ignored",))]
        if not isinstance(document, dict):
            return [RawLayer(origin, {}, (f"{origin}: is not a dictionary of settings — ignored",))]
        found = {str(name): value for name, value in document.items() if not str(name).startswith("PayloadUUID")}
        return [_registry_style_layer(origin, found)]


class CombinedPolicySource:
    def __init__(self, sources: Iterable[PolicySource]) -> None:
        self._sources = list(sources)

    def layers(self) -> list[RawLayer]:
        return [layer for source in self._sources for layer in source.layers()]


class NoPolicy:
    def layers(self) -> list[RawLayer]:
        return []


def machine_policy_source(platform: str = sys.platform) -> PolicySource:
    """Where this machine's policy lives (see the module docstring)."""
    if platform == "win32":
        return RegistryPolicySource(WinRegistryReader())
    if platform == "darwin":
        return CombinedPolicySource([PlistPolicySource(MACOS_MANAGED_PREFERENCES), FilePolicySource(MACOS_POLICY_FILE)])
    return FilePolicySource(LINUX_POLICY_FILE)


def read_policy(source: PolicySource | None = None) -> Policy:
    """The validated policy from ``source`` (default: this machine's). Never raises."""
    try:
        layers = (source or machine_policy_source()).layers()
    except Exception as error:  # a policy reader must never take the agent down
        return Policy(problems=(f"IT policy could not be read ({error.__class__.__name__}: {error}) — ignored",))
    return resolve(layers)


# --- for IT: python -m tray_agent.config.policy ---------------------------------------------------------


def describe(policy: Policy) -> list[str]:
    """Human-readable lines: what policy sets, from where, and what is wrong with it."""
    lines = [f"Policy read from: {', '.join(policy.origins) if policy.origins else 'nowhere (no policy set)'}"]
    for key in POLICY_KEYS:
        if key.kind == "mapping":
            for name, target in policy.mapping:
                lines.append(f"  [mapping] {name} = {json.dumps(target, ensure_ascii=False)}")
            continue
        if key.setting in policy.locked:
            value = policy.value_of(key.setting)
            lines.append(f"  {key.setting} = {_shown(value)}")
    lines.extend(f"PROBLEM  {problem}" for problem in policy.problems)
    return lines


def _shown(value: object) -> str:
    """A value as it would be written in policy.toml."""
    if value is None:
        return "(invalid: the built-in default applies)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, tuple):  # teams_writeback_media: a TOML array of names
        return json.dumps([item.value if isinstance(item, Media) else str(item) for item in value])
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tray_agent.config.policy", description="Show the IT policy this machine gives the agent."
    )
    parser.add_argument(
        "--start-at-login",
        action="store_true",
        help="exit 0 if the agent may start at login (policy start_at_login is not false), else 1; print nothing",
    )
    args = parser.parse_args(argv)
    policy = read_policy()
    if args.start_at_login:
        return 1 if policy.start_at_login is False else 0
    print("\n".join(describe(policy)))
    return 1 if policy.problems else 0


__all__ = [
    "POLICY_KEYS",
    "POLICY_REGISTRY_KEY",
    "CombinedPolicySource",
    "FilePolicySource",
    "NoPolicy",
    "PlistPolicySource",
    "Policy",
    "PolicyKey",
    "PolicySource",
    "RawLayer",
    "RegistryPolicySource",
    "RegistryReader",
    "WinRegistryReader",
    "describe",
    "machine_policy_source",
    "read_policy",
    "resolve",
]

if __name__ == "__main__":
    raise SystemExit(main())
