"""The window's "Settings": the mapping editor (for each Teams state, one of the org's own Genesys
presences, secondary ones included, named in the agent's language, or "don't sync"), the dwell and
the restore option. Values IT has set by policy are shown, locked, as "set by your IT department".

:func:`read_settings_form` checks what the browser sent against what was offered (a forged form can
choose nothing the page did not offer, and can change nothing IT has locked) and gives the changes to
write to ``settings.toml``, or problems that say what is wrong and where.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from tray_agent.config.layers import LayeredSettings
from tray_agent.config.settings import NUMERIC_RANGES
from tray_agent.config.settings_file import Value
from tray_agent.core.mapping import DONT_SYNC, MappingError, PresenceMapping
from tray_agent.core.presence import OFFLINE, ON_QUEUE, PresenceCatalog, PresenceDefinition, display_system_presence
from tray_agent.i18n import _, current_language
from tray_agent.tray.view import teams_value_words
from tray_agent.window.layout import escape

Changes = dict[tuple[str, str], Value | None]

# The Teams states the editor offers, in the Teams client's order: availabilities, then activities
# (an activity's entry wins over its availability's; see core.mapping).
AVAILABILITIES = ("Available", "Busy", "DoNotDisturb", "BeRightBack", "Away", "Offline", "PresenceUnknown")
ACTIVITIES = (
    "InACall",
    "InAConferenceCall",
    "InAMeeting",
    "Presenting",
    "Focusing",
    "UrgentInterruptionsOnly",
    "AvailableIdle",
    "BusyIdle",
    "Inactive",
    "OffWork",
)
# Offered before Genesys is signed in: the system presences every org has.
STANDARD = ("Available", "Away", "Busy", "Break", "Meal", "Meeting", "Training")
_NOT_TARGETS = {ON_QUEUE, OFFLINE, "IDLE"}  # routing's, the end of the sync, and Genesys' own idle
DWELL_LOW, DWELL_HIGH = NUMERIC_RANGES["dwell_seconds"]


class SettingsAccess(Protocol):
    """The user's settings under IT policy (:class:`tray_agent.config.settings_file.UserSettingsFile`)."""

    def current(self) -> LayeredSettings: ...

    def save(self, changes: Mapping[tuple[str, str], Value | None]) -> LayeredSettings: ...


@dataclass(frozen=True, slots=True)
class Choice:
    value: str  # the target as settings.toml names it: a system presence, or a secondary one's label
    words: str  # as the agent reads it, in their language


@dataclass(frozen=True, slots=True)
class Problem:
    field: str  # the form control's id ("" : the whole form)
    text: str


def choices_for(presences: Sequence[PresenceDefinition]) -> tuple[Choice, ...]:
    """The org's presences the sync may set (system ones first, then secondary ones), or the standard
    system presences while the org's are not known yet."""
    if not presences:
        return tuple(Choice(name, name) for name in STANDARD)
    usable = [d for d in presences if not d.deactivated and d.system_presence not in _NOT_TARGETS]
    system = sorted((d for d in usable if not d.secondary), key=lambda d: d.system_presence)
    secondary = sorted((d for d in usable if d.secondary), key=lambda d: d.label.lower())
    catalog, language = PresenceCatalog(presences), current_language()
    return tuple(
        Choice(
            d.label if d.secondary else display_system_presence(d.system_presence),
            catalog.describe(d.id, language=language),
        )
        for d in (*system, *secondary)
    )


def teams_values(layered: LayeredSettings) -> tuple[str, ...]:
    """Every Teams state in the editor: the standard ones, then any other the settings name."""
    known = {value.lower() for value in (*AVAILABILITIES, *ACTIVITIES)}
    extra = sorted(key for key, _target in layered.settings.sync.mapping.entries if key not in known)
    return (*AVAILABILITIES, *ACTIVITIES, *extra)


def _locked(layered: LayeredSettings, teams_value: str) -> bool:
    return f"mapping.{teams_value.lower()}" in {name.lower() for name in layered.locked}


def _in_effect(layered: LayeredSettings) -> dict[str, str]:
    return dict(layered.settings.sync.mapping.entries)


# --- reading what the browser sent ---------------------------------------------------------------


