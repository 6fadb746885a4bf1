"""The agent's window: a local web page served by the agent itself, on loopback, for this user only.

Why a web page: it looks and works the same on Windows, macOS and Linux, in the browser the agent
already has, and it is tested in real Chromium; a native toolkit would be a fourth dependency per OS.

Who can reach it. Anyone on this computer can connect to 127.0.0.1, so every request must prove it
comes from the agent's own browser session:

- a random port, and an unguessable per-launch secret. The browser is not given the secret: it gets a
  **one-time link** (``/open/<link>``, valid for 2 minutes, used once), whose answer sets the session
  cookie (``HttpOnly``, ``SameSite=Strict``, ``Path=/``) and redirects to ``/``. A link read from the
  browser's command line by another local user is worthless once used, and a link used by someone
  else first leaves the agent's own browser with "already used" (it never gets in silently);
- a connection from another user of this computer is refused outright, before anything is read: the
  connecting socket must be held by this same OS user (:mod:`tray_agent.window.peers`: on Linux its
  owner in ``/proc/net/tcp``/``tcp6``, on Windows its owning process's token user, on macOS a process
  of this user holding it). Where that cannot be told at all, the cookie is what keeps them out;
- ``Host`` must be this listener (``127.0.0.1:PORT``): a DNS-rebinding page cannot talk to it;
- a change (POST) must come from this window (``Origin`` of this listener, or, where the browser
  sends ``Origin: null``, its ``Sec-Fetch-Site: same-origin``) and carry the page's CSRF token,
  compared in constant time;
- every answer is ``Cache-Control: no-store`` with a strict Content-Security-Policy (nothing but this
  listener's own styles; no script, no frame, no form to elsewhere) and no third-party asset.

The request reader is the sign-in listener's strict one (:mod:`tray_agent.auth.loopback`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from tray_agent.auth.loopback import MAX_BODY, Gone, Malformed, Request, Response, read_fields, read_request
from tray_agent.engine.snapshot import Command
from tray_agent.window import peers
from tray_agent.window.pages import ASSETS, Answer, WindowModel

log = logging.getLogger(__name__)
_T = TypeVar("_T")

LINK_LIFETIME = 120.0  # seconds a one-time link may wait for the browser
REQUEST_TIMEOUT = 10.0  # to read a request
ANSWER_TIMEOUT = 60.0  # to make the answer (Help's diagnostics run doctor's checks)
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
COOKIE = "agent-window"
PEER_CHECK_TIMEOUT = 5.0  # to find who holds the connecting socket; past it, the connection is closed


@dataclass
class _Secrets:
    session: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    links: dict[str, tuple[float, str]] = field(default_factory=dict)  # one-time link → (until when, view)


class WindowServer:
    """Serves :class:`WindowModel` (the latest snapshot and the story); ``submit`` takes the commands
    its buttons send (the tray's thread-safe ``Engine.submit``)."""

    def __init__(
        self,
        model: WindowModel,
        submit: Callable[[Command], None],
        *,
        now: Callable[[], float] = time.monotonic,
        same_user: peers.PeerCheck = peers.same_user,
    ) -> None:
        self._model = model
        self._submit = submit
        self._now = now
        self._same_user = same_user
        self._secrets = _Secrets()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, limit=8192)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    def new_link(self, view: str = "/") -> str:
        """A one-time URL that opens the window at ``view`` in the agent's browser (never logged)."""
        now = self._now()
        links = self._secrets.links
        for expired in [link for link, (until, _view) in links.items() if until <= now]:
            del links[expired]
        link = secrets.token_urlsafe(24)
        links[link] = (now + LINK_LIFETIME, view if view.startswith("/") and not view.startswith("//") else "/")
        return f"http://127.0.0.1:{self.port}/open/{link}"

    # --- serving ---------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if await self._another_user(writer):
                response = _text(403, "This window belongs to another user of this computer.")
            else:
                response = await self._answer(reader)
        except Malformed:
            response = _text(400, "Bad request")
        except (Gone, TimeoutError, ConnectionError):
            writer.close()
            return
        with contextlib.suppress(ConnectionError, TimeoutError):
            writer.write(response.encode(head_only=False))
            await asyncio.wait_for(writer.drain(), 5.0)
        writer.close()

    async def _another_user(self, writer: asyncio.StreamWriter) -> bool:
        """The connection is another user's (:mod:`~tray_agent.window.peers` says False). "Cannot tell"
        (None) lets it on to the cookie check. Asked on a worker thread: it reads the OS's socket tables."""
        peer, ours = writer.get_extra_info("peername"), writer.get_extra_info("sockname")
        if not (isinstance(peer, tuple) and isinstance(ours, tuple)):
            return False
        ends = (str(peer[0]), int(peer[1])), (str(ours[0]), int(ours[1]))
        said = await asyncio.wait_for(asyncio.to_thread(self._same_user, *ends), PEER_CHECK_TIMEOUT)
        return said is False

    async def _answer(self, reader: asyncio.StreamReader) -> Response:
        request = await asyncio.wait_for(read_request(reader), REQUEST_TIMEOUT)
        if request.one("host") != f"127.0.0.1:{self.port}":
            return _text(421, "Wrong host")  # a DNS-rebinding page, or a mistyped address
        if request.path.startswith("/open/") and request.method == "GET":
            return self._open(request.path.removeprefix("/open/"))
        if not self._has_session(request):
            return _text(403, "Open this window from the agent's tray menu.")
        if request.method == "GET":
            return await self._get(request)
        if request.method == "POST":
            body = await asyncio.wait_for(_body(reader, request), REQUEST_TIMEOUT)
            return await self._post(request, body)
        return _text(405, "Method not allowed", Allow="GET, POST")

    def _open(self, link: str) -> Response:
        until, view = self._secrets.links.pop(link, (0.0, "/"))
        if until <= self._now():
            return _text(403, "This link was already used or is too old: open the window again from the tray.")
        cookie = f"{COOKIE}={self._secrets.session}; HttpOnly; SameSite=Strict; Path=/"
        return Response(303, b"", {"Location": view, "Set-Cookie": cookie, **_HEADERS})

    def _from_this_window(self, request: Request) -> bool:
        """``Origin`` is this listener; under ``Referrer-Policy: no-referrer`` Chromium sends ``Origin:
        null`` for the page's own forms, and then the browser's Fetch Metadata (which no page can set)
        must say ``same-origin``."""
        origin = request.one("origin")
        if origin == f"http://127.0.0.1:{self.port}":
            return True
        return origin in (None, "null") and request.one("sec-fetch-site") == "same-origin"

    def _has_session(self, request: Request) -> bool:
        for header in request.headers.get("cookie", []):
            for part in header.split(";"):
                name, _, value = part.strip().partition("=")
                if name == COOKIE and hmac.compare_digest(value.encode(), self._secrets.session.encode()):
                    return True
        return False

    async def _get(self, request: Request) -> Response:
        asset = ASSETS.get(request.path)
        if asset is not None:
            content_type, data = asset
            return Response(200, data, {"Content-Type": content_type, **_HEADERS})
        query = read_fields(request.query)
        answer = await _off_the_loop(self._model.get, request.path, query, self._secrets.csrf)
        return _text(404, "Not found") if answer is None else _response(answer)

    async def _post(self, request: Request, body: bytes) -> Response:
        if not self._from_this_window(request):
            return _text(403, "Refused: the request did not come from this window.")
        try:
            form = read_fields(body.decode("ascii"))
        except (UnicodeDecodeError, Malformed):
            return _text(400, "Bad request")
        token = form.get("csrf", "")
        if not hmac.compare_digest(token.encode(), self._secrets.csrf.encode()):
            return _text(403, "Refused: this page is out of date; reload it.")
        handled = await _off_the_loop(self._model.post, request.path, form, self._secrets.csrf)
        if handled is None:
            return _text(404, "Not found")
        answer, command = handled
        if command is not None:
            self._submit(command)
        return _response(answer)


_HEADERS = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "Cross-Origin-Resource-Policy": "same-origin"}


async def _off_the_loop(function: Callable[..., _T], *args: object) -> _T:
    """A view may block (settings file, doctor's checks): on a worker thread, bounded by ANSWER_TIMEOUT."""
    return await asyncio.wait_for(asyncio.to_thread(function, *args), ANSWER_TIMEOUT)


def _response(answer: Answer) -> Response:
    headers = {**_HEADERS}
    if answer.location:
        headers["Location"] = answer.location
    else:
        headers["Content-Type"] = answer.content_type
    if answer.download:
        headers["Content-Disposition"] = f'attachment; filename="{answer.download}"'
    return Response(answer.status, answer.body.encode("utf-8"), headers)


def _text(status: int, text: str, **headers: str) -> Response:
    return Response(status, text.encode("utf-8"), {**_HEADERS, **headers})


async def _body(reader: asyncio.StreamReader, request: Request) -> bytes:
    length = int(request.one("content-length") or "0")
    if length > MAX_BODY:
        raise Malformed("too large")
    if request.one("content-type") not in ("application/x-www-form-urlencoded", None):
        raise Malformed("not a form")
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        raise Gone from None
