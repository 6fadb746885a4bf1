"""What the tray shows for a snapshot: a pure function, specified as a table in tests/tray/test_view.py.

``view_of(snapshot, now)`` returns a :class:`TrayView`: the icon's key (what it looks like, and in
which Genesys status colour), the tooltip, the three status lines at the top of the menu and whether
each action is possible right now. No I/O and no clock: ``now`` is the engine's clock.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tray_agent.core.presence import UNKNOWN, GenesysState, TeamsPresence, display_system_presence
from tray_agent.core.rules import SyncStatus
from tray_agent.core.service import Service
from tray_agent.engine.snapshot import Link, Snapshot
from tray_agent.i18n import N_, _, say

TOOLTIP_LIMIT = 127  # Windows: NOTIFYICONDATAW.szTip is WCHAR[128]
APP_TITLE = N_("Teams → Genesys presence")  # translate where shown: app_title()

SERVICE_NAMES = {Service.MICROSOFT: "Microsoft", Service.GENESYS: "Genesys Cloud"}  # product names: never translated
# MSAL renews the Microsoft access token silently (refresh token); Genesys PKCE has no refresh, so the
# agent must sign in again before its token ends.
SILENTLY_RENEWED = frozenset({Service.MICROSOFT})
EXPIRY_LEAD = 600.0  # warn (and allow signing in again) this long before a sign-in ends


class Look(enum.Enum):
    """What the icon's badge says about the sync, most urgent first."""

    ERROR = "error"  # stopped (loop breaker, mapping error, not set up)
    SIGN_IN_NEEDED = "sign-in-needed"
    OFFLINE = "offline"  # a service cannot be reached; retrying
    PAUSED = "paused"
    HANDS_OFF = "hands-off"  # On Queue, Out of Office, Offline in Genesys, or a status set by hand
    CONNECTING = "connecting"  # starting, signing in, or waiting for the first reads
    SYNCED = "synced"


class Tone(enum.Enum):
    """The Genesys status colour family (the colours agents know from the Genesys UI)."""

    AVAILABLE = "available"  # green
    BUSY = "busy"  # red: Busy, Meeting, Training
    AWAY = "away"  # amber: Away, Break, Meal, Idle
    ON_QUEUE = "on-queue"  # blue
    OUT_OF_OFFICE = "out-of-office"  # purple
    OFFLINE = "offline"  # grey
    NEUTRAL = "neutral"  # unknown / not applicable


_TONE_BY_SYSTEM = {
    "AVAILABLE": Tone.AVAILABLE,
    "BUSY": Tone.BUSY,
    "MEETING": Tone.BUSY,
    "TRAINING": Tone.BUSY,
    "AWAY": Tone.AWAY,
    "BREAK": Tone.AWAY,
    "MEAL": Tone.AWAY,
    "IDLE": Tone.AWAY,
    "ON_QUEUE": Tone.ON_QUEUE,
    "OFFLINE": Tone.OFFLINE,
}


@dataclass(frozen=True, slots=True)
class IconKey:
    """Everything the icon's pixels depend on: the renderer caches one image per key."""

    look: Look
    tone: Tone = Tone.NEUTRAL


@dataclass(frozen=True, slots=True)
class TrayView:
    icon: IconKey
    tooltip: str
    headline: str  # the sync state in words, e.g. "In sync", "Paused until 14:05"
    teams_line: str
    genesys_line: str
    detail: str  # why, in a sentence (the engine's reason or last error); "" when nothing to add
    can_pause: bool
    can_resume: bool
    can_sync_now: bool
    can_sign_in: tuple[tuple[Service, bool], ...]  # (service, possible) in Service order
    can_sign_out: tuple[tuple[Service, bool], ...]
    writeback_problem: str = ""  # why Teams is not shown busy during Genesys interactions ("" : nothing wrong)
    writeback_on: bool = False  # Genesys interactions are shown in Teams

    def sign_in_possible(self, service: Service) -> bool:
        return dict(self.can_sign_in).get(service, False)

    def sign_out_possible(self, service: Service) -> bool:
        return dict(self.can_sign_out).get(service, False)


