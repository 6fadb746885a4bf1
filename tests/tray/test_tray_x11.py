"""The real tray app in a real X server: ``tray-agent demo`` (not headless) as a subprocess.

A throwaway desktop (Xvfb, a session bus, trayer as the system tray, a recording notification
service) hosts the app on pystray's gtk backend. The tests change Teams and Genesys through the
simulator's control API, read the icon's pixels from screenshots, drive the menu with the keyboard
(XTEST) and read the notifications the app sent. They run in order, as one agent's morning.
"""

from __future__ import annotations

import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.e2e.chromium import chromium, wait_for_text
from tray_agent.config.policy import LINUX_POLICY_FILE
from tray_agent.tray.view import IconKey, Look, Tone

from .pixels import Placement, classify, find_placement, slot
from .xdesktop import XDesktop, eventually, start_desktop

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "tray"
SPEED = "20"  # simulated seconds per real second: a 10 s dwell takes half a second
STATE_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Tray:
    """The running app, seen from the outside: its icon, menu, notifications, log and simulator."""

    def __init__(self, desktop: XDesktop, home: Path, process: subprocess.Popen[bytes], out: Path) -> None:
        self.desktop = desktop
        self.home = home
        self.process = process
        self.out = out
        self.placement: Placement | None = None
        self.simulator: httpx.Client | None = None
        self.shots = 0

    # --- the app's own record ----------------------------------------------------------------

    def log(self) -> str:
        path = self.home / "logs" / "tray-agent.log"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def diagnostics(self) -> str:
        out = self.out.read_text(encoding="utf-8", errors="replace")
        return f"\n--- app stdout (tail) ---\n{out[-2500:]}\n--- app log (tail) ---\n{self.log()[-3500:]}"

    # --- the simulator --------------------------------------------------------------------------

    def connect(self) -> None:
        def printed() -> str:
            text = self.out.read_text(encoding="utf-8")
            return text if "CA: " in text else ""

        text = eventually(printed, 20, "the demo prints its URLs")
        base = re.search(r"Simulator: (https://\S+)", text)
        ca = re.search(r"CA: (\S+)", text)
        assert base and ca, text
        self.simulator = httpx.Client(base_url=base.group(1), verify=ssl.create_default_context(cafile=ca.group(1)))

    def control(self, path: str, body: dict[str, Any]) -> None:
        assert self.simulator is not None
        answer = self.simulator.post(f"/control/api/{path}", json=body)
        assert answer.status_code == 200, answer.text

    def genesys_shows(self) -> str:
        assert self.simulator is not None
        state = self.simulator.get("/control/api/state").json()
        return str(state["users"][0]["genesys"]["label"])

    # --- the icon -------------------------------------------------------------------------------

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        path = ARTIFACTS / f"{self.shots:02d}-{name}.png"
        self.desktop.screenshot().save(path)
        return path

    def icon_now(self) -> list[tuple[float, IconKey]]:
        """Every state ranked by likeness to the docked icon; empty while no icon is docked (a host
        may re-embed the icon for a moment, e.g. right after it docked)."""
        box = self.desktop.tray_icon()
        assert self.placement is not None
        return classify(slot(self.desktop.screenshot(), box), self.placement) if box is not None else []

    def shows(self, expected: IconKey, timeout: float = STATE_TIMEOUT) -> None:
        """The tray's pixels are those of ``expected``, clearly closer than any other state's."""

        def matches() -> bool:
            ranking = self.icon_now()
            if not ranking:
                return False
            (score, best), (runner_up, _) = ranking[:2]
            return best == expected and score < 8 and runner_up - score > 3

        try:
            eventually(matches, timeout, f"the tray shows {expected}")
        except AssertionError:
            path = self.screenshot(f"expected-{expected.look.value}-{expected.tone.value}")
            ranking = ", ".join(f"{k.look.value}/{k.tone.value}={s:.1f}" for s, k in self.icon_now()[:3]) or "no icon"
            raise AssertionError(
                f"the tray does not show {expected} (closest: {ranking}); screenshot {path}{self.diagnostics()}"
            ) from None

    # --- the menu -------------------------------------------------------------------------------

    def open_menu(self) -> None:
        box = self.desktop.tray_icon()
        assert box is not None
        self.desktop.click(*box.centre, button=3)
        eventually(self.desktop.popups, 5, "the menu opens")

    def choose(self, *keys: str) -> None:
        """Open the menu and press ``keys`` (GTK skips disabled items when moving)."""
        self.open_menu()
        self.desktop.keys(*keys)
        eventually(lambda: not self.desktop.popups(), 5, "the menu closes")

    def notified(self, summary: str, timeout: float = STATE_TIMEOUT) -> None:
        eventually(
            lambda: any(n["summary"] == summary for n in self.desktop.notifications()),
            timeout,
            f"a notification {summary!r} (got {[n['summary'] for n in self.desktop.notifications()]})",
        )


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[XDesktop]:
    screen = start_desktop(tmp_path_factory.mktemp("xdesktop"))
    yield screen
    screen.close()


