"""A sign-in only ever completes for the person who started it, in the tenant IT configured, and a hostile
token answer is refused; either way the earlier sign-in stays exactly as it was.

The impostor here is what issue 12 found: someone who read the sign-in address (with its ``state``) and
delivered an answer for *their own* account to the agent's listener. The simulator plays both
services; the impostor is a second person in the same organisation, signed in through the very address
the agent's sign-in opened.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, Callable
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest

from tests.auth.test_flows import World, start_world
from tray_agent.auth.genesys_pkce import GenesysAuth
from tray_agent.auth.identity import WrongPerson
from tray_agent.auth.loopback import SignInFailed
from tray_agent.auth.microsoft import MicrosoftAuth
from tray_agent.auth.tokens import MemoryTokenStore
from tray_agent.clients.http import make_http_client
from tray_agent.demo.approving_browser import ApprovingBrowser

pytestmark = pytest.mark.anyio
IMPOSTOR = "morgan@contoso.example"
DEEP = "[" * 50_000 + "]" * 50_000


@pytest.fixture
async def world() -> AsyncIterator[World]:
    for simulator, clock, port in start_world():
        simulator.call(simulator.state.people.add_user, "Morgan Other", IMPOSTOR)
        async with make_http_client(simulator.ca_path) as http:
            yield World(simulator, clock, port, http, MemoryTokenStore())


def as_person(email: str) -> Callable[[str], str]:
    """Turns the authorize address into one that signs ``email`` in (the simulator honours login_hint)."""

    def rewrite(url: str) -> str:
        parts = urlsplit(url)
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        query["login_hint"] = email
        return urlunsplit(parts._replace(query=urlencode(query)))

    return rewrite


class ImpostorBrowser(ApprovingBrowser):
    """Completes the agent's sign-in, but as ``email``: the code reaches the listener with the right state."""

    def __init__(self, ca_file: str, email: str) -> None:
        super().__init__(ca_file)
        self._rewrite = as_person(email)

    def authorize(self, url: str) -> str:
        return self._rewrite(url)


def microsoft(world: World, **options: object) -> MicrosoftAuth:
    sim = world.simulator
    return MicrosoftAuth(
        authority=f"{sim.base_url}/{sim.tenant_id}",
        client_id=sim.ms_client_id,
        store=world.store,
        ca_file=sim.ca_path,
        now=world.clock.now,
        **options,  # type: ignore[arg-type]
    )


def genesys(world: World, **options: object) -> GenesysAuth:
    sim = world.simulator
    return GenesysAuth(
        login_base_url=sim.base_url,
        api_base_url=sim.base_url,
        client_id=sim.genesys_client_id,
        redirect_port=world.redirect_port,
        http=world.http,
        store=world.store,
        now=world.clock.now,
        **options,  # type: ignore[arg-type]
    )


def me(world: World) -> str:
    return str(world.simulator.state.people.default_user.email)


# --- Microsoft ---------------------------------------------------------------------------------


async def test_a_microsoft_sign_in_for_another_account_is_refused_and_the_remembered_one_kept(world: World) -> None:
    agent = microsoft(world)
    await agent.sign_in(world.browser, 10)
    remembered_id, saved = agent.account_id, world.store.load("msal-cache")
    agent.invalidate()  # the next sign-in goes to the browser, where the impostor's answer arrives

    with pytest.raises(WrongPerson, match=f"signed in to Microsoft as {me(world)}.*sign out first"):
        await agent.sign_in(ImpostorBrowser(world.simulator.ca_path, IMPOSTOR), 10)

    assert (agent.account_name, agent.account_id) == (me(world), remembered_id)
    assert world.store.load("msal-cache") == saved  # not even rewritten
    assert microsoft(world).account_name == me(world)  # and the next start still knows the agent


