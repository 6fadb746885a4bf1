"""What the agent's window shows: the state now, in words, and the story (what happened and why).

Pages are rendered on the agent's side, every value escaped, with no script at all: the buttons are
plain forms (keyboard-operable, labelled), so the Content-Security-Policy can forbid scripts entirely.
"""

from __future__ import annotations

import html
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import datetime

from tray_agent.core.service import Service
from tray_agent.engine.activity import LIMIT
from tray_agent.engine.snapshot import Command, CommandKind, Snapshot, Transition
from tray_agent.tray.view import view_of

STYLE = b"""body{font-family:system-ui,sans-serif;max-width:56em;margin:2em auto;padding:0 1em;color:#1b1b1b}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3em .5em;border-bottom:1px solid #ddd;vertical-align:top}
button{font:inherit;padding:.4em .9em;margin:.2em .3em .2em 0}
button:focus-visible,a:focus-visible,select:focus-visible{outline:3px solid #005fcc;outline-offset:2px}
.kind{white-space:nowrap;color:#555}form{display:inline}
"""
ASSETS: Mapping[str, tuple[str, bytes]] = {"/style.css": ("text/css; charset=utf-8", STYLE)}
_COMMANDS = {
    "pause-15": Command(CommandKind.PAUSE, seconds=15 * 60),
    "pause-60": Command(CommandKind.PAUSE, seconds=60 * 60),
    "resume": Command(CommandKind.RESUME),
    "sync-now": Command(CommandKind.SYNC_NOW),
    "sign-in-microsoft": Command(CommandKind.SIGN_IN, service=Service.MICROSOFT),
    "sign-out-microsoft": Command(CommandKind.SIGN_OUT, service=Service.MICROSOFT),
    "sign-in-genesys": Command(CommandKind.SIGN_IN, service=Service.GENESYS),
    "sign-out-genesys": Command(CommandKind.SIGN_OUT, service=Service.GENESYS),
}


class WindowModel:
    """The latest snapshot and the story, fed from the engine's callbacks (any thread)."""

    def __init__(self, story: Iterable[Transition] = ()) -> None:
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._story: deque[Transition] = deque(story, maxlen=LIMIT)

    def on_snapshot(self, snapshot: Snapshot) -> None:
        with self._lock:
            self._snapshot = snapshot

    def on_transition(self, transition: Transition) -> None:
        with self._lock:
            self._story.append(transition)

    def read(self) -> tuple[Snapshot | None, list[Transition]]:
        with self._lock:
            return self._snapshot, list(self._story)

    def command_for(self, path: str, form: Mapping[str, str]) -> Command | None:
        return _COMMANDS.get(form.get("do", "")) if path == "/command" else None


# The activity's filters: what the agent can narrow it to (``/?show=<key>``), and the kinds each keeps.
FILTERS: Mapping[str, tuple[str, frozenset[str]]] = {
    "all": ("Everything", frozenset()),
    "teams": ("Teams", frozenset({"teams", "trigger"})),
    "decision": ("Decisions", frozenset({"decision"})),
    "write": ("Changes to Genesys", frozenset({"write", "genesys"})),
    "error": ("Problems", frozenset({"error", "link"})),
}


def page_for(path: str, model: WindowModel, csrf: str, query: Mapping[str, str] | None = None) -> str | None:
    """The page at ``path`` (None: there is none); ``query["show"]`` narrows the activity (FILTERS)."""
    if path != "/":
        return None
    show = (query or {}).get("show", "all")
    if show not in FILTERS:
        show = "all"
    snapshot, story = model.read()
    kinds = FILTERS[show][1]
    shown = [t for t in story if not kinds or t.kind in kinds]
    return _PAGE.format(now=_now(snapshot, csrf), filters=_filters(show), story=_story(shown))


def _filters(show: str) -> str:
    current = ' aria-current="page"'
    links = (
        f"<a href='/?show={key}'{current if key == show else ''}>{html.escape(label)}</a>"
        for key, (label, _) in FILTERS.items()
    )
    return "<nav aria-label='Show in the activity'><p>Show: " + " · ".join(links) + "</p></nav>"


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Teams → Genesys presence</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/style.css"></head>
<body><main>
<h1>Teams → Genesys presence</h1>
<section aria-labelledby="now"><h2 id="now">Now</h2>{now}</section>
<section aria-labelledby="activity"><h2 id="activity">Activity</h2>{filters}{story}</section>
</main></body></html>
"""


def _now(snapshot: Snapshot | None, csrf: str) -> str:
    view = view_of(snapshot, now=snapshot.at if snapshot else None)
    rows = [
        ("Sync", view.headline + (f" — {view.detail}" if view.detail else "")),
        ("Teams", view.teams_line.removeprefix("Teams: ")),
        ("Genesys", view.genesys_line.removeprefix("Genesys: ")),
    ]
    if view.writeback_problem:
        rows.append(("Teams from Genesys", view.writeback_problem))
    if snapshot is not None and snapshot.paused_until is not None:
        rows.append(("Paused", view.headline))
    table = "".join(f"<tr><th scope='row'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    buttons = []
    if view.can_pause:
        buttons += [("pause-15", "Pause sync for 15 minutes"), ("pause-60", "Pause sync for 1 hour")]
    if view.can_resume:
        buttons.append(("resume", "Resume sync"))
    if view.can_sync_now:
        buttons.append(("sync-now", "Sync now"))
    for service, name in ((Service.MICROSOFT, "Microsoft"), (Service.GENESYS, "Genesys Cloud")):
        key = "microsoft" if service is Service.MICROSOFT else "genesys"
        if view.sign_in_possible(service):
            buttons.append((f"sign-in-{key}", f"Sign in to {name}"))
        if view.sign_out_possible(service):
            buttons.append((f"sign-out-{key}", f"Sign out of {name}"))
    forms = "".join(
        f"<form method='post' action='/command'><input type='hidden' name='csrf' value='{html.escape(csrf)}'>"
        f"<button type='submit' name='do' value='{do}'>{html.escape(label)}</button></form>"
        for do, label in buttons
    )
    return f"<table>{table}</table><p>{forms}</p>"


def _story(story: list[Transition]) -> str:
    if not story:
        return "<p>Nothing has happened yet.</p>"
    rows = "".join(
        f"<tr><td>{_time(t.at)}</td><td class='kind'>{html.escape(t.kind)}</td><td>{html.escape(t.text)}</td></tr>"
        for t in reversed(story)
    )
    return (
        "<table><thead><tr><th scope='col'>When</th><th scope='col'>What</th><th scope='col'>Why</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
    )


def _time(at: float) -> str:
    return html.escape(datetime.fromtimestamp(at).strftime("%d %b %H:%M:%S"))