@pytest.fixture(scope="module")
def tray(desktop: XDesktop, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tray]:
    home = tmp_path_factory.mktemp("agent-home")
    out = home / "stdout.txt"
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    command = [str(Path(sys.executable).with_name("tray-agent")), "demo", "--speed", SPEED, "--port", str(free_port())]
    browser = home / "browser.sh"  # the system browser, as webbrowser finds it through $BROWSER: records the link
    browser.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{home / "opened.txt"}"\n', encoding="utf-8")
    browser.chmod(0o700)
    process = subprocess.Popen(
        command,
        env=desktop.env(TRAY_AGENT_HOME=str(home), PYSTRAY_BACKEND="gtk", BROWSER=str(browser)),
        stdout=out.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=home,
    )
    app = Tray(desktop, home, process, out)
    try:
        app.connect()
        box = eventually(desktop.tray_icon, 20, "the icon docks in the tray")
        eventually(lambda: "tray shows synced (available)" in app.log(), 20, "the agent is in sync")
        time.sleep(0.3)  # the host repaints after the image file changes
        app.placement, score = find_placement(slot(desktop.screenshot(), box), IconKey(Look.SYNCED, Tone.AVAILABLE))
        assert score < 8, f"the docked icon does not look like the rendered one ({score:.1f}){app.diagnostics()}"
        yield app
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if app.simulator is not None:
            app.simulator.close()


def test_the_demo_starts_the_tray_app_in_sync(tray: Tray) -> None:
    tray.shows(IconKey(Look.SYNCED, Tone.AVAILABLE))
    assert "tray starting (gtk backend)" in tray.log()
    # The window's editor gets the demo's own commented default; the agent's real settings are not touched.
    demo_settings = tray.home / "state" / "demo" / "settings.toml"
    assert demo_settings.read_text(encoding="utf-8").startswith("# Teams → Genesys")
    assert not (tray.home / "config" / "settings.toml").exists()
    assert "Traceback" not in tray.log(), tray.diagnostics()


def test_a_teams_meeting_turns_the_badge_to_the_genesys_meeting_colour(tray: Tray) -> None:
    tray.control("teams", {"availability": "Busy", "activity": "InAMeeting"})
    tray.control("devices", {"microphone": True})  # joining opens the microphone: the agent reads Teams at once
    tray.shows(IconKey(Look.SYNCED, Tone.BUSY))
    assert tray.genesys_shows() == "Meeting"
    assert "tray tooltip: Teams → Genesys presence: In sync · Genesys Meeting" in tray.log()