def read_settings_form(
    form: Mapping[str, str], layered: LayeredSettings, choices: Sequence[Choice]
) -> tuple[Changes, list[Problem]]:
    """The changes the form asks for (only values that differ from those in effect), or problems."""
    changes: Changes = {}
    problems: list[Problem] = []
    in_effect = _in_effect(layered)
    offered = {DONT_SYNC, *(choice.value for choice in choices)}
    for teams_value in teams_values(layered):
        field = f"map-{teams_value}"
        if field not in form:
            continue
        wanted, current = form[field], in_effect.get(teams_value.lower(), DONT_SYNC)
        if wanted == current:
            continue
        if _locked(layered, teams_value):
            problems.append(
                Problem(
                    field,
                    _("“{teams}” is set by your IT department and cannot be changed here.").format(
                        teams=teams_value_words(teams_value)
                    ),
                )
            )
        elif wanted not in offered:
            problems.append(
                Problem(
                    field,
                    _("“{status}” is not one of your organisation's Genesys statuses.").format(status=wanted[:60]),
                )
            )
        else:
            changes[("mapping", teams_value)] = wanted
    problems += _check_mapping(in_effect, changes)
    dwell = _dwell(form, layered, changes, problems)
    if dwell is not None:
        changes[("agent", "dwell_seconds")] = dwell
    if "restore-shown" in form:
        restore = form.get("restore") == "on"
        if restore != layered.settings.sync.restore_earlier:
            changes[("agent", "restore_earlier_status")] = restore
    return changes, problems


def _check_mapping(in_effect: Mapping[str, str], changes: Changes) -> list[Problem]:
    """The mapping as it would be, checked by the same rules as the file (defence in depth)."""
    table = {**in_effect, **{key.lower(): value for (table, key), value in changes.items() if table == "mapping"}}
    try:
        PresenceMapping.build(table)
    except MappingError as error:
        return [Problem("", str(error))]
    return []


def _dwell(
    form: Mapping[str, str], layered: LayeredSettings, changes: Changes, problems: list[Problem]
) -> int | float | None:
    raw = form.get("dwell")
    if raw is None:
        return None
    try:
        seconds = float(raw.strip().replace(",", "."))
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or not DWELL_LOW <= seconds <= DWELL_HIGH:
        text = _("The wait must be a number of seconds from {low} to {high}.").format(
            low=f"{DWELL_LOW:g}", high=f"{DWELL_HIGH:g}"
        )
        problems.append(Problem("dwell", text))
        return None
    if seconds == layered.settings.sync.dwell_seconds:
        return None
    return int(seconds) if seconds.is_integer() else seconds


def defaults_form(layered: LayeredSettings) -> Changes:
    """ "Put back the defaults": every mapping entry IT has not locked, the dwell and the restore."""
    changes: Changes = {("mapping", value): None for value in teams_values(layered) if not _locked(layered, value)}
    changes[("agent", "dwell_seconds")] = None
    changes[("agent", "restore_earlier_status")] = None
    return changes


# --- the page ------------------------------------------------------------------------------------


def settings_view(
    layered: LayeredSettings,
    choices: Sequence[Choice],
    csrf: str,
    *,
    org_known: bool,
    notice: str = "",
    problems: Sequence[Problem] = (),
    submitted: Mapping[str, str] | None = None,
) -> str:
    """The editor; with ``submitted`` (a form that had problems) it shows what the agent chose."""
    parts = [_messages(layered, notice, problems)]
    if not org_known:
        sign_in = _("Sign in to Genesys Cloud to choose among your organisation’s own statuses too.")
        parts.append(f"<p class='hint'>{escape(sign_in)}</p>")
    wrong = {problem.field for problem in problems}
    values = {
        **_in_effect(layered),
        **{k.removeprefix("map-").lower(): v for k, v in (submitted or {}).items() if k.startswith("map-")},
    }
    # novalidate: the browser's own bubble speaks the browser's language; ours speaks the agent's
    # (the fields keep min/max for assistive technology).
    parts.append(
        f"<form method='post' action='/settings' novalidate><input type='hidden' name='csrf' value='{escape(csrf)}'>"
    )
    for group, members in _groups(layered):
        rows = "".join(_mapping_row(layered, value, values, choices, wrong) for value in members)
        parts.append(f"<fieldset><legend>{escape(group)}</legend><table>{rows}</table></fieldset>")
    parts.append(_timing_fields(layered, submitted or {}, wrong))
    save, defaults = escape(_("Save")), escape(_("Put back the defaults"))
    parts.append(
        f"<p><button type='submit' name='do' value='save'>{save}</button>"
        f"<button type='submit' name='do' value='defaults'>{defaults}</button></p></form>"
    )
    return "".join(parts)


def _groups(layered: LayeredSettings) -> Iterable[tuple[str, Sequence[str]]]:
    values = teams_values(layered)
    standard = len(AVAILABILITIES)
    yield _("When Teams shows"), values[:standard]
    yield _("When Teams says more (this wins over the status above)"), values[standard:]


