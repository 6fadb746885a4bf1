"""Settings: which tenant/org to talk to, and how the sync behaves; read from ``settings.toml``.

The user's file is one layer of three (built-in defaults < the file < IT policy), combined by
:mod:`tray_agent.config.layers`. A value outside its range is a problem line, and that one
setting keeps its default; the rest of the file applies.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from tray_agent.clients.proxy import ProxyResolver
from tray_agent.config.endpoints import GENESYS_REGIONS, MICROSOFT_CLOUDS
from tray_agent.config.settings_error import SettingsError
from tray_agent.core.interactions import DEFAULT_MEDIA_PAIRS, IN_A_CALL, Media, WritebackConfig
from tray_agent.core.mapping import MappingError, PresenceMapping
from tray_agent.core.polling import WorkingHours
from tray_agent.core.rules import SyncConfig

log = logging.getLogger(__name__)

__all__ = [
    "ALL_MEDIA",
    "DEFAULT_SETTINGS_TOML",
    "NUMERIC_RANGES",
    "Settings",
    "SettingsError",
    "Timing",
    "media_names",
    "read_toml",
]

ALL_MEDIA: Final[tuple[Media, ...]] = tuple(Media)


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
class Timing:
    """How often the engine talks to each service (seconds of the engine's clock)."""

    poll_interval: float = 60.0  # see core/polling.py: the Graph presence budget is shared by the fleet
    poll_floor: float = 0.0  # IT policy minimum (core.polling.fleet_floor gives it from the fleet size)
    fleet_size: int = 1  # IT policy FleetSize: the agents sharing the tenant's Graph budget (core.triggers)
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
    # Meetings in the agent's own calendar ask for Teams reads (signals/calendar.py); needs Calendars.ReadBasic.
    calendar_triggers: bool = False
    # Genesys → Teams (opt-in): while the agent handles an interaction, Teams shows a call (needs Presence.ReadWrite).
    teams_writeback: bool = False
    teams_writeback_media: tuple[Media, ...] = ALL_MEDIA  # the media that show in Teams; others are not shown
    teams_busy_while_on_queue: bool = False  # IT policy only: Teams shows a call whenever the agent is On Queue
    teams_preferred_presence: bool = False  # IT policy only: setUserPreferredPresence (overrides the agent's choice)
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
        general = dict(data.get("agent", {})) if isinstance(data.get("agent", {}), Mapping) else None
        if general is None:
            raise SettingsError("[agent] must be a table")

        def number(key: str, default: float) -> float:
            return _number(general, key, default, problems)

        timing = _timing(general, number)
        sync = _sync(data.get("mapping", {}), number, restore_earlier=_flag(general, "restore_earlier_status", True))
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
            calendar_triggers=_flag(general, "calendar_triggers"),
            teams_writeback=_flag(general, "teams_writeback"),
            teams_writeback_media=_media(general, "teams_writeback_media", problems),
            microsoft_cloud=cloud,
            proxy=proxy,
            proxy_bypass=_text(general, "proxy_bypass", ""),
            pac_url=pac_url,
            timing=timing,
            sync=sync,
        )

    @property
    def writeback(self) -> WritebackConfig:
        """The Genesys → Teams direction these settings ask for (off unless ``teams_writeback``)."""
        config = WritebackConfig(
            enabled=self.teams_writeback,
            media={media: DEFAULT_MEDIA_PAIRS[media] for media in self.teams_writeback_media},
            preferred=self.teams_preferred_presence,
        )
        if self.teams_busy_while_on_queue:  # Busy/InACall for a session, Busy/Busy for preferred presence
            config = dataclasses.replace(config, while_on_queue=config.usable(IN_A_CALL))
        return config

    @classmethod
    def load(cls, path: Path) -> Settings:
        """The file alone (no policy); raises SettingsError or OSError."""
        return cls.from_mapping(read_toml(path))


def _timing(general: Mapping[str, Any], number: Callable[[str, float], float]) -> Timing:
    """``[agent]``'s timing: the poll intervals, working hours and whether to pause while away."""
    working_hours = _text(general, "working_hours", "")
    try:
        WorkingHours.parse(working_hours)
    except ValueError as error:
        raise SettingsError(str(error)) from None
    pause_when_away = general.get("pause_when_away", True)
    if not isinstance(pause_when_away, bool):
        raise SettingsError(f"pause_when_away must be true or false, got {pause_when_away!r}")
    return Timing(
        poll_interval=number("poll_interval", 60.0),
        genesys_fallback_poll=number("genesys_fallback_poll", 30.0),
        working_hours=working_hours,
        pause_when_away=pause_when_away,
    )