def test_the_menu_opens_from_the_icon_with_the_status_at_the_top(tray: Tray) -> None:
    tray.open_menu()
    tray.desktop.keys("Down")  # highlights "Pause sync", which opens its submenu
    eventually(lambda: len(tray.desktop.popups()) >= 2, 5, "the pause submenu opens")
    time.sleep(0.2)
    shot = tray.desktop.screenshot()
    boxes = tray.desktop.popups()
    right = max(b.x + b.width for b in boxes) + 6
    bottom = max(b.y + b.height for b in boxes) + 6
    picture = shot.crop((0, 0, min(right, shot.width), min(bottom, shot.height)))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    picture.save(ARTIFACTS / "tray-menu.png")  # python -m tests.regenerate screenshot copies it into assets/
    main_menu = min(boxes, key=lambda b: b.x)
    assert main_menu.height > 300, "the menu has all its rows"
    tray.desktop.keys("Escape", "Escape")
    eventually(lambda: not tray.desktop.popups(), 5, "the menu closes")


def test_on_queue_the_agent_is_left_alone_and_the_badge_becomes_a_ring(tray: Tray) -> None:
    tray.control("genesys/routing", {"status": "IDLE"})
    tray.shows(IconKey(Look.HANDS_OFF, Tone.ON_QUEUE))
    tray.control("genesys/routing", {"status": "OFF_QUEUE"})
    eventually(lambda: "On Queue" not in tray.genesys_shows(), 10, "off queue")


def test_a_status_set_by_hand_is_shown_as_hands_off_in_its_colour(tray: Tray) -> None:
    tray.control("genesys/presence", {"systemPresence": "Break"})
    tray.shows(IconKey(Look.HANDS_OFF, Tone.AWAY))


def test_pause_and_resume_from_the_menu_with_a_notification_each(tray: Tray) -> None:
    tray.choose("Down", "Right", "Return")  # Pause sync ▸ For 15 minutes
    tray.shows(IconKey(Look.PAUSED))
    tray.notified("Presence sync paused")
    tray.choose("Down", "Return")  # Resume sync: the first enabled item while paused
    tray.shows(IconKey(Look.HANDS_OFF, Tone.AWAY))
    tray.notified("Presence sync resumed")


def test_a_lost_genesys_sign_in_asks_the_agent_and_signing_in_from_the_menu_fixes_it(tray: Tray) -> None:
    tray.control("faults", {"action": "expire_tokens", "service": "genesys"})
    tray.control("faults", {"action": "drop_websockets"})
    tray.shows(IconKey(Look.SIGN_IN_NEEDED))
    tray.notified("Sign in to Genesys Cloud")
    # Enabled now: Pause sync, Sign out of Microsoft, Sign in to Genesys Cloud, …
    tray.choose("Down", "Down", "Down", "Return")
    tray.shows(IconKey(Look.HANDS_OFF, Tone.AWAY))


def test_signing_out_from_the_menu_needs_no_reminder(tray: Tray) -> None:
    before = len(tray.desktop.notifications())
    # Enabled: Pause sync, Sync now, Sign out of Microsoft, Sign out of Genesys Cloud
    tray.choose("Down", "Down", "Down", "Down", "Return")
    tray.shows(IconKey(Look.SIGN_IN_NEEDED))
    time.sleep(0.5)
    assert len(tray.desktop.notifications()) == before
    tray.choose("Down", "Down", "Down", "Return")  # Sign in to Genesys Cloud
    tray.shows(IconKey(Look.HANDS_OFF, Tone.AWAY))


def test_losing_the_network_shows_offline_until_it_comes_back(tray: Tray) -> None:
    tray.control("faults", {"action": "network_down", "down": True})
    tray.shows(IconKey(Look.OFFLINE))
    tray.control("faults", {"action": "clear"})
    eventually(lambda: tray.icon_now() and tray.icon_now()[0][1].look is not Look.OFFLINE, 30, "back online")


def test_start_at_login_from_the_menu_writes_the_autostart_entry(tray: Tray) -> None:
    entry = Path(tray.desktop.env()["XDG_CONFIG_HOME"]) / "autostart" / "tray-agent.desktop"
    tray.choose("Up", "Up", "Up", "Return")  # from the bottom: Quit, About, Start at login
    eventually(entry.exists, 5, "the autostart entry is written")
    assert "Exec=" in entry.read_text(encoding="utf-8")
    tray.choose("Up", "Up", "Up", "Return")
    eventually(lambda: not entry.exists(), 5, "the autostart entry is removed")


