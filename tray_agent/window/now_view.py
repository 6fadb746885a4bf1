"""The window's "Now": both services and who is signed in, the sync state in words and why, the last
Teams reading and when, the next planned read and why, a pause or a watched signal; and the buttons."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from tray_agent.core.service import Service
from tray_agent.engine.snapshot import Command, CommandKind, Snapshot
from tray_agent.i18n import N_, _
from tray_agent.signals.calendar import CALENDAR
from tray_agent.signals.for_this_workstation import MICROPHONE_OR_CAMERA, SESSION_LOCK
from tray_agent.tray.view import TrayView, teams_words, view_of
from tray_agent.window.layout import button, facts

COMMANDS: Mapping[str, Command] = {
    "pause-15": Command(CommandKind.PAUSE, seconds=15 * 60),
    "pause-60": Command(CommandKind.PAUSE, seconds=60 * 60),
    "resume": Command(CommandKind.RESUME),
    "sync-now": Command(CommandKind.SYNC_NOW),
    "sign-in-microsoft": Command(CommandKind.SIGN_IN, service=Service.MICROSOFT),
    "sign-out-microsoft": Command(CommandKind.SIGN_OUT, service=Service.MICROSOFT),
    "sign-in-genesys": Command(CommandKind.SIGN_IN, service=Service.GENESYS),
    "sign-out-genesys": Command(CommandKind.SIGN_OUT, service=Service.GENESYS),
}

# Why the next Teams read is planned (the protocol's words → the agent's).
_READ_WHY = {
    "timer": N_("the regular check"),
    "start": N_("the agent started"),
    "sync now": N_("you asked to sync now"),
    "resumed": N_("sync was resumed"),
    "hands-off ended": N_("Genesys let go (off queue)"),
    "signed in to Microsoft": N_("you signed in to Microsoft"),
}
_SIGNALS = {
    SESSION_LOCK: N_("locking the computer"),
    MICROPHONE_OR_CAMERA: N_("the microphone or camera"),
    CALENDAR: N_("your calendar's meetings"),
}


def clock_time(at: float) -> str:
    return datetime.fromtimestamp(at).strftime("%H:%M:%S")


def now_view(snapshot: Snapshot | None, csrf: str, *, time_text: Callable[[float], str] = clock_time) -> str:
    view = view_of(snapshot, now=snapshot.at if snapshot else None)
    rows = [
        (_("Sync"), view.headline + (f" — {view.detail}" if view.detail else "")),
        (_("Teams"), _after_label(view.teams_line)),
        (_("Genesys"), _after_label(view.genesys_line)),
    ]
    if snapshot is not None:
        rows += _reading_rows(snapshot, time_text)
    if view.writeback_problem:
        rows.append((_("Teams from Genesys"), view.writeback_problem))
    buttons = _buttons(view)
    forms = "".join(button("/command", do, label, csrf) for do, label in buttons)
    return f"{facts(rows)}<p>{forms}</p>"


def _after_label(line: str) -> str:
    """``Teams: In a meeting · ann@example.com`` → ``In a meeting · ann@example.com`` (the row says Teams)."""
    return line.split(": ", 1)[-1]


def _reading_rows(snapshot: Snapshot, time_text: Callable[[float], str]) -> list[tuple[str, str]]:
    rows = []
    if snapshot.teams is not None and snapshot.teams_read_at is not None:
        text = _("{status} (read at {time})").format(
            status=teams_words(snapshot.teams), time=time_text(snapshot.teams_read_at)
        )
        rows.append((_("Last Teams reading"), text))
    if snapshot.next_read_at is not None:
        why = _READ_WHY.get(snapshot.next_read_why)
        reason = _(why) if why else snapshot.next_read_why
        rows.append(
            (
                _("Next Teams reading"),
                _("at {time}, for {reason}").format(time=time_text(snapshot.next_read_at), reason=reason),
            )
        )
    elif snapshot.paused_until is not None:
        rows.append((_("Next Teams reading"), _("none while sync is paused")))
    if snapshot.watching:
        watched = ", ".join(_(_SIGNALS[name]) if name in _SIGNALS else name for name in snapshot.watching)
        rows.append((_("Reading Teams at once on"), watched))
    return rows


def _buttons(view: TrayView) -> list[tuple[str, str]]:
    buttons: list[tuple[str, str]] = []
    if view.can_pause:
        buttons += [("pause-15", _("Pause sync for 15 minutes")), ("pause-60", _("Pause sync for 1 hour"))]
    if view.can_resume:
        buttons.append(("resume", _("Resume sync")))
    if view.can_sync_now:
        buttons.append(("sync-now", _("Sync now")))
    for service, key, name in (
        (Service.MICROSOFT, "microsoft", "Microsoft"),
        (Service.GENESYS, "genesys", "Genesys Cloud"),
    ):
        if view.sign_in_possible(service):
            buttons.append((f"sign-in-{key}", _("Sign in to {service}").format(service=name)))
        if view.sign_out_possible(service):
            buttons.append((f"sign-out-{key}", _("Sign out of {service}").format(service=name)))
    return buttons