# What the Teams client itself calls each state (it is localised too): translated where shown.
_TEAMS_WORDS = {
    "Available": N_("Available"),
    "AvailableIdle": N_("Available (idle)"),
    "Away": N_("Away"),
    "BeRightBack": N_("Be right back"),
    "Busy": N_("Busy"),
    "BusyIdle": N_("Busy (idle)"),
    "DoNotDisturb": N_("Do not disturb"),
    "InACall": N_("In a call"),
    "InAConferenceCall": N_("In a conference call"),
    "Inactive": N_("Inactive"),
    "InAMeeting": N_("In a meeting"),
    "Offline": N_("Offline"),
    "OffWork": N_("Off work"),
    "OutOfOffice": N_("Out of office"),
    "PresenceUnknown": N_("Unknown"),
    "Presenting": N_("Presenting"),
    "UrgentInterruptionsOnly": N_("Urgent interruptions only"),
    "Focusing": N_("Focusing"),
}


def teams_value_words(value: str) -> str:
    """One Teams availability or activity (``DoNotDisturb``) in the Teams client's words, translated."""
    return _(_TEAMS_WORDS[value]) if value in _TEAMS_WORDS else value


def teams_words(presence: TeamsPresence) -> str:
    """``Busy / InAMeeting`` → ``In a meeting``: the activity says more than the availability."""
    value = presence.activity if presence.activity not in ("", UNKNOWN) else presence.availability
    return _(_TEAMS_WORDS[value]) if value in _TEAMS_WORDS else value


def app_title() -> str:
    return _(APP_TITLE)


def tone_of(genesys: GenesysState | None) -> Tone:
    if genesys is None:
        return Tone.NEUTRAL
    if genesys.out_of_office:
        return Tone.OUT_OF_OFFICE
    if genesys.on_queue:
        return Tone.ON_QUEUE
    return _TONE_BY_SYSTEM.get(genesys.system_presence, Tone.NEUTRAL)


def local_hhmm(at: float) -> str:
    return datetime.fromtimestamp(at).strftime("%H:%M")


def _signed_in(link: Link) -> bool:
    return link is not Link.SIGN_IN_NEEDED


def links_of(snapshot: Snapshot) -> dict[Service, Link]:
    """How each service's link stands in ``snapshot``."""
    return {Service.MICROSOFT: snapshot.microsoft, Service.GENESYS: snapshot.genesys_link}


def names_of(services: list[Service]) -> str:
    """``Microsoft``, or ``Microsoft and Genesys Cloud`` (in the current language)."""
    names = [SERVICE_NAMES[s] for s in services]
    if len(names) == 1:
        return names[0]
    return _("{first} and {second}").format(first=", ".join(names[:-1]), second=names[-1])


def _genesys_label(snapshot: Snapshot) -> str:
    genesys = snapshot.genesys
    if genesys is None:
        return ""
    return snapshot.genesys_label or display_system_presence(genesys.system_presence)


def _genesys_line(snapshot: Snapshot) -> str:
    link, genesys = snapshot.genesys_link, snapshot.genesys
    if link is Link.SIGN_IN_NEEDED:
        return _("Genesys: not signed in")
    if genesys is None:
        return _("Genesys: connecting…")
    label = _genesys_label(snapshot)  # the org's own name, in the agent's language if it has one
    status = snapshot.status
    if status is SyncStatus.ON_QUEUE or genesys.on_queue:
        if label == "On Queue":
            return _("Genesys: On Queue – hands off")
        return _("Genesys: {status} – On Queue, hands off").format(status=label)
    if status is SyncStatus.OUT_OF_OFFICE or genesys.out_of_office:
        return _("Genesys: {status} – Out of Office, hands off").format(status=label)
    if status is SyncStatus.GENESYS_OFFLINE:
        return _("Genesys: {status} – hands off").format(status=label)
    by = _SET_BY.get(snapshot.set_by)
    return _(by).format(status=label) if by else _("Genesys: {status}").format(status=label)


_SET_BY = {
    "sync": N_("Genesys: {status} – set by sync"),
    "you": N_("Genesys: {status} – set by you"),
    "routing": N_("Genesys: {status} – set by routing"),
}


