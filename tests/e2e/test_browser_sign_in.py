"""Both sign-ins completed by a real browser: headless Chromium on the simulator's sign-in pages
(it clicks ``#approve`` or ``#deny``; nothing is auto-approved), the answer arriving at the app's
single-use loopback listener, and the tokens kept in a real Secret Service and read back from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from keyring.backends import SecretService
from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.auth.secret_service import RealKeyring, real_keyring
from tests.e2e.chromium import AgentAtTheBrowser, heading, wait_for_heading
from tests.e2e.sign_in_cloud import Cloud, cloud, driver
from tray_agent.auth import genesys_pkce
from tray_agent.auth.genesys_pkce import GenesysAuth
from tray_agent.auth.loopback import SignInFailed
from tray_agent.auth.microsoft import MicrosoftAuth
from tray_agent.auth.storage import SealedTokenStore
from tray_agent.clients.http import make_http_client, tls_context

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]
__all__ = ["Cloud", "cloud", "driver", "real_keyring"]  # the fixtures


@pytest.fixture(autouse=True)
def no_faults(cloud: Cloud) -> Iterator[None]:
    yield
    cloud.simulator.call(cloud.simulator.state.faults.clear)


@dataclass
class Agent:
    """The app's two sign-ins over one token store (as the tray or a CLI process has them)."""

    microsoft: MicrosoftAuth
    genesys: GenesysAuth
    store: SealedTokenStore


class Apps:
    def __init__(self, cloud: Cloud, keyring: RealKeyring, folder: Path) -> None:
        self.cloud, self.keyring, self.folder = cloud, keyring, folder
        self.http = make_http_client(cloud.ca)

    def start(self) -> Agent:
        """A fresh process: new objects, a new keyring connection, only the files and the keyring shared."""
        store = SealedTokenStore(self.folder, SecretService.Keyring())
        sim = self.cloud.simulator
        microsoft = MicrosoftAuth(
            authority=sim.authority, client_id=sim.ms_client_id, store=store, ca_file=self.cloud.ca
        )
        genesys = GenesysAuth(
            login_base_url=self.cloud.base_url,
            api_base_url=self.cloud.base_url,
            client_id=sim.genesys_client_id,
            redirect_port=self.cloud.redirect_port,
            http=self.http,
            store=store,
        )
        return Agent(microsoft, genesys, store)


@pytest.fixture
async def apps(cloud: Cloud, real_keyring: RealKeyring, tmp_path: Path) -> AsyncIterator[Apps]:
    made = Apps(cloud, real_keyring, tmp_path / "secrets")
    yield made
    await made.http.aclose()


async def get(cloud: Cloud, path: str, token: str) -> int:
    async with httpx.AsyncClient(verify=tls_context(cloud.ca)) as client:
        answer = await client.get(f"{cloud.base_url}{path}", headers={"Authorization": f"Bearer {token}"})
        return answer.status_code


async def refused(action: Callable[[], object], driver: webdriver.Chrome) -> bool:
    """Chromium could not connect: chromedriver reports it, or the page becomes Chromium's error page.

    A click starts a navigation that may still be under way when chromedriver returns (seen once on a
    loaded machine: the sign-in page was still showing), so the outcome is waited for, not sampled."""
    try:
        await asyncio.to_thread(action)
    except WebDriverException as error:
        return "ERR_CONNECTION_REFUSED" in str(error)

    def settled(_: object) -> bool:
        return "ERR_CONNECTION_REFUSED" in driver.page_source or heading(driver) == "Signed in"

    with contextlib.suppress(TimeoutException):
        await asyncio.to_thread(WebDriverWait(driver, 60).until, settled)
    return "ERR_CONNECTION_REFUSED" in driver.page_source and heading(driver) != "Signed in"


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    return urlunsplit(parts._replace(query=urlencode({**query, **changes})))


# --- the happy paths ---------------------------------------------------------------------------


async def test_microsoft_sign_in_in_chromium_is_kept_in_the_secret_service_and_then_renewed_silently(
    apps: Apps, driver: webdriver.Chrome, real_keyring: RealKeyring
) -> None:
    agent = apps.start()
    await agent.microsoft.sign_in(AgentAtTheBrowser(driver), 30)
    wait_for_heading(driver, "Signed in")
    assert "You are signed in" in driver.find_element(By.TAG_NAME, "body").text

    later = apps.start()  # the tray, started tomorrow
    user = apps.cloud.simulator.state.people.default_user.email
    assert later.microsoft.signed_in and later.microsoft.account_name == user
    token = await later.microsoft.access_token()  # acquire_token_silent, no browser
    assert await get(apps.cloud, "/v1.0/me/presence", token) == 200
    untouched = AgentAtTheBrowser(driver)
    await later.microsoft.sign_in(untouched, 5)  # silent first
    assert untouched.opened == []

    ((attributes, secret),) = real_keyring.daemon.items()
    assert attributes["username"] == "token-encryption-key" and token.encode() not in secret


async def test_genesys_sign_in_in_chromium_is_kept_in_the_secret_service_and_read_back(
    apps: Apps, driver: webdriver.Chrome
) -> None:
    agent = apps.start()
    browser = AgentAtTheBrowser(driver)
    await agent.genesys.sign_in(browser, 30)
    wait_for_heading(driver, "Signed in")
    (opened,) = browser.authorized
    request = parse_qs(urlsplit(opened).query)
    assert request["code_challenge_method"] == ["S256"] and len(request["state"][0]) >= 43
    assert request["redirect_uri"] == [f"http://localhost:{apps.cloud.redirect_port}/callback"]

    later = apps.start()
    assert later.genesys.signed_in
    assert await get(apps.cloud, "/api/v2/users/me", await later.genesys.access_token()) == 200