def _sync(mapping_table: object, number: Callable[[str, float], float], *, restore_earlier: bool) -> SyncConfig:
    """The ``[mapping]`` table and ``[agent]``'s sync rules (dwell, restore, loop breaker)."""
    if not isinstance(mapping_table, Mapping):
        raise SettingsError('[mapping] must be a table of Teams value = "Genesys presence"')
    try:
        mapping = PresenceMapping.build(mapping_table)
    except MappingError as error:
        raise SettingsError(str(error)) from None
    return SyncConfig(
        mapping=mapping,
        dwell_seconds=number("dwell_seconds", 10.0),
        loop_max_writes=int(number("loop_max_writes", 8)),
        loop_window_seconds=number("loop_window_minutes", 10.0) * 60,
        restore_earlier=restore_earlier,
    )


def resolver_for(settings: Settings) -> ProxyResolver:
    """The proxy resolver for these settings (policy/user ``proxy``, ``proxy_bypass``, ``pac_url``) on this computer."""
    return ProxyResolver.for_this_computer(
        policy_proxy=settings.proxy, policy_bypass=settings.proxy_bypass, pac_url=settings.pac_url
    )


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SettingsError(f"{path.name}: not valid TOML ({error})") from None
    except RecursionError:  # tomllib recurses per nested array/table: a damaged or hostile file
        raise SettingsError(f"{path.name}: nested too deeply to be a settings file") from None


def _check_proxy_settings(proxy: str, pac_url: str) -> None:

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


def _flag(table: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise SettingsError(f"{key} must be true or false, got {value!r}")
    return value


def media_names(raw: object) -> tuple[tuple[Media, ...], str | None]:
    """A list of media names (a TOML/plist array, or text such as ``"voice,chat,email"``) → the media in
    :class:`Media` order, and a complaint naming the allowed names when ``raw`` is not such a list."""
    names = [part for part in re.split(r"[,;\s]+", raw) if part] if isinstance(raw, str) else raw
    allowed = ", ".join(media.value for media in Media)
    if not isinstance(names, list | tuple) or not all(isinstance(name, str) for name in names):
        return ALL_MEDIA, f'must be a list of media names such as ["voice", "chat"] ({allowed}), got {raw!r:.60}'
    chosen = {name: Media.parse(name) for name in names}
    unknown = [name for name, media in chosen.items() if media is None]
    if unknown:
        listed = ", ".join(repr(str(name)[:40]) for name in unknown[:5])
        verb = "is not a media type" if len(unknown) == 1 else "are not media types"
        return ALL_MEDIA, f"{listed} {verb} (allowed: {allowed})"
    return tuple(media for media in Media if media in chosen.values()), None


def _media(table: Mapping[str, Any], key: str, problems: list[str] | None) -> tuple[Media, ...]:
    if key not in table:
        return ALL_MEDIA
    media, complaint = media_names(table[key])
    if complaint is None:
        return media
    if problems is None:
        raise SettingsError(f"{key}: {complaint}")
    problems.append(f"{key}: {complaint} — using the default, all of them")
    return ALL_MEDIA


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
# After a meeting or call, put back the Genesys status you had before it (false: follow the mapping).
# restore_earlier_status = true
# Safety stop: more than loop_max_writes (1–100) changes within loop_window_minutes (1–1440) pauses sync.
# loop_max_writes = 8
# loop_window_minutes = 10

# When you work (local time). Outside these hours Teams is not checked. Empty = always.
# working_hours = "Mon-Fri 07:30-18:00"
# Don't check Teams while your session is locked or idle (saves the company's shared Graph budget).
# pause_when_away = true

# Windows only: sign in to Microsoft with your Windows account (Web Account Manager) instead of the browser.
# windows_broker = false

# Check Teams as your calendar's meetings start and end (reads start, end and the number invited, never
# the subject). The first time, Microsoft asks you once to allow reading your calendar (Calendars.ReadBasic).
# calendar_triggers = false

# While you handle a Genesys interaction, show it in Teams (Busy, in a call) and clear it afterwards, so
# colleagues see you are busy. The first time, Microsoft asks you once to allow setting your Teams
# presence (Presence.ReadWrite). Which interactions show: any of voice, callback, chat, message, email,
# video, social (a type left out is not shown in Teams).
# teams_writeback = false
# teams_writeback_media = ["voice", "callback", "chat", "message", "email", "video", "social"]

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
