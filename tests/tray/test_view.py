"""Specification of what the tray shows for each engine snapshot (pure: Snapshot → TrayView)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pytest

from tray_agent.core.presence import TeamsPresence
from tray_agent.core.rules import SyncStatus
from tray_agent.core.service import Service
from tray_agent.engine.snapshot import Link, Snapshot
from tray_agent.tray.view import TOOLTIP_LIMIT, IconKey, Look, Tone, TrayView, clamp_tooltip, teams_words, view_of

from .builders import NOW, genesys, in_meeting, snapshot


def utc_hhmm(at: float) -> str:
    return f"{int(at // 3600 % 24):02d}:{int(at // 60 % 60):02d}"


def show(s: Snapshot | None, **kwargs: object) -> TrayView:
    return view_of(s, clock_text=utc_hhmm, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Row:
    case: str
    snapshot: Snapshot
    icon: IconKey
    headline: str
    genesys_line: str
    teams_line: str = ""


ROWS = [
    Row(
        "in sync, Genesys Available",
        snapshot(),
        IconKey(Look.SYNCED, Tone.AVAILABLE),
        "In sync",
        "Genesys: Available – set by you",
        "Teams: Available",
    ),
    Row(
        "in sync, sync set Meeting for a Teams meeting",
        in_meeting(),
        IconKey(Look.SYNCED, Tone.BUSY),
        "In sync",
        "Genesys: Meeting – set by sync",
        "Teams: In a meeting",
    ),
    Row(
        "Teams changed, waiting out the dwell: still the synced look",
        snapshot(status=SyncStatus.DEBOUNCING, teams=TeamsPresence("Busy", "InACall")),
        IconKey(Look.SYNCED, Tone.AVAILABLE),
        "Teams changed: following in a moment",
        "Genesys: Available – set by you",
        "Teams: In a call",
    ),
    Row(
        "Break is amber",
        snapshot(genesys=genesys("BREAK"), genesys_label="Break"),
        IconKey(Look.SYNCED, Tone.AWAY),
        "In sync",
        "Genesys: Break – set by you",
    ),
    Row(
        "On Queue: hands off, blue",
        snapshot(
            status=SyncStatus.ON_QUEUE,
            genesys=genesys("ON_QUEUE", routing="IDLE"),
            genesys_label="On Queue",
            set_by="routing",
        ),
        IconKey(Look.HANDS_OFF, Tone.ON_QUEUE),
        "Hands off: you are On Queue",
        "Genesys: On Queue – hands off",
    ),
    Row(
        "interacting while Available is still On Queue",
        snapshot(status=SyncStatus.ON_QUEUE, genesys=genesys(routing="INTERACTING"), set_by="routing"),
        IconKey(Look.HANDS_OFF, Tone.ON_QUEUE),
        "Hands off: you are On Queue",
        "Genesys: Available – On Queue, hands off",
    ),
    Row(
        "Out of Office: hands off, purple",
        snapshot(status=SyncStatus.OUT_OF_OFFICE, genesys=genesys("BUSY", ooo=True), genesys_label="Busy"),
        IconKey(Look.HANDS_OFF, Tone.OUT_OF_OFFICE),
        "Hands off: Out of Office",
        "Genesys: Busy – Out of Office, hands off",
    ),
    Row(
        "Offline in Genesys: hands off, grey",
        snapshot(status=SyncStatus.GENESYS_OFFLINE, genesys=genesys("OFFLINE"), genesys_label="Offline"),
        IconKey(Look.HANDS_OFF, Tone.OFFLINE),
        "Hands off: Offline in Genesys",
        "Genesys: Offline – hands off",
    ),
    Row(
        "a status the agent set by hand: hands off in that status' colour",
        snapshot(status=SyncStatus.MANUAL, genesys=genesys("BREAK"), genesys_label="Break"),
        IconKey(Look.HANDS_OFF, Tone.AWAY),
        "Hands off: you set this status",
        "Genesys: Break – set by you",
    ),
    Row(
        "paused for 15 minutes",
        snapshot(status=SyncStatus.PAUSED, paused_until=NOW + 900),
        IconKey(Look.PAUSED),
        f"Paused until {utc_hhmm(NOW + 900)}",
        "Genesys: Available – set by you",
    ),
    Row(
        "paused until resumed",
        snapshot(status=SyncStatus.PAUSED, paused_until=math.inf),
        IconKey(Look.PAUSED),
        "Paused until you resume",
        "Genesys: Available – set by you",
    ),
    Row(
        "paused while On Queue: the pause is what the agent must remember",
        snapshot(
            status=SyncStatus.ON_QUEUE,
            paused_until=math.inf,
            genesys=genesys("ON_QUEUE", routing="IDLE"),
            genesys_label="On Queue",
        ),
        IconKey(Look.PAUSED),
        "Paused until you resume",
        "Genesys: On Queue – hands off",
    ),
    Row(
        "Genesys sign-in needed",
        snapshot(genesys_link=Link.SIGN_IN_NEEDED, genesys=None, last_error="Genesys sign-in needed"),
        IconKey(Look.SIGN_IN_NEEDED),
        "Sign in to Genesys Cloud",
        "Genesys: not signed in",
    ),
    Row(
        "both sign-ins needed (first start)",
        snapshot(
            microsoft=Link.SIGN_IN_NEEDED,
            genesys_link=Link.SIGN_IN_NEEDED,
            teams=None,
            genesys=None,
            status=SyncStatus.WAITING,
        ),
        IconKey(Look.SIGN_IN_NEEDED),
        "Sign in to Microsoft and Genesys Cloud",
        "Genesys: not signed in",
        "Teams: not signed in",
    ),
    Row(
        "signing in / starting",
        snapshot(genesys_link=Link.STARTING, genesys=None, status=SyncStatus.WAITING),
        IconKey(Look.CONNECTING),
        "Connecting to Genesys Cloud…",
        "Genesys: connecting…",
    ),
    Row(
        "Microsoft unreachable",
        snapshot(microsoft=Link.OFFLINE, last_error="cannot reach Microsoft Graph"),
        IconKey(Look.OFFLINE),
        "Offline: cannot reach Microsoft – retrying",
        "Genesys: Available – set by you",
    ),
    Row(
        "loop breaker tripped",
        snapshot(status=SyncStatus.LOOP_BREAKER, reason="9 writes in 10 min: sync stopped to break a loop"),
        IconKey(Look.ERROR),
        "Stopped: too many changes in a short time",
        "Genesys: Available – set by you",
    ),
    Row(
        "no Genesys presence for the mapped Teams status",
        snapshot(status=SyncStatus.MAPPING_ERROR),
        IconKey(Look.ERROR),
        "Stopped: this Teams status has no Genesys match",
        "Genesys: Available – set by you",
    ),
    Row(
        "Graph throttling slows polling but sync still works",
        snapshot(microsoft=Link.THROTTLED),
        IconKey(Look.SYNCED, Tone.AVAILABLE),
        "In sync (Microsoft asked us to slow down)",
        "Genesys: Available – set by you",
    ),
    Row(
        "the websocket is down and Genesys is polled: still synced",
        snapshot(genesys_link=Link.DEGRADED),
        IconKey(Look.SYNCED, Tone.AVAILABLE),
        "In sync",
        "Genesys: Available – set by you",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.case for r in ROWS])
def test_each_snapshot_has_its_icon_headline_and_status_lines(row: Row) -> None:
    view = show(row.snapshot)
    assert view.icon == row.icon
    assert view.headline == row.headline
    assert view.genesys_line == row.genesys_line
    if row.teams_line:
        assert view.teams_line == row.teams_line
    assert view.tooltip.startswith("Teams → Genesys presence: " + row.headline[:40])
    assert len(view.tooltip) <= TOOLTIP_LIMIT


def test_before_the_first_snapshot_the_tray_is_starting_and_offers_no_engine_action() -> None:
    view = show(None)
    assert view.icon == IconKey(Look.CONNECTING)
    assert view.headline == "Starting…"
    assert not (view.can_pause or view.can_resume or view.can_sync_now)
    assert not any(possible for _, possible in view.can_sign_in + view.can_sign_out)


def test_a_setup_problem_shows_the_error_look_and_says_what_is_missing() -> None:
    view = show(None, setup_problem="Settings needed from IT: tenant_id")
    assert view.icon == IconKey(Look.ERROR)
    assert view.headline == "Not set up yet"
    assert view.detail == "Settings needed from IT: tenant_id"


def test_the_tooltip_names_the_genesys_status_when_it_is_not_already_in_the_headline() -> None:
    assert show(in_meeting()).tooltip == "Teams → Genesys presence: In sync · Genesys Meeting"
    on_queue = show(ROWS[4].snapshot).tooltip
    assert on_queue == "Teams → Genesys presence: Hands off: you are On Queue"


def test_the_tooltip_never_exceeds_the_windows_limit() -> None:
    label = "A very long secondary presence label " * 6
    view = show(snapshot(genesys_label=label))
    assert len(view.tooltip) == TOOLTIP_LIMIT
    assert view.tooltip.endswith("…")
    assert clamp_tooltip("short\n text") == "short text"


@dataclass(frozen=True)
class Flags:
    case: str
    snapshot: Snapshot
    pause: bool
    resume: bool
    sync_now: bool
    sign_in: tuple[bool, bool]  # microsoft, genesys
    sign_out: tuple[bool, bool]


FLAGS = [
    Flags("in sync: everything but resume and sign in", snapshot(), True, False, True, (False, False), (True, True)),
    Flags(
        "paused: resume, not pause or sync now",
        snapshot(status=SyncStatus.PAUSED, paused_until=NOW + 900),
        False,
        True,
        False,
        (False, False),
        (True, True),
    ),
    Flags(
        "loop breaker: resume clears it",
        snapshot(status=SyncStatus.LOOP_BREAKER),
        True,
        True,
        False,
        (False, False),
        (True, True),
    ),
    Flags(
        "On Queue: sync now would do nothing",
        snapshot(status=SyncStatus.ON_QUEUE, genesys=genesys("ON_QUEUE", routing="IDLE")),
        True,
        False,
        False,
        (False, False),
        (True, True),
    ),
    Flags(
        "manual status: sync now applies Teams over it",
        snapshot(status=SyncStatus.MANUAL),
        True,
        False,
        True,
        (False, False),
        (True, True),
    ),
    Flags(
        "signed out of Genesys: sign in to it, not out",
        snapshot(genesys_link=Link.SIGN_IN_NEEDED, genesys=None),
        True,
        False,
        False,
        (False, True),
        (True, False),
    ),
    Flags(
        "Genesys sign-in ends in 5 minutes: signing in again is offered",
        snapshot(genesys_expires_at=NOW + 300),
        True,
        False,
        True,
        (False, True),
        (True, True),
    ),
    Flags(
        "Microsoft's token renews itself: no early sign-in for it",
        snapshot(microsoft_expires_at=NOW + 60),
        True,
        False,
        True,
        (False, False),
        (True, True),
    ),
]


@pytest.mark.parametrize("row", FLAGS, ids=[r.case for r in FLAGS])
def test_actions_are_enabled_only_when_they_are_possible(row: Flags) -> None:
    view = show(row.snapshot, now=NOW)
    assert (view.can_pause, view.can_resume, view.can_sync_now) == (row.pause, row.resume, row.sync_now)
    assert (view.sign_in_possible(Service.MICROSOFT), view.sign_in_possible(Service.GENESYS)) == row.sign_in
    assert (view.sign_out_possible(Service.MICROSOFT), view.sign_out_possible(Service.GENESYS)) == row.sign_out


@pytest.mark.parametrize(
    ("availability", "activity", "words"),
    [
        ("Available", "Available", "Available"),
        ("Busy", "InAMeeting", "In a meeting"),
        ("DoNotDisturb", "Presenting", "Presenting"),
        ("Away", "BeRightBack", "Be right back"),
        ("Busy", "PresenceUnknown", "Busy"),
        ("Busy", "SomethingNew", "SomethingNew"),
    ],
)
def test_teams_presence_in_words_prefers_the_activity(availability: str, activity: str, words: str) -> None:
    assert teams_words(TeamsPresence(availability, activity)) == words


def test_the_detail_row_explains_errors_and_hands_off() -> None:
    assert show(snapshot()).detail == ""
    lost = snapshot(genesys_link=Link.SIGN_IN_NEEDED, genesys=None, last_error="sign-in failed: denied")
    assert show(lost).detail == "sign-in failed: denied"
    manual = replace(snapshot(status=SyncStatus.MANUAL), reason="the agent set this status by hand")
    assert show(manual).detail == "the agent set this status by hand"


def test_an_agent_that_could_not_run_says_stopped_and_why() -> None:
    view = show(snapshot(), failure="The agent stopped: no secure keyring")
    assert view.icon == IconKey(Look.ERROR)
    assert view.headline == "Stopped"
    assert view.detail == "The agent stopped: no secure keyring"
    assert not view.can_pause


def test_each_service_line_says_who_is_signed_in() -> None:
    view = view_of(replace(snapshot(), microsoft_account="alex@contoso.com", genesys_account="alex@contoso.com"))
    assert view.teams_line.endswith("· alex@contoso.com")
    assert view.genesys_line.endswith("· alex@contoso.com")