def _with_account(line: str, account: str, link: Link) -> str:
    """Who is signed in, on that service's line (after a sign-in as someone else it says so)."""
    return f"{line} · {account}" if account and link is not Link.SIGN_IN_NEEDED else line


def _teams_line(snapshot: Snapshot) -> str:
    if snapshot.microsoft is Link.SIGN_IN_NEEDED:
        return _("Teams: not signed in")
    if snapshot.teams_writeback:
        # what Teams shows is our own session, in the engine's words
        return _("Teams: {status}").format(status=say(snapshot.teams_writeback))
    if snapshot.teams is None:
        if snapshot.status.hands_off:
            return _("Teams: not read while hands off")
        return _("Teams: connecting…")
    return _("Teams: {status}").format(status=teams_words(snapshot.teams))


def _paused_text(paused_until: float, clock_text: Callable[[float], str]) -> str:
    if math.isinf(paused_until):
        return _("Paused until you resume")
    return _("Paused until {time}").format(time=clock_text(paused_until))


_HEADLINES = {
    SyncStatus.SYNCED: N_("In sync"),
    SyncStatus.WRITING: N_("Updating Genesys…"),
    SyncStatus.DEBOUNCING: N_("Teams changed: following in a moment"),
    SyncStatus.WAITING: N_("Waiting for Teams and Genesys"),
    SyncStatus.NOT_SYNCED_STATE: N_("In sync (this Teams status leaves Genesys alone)"),
    SyncStatus.MANUAL: N_("Hands off: you set this status"),
    SyncStatus.ON_QUEUE: N_("Hands off: you are On Queue"),
    SyncStatus.OUT_OF_OFFICE: N_("Hands off: Out of Office"),
    SyncStatus.GENESYS_OFFLINE: N_("Hands off: Offline in Genesys"),
    SyncStatus.PAUSED: N_("Paused"),
    SyncStatus.LOOP_BREAKER: N_("Stopped: too many changes in a short time"),
    SyncStatus.MAPPING_ERROR: N_("Stopped: this Teams status has no Genesys match"),
}


def _classify(snapshot: Snapshot, clock_text: Callable[[float], str]) -> tuple[Look, str]:
    links = links_of(snapshot)
    needs = [s for s in Service if links[s] is Link.SIGN_IN_NEEDED]
    if needs:
        return Look.SIGN_IN_NEEDED, _("Sign in to {services}").format(services=names_of(needs))
    offline = [s for s in Service if links[s] is Link.OFFLINE]
    if offline:
        return Look.OFFLINE, _("Offline: cannot reach {services} – retrying").format(services=names_of(offline))
    if snapshot.status in (SyncStatus.LOOP_BREAKER, SyncStatus.MAPPING_ERROR):
        return Look.ERROR, _(_HEADLINES[snapshot.status])
    if snapshot.paused_until is not None:
        return Look.PAUSED, _paused_text(snapshot.paused_until, clock_text)
    if snapshot.status.hands_off:
        return Look.HANDS_OFF, _(_HEADLINES[snapshot.status])
    starting = [s for s in Service if links[s] is Link.STARTING]
    if starting or snapshot.genesys is None:
        if starting:
            return Look.CONNECTING, _("Connecting to {services}…").format(services=names_of(starting))
        return Look.CONNECTING, _("Connecting…")
    headline = _(_HEADLINES[snapshot.status])
    throttled = [s for s in Service if links[s] is Link.THROTTLED]
    if throttled:
        headline = _("{headline} ({services} asked us to slow down)").format(
            headline=headline, services=names_of(throttled)
        )
    return Look.SYNCED, headline


