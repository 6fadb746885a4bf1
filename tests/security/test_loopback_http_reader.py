"""The sign-in listener's own HTTP/1.1 reader (tray_agent/auth/loopback.py), on what a web framework used to
get right for it: anyone on this computer can connect, so whatever a request breaks — a line too long, too
many fields, a request that never finishes, bytes after it, a body on a GET, a target that is not a path —
gets a plain 400 or a closed connection, never a second request read on the same connection, and never
uses up the sign-in: the real redirect afterwards still completes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from tray_agent.auth.loopback import LoopbackRedirect

pytestmark = pytest.mark.anyio

STATE = "c3RhdGUgb2YgdGhlIGFnZW50J3Mgc2lnbi1pbg"
REAL = "the-real-code"


@dataclass
class Running:
    listener: LoopbackRedirect
    waiting: asyncio.Task[dict[str, str]]

    @property
    def port(self) -> int:
        return self.listener.port

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def get(self, target: str, *headers: str) -> bytes:
        return "\r\n".join([f"GET {target} HTTP/1.1", f"Host: {self.host}", *headers, "", ""]).encode()

    async def completes_with_the_real_redirect(self) -> None:
        """The listener was not used up: the agent's own redirect is still taken."""
        assert not self.waiting.done()
        status = await exchange(self.port, self.get(f"/callback?code={REAL}&state={STATE}"))
        assert status.startswith(b"HTTP/1.1 200 "), status
        assert (await self.waiting)["code"] == REAL


async def start(*, form_post: bool = False, request_timeout: float = 10.0) -> Running:
    listener = LoopbackRedirect(
        path="/callback", expected_state=STATE, form_post=form_post, request_timeout=request_timeout
    )
    await listener.start()
    return Running(listener, asyncio.create_task(listener.wait(20)))


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    running = await start()
    yield running
    running.waiting.cancel()
    await running.listener.close()


