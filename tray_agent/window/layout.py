"""The frame every view of the agent's window shares: the page, its navigation, its style, and the
small pieces (a button as a form, a table of facts). Every value is escaped here or by the caller;
there is no script at all, so the Content-Security-Policy forbids scripts entirely."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping

from tray_agent.i18n import N_, _, current_language
from tray_agent.tray.view import app_title

STYLE = b"""body{font-family:system-ui,sans-serif;max-width:60em;margin:1.5em auto;padding:0 1em;color:#1b1b1b}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35em .5em;border-bottom:1px solid #ddd;vertical-align:top}
button,select,input,textarea{font:inherit}button{padding:.4em .9em;margin:.2em .3em .2em 0}
select,input[type=number]{padding:.25em;min-width:14em}
:focus-visible{outline:3px solid #005fcc;outline-offset:2px}
nav.views ul{list-style:none;display:flex;gap:.3em;padding:0;margin:0 0 1em;border-bottom:2px solid #ccc;flex-wrap:wrap}
nav.views a{display:block;padding:.45em .9em;color:#00458a;text-decoration:none}
nav.views a[aria-current=page]{border-bottom:3px solid #00458a;font-weight:bold;color:#1b1b1b}
.kind{white-space:nowrap;color:#4a4a4a}form.inline{display:inline}
.locked{color:#4a4a4a;font-style:italic}.problem{color:#a00000;font-weight:bold}
.notice{background:#eef6ee;border-left:4px solid #2e7d32;padding:.5em 1em}
.errors{background:#fdecea;border-left:4px solid #a00000;padding:.5em 1em}
textarea{width:100%;min-height:24em;font-family:ui-monospace,monospace;font-size:.85em}
fieldset{border:1px solid #ccc;margin:1em 0;padding:.5em 1em}legend{font-weight:bold}
fieldset th{width:45%}
.hint{color:#4a4a4a;font-size:.9em;margin:.2em 0}
"""
ASSETS: Mapping[str, tuple[str, bytes]] = {"/style.css": ("text/css; charset=utf-8", STYLE)}

# The window's views, in the order of its navigation: path → name.
VIEWS: tuple[tuple[str, str], ...] = (
    ("/", N_("Now")),
    ("/activity", N_("Activity")),
    ("/settings", N_("Settings")),
    ("/help", N_("Help")),
)


def escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def page(path: str, title: str, body: str) -> str:
    """A whole page: ``body`` (already escaped HTML) under the navigation, ``path`` marked current."""
    current = ' aria-current="page"'
    links = "".join(
        f"<li><a href='{escape(href)}'{current if href == path else ''}>{escape(_(name))}</a></li>"
        for href, name in VIEWS
    )
    app, views = app_title(), _("Views")
    return (
        f'<!doctype html>\n<html lang="{escape(current_language().replace("_", "-"))}"><head><meta charset="utf-8">'
        f"<title>{escape(title)} – {escape(app)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="stylesheet" href="/style.css"></head>\n'
        f"<body><header><p><strong>{escape(app)}</strong></p>"
        f"<nav class='views' aria-label='{escape(views)}'><ul>{links}</ul></nav></header>\n"
        f"<main><h1>{escape(title)}</h1>\n{body}\n</main></body></html>\n"
    )


def facts(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table of ``(what, value)``, the first column as row headers."""
    cells = "".join(f"<tr><th scope='row'>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


def button(action: str, do: str, label: str, csrf: str) -> str:
    """A button that POSTs ``do`` to ``action`` with the page's CSRF token: a plain, keyboard-operable form."""
    return (
        f"<form class='inline' method='post' action='{escape(action)}'>"
        f"<input type='hidden' name='csrf' value='{escape(csrf)}'>"
        f"<button type='submit' name='do' value='{escape(do)}'>{escape(label)}</button></form>"
    )