async def test_microsoft_device_code_entered_in_chromium(apps: Apps, driver: webdriver.Chrome) -> None:
    agent = apps.start()
    shown: list[str] = []
    code_shown = asyncio.Event()

    def show(message: str) -> None:
        shown.append(message)
        code_shown.set()

    signing_in = asyncio.create_task(agent.microsoft.sign_in_with_device_code(show, 60))
    await asyncio.wait_for(code_shown.wait(), 30)
    match = re.search(r"open the page (\S+) and enter the code (\S+)", shown[0])
    assert match is not None, shown[0]
    address, code = match.groups()

    def enter_code() -> None:
        driver.get(address)
        driver.find_element(By.ID, "code").send_keys(code)
        driver.find_element(By.ID, "approve").click()

    await asyncio.to_thread(enter_code)
    await asyncio.wait_for(signing_in, 30)
    assert apps.start().microsoft.signed_in


# --- refusals, each with a message the agent can act on ----------------------------------------


@pytest.mark.parametrize(
    ("service", "message"),
    [
        ("microsoft", r"sign-in was cancelled \(consent was declined\) \(AADSTS65004\)"),
        ("genesys", "the Genesys Cloud sign-in was cancelled or access was denied"),
    ],
)
async def test_denying_on_the_sign_in_page_is_reported_and_nothing_is_kept(
    apps: Apps, driver: webdriver.Chrome, service: str, message: str, real_keyring: RealKeyring
) -> None:
    agent = apps.start()
    auth = agent.microsoft if service == "microsoft" else agent.genesys
    with pytest.raises(SignInFailed, match=message):
        await auth.sign_in(AgentAtTheBrowser(driver, action="deny"), 30)
    wait_for_heading(driver, "Sign-in not completed")
    assert not auth.signed_in and agent.store.names() == [] and real_keyring.daemon.items() == []


async def test_a_tenant_that_blocks_user_consent_tells_the_agent_what_to_ask_it_for(
    apps: Apps, driver: webdriver.Chrome
) -> None:
    apps.cloud.simulator.call(apps.cloud.simulator.state.faults.entra_consent_blocked)
    with pytest.raises(SignInFailed) as refusal:
        await apps.start().microsoft.sign_in(AgentAtTheBrowser(driver, action=None), 30)
    assert str(refusal.value) == (
        "your organisation requires an administrator to approve this app: "
        "ask IT to grant consent for Presence.Read (AADSTS65001)"
    )
    wait_for_heading(driver, "Sign-in not completed")


@pytest.mark.parametrize("service", ["microsoft", "genesys"])
async def test_an_answer_with_another_state_is_refused(apps: Apps, driver: webdriver.Chrome, service: str) -> None:
    agent = apps.start()
    auth = agent.microsoft if service == "microsoft" else agent.genesys
    forged = AgentAtTheBrowser(driver, rewrite=lambda url: with_query(url, state="forged-by-someone-else"))
    with pytest.raises(SignInFailed, match="state mismatch"):
        await auth.sign_in(forged, 30)
    wait_for_heading(driver, "Sign-in failed")
    assert not auth.signed_in


async def test_a_replayed_code_is_refused(apps: Apps, driver: webdriver.Chrome) -> None:
    agent = apps.start()
    await agent.genesys.sign_in(AgentAtTheBrowser(driver), 30)
    wait_for_heading(driver, "Signed in")
    used_code = parse_qs(urlsplit(driver.current_url).query)["code"][0]

    def replay(url: str) -> str:  # someone answers the next sign-in with the captured code
        state = parse_qs(urlsplit(url).query)["state"][0]
        return f"http://localhost:{apps.cloud.redirect_port}/callback?" + urlencode({"code": used_code, "state": state})

    with pytest.raises(SignInFailed, match="the sign-in code was already used"):
        await apps.start().genesys.sign_in(AgentAtTheBrowser(driver, action=None, rewrite=replay), 30)


async def test_a_verifier_that_does_not_match_the_challenge_is_refused(
    apps: Apps, driver: webdriver.Chrome, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, challenge = genesys_pkce.pkce_pair()
    other_verifier, _ = genesys_pkce.pkce_pair()
    monkeypatch.setattr(genesys_pkce, "pkce_pair", lambda: (other_verifier, challenge))
    agent = apps.start()
    with pytest.raises(SignInFailed, match=r"the proof key \(PKCE code_verifier\) did not match"):
        await agent.genesys.sign_in(AgentAtTheBrowser(driver), 30)
    assert not agent.genesys.signed_in


async def test_no_answer_in_time_fails_and_the_late_redirect_finds_nothing_listening(
    apps: Apps, driver: webdriver.Chrome
) -> None:
    agent = apps.start()
    walked_away = AgentAtTheBrowser(driver, action=None)
    with pytest.raises(SignInFailed, match=r"no answer from the sign-in page within 1 s"):
        await agent.genesys.sign_in(walked_away, 1)
    # The agent comes back and approves: the browser is sent to a listener that is gone.
    assert await refused(lambda: walked_away.click("approve"), driver)
    assert not agent.genesys.signed_in


async def test_a_second_redirect_after_a_sign_in_finds_the_listener_closed(
    apps: Apps, driver: webdriver.Chrome
) -> None:
    await apps.start().genesys.sign_in(AgentAtTheBrowser(driver), 30)
    wait_for_heading(driver, "Signed in")
    redirect = driver.current_url
    assert await refused(lambda: driver.get(redirect), driver)
