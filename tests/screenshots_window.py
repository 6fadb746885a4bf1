"""Screenshots of the agent's window, each view in headless Chromium at 1100 px wide (the whole page
height, at least 900 px), with the fixture org and a short story: Teams read, the decision, the Genesys
write, an error. Writes ``assets/screenshots/window-{now,activity,settings,help}.png`` and
``window-settings-de.png`` (German); ``--out FOLDER`` writes them elsewhere.

    .venv/bin/python -m tests.screenshots_window      # or: .venv/bin/python -m tests.regenerate window
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from PIL import Image
from selenium import webdriver
from selenium.webdriver.support.ui import WebDriverWait

import tray_agent
from tests.core.org import DEFINITIONS
from tests.e2e.chromium import chromium
from tests.tray.builders import NOW, in_meeting
from tray_agent import i18n
from tray_agent.config.policy import Policy
from tray_agent.config.settings_file import UserSettingsFile
from tray_agent.engine.snapshot import Command, Transition
from tray_agent.window.opener import AgentWindow

REPO = Path(__file__).resolve().parents[1]
TRACKED = REPO / "assets" / "screenshots"
WIDTH, HEIGHT = 1100, 900
STORY = (
    Transition(NOW - 3605, "teams", "Teams: Available / Available"),
    Transition(NOW - 3600, "decision", "Teams Available: nothing to change"),
    Transition(NOW - 1800, "teams", "Teams: Busy / InAMeeting"),
    Transition(NOW - 1790, "decision", "Teams Busy / InAMeeting for 10 s: set Genesys to Meeting"),
    Transition(NOW - 1789.6, "write", "Genesys set to Meeting (Teams Busy / InAMeeting)"),
    Transition(NOW - 600, "error", "Genesys did not answer (HTTP 503): trying again in 30 s"),
    Transition(NOW - 570, "link", "Genesys Cloud answers again"),
)
SETTINGS_FILE = '[mapping]\nAway = "Break"\nInACall = "Teams call"\n'
DIAGNOSTICS = f"""\
tray-agent {tray_agent.__version__} on Linux (Python 3.11)
[agent] dwell_seconds = 10              # default
[agent] restore_earlier_status = true   # default
[mapping] InAMeeting = "Meeting"        # IT policy (locked)
[mapping] Away = "Break"                # your settings.toml
doctor: settings ok · keyring ok · network ok · Microsoft signed in · Genesys Cloud signed in
"""
# (file name, view, language)
SHOTS = (
    ("window-now.png", "/", "en"),
    ("window-activity.png", "/activity", "en"),
    ("window-settings.png", "/settings", "en"),
    ("window-help.png", "/help?diagnostics=show", "en"),
    ("window-settings-de.png", "/settings", "de"),
)


def rendered(driver: webdriver.Chrome, language: str) -> bool:
    """The view is there, in ``language`` (by the page's ``lang``: its texts may not all be translated yet)."""
    return bool(
        driver.execute_script(
            "return document.documentElement.lang === arguments[0] && !!document.querySelector('main h1')", language
        )
    )


def capture(driver: webdriver.Chrome) -> bytes:
    """The whole page at ``WIDTH``, at least ``HEIGHT`` high, as an optimised PNG."""
    height = max(HEIGHT, int(driver.execute_script("return document.documentElement.scrollHeight")))
    metrics = {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    with Image.open(io.BytesIO(base64.b64decode(shot["data"]))) as picture:
        out = io.BytesIO()
        # A palette of 256 colours keeps the text sharp and each file small.
        picture.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(out, "PNG", optimize=True)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.screenshots_window", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=TRACKED, help=f"folder for the PNGs (default {TRACKED})")
    args = parser.parse_args(argv)
    os.environ["TZ"] = "UTC"  # the window shows local times: the same pictures on every machine
    time.tzset()
    args.out.mkdir(parents=True, exist_ok=True)
    commands: list[Command] = []
    opened: list[str] = []
    with tempfile.TemporaryDirectory(prefix="window-screenshots-") as temporary:
        path = Path(temporary) / "settings.toml"
        path.write_text(SETTINGS_FILE, encoding="utf-8")
        policy = Policy(mapping=(("InAMeeting", "Meeting"),), locked=frozenset({"mapping.InAMeeting"}))
        window = AgentWindow(
            commands.append,
            story=STORY,
            settings=UserSettingsFile(path, lambda: policy),
            diagnostics=lambda: DIAGNOSTICS,
            browser=opened.append,
        )
        window.on_snapshot(replace(in_meeting(), presences=DEFINITIONS))
        try:
            window.open()
            [link] = opened
            base = link.split("/open/")[0]
            with chromium(None) as driver:
                driver.get(link)
                for name, view, language in SHOTS:
                    i18n.set_language(language)
                    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
                    driver.set_window_size(WIDTH, HEIGHT)
                    driver.get(base + view)
                    WebDriverWait(driver, 60).until(
                        lambda _, lang=language: rendered(driver, lang), f"{view} in {language}"
                    )
                    png = capture(driver)
                    (args.out / name).write_bytes(png)
                    print(f"wrote {args.out / name} ({len(png) // 1024} KB)", file=sys.stderr)
        finally:
            i18n.set_language(None)
            window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
