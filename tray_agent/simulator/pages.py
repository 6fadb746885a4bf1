"""Tiny HTML pages for the simulated sign-in flows (no external assets, no JS needed except form_post)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from aiohttp import web

_STYLE = """
body{font-family:system-ui,sans-serif;background:#f3f3f3;margin:0;padding:3em}
main{background:#fff;max-width:28em;margin:auto;padding:2em;border-radius:6px;box-shadow:0 2px 8px #0002}
h1{font-size:1.3em}.sim{color:#a00;font-size:.85em}.err{color:#a00}
label{display:block;margin:.8em 0 .3em}input[type=text]{width:100%;padding:.4em;box-sizing:border-box}
button{margin:1em .5em 0 0;padding:.5em 1.2em}
"""


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><main>{body}</main></body></html>"
    )


def html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html")


def _hidden(fields: Mapping[str, str]) -> str:
    return "".join(
        f"<input type='hidden' name='{escape(k)}' value='{escape(v)}'>"
        for k, v in fields.items()
        if k not in _OWN_FIELDS
    )


_OWN_FIELDS = frozenset({"username", "action", "otc"})


def sign_in(
    *,
    title: str,
    heading: str,
    action: str,
    fields: Mapping[str, str],
    username: str,
    approve_label: str,
    deny_label: str,
    detail: str = "",
    error: str | None = None,
    code_field: str | None = None,
) -> web.Response:
    """A form with the username, ``id="approve"`` and ``id="deny"`` buttons, POSTing back to ``action``."""
    body = (
        f"<h1>{escape(heading)}</h1>"
        "<p class='sim'>Simulated service for testing — not a real sign-in page.</p>"
        f"{f'<p class=err>{escape(error)}</p>' if error else ''}"
        f"<p>{escape(detail)}</p>"
        f"<form method='post' action='{escape(action)}'>{_hidden(fields)}"
        + (
            "<label for='code'>Code</label>"
            f"<input type='text' id='code' name='otc' value='{escape(code_field)}' autocomplete='off'>"
            if code_field is not None
            else ""
        )
        + "<label for='username'>Username</label>"
        f"<input type='text' id='username' name='username' value='{escape(username)}'>"
        f"<button type='submit' id='approve' name='action' value='approve'>{escape(approve_label)}</button>"
        f"<button type='submit' id='deny' name='action' value='deny'>{escape(deny_label)}</button>"
        "</form>"
    )
    return html(_page(title, body), 200 if error is None else 400)


def redirect(location: str) -> web.Response:
    """A 302 as a plain response (returned, not raised, so the request log records it)."""
    return web.Response(status=302, headers={"Location": location})


def error_page(title: str, message: str, status: int = 400) -> web.Response:
    """Shown instead of redirecting when the redirect target itself cannot be trusted."""
    body = (
        f"<h1>{escape(title)}</h1><p class='sim'>Simulated service for testing.</p>"
        f"<p class='err' id='error'>{escape(message)}</p>"
    )
    return html(_page(title, body), status)


def message_page(title: str, message: str) -> web.Response:
    return html(_page(title, f"<h1>{escape(title)}</h1><p id='message'>{escape(message)}</p>"))


def form_post(action: str, fields: Mapping[str, str]) -> web.Response:
    """``response_mode=form_post``: an auto-submitting form (``id="response"``) to the redirect URI.

    MSAL's ``acquire_token_interactive`` asks for this mode; a test "browser" can parse the hidden inputs
    and POST them itself.
    """
    inputs = "".join(f"<input type='hidden' name='{escape(k)}' value='{escape(v)}'>" for k, v in fields.items())
    body = (
        f"<form method='post' id='response' action='{escape(action)}'>{inputs}"
        "<noscript><button type='submit'>Continue</button></noscript></form>"
        "<script>document.getElementById('response').submit()</script>"
    )
    return html(_page("Working...", body))
