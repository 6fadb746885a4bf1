"""The single-use loopback redirect listener (RFC 8252 §7.3), over real sockets."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tray_agent.auth.loopback import LoopbackRedirect, SignInFailed

pytestmark = pytest.mark.anyio


async def answer(listener: LoopbackRedirect, method: str = "GET", **kwargs: object) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.request(method, f"http://127.0.0.1:{listener.port}/callback", **kwargs)  # type: ignore[arg-type]


async def test_it_listens_on_127_0_0_1_only_and_hands_over_the_code_once() -> None:
    listener = LoopbackRedirect(path="/callback", expected_state="s1")
    await listener.start()
    waiting = asyncio.create_task(listener.wait(5))
    page = await answer(listener, params={"code": "c1", "state": "s1"})
    assert page.status_code == 200 and "signed in" in page.text.lower()
    assert await waiting == {"code": "c1", "state": "s1"}
    with pytest.raises(httpx.ConnectError):  # a second redirect finds nothing listening
        await answer(listener, params={"code": "c2", "state": "s1"})


async def test_a_wrong_state_is_refused_with_a_clear_message() -> None:
    listener = LoopbackRedirect(path="/callback", expected_state="expected")
    await listener.start()
    waiting = asyncio.create_task(listener.wait(5))
    page = await answer(listener, params={"code": "c1", "state": "forged"})
    assert page.status_code == 400
    with pytest.raises(SignInFailed, match="state mismatch"):
        await waiting


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
async def test_other_methods_are_refused_and_do_not_consume_the_listener(method: str) -> None:
    listener = LoopbackRedirect(path="/callback", expected_state="s")
    await listener.start()
    waiting = asyncio.create_task(listener.wait(5))
    assert (await answer(listener, method, params={"code": "c", "state": "s"})).status_code == 405
    await answer(listener, params={"code": "c", "state": "s"})
    assert (await waiting)["code"] == "c"


async def test_form_post_mode_takes_the_code_from_the_body_and_refuses_get() -> None:
    listener = LoopbackRedirect(path="/callback", expected_state="s", form_post=True)
    await listener.start()
    waiting = asyncio.create_task(listener.wait(5))
    assert (await answer(listener, params={"code": "c", "state": "s"})).status_code == 405
    await answer(listener, "POST", data={"code": "c", "state": "s"})
    assert (await waiting)["code"] == "c"


async def test_a_denied_consent_is_explained_in_plain_language() -> None:
    listener = LoopbackRedirect(path="/callback", expected_state="s")
    await listener.start()
    waiting = asyncio.create_task(listener.wait(5))
    await answer(listener, params={"error": "consent_required", "error_description": "AADSTS65001: x", "state": "s"})
    with pytest.raises(SignInFailed, match="administrator"):
        await waiting


async def test_no_answer_times_out_and_closes_the_listener() -> None:
    listener = LoopbackRedirect(path="/callback", expected_state="s")
    await listener.start()
    with pytest.raises(SignInFailed, match="within"):
        await listener.wait(0.2)
    with pytest.raises(httpx.ConnectError):
        await answer(listener, params={"code": "c", "state": "s"})


async def test_a_request_for_another_host_is_refused_so_a_rebinding_page_cannot_answer() -> None:
    listener = LoopbackRedirect(path="/callback", expected_state="s")
    await listener.start()
    waiting = asyncio.create_task(listener.wait(5))
    page = await answer(listener, params={"code": "c", "state": "s"}, headers={"Host": "attacker.example"})
    assert page.status_code == 421
    assert (await answer(listener, params={"code": "c", "state": "s"})).status_code == 200
    assert (await waiting)["code"] == "c"


async def test_the_answer_page_leaks_nothing_onwards_and_is_not_cached() -> None:
    listener = LoopbackRedirect(path="/callback", expected_state="s")
    await listener.start()
    waiting = asyncio.create_task(listener.wait(5))
    page = await answer(listener, params={"code": "c", "state": "s"})
    await waiting
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]


async def test_each_service_explains_its_own_errors() -> None:
    listener = LoopbackRedirect(
        path="/callback", expected_state="s", explain_error=lambda query: f"ask IT about {query['error']}"
    )
    await listener.start()
    waiting = asyncio.create_task(listener.wait(5))
    page = await answer(listener, params={"error": "invalid_scope", "state": "s"})
    assert "ask IT about invalid_scope" in page.text
    with pytest.raises(SignInFailed, match="ask IT about invalid_scope"):
        await waiting


async def test_an_oversized_form_is_refused_without_consuming_the_listener() -> None:
    listener = LoopbackRedirect(path="/callback", expected_state="s", form_post=True)
    await listener.start()
    waiting = asyncio.create_task(listener.wait(5))
    assert (await answer(listener, "POST", data={"code": "c" * 20000, "state": "s"})).status_code in (400, 413)
    await answer(listener, "POST", data={"code": "c", "state": "s"})
    assert (await waiting)["code"] == "c"


async def test_an_error_answer_with_a_forged_state_is_a_state_mismatch_not_a_denial() -> None:
    listener = LoopbackRedirect(path="/callback", expected_state="s")
    await listener.start()
    waiting = asyncio.create_task(listener.wait(5))
    await answer(listener, params={"error": "access_denied", "state": "forged"})
    with pytest.raises(SignInFailed, match="state mismatch"):
        await waiting


async def test_the_answer_is_handed_over_at_once_even_while_another_request_is_unfinished() -> None:
    listener = LoopbackRedirect(path="/callback", expected_state="s", form_post=True)
    await listener.start()
    waiting = asyncio.create_task(listener.wait(30))
    # Another connection has sent a request whose body never comes (a stalled tab, a slow client).
    _, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    writer.write(
        f"POST /callback HTTP/1.1\r\nHost: 127.0.0.1:{listener.port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n".encode()
    )
    await writer.drain()
    await asyncio.sleep(0.1)
    page = await answer(listener, "POST", data={"code": "c", "state": "s"})
    assert page.status_code == 200 and page.headers["Connection"] == "close"
    started = asyncio.get_running_loop().time()
    assert (await waiting)["code"] == "c"
    assert asyncio.get_running_loop().time() - started < 3  # not aiohttp's 60 s graceful shutdown
    writer.close()


@pytest.mark.parametrize(
    "description", ["Your account is locked. Call +1 555 0100 and give them your password.", "<b>x</b>\nline two"]
)
async def test_an_error_answer_is_shown_as_a_fixed_text_and_its_code_never_its_description(description: str) -> None:
    listener = LoopbackRedirect(path="/callback", expected_state="s")
    await listener.start()
    waiting = asyncio.create_task(listener.wait(5))
    page = await answer(listener, params={"error": "server_error", "error_description": description, "state": "s"})
    with pytest.raises(SignInFailed) as failure:
        await waiting
    message = str(failure.value)
    assert "error code: server_error" in message and "please try again" in message
    assert "password" not in message and "password" not in page.text and "line two" not in page.text


async def test_an_error_code_that_is_not_a_code_is_not_repeated_either() -> None:
    listener = LoopbackRedirect(path="/callback", expected_state="s")
    await listener.start()
    waiting = asyncio.create_task(listener.wait(5))
    await answer(listener, params={"error": "call the help desk on 555 0100 now", "state": "s"})
    with pytest.raises(SignInFailed, match=r"error code: unknown\)"):
        await waiting


# --- the one-time start link: the authorize URL never reaches a command line ------------------


async def test_the_browser_is_given_a_one_time_link_that_redirects_to_the_sign_in_page() -> None:
    listener = LoopbackRedirect(path="/callback", expected_state="s")
    port = await listener.start()
    link = listener.start_link("https://login.example/authorize?state=s&code_challenge=abc")
    waiting = asyncio.create_task(listener.wait(5))
    assert link.startswith(f"http://127.0.0.1:{port}/start/") and "state" not in link and "abc" not in link
    async with httpx.AsyncClient() as client:
        first = await client.get(link)
        assert first.status_code == 302
        assert first.headers["location"] == "https://login.example/authorize?state=s&code_challenge=abc"
        await client.get(f"http://127.0.0.1:{port}/callback", params={"code": "c", "state": "s"})
    assert (await waiting)["code"] == "c"


async def test_a_start_link_opened_twice_stops_the_sign_in() -> None:
    """Someone who read the link on the browser's command line got there first: nothing can be trusted."""
    listener = LoopbackRedirect(path="/callback", expected_state="s")
    await listener.start()
    link = listener.start_link("https://login.example/authorize?state=s")
    waiting = asyncio.create_task(listener.wait(5))
    async with httpx.AsyncClient() as client:
        assert (await client.get(link)).status_code == 302  # the other user
        second = await client.get(link)  # the agent's browser
    assert second.status_code == 410 and "already used" in second.text.lower()
    with pytest.raises(SignInFailed, match="opened twice"):
        await waiting
