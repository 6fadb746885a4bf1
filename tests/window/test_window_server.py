"""The agent's window on loopback: only the agent's own browser session gets in, and only its own
page can change anything. Real sockets; each request is written by hand, as an attacker would."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

from tests.tray.builders import in_meeting
from tray_agent.engine.snapshot import Command, CommandKind, Transition
from tray_agent.window import peers
from tray_agent.window.pages import WindowModel
from tray_agent.window.server import CSP, LINK_LIFETIME, WindowServer


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


async def http(port: int, head: str, body: bytes = b"") -> tuple[int, dict[str, str], str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
    await writer.drain()
    raw = await reader.read()
    writer.close()
    text = raw.decode("utf-8", "replace")
    head_text, _, rest = text.partition("\r\n\r\n")
    status = int(head_text.split()[1])
    headers = {k.lower(): v for k, _, v in (line.partition(": ") for line in head_text.split("\r\n")[1:])}
    return status, headers, rest


Body = Callable[[WindowServer, list[Command], Clock], Awaitable[None]]


def serving(body: Body, *, same_user: peers.PeerCheck = peers.same_user) -> None:
    async def main() -> None:
        model = WindowModel([Transition(1_800_000_000.0, "write", "Genesys set to Meeting (Teams <b>call</b>)")])
        model.on_snapshot(in_meeting())
        commands: list[Command] = []
        clock = Clock()
        server = WindowServer(model, commands.append, now=clock, same_user=same_user)
        await server.start()
        try:
            await body(server, commands, clock)
        finally:
            await server.close()

    asyncio.run(main())


async def signed_in(server: WindowServer) -> str:
    """Opens the one-time link as the browser would; returns the session cookie."""
    link = server.new_link().removeprefix(f"http://127.0.0.1:{server.port}")
    status, headers, _ = await http(server.port, f"GET {link} HTTP/1.1\nHost: 127.0.0.1:{server.port}\n")
    assert status == 303 and headers["location"] == "/"
    cookie = headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    return cookie.split(";")[0]


def get(server: WindowServer, cookie: str = "", path: str = "/", host: str | None = None) -> str:
    host = host or f"127.0.0.1:{server.port}"
    return f"GET {path} HTTP/1.1\nHost: {host}\n" + (f"Cookie: {cookie}\n" if cookie else "")


def test_the_page_needs_the_session_that_only_the_one_time_link_gives() -> None:
    async def story(server: WindowServer, commands: list[Command], clock: Clock) -> None:
        status, _, text = await http(server.port, get(server))
        assert status == 403 and "tray" in text
        cookie = await signed_in(server)
        status, headers, page = await http(server.port, get(server, cookie))
        assert status == 200 and "Genesys set to Meeting" in page
        assert headers["cache-control"] == "no-store" and headers["content-security-policy"] == CSP
        assert "<script" not in page and "http" not in page.replace("http-equiv", "")  # no third-party asset
        assert "Teams <b>call</b>" not in page and "&lt;b&gt;call&lt;/b&gt;" in page  # escaped

    serving(story)


def test_a_one_time_link_works_once_and_not_after_two_minutes() -> None:
    async def story(server: WindowServer, commands: list[Command], clock: Clock) -> None:
        link = server.new_link().removeprefix(f"http://127.0.0.1:{server.port}")
        host = f"Host: 127.0.0.1:{server.port}\n"
        assert (await http(server.port, f"GET {link} HTTP/1.1\n{host}"))[0] == 303
        status, _, text = await http(server.port, f"GET {link} HTTP/1.1\n{host}")
        assert status == 403 and "already used" in text
        late = server.new_link().removeprefix(f"http://127.0.0.1:{server.port}")
        clock.now += LINK_LIFETIME + 1
        assert (await http(server.port, f"GET {late} HTTP/1.1\n{host}"))[0] == 403
        assert (await http(server.port, f"GET /open/guessed HTTP/1.1\n{host}"))[0] == 403

    serving(story)


def test_a_wrong_host_is_refused_so_a_dns_rebinding_page_cannot_read_it() -> None:
    async def story(server: WindowServer, commands: list[Command], clock: Clock) -> None:
        cookie = await signed_in(server)
        for host in ("attacker.example", f"localhost:{server.port}", f"attacker.example:{server.port}"):
            assert (await http(server.port, get(server, cookie, host=host)))[0] == 421

    serving(story)


def test_a_change_needs_this_windows_origin_and_its_csrf_token() -> None:
    async def story(server: WindowServer, commands: list[Command], clock: Clock) -> None:
        cookie = await signed_in(server)
        _, _, page = await http(server.port, get(server, cookie))
        csrf = re.search(r"name='csrf' value='([^']+)'", page)
        assert csrf is not None

        def post(form: str, origin: str | None) -> str:
            headers = f"POST /command HTTP/1.1\nHost: 127.0.0.1:{server.port}\nCookie: {cookie}\n"
            headers += "Content-Type: application/x-www-form-urlencoded\n"
            headers += f"Content-Length: {len(form)}\n" + (f"Origin: {origin}\n" if origin else "")
            return headers

        mine = f"http://127.0.0.1:{server.port}"
        for form, origin in (
            ("do=sync-now", mine),  # no token
            ("do=sync-now&csrf=wrong", mine),
            (f"do=sync-now&csrf={csrf[1]}", "http://attacker.example"),
            (f"do=sync-now&csrf={csrf[1]}", None),
            (f"do=sync-now&csrf={csrf[1]}", "null"),  # a sandboxed frame: no Fetch Metadata says same-origin
        ):
            status, _, _ = await http(server.port, post(form, origin), form.encode())
            assert status == 403, (form, origin)
        assert commands == []
        form = f"do=sync-now&csrf={csrf[1]}"
        status, _, _ = await http(server.port, post(form, mine), form.encode())
        assert status == 303 and commands == [Command(CommandKind.SYNC_NOW)]

    serving(story)


def test_another_user_of_this_computer_is_refused_before_anything_is_read() -> None:
    another_user = [True]

    async def story(server: WindowServer, commands: list[Command], clock: Clock) -> None:
        link = server.new_link().removeprefix(f"http://127.0.0.1:{server.port}")
        opening = f"GET {link} HTTP/1.1\nHost: 127.0.0.1:{server.port}\n"
        status, _, text = await http(server.port, opening)
        assert status == 403 and "another user" in text
        another_user[0] = False
        assert (await http(server.port, opening))[0] == 303, "their attempt did not use up the link"

    serving(story, same_user=lambda peer, server: not another_user[0])


def test_when_who_connects_cannot_be_told_the_cookie_still_guards_and_the_link_still_works() -> None:
    asked: list[tuple[peers.Endpoint, peers.Endpoint]] = []

    def cannot_tell(peer: peers.Endpoint, server: peers.Endpoint) -> bool | None:
        asked.append((peer, server))
        return None

    async def story(server: WindowServer, commands: list[Command], clock: Clock) -> None:
        status, _, text = await http(server.port, get(server))
        assert status == 403 and "tray menu" in text  # no cookie: the cookie check refuses, as before
        cookie = await signed_in(server)
        assert (await http(server.port, get(server, cookie)))[0] == 200
        peer, ours = asked[0]
        assert peer[0] == "127.0.0.1" and peer[1] != server.port and ours == ("127.0.0.1", server.port)

    serving(story, same_user=cannot_tell)


def test_malformed_requests_get_400_and_change_nothing() -> None:
    async def story(server: WindowServer, commands: list[Command], clock: Clock) -> None:
        for head in ("GET http://x/ HTTP/1.1\nHost: x\n", "GET / HTTP/1.1\n", "BREW / HTTP/1.1\nHost: a\nHost: b\n"):
            assert (await http(server.port, head))[0] == 400
        assert commands == []

    serving(story)


def test_the_activity_can_be_narrowed_to_what_the_agent_is_looking_for() -> None:
    async def story(server: WindowServer, commands: list[Command], clock: Clock) -> None:
        server._model.on_transition(Transition(1_800_000_060.0, "error", "could not change the Genesys status"))
        server._model.on_transition(Transition(1_800_000_120.0, "teams", "Teams is Busy / InAMeeting"))
        cookie = await signed_in(server)

        async def shown(query: str) -> str:
            status, _, page = await http(server.port, get(server, cookie, path=f"/activity{query}"))
            assert status == 200
            return page.split("<main>", 1)[1]

        problems = await shown("?show=error")
        assert "could not change the Genesys status" in problems and "Teams is Busy" not in problems
        assert 'aria-current="page">Problems' in problems
        everything = await shown("?show=nonsense")
        assert all(text in everything for text in ("could not change", "Teams is Busy", "Genesys set to Meeting"))
        assert (await http(server.port, get(server, cookie, path="/activity?show=%zz")))[0] == 400

    serving(story)
