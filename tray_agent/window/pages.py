"""What the agent's window shows and does: its views (Now, Activity, Settings, Help) and what its
forms ask for. The server (:mod:`tray_agent.window.server`) has checked who is asking before any of
this runs; here every value is escaped, and every form is checked against what was offered.

Pages are rendered on the agent's side with no script at all: the buttons are plain forms
(keyboard-operable, labelled), so the Content-Security-Policy can forbid scripts entirely.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from tray_agent.config.settings import SettingsError
from tray_agent.engine.activity import LIMIT
from tray_agent.engine.snapshot import Command, CommandKind, Snapshot, Transition
from tray_agent.i18n import N_, _
from tray_agent.window.activity_view import FILTERS, activity_view, recent_view
from tray_agent.window.help_view import DIAGNOSTICS_FILE, help_view
from tray_agent.window.layout import ASSETS, VIEWS, escape, page
from tray_agent.window.now_view import COMMANDS, now_view
from tray_agent.window.settings_view import (
    Changes,
    Problem,
    SettingsAccess,
    choices_for,
    defaults_form,
    read_settings_form,
    settings_view,
)

log = logging.getLogger(__name__)

__all__ = ["ASSETS", "FILTERS", "Answer", "WindowModel"]

_SAVED_NOTICES = {
    "saved": N_("Saved. From the next Teams change, Genesys follows the new settings."),
    "unchanged": N_("Nothing was changed."),
    "defaults": N_("The defaults are back (apart from what your IT department sets)."),
}


@dataclass(frozen=True, slots=True)
class Answer:
    """What the server sends back: a page, a file, or a redirect (``location``, 303)."""

    status: int
    body: str = ""
    content_type: str = "text/html; charset=utf-8"
    location: str = ""
    download: str = ""  # a file name: sent as an attachment


class WindowModel:
    """The latest snapshot and the story, fed from the engine's callbacks (any thread); the user's
    settings (``settings``) for the editor, and the diagnostics bundle (``diagnostics``) for Help."""

    def __init__(
        self,
        story: Iterable[Transition] = (),
        *,
        settings: SettingsAccess | None = None,
        diagnostics: Callable[[], str] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._story: deque[Transition] = deque(story, maxlen=LIMIT)
        self._settings = settings
        self._diagnostics = diagnostics

    def on_snapshot(self, snapshot: Snapshot) -> None:
        with self._lock:
            self._snapshot = snapshot

    def on_transition(self, transition: Transition) -> None:
        with self._lock:
            self._story.append(transition)

    def read(self) -> tuple[Snapshot | None, list[Transition]]:
        with self._lock:
            return self._snapshot, list(self._story)

    # --- GET -------------------------------------------------------------------------------------

    def get(self, path: str, query: Mapping[str, str], csrf: str) -> Answer | None:
        """The view at ``path`` (None: there is none). Blocking (diagnostics run doctor): call it off the loop."""
        snapshot, story = self.read()
        if path == "/":
            return Answer(200, page(path, _("Now"), now_view(snapshot, csrf) + recent_view(story)))
        if path == "/activity":
            return Answer(200, page(path, _("Activity"), activity_view(story, query.get("show", "all"))))
        if path == "/settings":
            return self._settings_page(
                csrf, notice=_(_SAVED_NOTICES[query["saved"]]) if query.get("saved") in _SAVED_NOTICES else ""
            )
        if path == "/help":
            shown = self._diagnostics is not None and query.get("diagnostics") == "show"
            text = self._diagnostics_text() if shown else None
            return Answer(200, page(path, _("Help"), help_view(text, available=self._diagnostics is not None)))
        if path == DIAGNOSTICS_FILE and self._diagnostics is not None:
            return Answer(
                200, self._diagnostics_text(), "text/plain; charset=utf-8", download="tray-agent-diagnostics.txt"
            )
        return None

    def _diagnostics_text(self) -> str:
        assert self._diagnostics is not None  # noqa: S101 - checked by the callers
        try:
            return self._diagnostics()
        except Exception as error:  # a bundle that cannot be made is said so, in the page
            log.warning("could not make the diagnostics: %s", type(error).__name__)
            return _("The diagnostics could not be made: {error}").format(error=type(error).__name__)

    def _settings_page(
        self,
        csrf: str,
        *,
        status: int = 200,
        notice: str = "",
        problems: list[Problem] | None = None,
        form: Mapping[str, str] | None = None,
    ) -> Answer:
        title = _("Settings")
        if self._settings is None:
            missing = _("Settings are not available in this window.")
            return Answer(200, page("/settings", title, f"<p>{escape(missing)}</p>"))
        snapshot, _story = self.read()
        presences = snapshot.presences if snapshot else ()
        body = settings_view(
            self._settings.current(),
            choices_for(presences),
            csrf,
            org_known=bool(presences),
            notice=notice,
            problems=problems or (),
            submitted=form,
        )
        return Answer(status, page("/settings", title, body))

    # --- POST ------------------------------------------------------------------------------------

    def post(self, path: str, form: Mapping[str, str], csrf: str) -> tuple[Answer, Command | None] | None:
        """What a form asks for: the answer, and the engine command to submit (None: none). The CSRF
        token has been checked. None: there is no such form."""
        if path == "/command":
            command = COMMANDS.get(form.get("do", ""))
            return (Answer(303, location="/"), command) if command is not None else None
        if path == "/settings" and self._settings is not None and form.get("do") in ("save", "defaults"):
            return self._save_settings(form, csrf)
        return None

    def _save_settings(self, form: Mapping[str, str], csrf: str) -> tuple[Answer, Command | None]:
        assert self._settings is not None  # noqa: S101 - checked by post
        layered = self._settings.current()
        snapshot, _story = self.read()
        if form.get("do") == "defaults":
            changes: Changes = defaults_form(layered)
            done = "defaults"
        else:
            changes, problems = read_settings_form(form, layered, choices_for(snapshot.presences if snapshot else ()))
            if problems:
                return self._settings_page(csrf, status=422, problems=problems, form=form), None
            done = "saved" if changes else "unchanged"
        if not changes:
            return Answer(303, location=f"/settings?saved={done}"), None
        try:
            saved = self._settings.save(changes)
        except (SettingsError, OSError) as error:
            text = (
                str(error)
                if isinstance(error, SettingsError)
                else _("could not write the settings file ({error})").format(error=error.strerror)
            )
            return self._settings_page(csrf, status=422, problems=[Problem("", text)], form=form), None
        log.info("settings saved from the window: %s", ", ".join(f"[{table}] {key}" for table, key in changes))
        command = Command(CommandKind.APPLY_SYNC_SETTINGS, sync=saved.settings.sync)
        return Answer(303, location=f"/settings?saved={done}"), command


def view_paths() -> tuple[str, ...]:
    """Every view's path, in the navigation's order (the accessibility and screenshot tests visit each)."""
    return tuple(path for path, _name in VIEWS)