def _messages(layered: LayeredSettings, notice: str, problems: Sequence[Problem]) -> str:
    parts = []
    if notice:
        parts.append(f"<p class='notice' role='status'>{escape(notice)}</p>")
    if problems:
        items = "".join(
            f"<li>{f'<a href=#{escape(p.field)}>' if p.field else ''}{escape(p.text)}{'</a>' if p.field else ''}</li>"
            for p in problems
        )
        title = escape(_("Nothing was saved:"))
        parts.append(f"<div class='errors' role='alert'><p>{title}</p><ul>{items}</ul></div>")
    if layered.file_problem:
        text = _("Your settings file has a problem: {problem}").format(problem=layered.file_problem)
        parts.append(f"<p class='problem'>{escape(text)}</p>")
    return "".join(parts)


def _mapping_row(
    layered: LayeredSettings, teams_value: str, values: Mapping[str, str], choices: Sequence[Choice], wrong: set[str]
) -> str:
    field = f"map-{teams_value}"
    words = teams_value_words(teams_value)
    current = values.get(teams_value.lower(), DONT_SYNC)
    if _locked(layered, teams_value):
        shown = _target_words(current, choices)
        locked = escape(_("set by your IT department"))
        cell = f"{escape(shown)} <span class='locked'>— {locked}</span>"
        return f"<tr><th scope='row'>{escape(words)}</th><td>{cell}</td></tr>"
    options = [Choice(DONT_SYNC, _("Don't sync (leave Genesys as it is)")), *choices]
    if current not in {choice.value for choice in options}:
        options.append(Choice(current, _target_words(current, choices)))
    html_options = "".join(
        f"<option value='{escape(c.value)}'{' selected' if c.value == current else ''}>{escape(c.words)}</option>"
        for c in options
    )
    invalid = " aria-invalid='true'" if field in wrong else ""
    return (
        f"<tr><th scope='row'><label for='{escape(field)}'>{escape(words)}</label></th>"
        f"<td><select id='{escape(field)}' name='{escape(field)}'{invalid}>{html_options}</select></td></tr>"
    )


def _target_words(target: str, choices: Sequence[Choice]) -> str:
    """A target in the agent's words: "don't sync", one of the org's, or a chain ("Meeting, else Busy")."""
    if target == DONT_SYNC:
        return _("Don't sync (leave Genesys as it is)")
    by_value = {choice.value.lower(): choice.words for choice in choices}
    names = [by_value.get(name.lower(), name) for name in target.split("|")]
    if len(names) == 1 and target.lower() not in by_value:
        return _("{status} (not in your organisation)").format(status=target)
    return _(", else ").join(names)


def _timing_fields(layered: LayeredSettings, submitted: Mapping[str, str], wrong: set[str]) -> str:
    sync = layered.settings.sync
    dwell = submitted.get("dwell", f"{sync.dwell_seconds:g}")
    restore = submitted.get("restore") == "on" if "restore-shown" in submitted else sync.restore_earlier
    invalid = " aria-invalid='true'" if "dwell" in wrong else ""
    hint = _(
        "A Teams change must last this long (a second reading confirms it) before Genesys follows: "
        "{low}–{high} seconds."
    )
    restore_hint = _(
        "Off: when the meeting ends, Genesys follows Teams as mapped above. A status you chose by hand always stays."
    )
    checked = " checked" if restore else ""
    timing, wait = escape(_("Timing")), escape(_("Wait before following a Teams change (seconds)"))
    put_back = escape(_("After a meeting or call, put back the status I had before"))
    return (
        f"<fieldset><legend>{timing}</legend>"
        f"<p><label for='dwell'>{wait}</label> "
        f"<input type='number' id='dwell' name='dwell' min='{DWELL_LOW:g}' max='{DWELL_HIGH:g}' step='1' "
        f"value='{escape(dwell)}' aria-describedby='dwell-hint'{invalid}></p>"
        f"<p class='hint' id='dwell-hint'>{escape(hint.format(low=f'{DWELL_LOW:g}', high=f'{DWELL_HIGH:g}'))}</p>"
        "<input type='hidden' name='restore-shown' value='1'>"
        f"<p><input type='checkbox' id='restore' name='restore'{checked} aria-describedby='restore-hint'> "
        f"<label for='restore'>{put_back}</label></p>"
        f"<p class='hint' id='restore-hint'>{escape(restore_hint)}</p>"
        "</fieldset>"
    )
