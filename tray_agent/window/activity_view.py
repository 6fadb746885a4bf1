"""The window's "Activity": what happened and why (Teams → decision → Genesys), newest first, narrowed
by a filter link each (``/activity?show=<key>``). The story itself is the engine's (kept across
restarts by :mod:`tray_agent.engine.activity`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from tray_agent.engine.snapshot import Transition
from tray_agent.i18n import N_, _, say
from tray_agent.window.layout import escape

# What the agent can narrow it to, and the kinds each keeps.
FILTERS: Mapping[str, tuple[str, frozenset[str]]] = {
    "all": (N_("Everything"), frozenset()),
    "teams": (N_("Teams"), frozenset({"teams", "trigger"})),
    "decision": (N_("Decisions"), frozenset({"decision"})),
    "write": (N_("Changes to Genesys"), frozenset({"write", "genesys"})),
    "error": (N_("Problems"), frozenset({"error", "link"})),
}
_KINDS = {
    "teams": N_("Teams"),
    "trigger": N_("Signal"),
    "decision": N_("Decision"),
    "write": N_("Genesys change"),
    "genesys": N_("Genesys"),
    "error": N_("Problem"),
    "link": N_("Connection"),
}


def activity_view(story: list[Transition], show: str) -> str:
    show = show if show in FILTERS else "all"
    kinds = FILTERS[show][1]
    shown = [t for t in story if not kinds or t.kind in kinds]
    return _filters(show) + _table(shown)


def recent_view(story: list[Transition], count: int = 5) -> str:
    """The last few lines of the story, for "Now", with a link to all of it."""
    everything, recently = escape(_("All activity")), escape(_("Recently"))
    return f"<h2>{recently}</h2>" + _table(story[-count:]) + f"<p><a href='/activity'>{everything}</a></p>"


def _filters(show: str) -> str:
    current = ' aria-current="page"'
    links = (
        f"<a href='/activity?show={key}'{current if key == show else ''}>{escape(_(label))}</a>"
        for key, (label, _kinds) in FILTERS.items()
    )
    label = escape(_("Show in the activity"))
    show_words = escape(_("Show:"))
    return f"<nav aria-label='{label}'><p>{show_words} " + " · ".join(links) + "</p></nav>"


def _table(story: list[Transition]) -> str:
    if not story:
        nothing = escape(_("Nothing has happened yet."))
        return f"<p>{nothing}</p>"
    rows = "".join(
        f"<tr><td>{escape(_time(t.at))}</td><td class='kind'>{escape(_kind(t.kind))}</td>"
        f"<td>{escape(say(t.text))}</td></tr>"
        for t in reversed(story)
    )
    head = "".join(f"<th scope='col'>{escape(name)}</th>" for name in (_("When"), _("What"), _("Why")))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _kind(kind: str) -> str:
    return _(_KINDS[kind]) if kind in _KINDS else kind


def _time(at: float) -> str:
    return datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M:%S")
