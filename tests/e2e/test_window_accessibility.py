"""The agent's window is accessible: axe-core (from the npm registry, see tests/e2e/axe.py) finds no
serious or critical violation in any view, in English and in German, with a form error shown, with a
value locked by IT, and with Help's diagnostics shown; and the Settings view works from the keyboard,
every control taking the focus in order with a visible focus style.

The pages have no script and a CSP that forbids it; WebDriver's scripts run through DevTools, which
the page's CSP does not govern, so axe is injected and run with ``execute_script``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.core.org import DEFINITIONS
from tests.e2e import axe
from tests.e2e.chromium import chromium
from tests.tray.builders import in_meeting
from tray_agent import i18n
from tray_agent.config.policy import Policy
from tray_agent.config.settings_file import UserSettingsFile
from tray_agent.engine.snapshot import Command, Transition
from tray_agent.window.opener import AgentWindow
from tray_agent.window.pages import view_paths

pytestmark = [pytest.mark.e2e]

BLOCKING = ("serious", "critical")
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']})
  .then(results => done({violations: results.violations}), error => done({error: String(error)}));
"""
STORY = (
    Transition(1_800_000_000.0, "teams", "Teams: Busy / InAMeeting"),
    Transition(1_800_000_010.0, "decision", "Teams Busy / InAMeeting for 10 s: set Genesys to Meeting"),
    Transition(1_800_000_010.2, "write", "Genesys set to Meeting (Teams Busy / InAMeeting)"),
    Transition(1_800_000_900.0, "error", "Genesys did not answer (HTTP 503): trying again in 30 s"),
)
SETTINGS_FILE = '# my notes\n[mapping]\nAway = "Break"  # we take breaks when away\n'


@dataclass
class Window:
    driver: webdriver.Chrome
    base: str  # http://127.0.0.1:<port>


@pytest.fixture(scope="module")
def axe_source() -> str:
    try:
        return axe.axe_source()
    except axe.AxeUnavailable as error:
        pytest.fail(
            f"axe-core {axe.VERSION} is not available, so the accessibility tests cannot run: {error}", pytrace=False
        )


@pytest.fixture(scope="module")
def window(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Window]:
    """One agent window (settings with one mapping entry locked by IT, diagnostics) in one Chromium,
    signed in through the tray's one-time link: the tests then go to each view by its address."""
    path: Path = tmp_path_factory.mktemp("window") / "settings.toml"
    path.write_text(SETTINGS_FILE, encoding="utf-8")
    policy = Policy(mapping=(("InAMeeting", "Meeting"),), locked=frozenset({"mapping.InAMeeting"}))
    commands: list[Command] = []
    opened: list[str] = []
    agent = AgentWindow(
        commands.append,
        story=STORY,
        settings=UserSettingsFile(path, lambda: policy),
        diagnostics=lambda: "tray-agent 1.0\n[agent]\ndwell_seconds = 10  # default\n",
        browser=opened.append,
    )
    agent.on_snapshot(replace(in_meeting(), presences=DEFINITIONS))
    try:
        agent.open()
        [link] = opened
        with chromium(None) as driver:
            driver.get(link)
            yield Window(driver, link.split("/open/")[0])
    finally:
        agent.close()


def show(window: Window, view: str) -> None:
    """Go to ``view``: a path, or ``/settings#error`` (the editor after a save that had a problem)."""
    driver = window.driver
    if view != "/settings#error":
        driver.get(window.base + view)
        return
    driver.get(window.base + "/settings")
    # Past the browser's own check of the number field, as a hand-made request would be: the agent's
    # own check answers with the errors above the form and the field marked invalid.
    driver.execute_script(
        "const form = document.querySelector(\"form[action='/settings']\");"
        "form.noValidate = true; document.getElementById('dwell').value = '99999';"
        "form.querySelector(\"button[value='save']\").click();"
    )
    WebDriverWait(driver, 30).until(lambda _: driver.find_elements(By.CSS_SELECTOR, ".errors[role=alert]"))


def violations(driver: webdriver.Chrome, source: str) -> list[dict[str, Any]]:
    if not driver.execute_script("return typeof window.axe !== 'undefined'"):
        driver.execute_script(source)
    driver.set_script_timeout(60)
    answer = driver.execute_async_script(RUN_AXE)
    assert "error" not in answer, f"axe.run failed: {answer.get('error')}"
    return list(answer["violations"])


def described(found: list[dict[str, Any]]) -> str:
    lines = []
    for violation in found:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"    {json.dumps(node['target'])}: {node['html'][:200]}")
            if node.get("failureSummary"):
                lines.append("      " + node["failureSummary"].replace("\n", "\n      "))
    return "\n".join(lines)


VIEWS = (*view_paths(), "/settings#error", "/help?diagnostics=show")


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("view", VIEWS)
def test_axe_finds_no_serious_violation(window: Window, axe_source: str, view: str, language: str) -> None:
    i18n.set_language(language)  # the window renders in it; tests/conftest.py goes back to English
    show(window, view)
    driver = window.driver
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == language
    if view == "/help?diagnostics=show":
        assert driver.find_elements(By.ID, "diagnostics"), "the diagnostics are not shown"
    if view.startswith("/settings"):
        assert "— " in driver.find_element(By.TAG_NAME, "main").text  # the entry IT has locked
    found = violations(driver, axe_source)
    blocking = [v for v in found if v["impact"] in BLOCKING]
    assert not blocking, f"axe-core {axe.VERSION} on {view} ({language}):\n{described(blocking)}"


FOCUS = """
const element = document.activeElement;
return {
  tag: element.tagName.toLowerCase(), id: element.id, type: element.type || '', text: element.textContent.trim(),
  visible: element.matches(':focus-visible'), outline: getComputedStyle(element).outlineStyle,
};
"""
CONTROLS = """
return [...document.querySelectorAll('select, input, button, textarea')]
  .filter(element => element.type !== 'hidden' && !element.disabled)
  .map(element => ({tag: element.tagName.toLowerCase(), id: element.id, type: element.type || '',
                    text: element.textContent.trim()}));
"""


def test_tab_reaches_every_settings_control_in_order_with_a_visible_focus(window: Window) -> None:
    driver = window.driver
    driver.get(window.base + "/settings")
    controls = driver.execute_script(CONTROLS)
    assert len(controls) > 10  # the mapping's selects, the dwell, the restore box, the two buttons
    reached: list[dict[str, Any]] = []
    for _press in range(len(controls) + 20):  # the navigation's links come first
        ActionChains(driver).send_keys(Keys.TAB).perform()
        focused = driver.execute_script(FOCUS)
        if focused["tag"] == "body":
            break  # past the last control
        if focused["tag"] in ("select", "input", "button", "textarea"):
            assert focused["visible"], f"{focused} has the focus but not :focus-visible"
            assert focused["outline"] != "none", f"{focused} shows no focus outline"
            reached.append({key: focused[key] for key in ("tag", "id", "type", "text")})
            if len(reached) == len(controls):
                break
    assert reached == controls


def test_axe_does_report_a_violation_planted_in_a_view(window: Window, axe_source: str) -> None:
    """The check above is not vacuous: an unnamed button added to the page is reported, critical."""
    window.driver.get(window.base + "/")
    window.driver.execute_script("document.querySelector('main').append(document.createElement('button'))")
    found = {v["id"]: v["impact"] for v in violations(window.driver, axe_source)}
    assert found.get("button-name") == "critical", found
