"""A single-use loopback redirect listener for native-app OAuth (RFC 8252 §7.3).

The redirect URI says ``localhost`` (what IT registers), and a browser may resolve that to 127.0.0.1
*or* ::1. So the listener holds the port on **both** loopback addresses, and fails closed when another
program holds either one (a second local user listening on ``[::1]:PORT`` would otherwise receive the
redirect with its code and ``state``). Where this computer has no IPv6 loopback at all, nobody can
listen there and 127.0.0.1 alone is held. A random port (port 0) is retried until both are free.

The browser is not given the authorize URL, whose ``state`` and PKCE challenge any local user could read
on its command line (``/proc/PID/cmdline``), but a one-time link to this listener
(:meth:`LoopbackRedirect.start_link`), which redirects to it. A link opened twice fails the sign-in.

It accepts exactly one answer on the redirect path — a GET with the query string
(Genesys), or a form POST (Microsoft with ``response_mode=form_post``, which keeps the code out of
URLs and browser history, RFC 9700 §4.3.1) — checks ``state``, answers the browser with a plain
success or failure page, then closes; a second redirect finds nothing listening. Every other method
is refused, and so is a request whose ``Host`` is not this listener (a DNS-rebinding page cannot
talk to it). Nothing from the answer is logged, and the pages carry ``Referrer-Policy: no-referrer``
and ``Cache-Control: no-store``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import html
import re
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # aiohttp is imported when a sign-in starts, not at start-up (it costs ~0.25 s)
    from aiohttp import web

ErrorExplainer = Callable[[dict[str, str]], str]
_MAX_BODY = 16384
_SHUTDOWN_GRACE = 0.5  # seconds
_RANDOM_PORT_TRIES = 20
# This computer has no such address: nobody can listen there, and no browser can connect there.
_ADDRESS_ABSENT = {errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}


def _plain(status: int, text: str, **headers: str) -> web.Response:
    from aiohttp import web

    return web.Response(status=status, text=text, headers={"Connection": "close", **headers})


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family:sans-serif;max-width:36em;margin:4em auto"><h1>{title}</h1><p>{text}</p></body></html>"""


class SignInFailed(Exception):
    """Sign-in did not complete; the message is for the agent and contains no secret."""


class _Taken(Exception):
    def __init__(self, where: str, why: str) -> None:
        self.where, self.why = where, why


