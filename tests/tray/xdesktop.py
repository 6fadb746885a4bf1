"""A throwaway X desktop for the tray tests: Xvfb, a session bus, a tray host and a notification service.

- ``Xvfb`` picks a free display itself (``-displayfd``);
- ``dbus-daemon --session`` gives the app and the fake notification service their session bus;
- ``trayer`` is the XEmbed system tray the gtk backend docks into;
- ``fake_notifications.py`` owns ``org.freedesktop.Notifications`` and records every notification.

Screenshots and input go through python-xlib (XTEST), so no other X tools are needed. Every Debian
package used here is listed in ``.ci/apt-packages/tray.txt``; if one is missing the tests fail with
a message saying so (they are never skipped).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image
from Xlib import XK, X
from Xlib import display as xdisplay
from Xlib.ext import xtest

SCREEN = (560, 460)
PANEL_HEIGHT = 32
PANEL_BACKGROUND = 0xDDDDDD
DESKTOP_BACKGROUND = 0x3B4A5E
HERE = Path(__file__).resolve().parent
NO_TCP = ("-nolisten", "tcp", "-noreset")
# The reference recipe (shared/reference/desktop-tray-installer.md §1.7): a panel at the top left.
TRAYER_ARGS = (
    *("--edge", "top", "--align", "left", "--widthtype", "pixel", "--width", "200"),
    *("--heighttype", "pixel", "--height", str(PANEL_HEIGHT), "--SetDockType", "false"),
    *("--tint", f"0x{PANEL_BACKGROUND:06x}", "--transparent", "true", "--alpha", "0"),
)
SETUP_HINT = "install the tray test packages: sudo bash .ci/setup --system (see .ci/apt-packages/tray.txt)"


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    height: int

    @property
    def centre(self) -> tuple[int, int]:
        return (self.x + self.width // 2, self.y + self.height // 2)


def _need(program: str) -> str:
    path = shutil.which(program)
    assert path, f"{program} is not installed: {SETUP_HINT}"
    return path


def _read_line(stream: Any, timeout: float, what: str) -> str:
    deadline = time.monotonic() + timeout
    data = b""
    fd = stream if isinstance(stream, int) else stream.fileno()
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out waiting for {what}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 1)
            assert chunk, f"{what}: the process ended early"
            data += chunk
    return data.decode().strip()


def debian_gi(tmp: Path) -> Path:
    """A PYTHONPATH entry holding only Debian's ``gi`` (python3-gi), for the venv's interpreter.

    Adding all of Debian's dist-packages would shadow the venv's own packages; a folder with one
    symlink does not. Debian's ``gi`` is built for its python3 (3.11), the venv's minor version.
    """
    probe = subprocess.run(
        ["/usr/bin/python3", "-c", "import gi, sys; print(gi.__path__[0]); print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.returncode == 0, f"python3-gi is not installed ({probe.stderr.strip()}): {SETUP_HINT}"
    gi_path, version = probe.stdout.splitlines()
    assert version == str(sys.version_info[:2]), f"Debian's gi is for Python {version}, the venv runs {sys.version}"
    shim = tmp / "gi-only"
    shim.mkdir(exist_ok=True)
    link = shim / "gi"
    if not link.exists():
        link.symlink_to(gi_path)
    return shim


@dataclass
class XDesktop:
    root_dir: Path
    display_name: str
    bus_address: str
    gi_path: Path
    record: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _x: Any = None

    @property
    def x(self) -> Any:
        if self._x is None:
            self._x = xdisplay.Display(self.display_name)
        return self._x

    def env(self, **extra: str) -> dict[str, str]:
        home = self.root_dir / "home"
        runtime = self.root_dir / "runtime"
        for folder in (home, runtime):
            folder.mkdir(exist_ok=True, mode=0o700)
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "DISPLAY": self.display_name,
            "DBUS_SESSION_BUS_ADDRESS": self.bus_address,
            "XDG_RUNTIME_DIR": str(runtime),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "GDK_BACKEND": "x11",
            "NO_AT_BRIDGE": "1",  # no accessibility bus in this session
            "PYTHONPATH": str(self.gi_path),
            **extra,
        }

    # --- looking ------------------------------------------------------------------------------

    def screenshot(self) -> Image.Image:
        root = self.x.screen().root
        geometry = root.get_geometry()
        raw = root.get_image(0, 0, geometry.width, geometry.height, X.ZPixmap, 0xFFFFFFFF)
        return Image.frombytes("RGB", (geometry.width, geometry.height), raw.data, "raw", "BGRX")

    def _windows(self) -> list[tuple[Any, Box, Any]]:
        found: list[tuple[Any, Box, Any]] = []
        root = self.x.screen().root

        def walk(window: Any) -> None:
            try:
                attributes = window.get_attributes()
                geometry = window.get_geometry()
                origin = window.translate_coords(root, 0, 0)
                children = window.query_tree().children
            except Exception:
                return
            if attributes.map_state == X.IsViewable:
                found.append((window, Box(-origin.x, -origin.y, geometry.width, geometry.height), attributes))
            for child in children:
                walk(child)

        for top in root.query_tree().children:
            walk(top)
        return found

    def tray_icon(self) -> Box | None:
        """The icon docked in the tray: a viewable window with a WM_CLASS inside trayer's panel."""
        panel: Box | None = None
        for window, box, _ in self._windows():
            try:
                wm_class = window.get_wm_class()
            except Exception:  # noqa: S112
                continue
            if wm_class and wm_class[0] == "panel":
                panel = box
            elif wm_class and panel and box.width >= 8 and box.y < PANEL_HEIGHT and box.x < panel.width:
                return box
        return None

    def popups(self) -> list[Box]:
        """Viewable override-redirect windows larger than a tooltip line: open menus."""
        return [
            box
            for _, box, attributes in self._windows()
            if attributes.override_redirect and box.width > 100 and box.height > 60
        ]

    # --- doing ----------------------------------------------------------------------------------

    def click(self, x: int, y: int, button: int = 1) -> None:
        xtest.fake_input(self.x, X.MotionNotify, x=x, y=y)
        self.x.sync()
        time.sleep(0.05)
        xtest.fake_input(self.x, X.ButtonPress, button)
        self.x.sync()
        time.sleep(0.05)
        xtest.fake_input(self.x, X.ButtonRelease, button)
        self.x.sync()

    def move(self, x: int, y: int) -> None:
        xtest.fake_input(self.x, X.MotionNotify, x=x, y=y)
        self.x.sync()

    def keys(self, *names: str) -> None:
        for name in names:
            code = self.x.keysym_to_keycode(XK.string_to_keysym(name))
            assert code, f"no key {name}"
            xtest.fake_input(self.x, X.KeyPress, code)
            self.x.sync()
            time.sleep(0.04)
            xtest.fake_input(self.x, X.KeyRelease, code)
            self.x.sync()
            time.sleep(0.12)  # GTK opens submenus on a short timer

    def notifications(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        lines = self.record.read_text(encoding="utf-8").splitlines()
        return [entry for entry in map(json.loads, lines) if "summary" in entry]

    def close(self) -> None:
        if self._x is not None:
            self._x.close()
        for process in reversed(self.processes):
            process.terminate()
        for process in reversed(self.processes):
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def eventually(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(interval)


def start_desktop(root_dir: Path) -> XDesktop:
    """Xvfb + session bus + trayer + the fake notification service, all ready when this returns."""
    gi_path = debian_gi(root_dir)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        read_fd, write_fd = os.pipe()
        xvfb = subprocess.Popen(
            [_need("Xvfb"), "-displayfd", str(write_fd), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", *NO_TCP],
            pass_fds=(write_fd,),
            stdout=subprocess.DEVNULL,
            stderr=(root_dir / "xvfb.log").open("wb"),
        )
        processes.append(xvfb)
        os.close(write_fd)
        display_name = ":" + _read_line(read_fd, 15, "Xvfb's display number")
        os.close(read_fd)

        bus = subprocess.Popen(
            [_need("dbus-daemon"), "--session", "--nofork", "--print-address=1", f"--address=unix:path={root_dir}/bus"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        processes.append(bus)
        bus_address = _read_line(bus.stdout, 10, "the session bus address")

        desktop = XDesktop(root_dir, display_name, bus_address, gi_path, root_dir / "notifications.jsonl", processes)
        env = desktop.env()
        trayer = subprocess.Popen(
            [_need("trayer"), *TRAYER_ARGS],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(root_dir / "trayer.log").open("wb"),
        )
        processes.append(trayer)
        x = desktop.x
        root = x.screen().root
        root.change_attributes(background_pixel=DESKTOP_BACKGROUND)  # a desktop, not a black void
        root.clear_area(0, 0, 0, 0)
        tray_selection = x.intern_atom("_NET_SYSTEM_TRAY_S0")
        eventually(lambda: x.get_selection_owner(tray_selection) != X.NONE, 10, "trayer owns the system tray")

        notifier = subprocess.Popen(
            [sys.executable, str(HERE / "fake_notifications.py"), str(desktop.record)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=(root_dir / "notifier.log").open("wb"),
        )
        processes.append(notifier)
        assert _read_line(notifier.stdout, 15, "the notification service") == "ready"
        return desktop
    except BaseException:
        for process in processes:
            process.kill()
            process.wait()
        raise
