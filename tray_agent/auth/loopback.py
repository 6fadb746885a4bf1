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

It is standard library only (``asyncio.start_server`` and the small HTTP/1.1 reader below), so the agent
IT installs carries no web framework. Anyone on this computer can connect to it, so the reader is strict
and bounded rather than lenient (RFC 9112 lets a server reject what it does not need):

- one request per connection, answered with ``Connection: close``; bytes after it are never read as a
  second request;
- the request line is ``METHOD SP origin-form SP HTTP/1.x`` in visible ASCII (no absolute-form,
  authority-form, ``*``, fragment or non-ASCII byte); a method is 1-16 capital letters;
- every line ends in CRLF and is at most 8 KiB; at most 64 header fields and 32 KiB of head; no
  obsolete line folding, no space before a colon, no control characters in a value;
- exactly one ``Host``; no ``Transfer-Encoding`` at all, at most one ``Content-Length`` (digits, at
  most 16 KiB), and none but ``0`` outside a POST;
- the query or form is read with :func:`urllib.parse.parse_qsl` strictly: well-formed ``name=value``
  fields joined by ``&``, valid percent-escapes of UTF-8, each name once, at most 32 fields;
- the whole request must arrive within ``request_timeout`` seconds of the connection (a slow or
  endless client is cut off, with nothing said), at most 32 connections are served at once (more are
  closed as they arrive), and an answer not taken by the client within 5 s is dropped.

Whatever breaks these gets a plain ``400 Bad request`` (or, for a request that never finished, the
connection closed) and does not use up the listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import html
import logging
import re
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl

log = logging.getLogger(__name__)

ErrorExplainer = Callable[[dict[str, str]], str]
_MAX_BODY = 16384  # a form POST's body
_MAX_LINE = 8192  # the request line or one header line, CRLF included
_MAX_HEAD = 32768  # the request line and every header line together
_MAX_HEADERS = 64
_MAX_FIELDS = 32  # query or form fields
_MAX_CONNECTIONS = 32  # served at once; more are closed as they arrive
_REQUEST_TIMEOUT = 10.0  # seconds from connection to the whole request (head and body)
_WRITE_TIMEOUT = 5.0  # seconds for the answer to leave
_SHUTDOWN_GRACE = 0.5  # seconds
_RANDOM_PORT_TRIES = 20
# This computer has no such address: nobody can listen there, and no browser can connect there.
_ADDRESS_ABSENT = {errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}

# RFC 9112 §3: origin-form only (a path, maybe a query), visible ASCII without "#"; HTTP/1.0 or 1.1.
_REQUEST_LINE = re.compile(rb'([A-Z]{1,16}) (/[!"$-~]*) HTTP/1\.([01])')
# RFC 9110 §5.1, §5.5: a token, a colon straight after it, a value without control characters (HTAB
# and obs-text allowed), optional whitespace around the value.
_HEADER_LINE = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*?)[ \t]*")
_PERCENT_ESCAPES = re.compile(r"[^%]*(?:%[0-9A-Fa-f]{2}[^%]*)*")  # every "%" starts a valid escape
_SINGLE = ("host", "content-length", "content-type")  # fields that must not appear twice


class SignInFailed(Exception):
    """Sign-in did not complete; the message is for the agent and contains no secret."""


class _Taken(Exception):
    def __init__(self, where: str, why: str) -> None:
        self.where, self.why = where, why


class _Malformed(Exception):
    """The request breaks the reader's rules: answered ``400``. The message is a fixed reason (for the
    debug log), never anything the request carried."""


class _Gone(Exception):
    """The client went away, or never finished its request: nothing to answer."""


@dataclass(frozen=True)
class _Request:
    method: str
    path: str  # as sent: compared exactly, never decoded or normalised
    query: str
    headers: dict[str, list[str]]  # lower-case names

    def one(self, name: str) -> str | None:
        values = self.headers.get(name)
        return values[0] if values else None