async def test_a_microsoft_account_of_another_tenant_is_refused(world: World) -> None:
    def other_tenant(text: str) -> str:
        answer = json.loads(text)
        header, claims, signature = answer["id_token"].split(".")
        payload = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
        payload["tid"] = "99999999-8888-7777-6666-555555555555"
        encoded = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
        answer["id_token"] = f"{header}.{encoded}.{signature}"
        return json.dumps(answer)

    world.simulator.call(world.simulator.state.faults.rewrite_next_token_answer, "entra", other_tenant)
    agent = microsoft(world)
    with pytest.raises(WrongPerson, match="not in your organisation's tenant"):
        await agent.sign_in(world.browser, 10)
    assert not agent.signed_in and world.store.load("msal-cache") is None


async def test_the_remembered_account_is_the_login_hint_and_its_domain_the_domain_hint(world: World) -> None:
    agent = microsoft(world)
    await agent.sign_in(world.browser, 10)
    agent.invalidate()
    browser = world.browser
    await agent.sign_in(browser, 10)
    query = parse_qs(urlsplit(browser.authorized[0]).query)
    assert query["login_hint"] == [me(world)] and query["domain_hint"] == ["contoso.example"]


async def test_on_windows_a_first_sign_in_is_hinted_with_the_logon_upn(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tray_agent.auth.microsoft.windows_logon_upn", lambda: me(world))
    browser = world.browser
    await microsoft(world).sign_in(browser, 10)
    assert parse_qs(urlsplit(browser.authorized[0]).query)["login_hint"] == [me(world)]


# --- Genesys Cloud -----------------------------------------------------------------------------


async def test_a_genesys_sign_in_as_another_user_is_refused_and_the_earlier_one_kept(world: World) -> None:
    agent = genesys(world)
    await agent.sign_in(world.browser, 10)
    user_id, token = agent.user_id, await agent.access_token()

    with pytest.raises(WrongPerson, match=f"signed in to Genesys Cloud as {me(world)}.*sign out first"):
        await agent.sign_in(ImpostorBrowser(world.simulator.ca_path, IMPOSTOR), 10)

    assert agent.user_id == user_id and await agent.access_token() == token
    assert genesys(world).user_id == user_id  # what is saved is unchanged too
    assert await world.status_of("/api/v2/users/me", token) == 200


async def test_the_genesys_user_is_remembered_even_after_the_api_refused_the_token(world: World) -> None:
    agent = genesys(world)
    await agent.sign_in(world.browser, 10)
    user_id = agent.user_id
    agent.invalidate()  # a 401: the token is gone, the person is not
    assert not agent.signed_in and genesys(world).user_id == user_id

    with pytest.raises(WrongPerson):
        await agent.sign_in(ImpostorBrowser(world.simulator.ca_path, IMPOSTOR), 10)
    await agent.sign_in(world.browser, 10)  # the agent themself is welcome back
    assert agent.signed_in and agent.user_id == user_id


async def test_a_refused_genesys_sign_in_leaves_no_valid_token_behind(world: World) -> None:
    agent = genesys(world)
    await agent.sign_in(world.browser, 10)
    before = set(world.simulator.state.tokens.genesys_tokens)
    with pytest.raises(WrongPerson):
        await agent.sign_in(ImpostorBrowser(world.simulator.ca_path, IMPOSTOR), 10)
    (issued,) = set(world.simulator.state.tokens.genesys_tokens) - before
    assert await world.status_of("/api/v2/users/me", issued) == 401  # revoked at once


# --- across the two services -------------------------------------------------------------------


async def test_genesys_must_be_the_person_signed_in_to_microsoft(world: World) -> None:
    ms = microsoft(world)
    await ms.sign_in(world.browser, 10)
    agent = genesys(world, microsoft_email=lambda: ms.account_name)
    with pytest.raises(WrongPerson, match=f"not {me(world)}, the address you are signed in to Microsoft with"):
        await agent.sign_in(ImpostorBrowser(world.simulator.ca_path, IMPOSTOR), 10)
    assert not agent.signed_in and agent.user_id is None
    await agent.sign_in(world.browser, 10)
    assert agent.signed_in


async def test_microsoft_must_be_the_person_signed_in_to_genesys(world: World) -> None:
    gen = genesys(world)
    await gen.sign_in(world.browser, 10)
    agent = microsoft(world, genesys_email=lambda: gen.email)
    with pytest.raises(WrongPerson, match="AllowDifferentEmails"):
        await agent.sign_in(ImpostorBrowser(world.simulator.ca_path, IMPOSTOR), 10)
    assert not agent.signed_in and world.store.load("msal-cache") is None


async def test_it_policy_can_allow_different_addresses_for_the_two_services(world: World) -> None:
    ms = microsoft(world)
    await ms.sign_in(world.browser, 10)
    agent = genesys(world, microsoft_email=lambda: ms.account_name, allow_different_emails=True)
    await agent.sign_in(ImpostorBrowser(world.simulator.ca_path, IMPOSTOR), 10)
    assert agent.signed_in and agent.email == IMPOSTOR


# --- hostile token answers ---------------------------------------------------------------------


def expires_in(value: str) -> Callable[[str], str]:
    return lambda text: re.sub(r'"expires_in": [^,}]+', f'"expires_in": {value}', text)


HOSTILE = {
    "expires_in 1e308": expires_in("1e308"),
    "expires_in NaN": expires_in("NaN"),
    "expires_in Infinity": expires_in("Infinity"),
    "expires_in 1e999": expires_in("1e999"),
    "expires_in negative": expires_in("-5"),
    "nested 50,000 deep": lambda text: text[:-1] + f', "extra": {DEEP}}}',
}


@pytest.mark.parametrize("answer", HOSTILE.values(), ids=HOSTILE.keys())
async def test_a_hostile_genesys_token_answer_is_refused_and_the_earlier_sign_in_kept(
    world: World, answer: Callable[[str], str]
) -> None:
    agent = genesys(world)
    await agent.sign_in(world.browser, 10)
    token, expiry = await agent.access_token(), agent.expires_at
    world.simulator.call(world.simulator.state.faults.rewrite_next_token_answer, "genesys-login", answer)
    with pytest.raises(SignInFailed):
        await agent.sign_in(world.browser, 10)
    assert await agent.access_token() == token and agent.expires_at == expiry


@pytest.mark.parametrize("answer", HOSTILE.values(), ids=HOSTILE.keys())
async def test_a_hostile_microsoft_token_answer_is_refused_and_the_earlier_sign_in_kept(
    world: World, answer: Callable[[str], str]
) -> None:
    agent = microsoft(world)
    await agent.sign_in(world.browser, 10)
    saved = world.store.load("msal-cache")
    agent.invalidate()
    world.simulator.call(world.simulator.state.faults.rewrite_next_token_answer, "entra", answer)
    with pytest.raises(SignInFailed):
        await agent.sign_in(world.browser, 10)
    assert world.store.load("msal-cache") == saved and agent.account_name == me(world)


async def test_a_microsoft_answer_with_a_forged_state_is_refused_by_the_listener_before_msal(world: World) -> None:
    class Forger(ApprovingBrowser):
        def authorize(self, url: str) -> str:
            parts = urlsplit(url)
            query = {name: values[0] for name, values in parse_qs(parts.query).items()}
            query["state"] = "forged-" + query["state"]  # the simulator echoes it back in the form post
            return urlunsplit(parts._replace(query=urlencode(query)))

    before = world.simulator.state.counters.entra_token_requests
    with pytest.raises(SignInFailed, match="state mismatch"):
        await microsoft(world).sign_in(Forger(world.simulator.ca_path), 10)
    assert world.simulator.state.counters.entra_token_requests == before  # the code never reached MSAL


async def test_neither_sign_in_puts_its_state_or_challenge_in_the_address_given_to_the_browser(world: World) -> None:
    given: list[str] = []
    browser = world.browser

    async def opener(url: str) -> None:
        given.append(url)
        await browser(url)

    await microsoft(world).sign_in(opener, 10)
    await genesys(world).sign_in(opener, 10)
    assert len(given) == 2 and len(browser.authorized) == 2
    for link, authorize in zip(given, browser.authorized, strict=True):
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/start/[A-Za-z0-9_-]{32}", link), link
        secrets_in_url = parse_qs(urlsplit(authorize).query)
        assert secrets_in_url["state"][0] not in link and secrets_in_url["code_challenge"][0] not in link
