"""The window's settings in real Chromium, with the real agent against the simulator: the agent opens
Settings from the tray, changes a mapping with the keyboard, and the next Teams change follows it;
what IT set cannot be changed; a wrong Host is refused; the window works in German."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from tests.e2e.chromium import chromium, wait_for_text
from tests.e2e.harness import running_world
from tray_agent.config.policy import Policy
from tray_agent.config.settings import read_toml
from tray_agent.config.settings_file import UserSettingsFile
from tray_agent.i18n import set_language
from tray_agent.window.opener import AgentWindow

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

USERS_FILE = '# my own notes\n[mapping]\nAway = "Away"\n'


def policy() -> Policy:
    """IT has set what Presenting shows."""
    return Policy(mapping=(("Presenting", "Busy"),), locked=frozenset({"mapping.Presenting"}))


@pytest.fixture
def german() -> Iterator[None]:
    set_language("de")
    try:
        yield
    finally:
        set_language(None)


def settle(driver: WebDriver, text: str) -> str:
    """The page's text once it shows ``text`` (after a navigation the click started has committed)."""
    return wait_for_text(driver, text)


def choose_training_for_meetings(link: str, port: int) -> str:
    with chromium(None) as driver:
        driver.get(link)
        page = settle(driver, "When Teams shows")
        assert driver.current_url.endswith("/settings")
        assert not driver.find_elements(By.ID, "map-Presenting")  # IT's: shown, no control
        assert "set by your IT department" in driver.find_element(By.XPATH, "//tr[th='Presenting']").text
        meeting = driver.find_element(By.ID, "map-InAMeeting")
        Select(meeting).select_by_value("Training")
        meeting.send_keys(Keys.TAB)
        driver.find_element(By.XPATH, "//button[@value='save']").send_keys(Keys.ENTER)  # the keyboard
        page = settle(driver, "Saved.")
        driver.get(f"http://localhost:{port}/settings")  # the same window under another name (DNS rebinding)
        refused = settle(driver, "Wrong host")
        return page + refused


async def test_a_mapping_changed_in_the_window_is_followed_at_the_next_teams_change(tmp_path: Path) -> None:
    settings_file = tmp_path / "settings.toml"
    settings_file.write_text(USERS_FILE, encoding="utf-8")
    opened: list[str] = []
    submit: list[object] = []

    def forward(command: object) -> None:
        submit[0](command)  # type: ignore[operator]

    window = AgentWindow(forward, settings=UserSettingsFile(settings_file, policy), browser=opened.append)
    try:
        async with running_world(on_snapshot=window.on_snapshot, on_transition=window.on_transition) as world:
            submit.append(world.agent.engine.submit)  # what the tray hands the window
            await world.shows("Available")
            window.open("/settings")  # the tray's "Settings…"
            [link] = opened
            port = int(link.split(":")[2].split("/")[0])
            page = await asyncio.to_thread(choose_training_for_meetings, link, port)
            assert "Saved." in page and "Wrong host" in page
            assert read_toml(settings_file)["mapping"] == {"Away": "Away", "InAMeeting": "Training"}
            assert "# my own notes" in settings_file.read_text(encoding="utf-8")
            world.teams("Busy", "InAMeeting")
            await world.shows("Training")  # the new mapping, with no restart
            assert world.violations() == []
    finally:
        window.close()


def read_german_settings(link: str) -> str:
    with chromium(None) as driver:
        driver.get(link)
        page = settle(driver, "Wenn Teams zeigt")
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de"
        dwell = driver.find_element(By.ID, "dwell")
        dwell.clear()
        dwell.send_keys("9999")  # out of range: the answer is ours, in German, not Chromium's own bubble
        driver.find_element(By.XPATH, "//button[@value='save']").send_keys(Keys.ENTER)
        refused = settle(driver, "Die Wartezeit muss eine Zahl von Sekunden zwischen 0 und 600 sein.")
        assert driver.find_element(By.ID, "dwell").get_attribute("aria-invalid") == "true"
        dwell = driver.find_element(By.ID, "dwell")
        dwell.clear()
        dwell.send_keys("10")
        Select(driver.find_element(By.ID, "map-Busy")).select_by_value("Break")
        driver.find_element(By.XPATH, "//button[@value='save']").send_keys(Keys.ENTER)
        return page + "\n" + refused + "\n" + settle(driver, "Gespeichert.")


def test_the_window_works_in_german(tmp_path: Path, german: None) -> None:
    settings_file = tmp_path / "settings.toml"
    opened: list[str] = []
    window = AgentWindow(lambda command: None, settings=UserSettingsFile(settings_file, policy), browser=opened.append)
    try:
        window.open("/settings")
        text = read_german_settings(opened[0])
        for words in ("Jetzt", "Aktivität", "Einstellungen", "Hilfe", "Speichern", "Nicht synchronisieren"):
            assert words in text
        assert "von Ihrer IT-Abteilung festgelegt" in text  # Presenting, set by IT
        assert "Ab der nächsten Teams-Änderung folgt Genesys den neuen Einstellungen." in text
        assert read_toml(settings_file)["mapping"] == {"Busy": "Break"}
    finally:
        window.close()


def read_activity(link: str, expected: str) -> str:
    with chromium(None) as driver:
        driver.get(link)
        return settle(driver, expected)


async def test_the_agents_own_story_is_told_in_german_in_the_window(german: None) -> None:
    """The engine's sentences (decisions, writes, Teams readings) are the core's Said: the Activity page
    says them in the agent's language, the org's Genesys labels in it too (languageLabels), and Teams'
    states as Graph gives them."""
    opened: list[str] = []
    window = AgentWindow(lambda command: None, browser=opened.append)
    try:
        async with running_world(on_snapshot=window.on_snapshot, on_transition=window.on_transition) as world:
            world.teams("Busy", "InAMeeting")
            await world.shows("Meeting")
            window.open("/activity")
            wrote = "Genesys gesetzt auf Besprechung (Teams Busy / InAMeeting)"
            page = await asyncio.to_thread(read_activity, opened[0], wrote)
        for sentence in (
            "Teams zeigt Busy / InAMeeting",
            "bestätigen: Teams Busy / InAMeeting: wird vor dem Handeln",
            "Genesys zeigt Verfügbar",
        ):
            assert sentence in page, page
        assert "reading it again" not in page and "Genesys set to" not in page
    finally:
        window.close()