def test_a_second_start_in_the_same_session_is_refused(tray: Tray) -> None:
    second = subprocess.run(
        [str(Path(sys.executable).with_name("tray-agent")), "demo"],
        env=tray.desktop.env(TRAY_AGENT_HOME=str(tray.home), PYSTRAY_BACKEND="gtk"),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert second.returncode == 3
    assert "already running" in second.stdout
    assert tray.process.poll() is None


def test_settings_from_the_menu_opens_the_agents_window_in_the_browser(tray: Tray) -> None:
    opened = tray.home / "opened.txt"
    tray.choose(*["Up"] * 6, "Return")  # from the bottom: Quit, About, Start at login, …, Open log folder, Settings…
    link = eventually(
        lambda: opened.read_text(encoding="utf-8").split() if opened.exists() else [], 10, "a link is opened"
    )[-1]
    assert link.startswith("http://127.0.0.1:"), link
    with chromium(None) as driver:
        driver.get(link)
        wait_for_text(driver, "When Teams shows", 30)
        assert driver.current_url.endswith("/settings"), driver.current_url
        meetings = Select(driver.find_element(By.ID, "map-InAMeeting"))  # the org's presences, from the agent
        assert meetings.first_selected_option.text.startswith("Meeting"), meetings.first_selected_option.text
    assert "Traceback" not in tray.log(), tray.diagnostics()


def test_quit_from_the_menu_stops_the_engine_and_closes_everything(tray: Tray) -> None:
    tray.choose("Up", "Return")  # Quit: the last item
    assert tray.process.wait(20) == 0, tray.diagnostics()
    log = tray.log()
    for line in ("quit requested", "engine stopped", "HTTP clients closed", "threads still running: none"):
        assert line in log, tray.diagnostics()
    assert "Traceback" not in log, tray.diagnostics()
    eventually(lambda: tray.desktop.tray_icon() is None, 5, "the icon leaves the tray")


def test_tray_agent_without_arguments_starts_the_real_tray_and_says_what_setup_is_missing(
    tray: Tray, tmp_path: Path
) -> None:
    home = tmp_path / "agent"
    output = tmp_path / "output.txt"
    real = subprocess.Popen(
        [str(Path(sys.executable).with_name("tray-agent"))],
        env=tray.desktop.env(TRAY_AGENT_HOME=str(home), PYSTRAY_BACKEND="gtk"),
        stdout=output.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        eventually(tray.desktop.tray_icon, 20, "the real tray docks")
        # IT policy is machine-wide by design (a fixed path); another suite installing the .deb on
        # the same machine may configure the agent for a while. Without policy: not set up yet.
        unconfigured = not LINUX_POLICY_FILE.exists()
        try:
            if unconfigured:
                tray.shows(IconKey(Look.ERROR))
            else:
                eventually(lambda: "tray tooltip:" in (home / "logs" / "tray-agent.log").read_text("utf-8"), 20, "")
        except AssertionError as error:
            log = home / "logs" / "tray-agent.log"
            raise AssertionError(
                f"{error}\n--- real tray output ---\n{output.read_text(errors='replace')[-3000:]}"
                f"\n--- real tray log ---\n{log.read_text(errors='replace')[-3000:] if log.exists() else ''}"
                f"\nexit code: {real.poll()}"
            ) from None
        log = (home / "logs" / "tray-agent.log").read_text(encoding="utf-8")
        if unconfigured:
            assert "tray tooltip: Teams → Genesys presence: Not set up yet" in log
        assert (home / "config" / "settings.toml").exists()  # the commented default, for IT or the agent
        real.terminate()  # SIGTERM (e.g. logging off) quits as cleanly as the menu
        assert real.wait(20) == 0
        log = (home / "logs" / "tray-agent.log").read_text(encoding="utf-8")
        assert "SIGTERM received" in log
        assert "threads still running: none" in log
    finally:
        if real.poll() is None:
            real.kill()
            real.wait()