@dataclass
class _Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    then: Callable[[], None] | None = None  # run once the response has left (it settles the sign-in)

    def encode(self, *, head_only: bool) -> bytes:
        lines = [f"HTTP/1.1 {self.status} {HTTPStatus(self.status).phrase}"]
        headers = {
            "Content-Type": "text/plain; charset=utf-8",
            **self.headers,
            "Content-Length": str(len(self.body)),
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Connection": "close",
        }
        lines += [f"{name}: {value}" for name, value in headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
        return head if head_only else head + self.body


def _plain(status: int, text: str, **headers: str) -> _Response:
    return _Response(status, text.encode(), headers)


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family:sans-serif;max-width:36em;margin:4em auto"><h1>{title}</h1><p>{text}</p></body></html>"""


async def _read_line(reader: asyncio.StreamReader) -> bytes:
    """One CRLF-ended line, without its CRLF (the stream's limit is ``_MAX_LINE``)."""
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.LimitOverrunError:
        raise _Malformed("a line is too long") from None
    except asyncio.IncompleteReadError:
        raise _Gone from None
    if not line.endswith(b"\r\n") or b"\r" in line[:-2]:
        raise _Malformed("a line does not end in CRLF, or holds a bare CR")
    return line[:-2]


async def _read_request(reader: asyncio.StreamReader) -> _Request:
    """The request line and header fields, by the rules in the module's docstring (not the body)."""
    first = await _read_line(reader)
    matched = _REQUEST_LINE.fullmatch(first)
    if matched is None:
        raise _Malformed("not an origin-form HTTP/1.x request line in visible ASCII")
    method, target = matched[1].decode("ascii"), matched[2].decode("ascii")
    size, headers = len(first) + 2, dict[str, list[str]]()
    for count in range(_MAX_HEADERS + 1):
        line = await _read_line(reader)
        size += len(line) + 2
        if size > _MAX_HEAD:
            raise _Malformed("the request head is too long")
        if not line:
            break
        if count == _MAX_HEADERS:
            raise _Malformed("too many header fields")
        header = _HEADER_LINE.fullmatch(line)
        if header is None:
            raise _Malformed("a malformed header field (or obsolete line folding)")
        headers.setdefault(header[1].decode("ascii").lower(), []).append(header[2].decode("latin-1"))
    if [name for name in _SINGLE if len(headers.get(name, ())) > 1] or len(headers.get("host", ())) != 1:
        raise _Malformed("no Host, or a field that must appear once appears twice")
    if "transfer-encoding" in headers:
        raise _Malformed("a Transfer-Encoding (no request here has a chunked body)")
    length = headers.get("content-length", ["0"])[0]
    if not re.fullmatch(r"[0-9]{1,6}", length) or int(length) > _MAX_BODY:
        raise _Malformed("a Content-Length that is not a number, or too large")
    if method != "POST" and int(length) != 0:
        raise _Malformed("a body on a request other than POST")
    # Not urlsplit: it would read "//x" as a host. The path is only ever compared, exactly.
    path, _, query = target.partition("?")
    return _Request(method, path, query, headers)


def _fields(text: str) -> dict[str, str]:
    """A query string or form body, strictly (see the module's docstring)."""
    if not _PERCENT_ESCAPES.fullmatch(text):
        raise _Malformed("a stray % in the query or form")
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=_MAX_FIELDS,
        )
    except ValueError:  # a field without "=", an empty field, escapes that are not UTF-8, too many fields
        raise _Malformed("a malformed query or form") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise _Malformed("a parameter appears twice in the query or form")
    return fields


