"""The agent's window in real Chromium: opened through the tray's one-time link, it shows the state
now and the activity, and its buttons work from the keyboard."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.e2e.chromium import chromium, wait_for_heading
from tests.tray.builders import in_meeting
from tray_agent.engine.snapshot import Command, CommandKind, Transition
from tray_agent.window.opener import AgentWindow

pytestmark = [pytest.mark.e2e]


def until(condition: object, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not within the safety net"
        time.sleep(0.05)


def test_the_window_opens_from_the_tray_link_and_sync_now_works_from_the_keyboard() -> None:
    commands: list[Command] = []
    opened: list[str] = []
    window = AgentWindow(commands.append, browser=opened.append)
    window.on_snapshot(in_meeting())
    window.on_transition(Transition(1_800_000_000.0, "write", "Genesys set to Meeting (Teams Busy / InAMeeting)"))
    try:
        window.open()
        [link] = opened
        with chromium(None) as driver:
            driver.get(link)
            wait_for_heading(driver, "Now")  # the view's heading (the app's name is in the header)
            assert driver.current_url.endswith("/")  # the one-time link is gone from the address bar
            text = driver.find_element(By.TAG_NAME, "main").text
            assert "In a meeting" in text and "Meeting – set by sync" in text
            assert "Genesys set to Meeting (Teams Busy / InAMeeting)" in text
            button = driver.find_element(By.XPATH, "//button[normalize-space()='Sync now']")
            button.send_keys(Keys.ENTER)  # keyboard, not a mouse click
            try:
                until(lambda: commands == [Command(CommandKind.SYNC_NOW)])
            except AssertionError:
                raise AssertionError(driver.find_element(By.TAG_NAME, "body").text) from None
            driver.get(link)  # the same link a second time
            assert "already used" in driver.find_element(By.TAG_NAME, "body").text
    finally:
        window.close()
