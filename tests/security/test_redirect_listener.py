"""The sign-in redirect listener, attacked: it is reachable from this computer only, a replayed
redirect gets nothing, and whatever arrives on it — any method, any query string, well-formed or
not — is refused or ignored without a crash; only an answer carrying our exact ``state`` and a code
is ever handed over. (Its ordinary behaviour is specified in tests/auth/test_loopback.py.)
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import string
from pathlib import Path
from urllib.parse import unquote_plus, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tray_agent.auth.loopback import LoopbackRedirect, SignInFailed

pytestmark = pytest.mark.anyio

STATE = "Qm9vdHN0cmFwIHN0YXRlIG9mIDI1NiBiaXRzIQ-_abc"


def other_addresses_of_this_host() -> list[str]:
    """This host's non-loopback IPv4 addresses (found without sending anything)."""
    addresses = set()
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: a UDP "connect" only picks the outgoing address
        addresses.add(probe.getsockname()[0])
    with contextlib.suppress(OSError):
        addresses.update(info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET))
    return sorted(a for a in addresses if not a.startswith("127."))


def listening_addresses(port: int) -> list[str] | None:
    """Linux: the local addresses of the TCP sockets listening on ``port`` (from /proc/net/tcp*);
    None where there is no /proc to ask."""
    if not Path("/proc/net/tcp").exists():
        return None
    found = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        with contextlib.suppress(OSError):
            for row in Path(table).read_text().splitlines()[1:]:
                local, state = row.split()[1], row.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                    raw = bytes.fromhex(address)  # 32-bit words in host (little-endian) order
                    if width == 8:
                        found.append(socket.inet_ntoa(raw[::-1]))
                    else:
                        words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                        found.append(socket.inet_ntop(socket.AF_INET6, words))
    return found


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


async def test_it_listens_on_both_loopback_addresses_alone() -> None:
    """``localhost`` may be 127.0.0.1 or ::1 to the browser: both are held, and nothing else."""
    listener = LoopbackRedirect(path="/callback", expected_state=STATE)
    port = await listener.start()
    try:
        loopbacks = ["127.0.0.1", "::1"] if has_ipv6_loopback() else ["127.0.0.1"]
        assert listening_addresses(port) in (loopbacks, None)
        assert list(listener.addresses) == loopbacks
        for address in other_addresses_of_this_host():
            with pytest.raises(OSError):
                socket.create_connection((address, port), timeout=2).close()
    finally:
        await listener.close()


@pytest.mark.skipif(not has_ipv6_loopback(), reason="this computer has no IPv6 loopback")
@pytest.mark.parametrize("family", [socket.AF_INET6, socket.AF_INET], ids=["[::1] taken", "127.0.0.1 taken"])
async def test_a_fixed_port_held_by_another_program_on_either_loopback_fails_closed(family: int) -> None:
    with socket.socket(family, socket.SOCK_STREAM) as squatter:
        squatter.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
        squatter.listen(1)
        port = squatter.getsockname()[1]
        listener = LoopbackRedirect(port=port, path="/callback", expected_state=STATE)
        where = f"[::1]:{port}" if family == socket.AF_INET6 else f"127.0.0.1:{port}"
        with pytest.raises(SignInFailed, match=re.escape(f"could not listen on {where}")):
            await listener.start()
        with pytest.raises(OSError):  # and nothing was left listening on the other address
            socket.create_connection(("127.0.0.1" if family == socket.AF_INET6 else "::1", port), timeout=2).close()


@pytest.mark.skipif(not has_ipv6_loopback(), reason="this computer has no IPv6 loopback")
async def test_a_random_port_taken_on_ipv6_is_given_up_for_one_free_on_both(monkeypatch: pytest.MonkeyPatch) -> None:
    """Which port the kernel hands out cannot be foreseen, so a squatter takes [::1] on the first port
    the listener is given, the moment it has it on 127.0.0.1."""
    squatted: list[socket.socket] = []
    real_listen = LoopbackRedirect._listen

    async def listen(self: LoopbackRedirect, host: str, port: int) -> asyncio.Server:
        if host == "::1" and not squatted:
            squatter = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            squatter.bind(("::1", port))
            squatter.listen(1)
            squatted.append(squatter)
        return await real_listen(self, host, port)

    monkeypatch.setattr(LoopbackRedirect, "_listen", listen)
    listener = LoopbackRedirect(path="/callback", expected_state=STATE)
    try:
        port = await listener.start()
        assert port != squatted[0].getsockname()[1] and list(listener.addresses) == ["127.0.0.1", "::1"]
        assert listening_addresses(port) in (["127.0.0.1", "::1"], None)
    finally:
        await listener.close()
        for squatter in squatted:
            squatter.close()


