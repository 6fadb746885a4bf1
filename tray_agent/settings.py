"""Settings: which tenant/org to talk to, and how the sync behaves.

Endpoints are derived from the Entra tenant and the Genesys region (region table from
shared/reference/genesys-cloud.md §3.1); only the simulator overrides them, and it adds its own CA
to the trusted set — TLS verification is never switched off.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tray_agent.core.decide import SyncConfig
from tray_agent.core.mapping import MappingError, PresenceMapping

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


class SettingsError(ValueError):
    """A setting that cannot be used; the message names it and says what is expected."""


@dataclass(frozen=True, slots=True)
class Endpoints:
    entra_authority: str
    graph_base: str
    genesys_login_base: str
    genesys_api_base: str
    extra_ca_file: str | None = None  # the simulator's private CA; added to, never replacing, the trust store

    @classmethod
    def cloud(cls, tenant_id: str, genesys_region: str) -> Endpoints:
        domain = GENESYS_REGIONS.get(genesys_region)
        if domain is None:
            raise SettingsError(f"genesys_region {genesys_region!r} is not a Genesys Cloud region")
        return cls(
            entra_authority=f"https://login.microsoftonline.com/{tenant_id}",
            graph_base="https://graph.microsoft.com",
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


@dataclass(frozen=True, slots=True)
class Settings:
    tenant_id: str = ""
    microsoft_client_id: str = ""
    genesys_region: str = "us_east_1"
    genesys_client_id: str = ""
    genesys_redirect_port: int = 8765
    allow_insecure_keyring: bool = False  # store sign-ins without a secure OS keyring (not recommended)
    timing: Timing = field(default_factory=Timing)
    sync: SyncConfig = field(default_factory=SyncConfig)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Settings:
        """Build from a parsed TOML document; raises SettingsError naming the bad key."""
        general = dict(data.get("agent", {})) if isinstance(data.get("agent", {}), Mapping) else None
        if general is None:
            raise SettingsError("[agent] must be a table")
        timing = Timing(
            poll_interval=_number(general, "poll_interval", 60.0, minimum=5.0),
            genesys_fallback_poll=_number(general, "genesys_fallback_poll", 30.0, minimum=5.0),
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
            dwell_seconds=_number(general, "dwell_seconds", 10.0, minimum=0.0),
            loop_max_writes=int(_number(general, "loop_max_writes", 8, minimum=1)),
            loop_window_seconds=_number(general, "loop_window_minutes", 10.0, minimum=1.0) * 60,
        )
        port = int(_number(general, "genesys_redirect_port", 8765, minimum=1024))
        if port > 65535:
            raise SettingsError("genesys_redirect_port must be a port number (1024–65535)")
        region = _text(general, "genesys_region", "us_east_1")
        if region not in GENESYS_REGIONS:
            raise SettingsError(f"genesys_region {region!r} is not one of: {', '.join(GENESYS_REGIONS)}")
        return cls(
            tenant_id=_text(general, "tenant_id", ""),
            microsoft_client_id=_text(general, "microsoft_client_id", ""),
            genesys_region=region,
            genesys_client_id=_text(general, "genesys_client_id", ""),
            genesys_redirect_port=port,
            allow_insecure_keyring=_flag(general, "allow_insecure_keyring"),
            timing=timing,
            sync=sync,
        )

    @classmethod
    def load(cls, path: Path) -> Settings:
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as error:
            raise SettingsError(f"{path.name}: not valid TOML ({error})") from None
        return cls.from_mapping(data)


def _number(table: Mapping[str, Any], key: str, default: float, *, minimum: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingsError(f"{key} must be a number, got {value!r}")
    if value < minimum:
        raise SettingsError(f"{key} must be at least {minimum:g}, got {value!r}")
    return float(value)


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
# genesys_redirect_port = 8765

# How often Teams is checked, in seconds (IT may set a higher minimum).
# poll_interval = 60
# How long a Teams change must last before Genesys follows, in seconds.
# dwell_seconds = 10
# Safety stop: more than this many changes within loop_window_minutes pauses sync.
# loop_max_writes = 8
# loop_window_minutes = 10

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


def load_user_settings(path: Path) -> tuple[Settings, str | None]:
    """The user's settings, creating the commented default file if there is none.

    A file that cannot be used gives the defaults and a message saying what is wrong; the file is
    left as it is for the agent to fix.
    """
    from tray_agent.paths import write_private

    if not path.exists():
        write_private(path, DEFAULT_SETTINGS_TOML)
        return Settings(), None
    try:
        return Settings.load(path), None
    except (SettingsError, OSError) as error:
        return Settings(), f"{path.name}: {error} — using defaults until it is fixed"
