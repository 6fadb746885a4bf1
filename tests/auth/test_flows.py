"""The two sign-in flows against the simulator's real answers: expiry, refresh, revocation, device code,
and the plain-language messages for the errors agents meet. (The browser itself is in
tests/e2e/test_browser_sign_in.py; here the simulator approves, or the test answers its pages.)
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest

from tray_agent.auth.genesys_pkce import EXPIRY_MARGIN, GenesysAuth
from tray_agent.auth.loopback import SignInFailed
from tray_agent.auth.microsoft import MicrosoftAuth, explain_aad_error
from tray_agent.auth.storage import TokenStorageError
from tray_agent.auth.tokens import MemoryTokenStore, SignInRequired
from tray_agent.clients.http import make_http_client, tls_context
from tray_agent.config.settings import SettingsError
from tray_agent.demo.approving_browser import ApprovingBrowser
from tray_agent.demo.runner import free_port
from tray_agent.simulator import SimulatorThread

pytestmark = pytest.mark.anyio
OTHER_TENANT = "99999999-8888-7777-6666-555555555555"


class SteppedClock:
    """Time moves only when the test says so (token expiry without waiting)."""

    def __init__(self) -> None:
        self.at = 1_800_000_000.0

    def now(self) -> float:
        return self.at

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)

    def to_real(self, seconds: float) -> float:
        return 0.0


@dataclass
class World:
    simulator: SimulatorThread
    clock: SteppedClock
    redirect_port: int
    http: httpx.AsyncClient
    store: MemoryTokenStore

    def genesys(self) -> GenesysAuth:
        sim = self.simulator
        return GenesysAuth(
            login_base_url=sim.base_url,
            api_base_url=sim.base_url,
            client_id=sim.genesys_client_id,
            redirect_port=self.redirect_port,
            http=self.http,
            store=self.store,
            now=self.clock.now,
        )

    def microsoft(self, tenant: str | None = None, client_id: str | None = None) -> MicrosoftAuth:
        sim = self.simulator
        return MicrosoftAuth(
            authority=f"{sim.base_url}/{tenant or sim.tenant_id}",
            client_id=client_id or sim.ms_client_id,
            store=self.store,
            ca_file=sim.ca_path,
            now=self.clock.now,
        )

    @property
    def browser(self) -> ApprovingBrowser:
        return ApprovingBrowser(self.simulator.ca_path)

    async def status_of(self, path: str, token: str) -> int:
        async with httpx.AsyncClient(verify=tls_context(self.simulator.ca_path)) as client:
            answer = await client.get(f"{self.simulator.base_url}{path}", headers={"Authorization": f"Bearer {token}"})
            return answer.status_code

    def faults(self) -> object:
        return self.simulator.state.faults


def start_world(**options: object) -> Iterator[tuple[SimulatorThread, SteppedClock, int]]:
    clock, port = SteppedClock(), free_port()
    simulator = SimulatorThread(
        clock=clock, auto_approve=True, genesys_redirect_uris=(f"http://localhost:{port}/callback",), **options
    )
    simulator.start()
    try:
        yield simulator, clock, port
    finally:
        simulator.stop()


@pytest.fixture
async def world() -> AsyncIterator[World]:
    for simulator, clock, port in start_world(device_code_interval=1):
        async with make_http_client(simulator.ca_path) as http:
            yield World(simulator, clock, port, http, MemoryTokenStore())


@pytest.fixture
async def refreshing_world() -> AsyncIterator[World]:
    for simulator, clock, port in start_world(genesys_issue_refresh_tokens=True):
        async with make_http_client(simulator.ca_path) as http:
            yield World(simulator, clock, port, http, MemoryTokenStore())


# --- Genesys: expiry, refresh, revocation ------------------------------------------------------


async def test_genesys_expiry_is_when_the_agent_must_sign_in_again(world: World) -> None:
    genesys = world.genesys()
    await genesys.sign_in(world.browser, 10)
    token = await genesys.access_token()
    issued = world.simulator.call(lambda: world.simulator.state.tokens.genesys_tokens[token])
    assert genesys.expires_at is not None
    assert issued.expires_at - 5 <= genesys.expires_at <= issued.expires_at  # never later than the real expiry

    world.clock.at = genesys.expires_at - EXPIRY_MARGIN + 1  # inside the safety margin
    with pytest.raises(SignInRequired, match="has expired"):
        await genesys.access_token()
    assert not genesys.signed_in and genesys.expires_at is not None  # the tray can say "expired at ..."


async def test_a_refresh_token_is_used_only_when_the_server_sends_one(refreshing_world: World) -> None:
    world = refreshing_world
    genesys = world.genesys()
    await genesys.sign_in(world.browser, 10)
    first = await genesys.access_token()
    assert genesys.expires_at is None  # renewable: no sign-in deadline to warn about
    assert genesys.access_expires_at is not None

    world.clock.at = genesys.access_expires_at + 1
    second = await genesys.access_token()
    assert second != first and await world.status_of("/api/v2/users/me", second) == 200
    assert world.genesys().signed_in  # the renewed token was saved

    world.simulator.call(world.simulator.state.faults.expire_tokens, "genesys", refresh_tokens=True)
    assert genesys.access_expires_at is not None
    world.clock.at = genesys.access_expires_at + 1
    with pytest.raises(SignInRequired, match="could not be renewed"):
        await genesys.access_token()
    assert not world.genesys().signed_in


async def test_without_a_refresh_token_nothing_is_sent_to_renew(world: World) -> None:
    genesys = world.genesys()
    await genesys.sign_in(world.browser, 10)
    requests_before = world.simulator.call(lambda: world.simulator.state.counters.genesys_token_requests)
    assert genesys.expires_at is not None
    world.clock.at = genesys.expires_at + 1
    with pytest.raises(SignInRequired):
        await genesys.access_token()
    assert world.simulator.call(lambda: world.simulator.state.counters.genesys_token_requests) == requests_before


async def test_sign_out_revokes_the_genesys_token_so_it_is_refused_afterwards(world: World) -> None:
    genesys = world.genesys()
    await genesys.sign_in(world.browser, 10)
    token = await genesys.access_token()
    assert await world.status_of("/api/v2/users/me", token) == 200
    assert await genesys.revoke_and_forget() is True
    assert await world.status_of("/api/v2/users/me", token) == 401
    assert not genesys.signed_in and world.store.load("genesys-token") is None


async def test_sign_out_while_offline_still_forgets_the_token_here(world: World) -> None:
    genesys = world.genesys()
    await genesys.sign_in(world.browser, 10)
    world.simulator.call(world.simulator.state.faults.network_down)
    assert await genesys.revoke_and_forget() is False
    assert world.store.load("genesys-token") is None


# --- Microsoft: silent first, account remembered, sign-out ------------------------------------------


async def test_the_microsoft_account_is_remembered_and_used_silently(world: World) -> None:
    await world.microsoft().sign_in(world.browser, 10)
    later = world.microsoft()  # same store, new process
    assert later.account_name == world.simulator.state.people.default_user.email
    token = await later.access_token()
    assert await world.status_of("/v1.0/me/presence", token) == 200
    assert later.expires_at is not None and later.expires_at > world.clock.now()


async def test_after_graph_refused_the_token_sign_in_goes_to_the_browser_again(world: World) -> None:
    microsoft = world.microsoft()
    await microsoft.sign_in(world.browser, 10)
    browser = world.browser

    await microsoft.sign_in(browser, 10)
    assert browser.authorized == []  # silent
    microsoft.invalidate()  # Graph answered 401 to the token
    await microsoft.sign_in(browser, 10)
    assert len(browser.authorized) == 1 and "login_hint=" in browser.authorized[0]  # the remembered account


async def test_microsoft_sign_out_forgets_the_account_even_offline(world: World) -> None:
    microsoft = world.microsoft()
    await microsoft.sign_in(world.browser, 10)
    world.simulator.call(world.simulator.state.faults.network_down)
    await microsoft.sign_out()
    assert not microsoft.signed_in and microsoft.account_name is None
    assert world.store.load("msal-cache") is None and not world.microsoft().signed_in


def test_a_multi_tenant_authority_is_refused() -> None:
    with pytest.raises(SettingsError, match="tenant_id"):
        MicrosoftAuth(authority="https://login.microsoftonline.com/common", client_id="x", store=MemoryTokenStore())


@pytest.mark.parametrize(("platform", "uses_broker"), [("win32", True), ("linux", False), ("darwin", False)])
def test_the_windows_broker_is_used_only_on_windows_and_only_when_asked(
    monkeypatch: pytest.MonkeyPatch, platform: str, uses_broker: bool
) -> None:
    # WAM cannot run here; this checks what MSAL is asked for (msal's enable_broker_on_windows).
    built: list[dict[str, object]] = []

    class RecordingApplication:
        CONSOLE_WINDOW_HANDLE = object()

        def __init__(self, client_id: str, **options: object) -> None:
            built.append(options)

    monkeypatch.setattr("tray_agent.auth.microsoft.sys.platform", platform)
    monkeypatch.setattr("tray_agent.auth.microsoft.msal.PublicClientApplication", RecordingApplication)
    for asked in (True, False):
        auth = MicrosoftAuth(
            authority="https://login.microsoftonline.com/contoso.example",
            client_id="x",
            store=MemoryTokenStore(),
            windows_broker=asked,
        )
        auth._application()
        assert auth.uses_broker is (asked and uses_broker)
        assert built[-1].get("enable_broker_on_windows", False) is (asked and uses_broker)


# --- Microsoft: device code ----------------------------------------------------------------------


async def enter_code(world: World, message: str, action: str = "approve") -> str:
    match = re.search(r"open the page (\S+) and enter the code (\S+)", message)
    assert match is not None, message
    async with httpx.AsyncClient(verify=tls_context(world.simulator.ca_path)) as client:
        answer = await client.post(
            match.group(1),
            data={"otc": match.group(2), "username": world.simulator.state.people.default_user.email, "action": action},
        )
        return answer.text


async def device_sign_in(world: World, microsoft: MicrosoftAuth, action: str = "approve") -> None:
    shown: asyncio.Queue[str] = asyncio.Queue()
    signing_in = asyncio.create_task(microsoft.sign_in_with_device_code(shown.put_nowait, 30))
    message = await asyncio.wait_for(shown.get(), 10)
    await enter_code(world, message, action)
    await asyncio.wait_for(signing_in, 20)


async def test_device_code_sign_in_shows_msals_message_and_completes(world: World) -> None:
    microsoft = world.microsoft()
    await device_sign_in(world, microsoft)
    assert microsoft.signed_in and world.microsoft().signed_in


async def test_a_declined_device_code_is_explained(world: World) -> None:
    with pytest.raises(SignInFailed, match="the Microsoft sign-in was declined"):
        await device_sign_in(world, world.microsoft(), action="deny")


async def test_device_code_sign_in_can_be_abandoned_at_once(world: World) -> None:
    shown: asyncio.Queue[str] = asyncio.Queue()
    signing_in = asyncio.create_task(world.microsoft().sign_in_with_device_code(shown.put_nowait, 30))
    await asyncio.wait_for(shown.get(), 10)
    signing_in.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(signing_in, 2)


async def test_device_code_sign_in_gives_up_after_its_timeout(world: World) -> None:
    with pytest.raises(SignInFailed, match="not entered within 1 s"):
        await world.microsoft().sign_in_with_device_code(lambda message: None, 1)


# --- the plain-language messages, from the simulator's real error answers ----------------------------


async def test_consent_blocked_by_the_tenant_tells_the_agent_to_ask_it_for_consent(world: World) -> None:
    world.simulator.call(world.simulator.state.faults.entra_consent_blocked)
    expected = (
        "your organisation requires an administrator to approve this app: "
        "ask IT to grant consent for Presence.Read (AADSTS65001)"
    )
    with pytest.raises(SignInFailed) as by_browser:
        await world.microsoft().sign_in(world.browser, 10)
    with pytest.raises(SignInFailed) as by_code:
        await device_sign_in(world, world.microsoft())
    assert str(by_browser.value) == str(by_code.value) == expected


async def test_a_wrong_tenant_id_is_explained(world: World) -> None:
    with pytest.raises(SignInFailed) as refusal:
        await world.microsoft(tenant=OTHER_TENANT).sign_in(world.browser, 10)
    assert str(refusal.value) == "the tenant was not found: ask IT for the right tenant ID (AADSTS90002)"


async def test_a_wrong_client_id_is_explained(world: World) -> None:
    with pytest.raises(SignInFailed) as refusal:
        await world.microsoft(client_id="00000000-0000-0000-0000-00000000dead").sign_in_with_device_code(print, 10)
    assert str(refusal.value) == (
        "this app is not registered in your organisation: ask IT for the right client ID and tenant ID (AADSTS700016)"
    )


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"error": "invalid_client", "error_description": "AADSTS50194: Application is not multi-tenant"}, "tenant ID"),
        ({"error": "invalid_grant", "error_description": "AADSTS54005: code already redeemed"}, "already used"),
        ({"error": "server_error"}, "Microsoft sign-in failed (error code: server_error)"),
    ],
)
def test_other_entra_answers_are_explained(answer: dict[str, str], message: str) -> None:
    assert message in explain_aad_error(answer)


class BrokenStore(MemoryTokenStore):
    def delete(self, name: str) -> None:
        raise TokenStorageError("the keyring is locked")


async def test_sign_out_from_the_tray_survives_a_locked_keyring_but_the_command_line_reports_it(world: World) -> None:
    world.store = BrokenStore()
    genesys, microsoft = world.genesys(), world.microsoft()
    await genesys.sign_in(world.browser, 10)
    await microsoft.sign_in(world.browser, 10)
    await genesys.sign_out()  # the engine's call: logged, not raised
    await microsoft.sign_out()
    assert not genesys.signed_in and not microsoft.signed_in
    with pytest.raises(TokenStorageError):
        await world.microsoft().sign_out(strict=True)