class LoopbackRedirect:
    def __init__(
        self,
        *,
        port: int = 0,
        path: str = "/",
        expected_state: str | None = None,
        form_post: bool = False,
        explain_error: ErrorExplainer | None = None,
        request_timeout: float = _REQUEST_TIMEOUT,
    ) -> None:
        """``explain_error`` turns the service's ``error``/``error_description`` answer into the agent's message.
        ``request_timeout``: how long a connection may take to send its whole request."""
        self._port = port
        self._explain = explain_error or describe_error
        self._method = "POST" if form_post else "GET"
        self._path = path if path.startswith("/") else "/" + path
        self._expected_state = expected_state
        self._request_timeout = request_timeout
        self._result: asyncio.Future[dict[str, str]] | None = None
        self._answered = False
        self._servers: list[asyncio.Server] = []
        self._connections: set[asyncio.Task[None]] = set()
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
        if not re.fullmatch(r"https?://[!-~]+", authorize_url):  # it becomes a Location header
            raise ValueError("the authorize URL must be an http(s) URL in visible ASCII")
        self._start_target = authorize_url
        return f"http://127.0.0.1:{self._port}{self._start_path}"

    async def start(self) -> int:
        self._result = asyncio.get_running_loop().create_future()
        tries = _RANDOM_PORT_TRIES if self._port == 0 else 1
        for attempt in range(tries):
            try:
                await self._hold_both()
                return self._port
            except _Taken as taken:
                await self._stop_listening()
                if attempt + 1 == tries:
                    raise SignInFailed(
                        f"could not listen on {taken.where} for the sign-in redirect: another program holds it "
                        "(is another copy signing in? Otherwise ask IT: another user may be waiting there for "
                        f"your sign-in): {taken.why}"
                    ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _listen(self, host: str, port: int) -> asyncio.Server:
        # reuse_address=None is asyncio's platform default: SO_REUSEADDR on POSIX, where it only lets a retry
        # bind the registered port while the last sign-in's connection is in TIME_WAIT (never a second
        # listener); off on Windows, where it would let another program take over the port. asyncio sets
        # IPV6_V6ONLY on the ::1 socket, so the two sockets are separate.
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return await asyncio.start_server(
            self._serve, host, port, family=family, reuse_address=None, limit=_MAX_LINE, backlog=_MAX_CONNECTIONS
        )

    async def _hold_both(self) -> None:
        """127.0.0.1 first (which picks the port when 0 was asked for), then ::1 on the same port."""
        port = self._port
        held: list[str] = []
        for host in ("127.0.0.1", "::1"):
            try:
                server = await self._listen(host, port)
            except OSError as error:
                if host == "::1" and error.errno in _ADDRESS_ABSENT:
                    continue  # no IPv6 loopback here: nobody can squat on it either
                shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
                raise _Taken(shown, error.strerror or str(error)) from None
            self._servers.append(server)
            held.append(host)
            if port == 0:  # the bound socket tells us the port when 0 was asked for
                port = int(server.sockets[0].getsockname()[1])
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
        """Stop listening, and cut off every connection still open (once answered, nothing else on this
        listener matters: a browser's stalled or speculative request is not waited for)."""
        await self._stop_listening()

    async def _stop_listening(self) -> None:
        servers, self._servers = self._servers, []
        for server in servers:
            server.close()
        others = [task for task in self._connections if task is not asyncio.current_task()]
        for task in others:
            task.cancel()
        if others:
            await asyncio.wait(others, timeout=_SHUTDOWN_GRACE)
        for server in servers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), _SHUTDOWN_GRACE)

    # --- one connection, one request -------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is None or len(self._connections) >= _MAX_CONNECTIONS or not self._servers:
            writer.transport.abort()
            return
        self._connections.add(task)
        try:
            head_only = False
            try:
                async with asyncio.timeout(self._request_timeout):
                    request = await _read_request(reader)
                    head_only = request.method == "HEAD"
                    response = await self._answer(request, reader)
            except _Malformed as bad:
                log.debug("sign-in listener: refused a request: %s", bad)
                response = _plain(400, "Bad request")
            except (_Gone, TimeoutError, ConnectionError):
                log.debug("sign-in listener: a connection closed without a whole request in time")
                return
            await self._send(writer, response.encode(head_only=head_only))
            if response.then is not None:
                response.then()
        except Exception:  # never a traceback from the event loop for what a client did
            log.debug("sign-in listener: a connection failed", exc_info=False)
        finally:
            self._connections.discard(task)
            writer.transport.abort()  # a no-op once the answer has left

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, data: bytes) -> None:
        """The whole response, then the connection closed (after it has left, not cutting it short)."""
        writer.write(data)
        writer.close()
        with contextlib.suppress(TimeoutError, ConnectionError):
            await asyncio.wait_for(writer.wait_closed(), _WRITE_TIMEOUT)

    async def _answer(self, request: _Request, reader: asyncio.StreamReader) -> _Response:
        host = (request.one("host") or "").lower()
        if host not in (f"127.0.0.1:{self._port}", f"localhost:{self._port}", f"[::1]:{self._port}"):
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
            content_type = (request.one("content-type") or "").split(";")[0].strip().lower()
            if content_type != "application/x-www-form-urlencoded" or request.one("content-length") is None:
                return _plain(400, "Bad request")
            try:
                body = await reader.readexactly(int(request.one("content-length") or 0))
            except asyncio.IncompleteReadError:
                raise _Gone from None
            try:
                text = body.decode("ascii")
            except UnicodeDecodeError:
                raise _Malformed("a form body that is not URL-encoded ASCII") from None
            if request.query:
                raise _Malformed("a form POST with a query string too")
        else:
            text = request.query
        query = _fields(text)
        if self._answered:  # another answer arrived while this one's body was being read
            return self._page(410, "Already used", "This sign-in link was already used. You can close this tab.")
        self._answered = True
        return self._settle(query)

    def _settle(self, query: dict[str, str]) -> _Response:
        """The page for the one answer taken; the sign-in is settled once the page has reached the browser,
        so closing the listener can never cut the agent's page short."""
        state = query.get("state")
        failure: SignInFailed | None
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
        result = self._result

        def settle() -> None:
            if result is None or result.done():  # the start link was opened twice meanwhile
                return
            if failure is not None:
                result.set_exception(failure)
            else:
                result.set_result(query)

        page.then = settle
        return page

    def _start(self, request: _Request) -> _Response:
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
        return _Response(302, b"", {"Location": str(self._start_target)})

    @staticmethod
    def _page(status: int, title: str, text: str) -> _Response:
        body = _PAGE.format(title=html.escape(title), text=html.escape(text))
        headers = {
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "X-Frame-Options": "DENY",
        }
        return _Response(status, body.encode(), headers)


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


# The same strict reader serves the agent's own window (tray_agent/window/server.py).
Request = _Request
Response = _Response
Malformed = _Malformed
Gone = _Gone
read_request = _read_request
read_fields = _fields
MAX_BODY = _MAX_BODY