def clamp_tooltip(text: str, limit: int = TOOLTIP_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _detail(snapshot: Snapshot, look: Look) -> str:
    if snapshot.sign_in_prompt:
        return say(snapshot.sign_in_prompt)
    if look in (Look.SIGN_IN_NEEDED, Look.OFFLINE, Look.ERROR) and snapshot.last_error:
        return say(snapshot.last_error)
    if look in (Look.ERROR, Look.HANDS_OFF, Look.CONNECTING):
        return say(snapshot.reason)
    return ""


def expiring(snapshot: Snapshot, service: Service, now: float | None, lead: float = EXPIRY_LEAD) -> bool:
    """The service's sign-in ends within ``lead`` seconds and cannot be renewed without the agent."""
    if now is None or service in SILENTLY_RENEWED or not _signed_in(links_of(snapshot)[service]):
        return False
    expires_at = snapshot.genesys_expires_at if service == Service.GENESYS else snapshot.microsoft_expires_at
    return expires_at is not None and expires_at - now <= lead


def _not_running_view(setup_problem: str | None, failure: str | None) -> TrayView:
    """Before the first snapshot, or when the agent cannot run: nothing to show, nothing to do."""
    look = Look.CONNECTING if setup_problem is None and failure is None else Look.ERROR
    headline = _("Not set up yet") if setup_problem is not None else _("Stopped") if failure else _("Starting…")
    nothing = tuple((s, False) for s in Service)
    return TrayView(
        icon=IconKey(look),
        tooltip=clamp_tooltip(_("{app}: {headline}").format(app=app_title(), headline=headline)),
        headline=headline,
        teams_line="Teams: –",
        genesys_line="Genesys: –",
        detail=setup_problem or failure or "",
        can_pause=False,
        can_resume=False,
        can_sync_now=False,
        can_sign_in=nothing,
        can_sign_out=nothing,
    )


def view_of(
    snapshot: Snapshot | None,
    *,
    now: float | None = None,
    setup_problem: str | None = None,
    failure: str | None = None,
    clock_text: Callable[[float], str] = local_hhmm,
) -> TrayView:
    """The whole tray for one snapshot (``None``: the engine has not published one yet).

    ``now`` (engine clock) lets an expiring sign-in be renewed from the menu before it runs out.
    ``setup_problem``: the agent cannot start until IT or the agent fixes the settings.
    ``failure``: the agent could not run (e.g. no secure keyring); the log has the details.
    """
    if setup_problem is not None or failure is not None or snapshot is None:
        return _not_running_view(setup_problem, failure)
    look, headline = _classify(snapshot, clock_text)
    tone = tone_of(snapshot.genesys) if look in (Look.SYNCED, Look.HANDS_OFF) else Tone.NEUTRAL
    links = links_of(snapshot)
    paused = snapshot.paused_until is not None
    tripped = snapshot.status is SyncStatus.LOOP_BREAKER
    label = _genesys_label(snapshot)
    tooltip = _("{app}: {headline}").format(app=app_title(), headline=headline)
    if label and look in (Look.SYNCED, Look.PAUSED, Look.HANDS_OFF) and label not in headline:
        tooltip = _("{tooltip} · Genesys {status}").format(tooltip=tooltip, status=label)
    hands_off_by_genesys = snapshot.status in (
        SyncStatus.ON_QUEUE,
        SyncStatus.OUT_OF_OFFICE,
        SyncStatus.GENESYS_OFFLINE,
    )
    return TrayView(
        icon=IconKey(look, tone),
        tooltip=clamp_tooltip(tooltip),
        headline=headline,
        teams_line=_with_account(_teams_line(snapshot), snapshot.microsoft_account, snapshot.microsoft),
        genesys_line=_with_account(_genesys_line(snapshot), snapshot.genesys_account, snapshot.genesys_link),
        detail=_detail(snapshot, look),
        can_pause=not paused,
        can_resume=paused or tripped,
        can_sync_now=(
            all(_signed_in(link) for link in links.values()) and not paused and not tripped and not hands_off_by_genesys
        ),
        can_sign_in=tuple((s, links[s] is Link.SIGN_IN_NEEDED or expiring(snapshot, s, now)) for s in Service),
        can_sign_out=tuple((s, _signed_in(links[s])) for s in Service),
        writeback_problem=_writeback_problem(snapshot),
        writeback_on=snapshot.teams_writeback_enabled,
    )


def _writeback_problem(snapshot: Snapshot) -> str:
    if not snapshot.teams_writeback_problem:
        return ""
    return _("Genesys calls not shown in Teams: {reason}").format(reason=say(snapshot.teams_writeback_problem))