class LoopbackRedirect:
    def __init__(
        self,
        *,
        port: int = 0,
        path: str = "/",
        expected_state: str | None = None,
        form_post: bool = False,
        explain_error: ErrorExplainer | None = None,
    ) -> None:
        """``explain_error`` turns the service's ``error``/``error_description`` answer into the agent's message."""
        self._port = port
        self._explain = explain_error or describe_error
        self._method = "POST" if form_post else "GET"
        self._path = path if path.startswith("/") else "/" + path
        self._expected_state = expected_state
        self._result: asyncio.Future[dict[str, str]] | None = None
        self._answered = False
        self._runner: web.AppRunner | None = None
        self._start_path = "/start/" + secrets.token_urlsafe(24)
        self._start_target: str | None = None
        self._start_used = False
        self.addresses: tuple[str, ...] = ()  # the loopback addresses held, e.g. ("127.0.0.1", "::1")

    @property
    def port(self) -> int:
        return self._port

    def expect_state(self, state: str) -> None:
        """For flows whose ``state`` is made after the listener is up (MSAL picks it)."""
        self._expected_state = state

    def start_link(self, authorize_url: str) -> str:
        """A one-time ``http://127.0.0.1:PORT/start/…`` link that redirects to ``authorize_url``: what the
        browser is given, so the authorize URL never appears on a command line."""
        self._start_target = authorize_url
        return f"http://127.0.0.1:{self._port}{self._start_path}"

    async def start(self) -> int:
        from aiohttp import web

        self._result = asyncio.get_running_loop().create_future()
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # Once answered, nothing else on this listener matters: don't wait aiohttp's default 60 s for
        # other connections' requests to finish (a browser's stalled or speculative request).
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=_SHUTDOWN_GRACE)
        await self._runner.setup()
        tries = _RANDOM_PORT_TRIES if self._port == 0 else 1
        for attempt in range(tries):
            try:
                await self._hold_both(self._runner)
                return self._port
            except _Taken as taken:
                await self._runner.cleanup()
                if attempt + 1 == tries:
                    raise SignInFailed(
                        f"could not listen on {taken.where} for the sign-in redirect: another program holds it "
                        "(is another copy signing in? Otherwise ask IT: another user may be waiting there for "
                        f"your sign-in): {taken.why}"
                    ) from None
                self._runner = web.AppRunner(
                    app, access_log=None, handle_signals=False, shutdown_timeout=_SHUTDOWN_GRACE
                )
                await self._runner.setup()
        raise AssertionError("unreachable")  # pragma: no cover

    async def _hold_both(self, runner: web.AppRunner) -> None:
        """127.0.0.1 first (which picks the port when 0 was asked for), then ::1 on the same port."""
        from aiohttp import web

        # reuse_address=None is asyncio's platform default: SO_REUSEADDR on POSIX, where it only lets a retry
        # bind the registered port while the last sign-in's connection is in TIME_WAIT (never a second
        # listener); off on Windows, where it would let another program take over the port.
        port = self._port
        held: list[str] = []
        for host in ("127.0.0.1", "::1"):
            site = web.TCPSite(runner, host, port, reuse_address=None)
            try:
                await site.start()
            except OSError as error:
                if host == "::1" and error.errno in _ADDRESS_ABSENT:
                    continue  # no IPv6 loopback here: nobody can squat on it either
                shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
                raise _Taken(shown, error.strerror or str(error)) from None
            held.append(host)
            if port == 0:  # the bound socket tells us the port when 0 was asked for
                port = int(runner.addresses[0][1])
        self._port, self.addresses = port, tuple(held)

    async def wait(self, timeout: float) -> dict[str, str]:
        """The redirect's query parameters (``code`` and ``state``); raises SignInFailed."""
        if self._result is None:
            raise RuntimeError("start() the listener before waiting on it")
        try:
            return await asyncio.wait_for(asyncio.shield(self._result), timeout)
        except TimeoutError:
            raise SignInFailed(
                f"no answer from the sign-in page within {timeout:g} s (if the page showed an error, "
                "tell IT what it said; otherwise try again)"
            ) from None
        finally:
            await self.close()

    async def close(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.host not in (f"127.0.0.1:{self._port}", f"localhost:{self._port}", f"[::1]:{self._port}"):
            return _plain(421, "Misdirected request")
        if request.path == self._start_path and self._start_target is not None:
            return self._start(request)
        if request.method != self._method:
            return _plain(405, "Method not allowed", Allow=self._method)
        if request.path != self._path:
            return _plain(404, "Not found")
        if self._result is None or self._result.done() or self._answered:
            return self._page(410, "Already used", "This sign-in link was already used. You can close this tab.")
        if self._method == "POST":
            if request.content_type != "application/x-www-form-urlencoded" or (request.content_length or 0) > _MAX_BODY:
                return _plain(400, "Bad request")
            form = await request.post()
            query = {key: value for key, value in form.items() if isinstance(value, str)}
        else:
            query = {key: value for key, value in request.query.items()}
        if self._answered:  # another answer arrived while this one's body was being read
            return self._page(410, "Already used", "This sign-in link was already used. You can close this tab.")
        self._answered = True
        state = query.get("state")
        if self._expected_state is not None and (
            state is None or not secrets.compare_digest(state.encode(), self._expected_state.encode())
        ):
            failure = SignInFailed("the sign-in answer did not match our request (state mismatch)")
            page = self._page(400, "Sign-in failed", "The answer did not match this app's request. Please try again.")
        elif "error" in query:
            reason = self._explain(query)
            failure, page = SignInFailed(reason), self._page(200, "Sign-in not completed", reason)
        elif not query.get("code"):
            failure = SignInFailed("the sign-in answer carried no authorization code")
            page = self._page(400, "Sign-in failed", "No authorization code was returned.")
        else:
            failure = None
            page = self._page(200, "Signed in", "You are signed in. You can close this tab and go back to work.")
        # The page reaches the browser before the app is told (and closes the listener), so closing
        # can never cut the agent's page short.
        with contextlib.suppress(ConnectionError):
            await page.prepare(request)
            await page.write_eof()
        if failure is not None:
            self._result.set_exception(failure)
        else:
            self._result.set_result(query)
        return page

    def _start(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        if request.method != "GET":
            return _plain(405, "Method not allowed", Allow="GET")
        if self._start_used or self._result is None or self._result.done():
            # Someone else opened it first (it was on a command line): this sign-in cannot be trusted.
            if self._result is not None and not self._result.done():
                self._answered = True
                self._result.set_exception(
                    SignInFailed("the sign-in link was opened twice, so this sign-in was stopped; please sign in again")
                )
            return self._page(410, "Already used", "This sign-in link was already used. Please sign in again.")
        self._start_used = True
        return web.Response(
            status=302,
            headers={
                "Location": str(self._start_target),
                "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer",
                "Connection": "close",
            },
        )

    @staticmethod
    def _page(status: int, title: str, text: str) -> web.Response:
        from aiohttp import web

        body = _PAGE.format(title=html.escape(title), text=html.escape(text))
        headers = {
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "X-Frame-Options": "DENY",
            "Connection": "close",
        }
        return web.Response(status=status, text=body, content_type="text/html", headers=headers)


def error_code_of(query: dict[str, str]) -> str:
    """The answer's ``error`` code, if it is one (RFC 6749 codes are short ASCII words); else "unknown".
    The redirect comes from whoever reached the listener, so its free text is never shown as it is."""
    error = query.get("error", "")
    return error if re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", error) else "unknown"


def describe_error(query: dict[str, str]) -> str:
    """A fixed explanation of an OAuth error answer (RFC 6749 §4.1.2.1) with its code; ``error_description``
    is not repeated (anyone who reached the listener could have written it)."""
    error = error_code_of(query)
    if error == "access_denied":
        return "sign-in was cancelled or access was denied"
    if error == "consent_required" or "AADSTS65001" in query.get("error_description", "")[:300]:
        return "your organisation requires an administrator to approve this app (ask IT to grant consent)"
    return f"the sign-in service did not complete the sign-in (error code: {error}); please try again, or tell IT"