async def exchange(port: int, data: bytes, *, within: float = 5) -> bytes:
    """Send ``data`` as it is, then read until the listener closes the connection; everything it said."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(read_to_the_end(reader), within)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def read_to_the_end(reader: asyncio.StreamReader) -> bytes:
    received = b""
    with contextlib.suppress(ConnectionError):
        while chunk := await reader.read(65536):
            received += chunk
    return received


def statuses(answer: bytes) -> list[bytes]:
    return [line for line in answer.split(b"\r\n") if line.startswith(b"HTTP/")]


# --- sizes ---------------------------------------------------------------------------------------


async def test_a_header_line_too_long_is_refused(running: Running) -> None:
    answer = await exchange(running.port, running.get("/callback?code=c&state=" + STATE, "Cookie: " + "x" * 9000))
    assert answer.startswith(b"HTTP/1.1 400 ")
    await running.completes_with_the_real_redirect()


async def test_a_request_line_too_long_is_refused(running: Running) -> None:
    answer = await exchange(running.port, running.get(f"/callback?code={'c' * 9000}&state={STATE}"))
    assert answer.startswith(b"HTTP/1.1 400 ")
    await running.completes_with_the_real_redirect()


async def test_too_many_header_fields_are_refused(running: Running) -> None:
    fields = [f"X-Field-{n}: {n}" for n in range(65)]
    answer = await exchange(running.port, running.get(f"/callback?code=c&state={STATE}", *fields))
    assert answer.startswith(b"HTTP/1.1 400 ")
    await running.completes_with_the_real_redirect()


async def test_a_head_too_long_in_all_is_refused_though_each_line_is_short(running: Running) -> None:
    fields = [f"X-Field-{n}: {'v' * 1000}" for n in range(40)]  # 40 KB, each line 1 KB
    answer = await exchange(running.port, running.get(f"/callback?code=c&state={STATE}", *fields))
    assert answer.startswith(b"HTTP/1.1 400 ")
    await running.completes_with_the_real_redirect()


async def test_a_form_larger_than_16_kib_is_refused_before_it_is_read() -> None:
    running = await start(form_post=True)
    try:
        head = (
            f"POST /callback HTTP/1.1\r\nHost: {running.host}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 16385\r\n\r\n"
        )
        assert (await exchange(running.port, head.encode())).startswith(b"HTTP/1.1 400 ")  # no body sent at all
        body = f"code={REAL}&state={STATE}"
        form = (
            f"POST /callback HTTP/1.1\r\nHost: {running.host}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n{body}"
        )
        assert (await exchange(running.port, form.encode())).startswith(b"HTTP/1.1 200 ")
        assert (await running.waiting)["code"] == REAL
    finally:
        await running.listener.close()


# --- time --------------------------------------------------------------------------------------


async def test_a_request_that_never_finishes_is_cut_off_and_does_not_hold_the_listener() -> None:
    running = await start(request_timeout=0.3)
    try:
        clock = asyncio.get_running_loop().time
        began = clock()
        # the head never ends, the connection is never used, the request line alone
        for stalled in (running.get("/callback?code=c&state=" + STATE)[:-2], b"", b"GET /callback?code=c HTTP/1.1\r\n"):
            answer = await exchange(running.port, stalled, within=3)
            assert answer == b""  # closed, with nothing said
        assert clock() - began < 3
        await running.completes_with_the_real_redirect()
    finally:
        await running.listener.close()


async def test_a_client_trickling_its_request_is_cut_off_at_the_deadline() -> None:
    running = await start(request_timeout=0.3)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
        clock = asyncio.get_running_loop().time
        began, ended = clock(), asyncio.create_task(read_to_the_end(reader))
        request = running.get("/callback?code=c&state=" + STATE, *[f"X-{n}: y" for n in range(60)])  # 7 s of it
        with contextlib.suppress(ConnectionError):
            for byte in request:
                if ended.done() or clock() - began > 3:
                    break
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.01)
        writer.close()
        assert ended.done() and ended.result() == b"" and clock() - began < 3  # cut off, with nothing said
        await running.completes_with_the_real_redirect()
    finally:
        await running.listener.close()


async def test_connections_beyond_the_limit_are_closed_at_once() -> None:
    running = await start(request_timeout=0.5)
    try:
        idle = [await asyncio.open_connection("127.0.0.1", running.port) for _ in range(32)]
        await asyncio.sleep(0.1)  # all of them accepted
        assert await exchange(running.port, running.get("/elsewhere"), within=2) == b""  # not even a 404
        for _, writer in idle:
            writer.close()
        await asyncio.sleep(0.6)  # the idle ones were cut off, or closed by us: room again
        await running.completes_with_the_real_redirect()
    finally:
        await running.listener.close()


# --- one request per connection ----------------------------------------------------------------------


async def test_a_pipelined_second_request_is_never_read(running: Running) -> None:
    smuggled = running.get("/elsewhere") + running.get(f"/callback?code=smuggled&state={STATE}")
    answer = await exchange(running.port, smuggled)
    assert statuses(answer) == [b"HTTP/1.1 404 Not Found"] and b"Connection: close" in answer
    await running.completes_with_the_real_redirect()


async def test_a_second_request_on_the_same_connection_gets_nothing(running: Running) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
    try:
        writer.write(running.get("/elsewhere", "Connection: keep-alive"))
        first = await asyncio.wait_for(read_to_the_end(reader), 5)  # the listener closes after one answer
        assert statuses(first) == [b"HTTP/1.1 404 Not Found"]
        with contextlib.suppress(ConnectionError):
            writer.write(running.get(f"/callback?code=smuggled&state={STATE}"))
            await writer.drain()
        assert await asyncio.wait_for(read_to_the_end(reader), 5) == b""
    finally:
        writer.close()
    await running.completes_with_the_real_redirect()


async def test_bytes_after_the_answer_are_not_a_second_answer(running: Running) -> None:
    real = running.get(f"/callback?code={REAL}&state={STATE}")
    answer = await exchange(running.port, real + running.get(f"/callback?code=second&state={STATE}"))
    assert statuses(answer) == [b"HTTP/1.1 200 OK"]
    assert await running.waiting == {"code": REAL, "state": STATE}


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(32)) + b"\r\n\r\n",  # a TLS ClientHello
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",  # the HTTP/2 preface
        b"\r\n\r\n\r\n",
        b"\x00" * 64 + b"\r\n",
        b"GET /callback HTTP/1.1\n\n",  # bare LF
        b"GET /callback HTTP/1.1\r\nHost: x\rY: z\r\n\r\n",  # bare CR
        b"GET  /callback HTTP/1.1\r\n\r\n",
        b"GET /callback HTTP/1.1 \r\n\r\n",
        b"GET /callback HTTP/9.9\r\n\r\n",
        b"GET /callback\r\n\r\n",  # HTTP/0.9
    ],
    ids=["tls", "h2", "empty lines", "nul", "bare lf", "bare cr", "two spaces", "trailing space", "version", "0.9"],
)
async def test_garbage_gets_a_plain_400(running: Running, garbage: bytes) -> None:
    answer = await exchange(running.port, garbage)
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n") and answer.endswith(b"\r\n\r\nBad request")
    await running.completes_with_the_real_redirect()


# --- the request line ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        b"/callback?code=c&state=\xff\xfe",  # not ASCII (nor UTF-8)
        "/callback?code=c&state=é".encode(),  # UTF-8, but not percent-encoded
        b"/callback?code=c&state=" + STATE.encode() + b"%FF",  # escapes of bytes that are not UTF-8
        b"/callback?code=c&state=" + STATE.encode() + b"%zz",  # not an escape
        b"/callback?code=c&state=" + STATE.encode() + b"#fragment",
        b"/callback?code=c&code=d&state=" + STATE.encode(),  # a parameter twice
        b"/callback?state=" + STATE.encode() + b"&code=c&state=" + STATE.encode(),
        b"/callback?code=c&state=" + STATE.encode() + b"&flag",  # a field without "="
        b"/callback?code=c&&state=" + STATE.encode(),  # an empty field
        b"/callback?" + b"&".join(b"f%d=x" % n for n in range(40)),  # too many fields
    ],
    ids=["latin-1", "raw utf-8", "%FF", "%zz", "fragment", "code twice", "state twice", "no =", "&&", "40 fields"],
)
async def test_a_target_that_is_not_strictly_well_formed_is_refused_without_using_up_the_sign_in(
    running: Running, target: bytes
) -> None:
    request = b"GET " + target + b" HTTP/1.1\r\nHost: " + running.host.encode() + b"\r\n\r\n"
    assert (await exchange(running.port, request)).startswith(b"HTTP/1.1 400 ")
    await running.completes_with_the_real_redirect()


@pytest.mark.parametrize(
    "line",
    [
        "GET http://127.0.0.1:{port}/callback?code=c&state={state} HTTP/1.1",  # absolute-form
        "GET //127.0.0.1:{port}/callback?code=c&state={state} HTTP/1.1",  # not a host: a path, not ours
        "CONNECT 127.0.0.1:{port} HTTP/1.1",  # authority-form
        "OPTIONS * HTTP/1.1",  # asterisk-form
        "get /callback?code=c&state={state} HTTP/1.1",  # methods are case-sensitive
        "G(T /callback?code=c&state={state} HTTP/1.1",
        "GETGETGETGETGETGET /callback?code=c&state={state} HTTP/1.1",
    ],
    ids=["absolute", "double slash", "authority", "asterisk", "lower case", "odd method", "long method"],
)
async def test_only_an_origin_form_target_and_a_plain_method_are_read(running: Running, line: str) -> None:
    request = line.format(port=running.port, state=STATE) + f"\r\nHost: {running.host}\r\n\r\n"
    status = statuses(await exchange(running.port, request.encode()))
    assert status and status[0].split()[1] in {b"400", b"404"}, status
    await running.completes_with_the_real_redirect()


async def test_a_head_request_is_refused_without_a_body(running: Running) -> None:
    answer = await exchange(running.port, f"HEAD /callback HTTP/1.1\r\nHost: {running.host}\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 405 ") and answer.endswith(b"\r\n\r\n")
    await running.completes_with_the_real_redirect()


# --- header fields ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        ["Transfer-Encoding: chunked"],
        ["Content-Length: 5"],
        ["Content-Length: 0", "Content-Length: 0"],
        ["Content-Length: -1"],
        ["Content-Length: 0x10"],
        ["Transfer-Encoding: chunked", "Content-Length: 0"],
    ],
    ids=["te", "cl 5", "cl twice", "cl negative", "cl hex", "te and cl"],
)
async def test_a_get_with_a_body_or_a_framing_header_is_refused(running: Running, fields: list[str]) -> None:
    request = running.get(f"/callback?code=c&state={STATE}", *fields) + b"0\r\n\r\nhello"
    answer = await exchange(running.port, request)
    assert statuses(answer) == [b"HTTP/1.1 400 Bad Request"]
    await running.completes_with_the_real_redirect()


async def test_a_chunked_form_post_is_refused() -> None:
    running = await start(form_post=True)
    try:
        body = f"code=c&state={STATE}"
        request = (
            f"POST /callback HTTP/1.1\r\nHost: {running.host}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Transfer-Encoding: chunked\r\n\r\n{len(body):x}\r\n{body}\r\n0\r\n\r\n"
        )
        assert (await exchange(running.port, request.encode())).startswith(b"HTTP/1.1 400 ")
        assert not running.waiting.done()
    finally:
        running.waiting.cancel()
        await running.listener.close()


@pytest.mark.parametrize(
    "head",
    [
        "GET /callback?code=c&state={state} HTTP/1.1\r\n\r\n",  # no Host
        "GET /callback?code=c&state={state} HTTP/1.1\r\nHost: {host}\r\nHost: {host}\r\n\r\n",
        "GET /callback?code=c&state={state} HTTP/1.1\r\nHost : {host}\r\n\r\n",  # space before the colon
        "GET /callback?code=c&state={state} HTTP/1.1\r\nX-A: b\r\n c\r\nHost: {host}\r\n\r\n",  # obsolete folding
        "GET /callback?code=c&state={state} HTTP/1.1\r\nHost: {host}\r\nX-A: b\x00c\r\n\r\n",  # a control character
        "GET /callback?code=c&state={state} HTTP/1.1\r\nHost: {host}\r\nno colon\r\n\r\n",
        "GET /callback?code=c&state={state} HTTP/1.1\r\nHost: {host}\r\n: empty name\r\n\r\n",
    ],
    ids=["no host", "two hosts", "space before colon", "folding", "nul in value", "no colon", "empty name"],
)
async def test_malformed_header_fields_are_refused(running: Running, head: str) -> None:
    request = head.format(state=STATE, host=running.host).encode()
    assert (await exchange(running.port, request)).startswith(b"HTTP/1.1 400 ")
    await running.completes_with_the_real_redirect()


# --- what is written down --------------------------------------------------------------------------


async def test_nothing_the_requests_carried_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="tray_agent.auth.loopback")
    running = await start(request_timeout=0.3)
    secret = "SECRET-CODE-4711"
    await exchange(running.port, running.get(f"/callback?code={secret}&state={STATE}%zz"))
    await exchange(running.port, running.get(f"/callback?code={secret}&state={STATE}", "X-Long: " + "y" * 9000))
    await exchange(running.port, running.get(f"/callback?code={secret}")[:-2])  # never finished
    await running.completes_with_the_real_redirect()
    await running.listener.close()
    assert caplog.records  # the refusals are noted, with fixed reasons
    for text in (secret, REAL, STATE, "/callback?", "yyyy"):
        assert text not in caplog.text