async def test_a_redirect_replayed_at_the_same_moment_is_handed_over_once() -> None:
    listener = LoopbackRedirect(path="/callback", expected_state=STATE)
    port = await listener.start()
    waiting = asyncio.create_task(listener.wait(5))
    url = f"http://127.0.0.1:{port}/callback?" + urlencode({"code": "c1", "state": STATE})

    async def follow() -> int:
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(url)).status_code
        except httpx.HTTPError:
            return 0  # already closed: nothing listening

    answers = await asyncio.gather(*(follow() for _ in range(5)))
    assert await waiting == {"code": "c1", "state": STATE}
    assert answers.count(200) == 1 and set(answers) <= {200, 410, 0}, answers


async def test_a_redirect_replayed_after_sign_in_finds_nothing_on_any_port_path() -> None:
    listener = LoopbackRedirect(path="/callback", expected_state=STATE)
    port = await listener.start()
    waiting = asyncio.create_task(listener.wait(5))
    async with httpx.AsyncClient() as client:
        await client.get(f"http://127.0.0.1:{port}/callback", params={"code": "c1", "state": STATE})
        await waiting
        for path in ("/callback", "/", "/callback/../callback"):
            with pytest.raises(httpx.ConnectError):
                await client.get(f"http://127.0.0.1:{port}{path}", params={"code": "c2", "state": STATE})


# --- anything at all arriving on the listener -------------------------------------------------------

query_text = st.text(alphabet=string.ascii_letters + string.digits + "-._~%+&=;?/:@!$'()*,[]", max_size=120)
parameters = st.lists(
    st.tuples(
        st.sampled_from(["code", "state", "error", "error_description", "session_state", "x"]) | st.text(max_size=8),
        st.sampled_from([STATE, STATE[:-1], STATE + "x", STATE.upper(), "", "c"]) | st.text(max_size=40),
    ),
    max_size=5,
)
queries = st.one_of(query_text, parameters.map(urlencode))
methods = st.sampled_from(["GET"] * 4 + ["POST", "HEAD", "OPTIONS", "PATCH", "PUT", "DELETE", "TRACE", "BREW"])
paths = st.sampled_from(["/callback", "/callback/", "/CALLBACK", "/", "//callback", "/callback%00", "/x/../callback"])


async def send_raw(port: int, method: str, target: str, host: str) -> bytes:
    """One request exactly as written (no client library tidying it up); returns the status line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def one_attempt(method: str, path: str, query: str, right_host: bool) -> None:
    listener = LoopbackRedirect(path="/callback", expected_state=STATE)
    port = await listener.start()
    waiting = asyncio.create_task(listener.wait(5))
    try:
        host = f"127.0.0.1:{port}" if right_host else "attacker.example"
        status_line = await send_raw(port, method, f"{path}?{query}", host)
        assert not status_line or status_line.split()[1] in {b"200", b"400", b"404", b"405", b"410", b"421"}, (
            status_line
        )
        # Then the real redirect: it completes the sign-in unless the attempt above already did.
        with contextlib.suppress(OSError, TimeoutError):
            await send_raw(port, "GET", f"/callback?code=the-real-code&state={STATE}", f"127.0.0.1:{port}")
        try:
            answer = await waiting
        except SignInFailed as refused:
            assert "the-real-code" not in str(refused) and len(str(refused)) < 500  # clear, and no code in it
            return
    finally:
        await listener.close()
    assert answer["state"] == STATE and answer["code"], answer
    if answer["code"] != "the-real-code":  # the attempt itself was taken: it must have been a proper one
        assert method == "GET" and right_host and path == "/callback" and STATE in unquote_plus(query)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(methods, paths, queries, st.booleans())
def test_whatever_arrives_on_the_listener_only_our_exact_state_and_a_code_get_through(
    method: str, path: str, query: str, right_host: bool
) -> None:
    asyncio.run(one_attempt(method, path, query, right_host))
