"""The window's "Help": "Copy diagnostics" shows the redacted bundle for the helpdesk (settings with
the source of each value, doctor's findings, recent activity, versions; never a secret) in a read-only
text box to copy, and offers it as a file. Without script the page cannot write the clipboard itself,
so the agent selects and copies (Ctrl+A, Ctrl+C) or downloads it."""

from __future__ import annotations

from tray_agent.i18n import _
from tray_agent.window.layout import escape

DIAGNOSTICS_FILE = "/diagnostics.txt"


def help_view(diagnostics: str | None, *, available: bool) -> str:
    intro = _(
        "If something does not work as you expect, the helpdesk can see what the agent sees. The diagnostics "
        "hold your settings and where each comes from, the agent's own checks, recent activity and versions. "
        "They never hold a password, a sign-in or a token."
    )
    parts = [f"<p>{escape(intro)}</p>"]
    if not available:
        missing = escape(_("Diagnostics are not available in this window."))
        parts.append(f"<p>{missing}</p>")
        return "".join(parts)
    copy = escape(_("Copy diagnostics"))
    parts.append(
        "<form method='get' action='/help'><input type='hidden' name='diagnostics' value='show'>"
        f"<button type='submit'>{copy}</button></form>"
    )
    if diagnostics is not None:
        label, download = escape(_("Diagnostics for the helpdesk")), escape(_("Download the diagnostics"))
        how = _("Select all the text (Ctrl+A) and copy it (Ctrl+C) into your message to the helpdesk, or download it.")
        parts.append(
            f"<p id='diagnostics-how'>{escape(how)}</p>"
            f"<p><label for='diagnostics'>{label}</label></p>"
            f"<textarea id='diagnostics' readonly aria-describedby='diagnostics-how'>{escape(diagnostics)}</textarea>"
            f"<p><a href='{DIAGNOSTICS_FILE}' download='tray-agent-diagnostics.txt'>"
            f"{download}</a></p>"
        )
    return "".join(parts)
