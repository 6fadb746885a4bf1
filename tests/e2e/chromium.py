"""Headless Chromium (Debian's ``chromium`` + ``chromium-driver``) as the agent's browser, via selenium.

Chromium trusts the simulator's certificate through ``--ignore-certificate-errors-spki-list`` with the
SHA-256 of the simulator server certificate's public key — a pin on that one key, honoured only with
a dedicated ``--user-data-dir`` (a fresh one per browser); every other certificate is checked as usual.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def spki_pin(certificate_pem: Path) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)) of a PEM certificate, as Chromium's SPKI list wants it."""
    certificate = x509.load_pem_x509_certificate(certificate_pem.read_bytes())
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


def server_pem(ca_path: str) -> Path:
    return Path(ca_path).parent / "server.pem"


@contextlib.contextmanager
def chromium(ca_path: str | None) -> Iterator[webdriver.Chrome]:
    """A headless Chromium that trusts the simulator whose CA file is ``ca_path`` (None: no simulator,
    e.g. the agent's own window on plain loopback HTTP)."""
    for tool in (CHROMIUM, CHROMEDRIVER):
        if not Path(tool).exists():
            raise RuntimeError(f"{tool} is missing: run 'bash .ci/setup --system' (see .ci/apt-packages/auth.txt)")
    pins = (
        ()
        if ca_path is None
        else (f"--ignore-certificate-errors-spki-list={spki_pin(Path(ca_path).parent / 'server.pem')}",)
    )
    profile = tempfile.mkdtemp(prefix="tray-agent-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        *FLAGS,
        f"--user-data-dir={profile}",
        *pins,
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    # A safety net, not a measure: the pages are on loopback, but a cold Chromium on a loaded 2-core
    # machine (CI with a second suite beside it) has taken over 20 s to render its first one.
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def heading(driver: webdriver.Chrome) -> str:
    """The page's first ``h1``; "" while there is none, or when the page went on (a redirect after a
    click) between finding the element and reading it — the caller's wait simply looks again."""
    try:
        elements = driver.find_elements(By.TAG_NAME, "h1")
        return elements[0].text if elements else ""
    except StaleElementReferenceException:
        return ""


def page_text(driver: webdriver.Chrome) -> str:
    """The page's text; "" when the page went on between finding its body and reading it."""
    try:
        return str(driver.find_element(By.TAG_NAME, "body").text)
    except StaleElementReferenceException:
        return ""


def wait_for_text(driver: webdriver.Chrome, text: str, timeout: float = 20) -> str:
    """The page's text once it shows ``text`` (after any navigation a click started has committed)."""
    shown = ""

    def shows(_: object) -> bool:
        nonlocal shown
        shown = page_text(driver)
        return text in shown

    WebDriverWait(driver, timeout).until(shows, f"the page shows {text!r}")
    return shown


def wait_for_heading(driver: webdriver.Chrome, text: str, timeout: float = 60) -> None:
    WebDriverWait(driver, timeout).until(lambda _: heading(driver) == text, f"page heading {text!r}")


class AgentAtTheBrowser:
    """A :data:`BrowserOpener`: loads what the app opens in Chromium, then clicks ``#approve`` or ``#deny``.

    The app opens its listener's one-time link, which Chromium follows to the sign-in page as any
    browser would. ``action=None`` leaves the page as it is (the agent walked away). ``rewrite`` changes
    the sign-in page's address before it is loaded (a tampered request): the link is then followed
    here, so Chromium loads the rewritten address. Every address the app opened is kept in ``opened``,
    every sign-in page address loaded in ``authorized``.
    """

    def __init__(
        self, driver: webdriver.Chrome, action: str | None = "approve", rewrite: Callable[[str], str] | None = None
    ) -> None:
        self.driver = driver
        self.action = action
        self.rewrite = rewrite
        self.opened: list[str] = []
        self.authorized: list[str] = []

    async def __call__(self, url: str) -> None:
        self.opened.append(url)
        if self.rewrite is not None:
            start = await asyncio.to_thread(httpx.get, url, follow_redirects=False, timeout=10)
            authorize = start.headers["location"]
            self.authorized.append(authorize)
            await asyncio.to_thread(self.driver.get, self.rewrite(authorize))
        else:
            await asyncio.to_thread(self.driver.get, url)
            # In a thread too: chromedriver answers only once pending navigations end, and one may be a
            # form post to the app's listener, which runs on this event loop (found by the stress run:
            # under load, get() returned before the post, and the loop waited on the browser forever).
            self.authorized.append(await asyncio.to_thread(lambda: self.driver.current_url))
        if self.action is not None:
            await asyncio.to_thread(self.click, self.action)

    def click(self, element_id: str) -> None:
        self.driver.find_element(By.ID, element_id).click()
