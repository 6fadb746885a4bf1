"""The tray app, the imperative shell: pystray on the main thread, the engine on a worker thread.

Threads:

- main: ``icon.run()`` (the backend's event loop; menu actions run here);
- pystray's setup thread: the *controller*. It wakes when a snapshot arrives (or every ``tick``
  seconds, for sign-ins that are about to end), turns the latest snapshot into a
  :class:`~tray_agent.tray.view.TrayView` and pushes only what changed to the icon: the image
  (cached per state key), the tooltip, the menu, and rate-limited notifications;
- ``tray-agent-engine``: the engine's asyncio loop (:class:`~tray_agent.tray.engine_thread.EngineThread`);
- on POSIX, ``tray-signals``: turns SIGINT/SIGTERM into a clean quit.

Quit: the controller stops, the icon's loop ends, then the engine gets ``Command(STOP)``, closes its
websocket and HTTP clients, and its thread ends before ``run()`` returns.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from tray_agent import __version__
from tray_agent.config.layers import load_user_settings
from tray_agent.config.paths import AgentPaths
from tray_agent.config.settings_error import SettingsError
from tray_agent.config.settings_file import set_setting
from tray_agent.core.service import Service
from tray_agent.engine.snapshot import Command, CommandKind, Snapshot, Transition
from tray_agent.i18n import _
from tray_agent.tray import desktop
from tray_agent.tray.autostart import Autostart, for_this_desktop
from tray_agent.tray.desktop_notifications import Notice, RateLimiter, ending_notices, notices_for_change
from tray_agent.tray.engine_thread import AgentFactory, Companion, EngineThread
from tray_agent.tray.icon import tray_image
from tray_agent.tray.menu import build_menu
from tray_agent.tray.view import TrayView, app_title, view_of

log = logging.getLogger(__name__)

TICK = 30.0  # real seconds between checks when nothing happens (sign-in expiry)
QUIT_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def block_quit_signals() -> None:
    """Call first thing, before any thread starts: every thread inherits the mask, and the
    ``tray-signals`` thread then receives SIGINT/SIGTERM with ``sigwait`` whatever the GUI loop does."""
    if sys.platform != "win32":  # Windows has no signal masks; Ctrl-C reaches the console app directly
        signal.pthread_sigmask(signal.SIG_BLOCK, QUIT_SIGNALS)


class AgentWindow(Protocol):
    """The agent's window (tray_agent/window/): fed the engine's snapshots and story, opened from the menu."""

    def on_snapshot(self, snapshot: Snapshot) -> None: ...

    def on_transition(self, transition: Transition) -> None: ...

    def open(self, view: str = "/") -> None: ...

    def close(self) -> None: ...


WindowFactory = Callable[[Callable[[Command], None]], AgentWindow]


class TrayApp:
    def __init__(
        self,
        *,
        paths: AgentPaths,
        factory: AgentFactory | None,
        setup_problem: str | None = None,
        now: Callable[[], float] = time.time,
        companion: Companion | None = None,
        on_transition: Callable[[Transition], None] | None = None,
        autostart: Autostart | None = None,
        open_path: Callable[[Path, bool], None] | None = None,
        limiter: RateLimiter | None = None,
        name: str = "tray-agent",
        tick: float = TICK,
        on_ui: Callable[[Callable[[], object]], None] | None = None,
        locked: frozenset[str] = frozenset(),
        policy_problems: tuple[str, ...] = (),
        allow_device_code: bool = True,
        settings_problems: tuple[str, ...] = (),
        window: WindowFactory | None = None,
    ) -> None:
        self._paths = paths
        self._window = window(self._submit) if window is not None else None
        self._locked = locked
        self._policy_problems = policy_problems
        self._settings_problems = settings_problems
        self._allow_device_code = allow_device_code
        self._setup_problem = setup_problem
        self._now = now
        self._autostart = autostart or for_this_desktop()
        self._open_path = open_path or (lambda path, text: desktop.open_path(path, text_file=text))
        self._limiter = limiter or RateLimiter()
        self._name = name
        self._tick = tick
        self._print_transition = on_transition
        self._engine = (
            EngineThread(
                factory,
                on_snapshot=self.on_snapshot,
                on_transition=self._on_transition,
                on_failure=self._on_failure,
                companion=companion,
            )
            if factory is not None
            else None
        )
        self._snapshot: Snapshot | None = None  # written by the engine thread, read by the controller
        self._view = view_of(None, setup_problem=setup_problem)
        self._notified: Snapshot | None = None
        self._tooltip: str | None = None  # as last given to the backend
        self._failure: str | None = None
        self._on_ui = on_ui or _ui_dispatcher()
        self._signed_out_by_agent: set[Service] = set()
        self._wake = threading.Event()
        self._quitting = threading.Event()
        self._icon: Any = None

    # --- what the menu reads and does (MenuHost) -----------------------------------------------

    @property
    def view(self) -> TrayView:
        return self._view

    def pause(self, seconds: float | None) -> None:
        self._submit(Command(CommandKind.PAUSE, seconds=seconds))

    def resume(self) -> None:
        self._submit(Command(CommandKind.RESUME))

    def sync_now(self) -> None:
        self._submit(Command(CommandKind.SYNC_NOW))

    def sign_in(self, service: Service) -> None:
        self._signed_out_by_agent.discard(service)
        self._submit(Command(CommandKind.SIGN_IN, service=service))

    def sign_in_with_code(self) -> None:
        """Device-code sign-in: for a machine whose browser cannot reach the loopback redirect."""
        self._signed_out_by_agent.discard(Service.MICROSOFT)
        self._submit(Command(CommandKind.SIGN_IN, service=Service.MICROSOFT, device_code=True))

    def sign_out(self, service: Service) -> None:
        self._signed_out_by_agent.add(service)
        self._submit(Command(CommandKind.SIGN_OUT, service=service))

    def open_settings(self) -> None:
        """The window's settings; the file itself only where there is no window (not set up yet)."""
        if self.window_available():
            self.open_window("/settings")
            return
        path = self._paths.settings_file
        load_user_settings(path)  # re-creates the commented default if it was deleted
        self._open(path, text_file=True, what="the settings file", failed=_("Could not open the settings file"))

    def window_available(self) -> bool:
        return self._window is not None and self._engine is not None

    def open_window(self, view: str = "/activity") -> None:
        if self._window is None:
            return
        try:
            self._window.open(view)
        except Exception as error:  # the window is a convenience: the tray goes on without it
            log.warning("could not open the agent's window: %s", type(error).__name__)
            self._show(_info(_("Activity"), _("Could not open the window: {error}").format(error=error)))

    def open_log_folder(self) -> None:
        self._paths.log_dir.mkdir(parents=True, exist_ok=True)
        self._open(
            self._paths.log_dir, text_file=False, what="the log folder", failed=_("Could not open the log folder")
        )

    def start_at_login(self) -> bool:
        try:
            return self._autostart.enabled()
        except OSError:
            log.warning("could not read the start-at-login setting", exc_info=True)
            return False

    def start_at_login_locked(self) -> bool:
        return "start_at_login" in self._locked

    def device_code_allowed(self) -> bool:
        return self._allow_device_code

    def toggle_start_at_login(self) -> None:
        if self.start_at_login_locked():
            return
        wanted = not self.start_at_login()
        try:
            self._autostart.set_enabled(wanted)
            log.info("start at login %s", "on" if wanted else "off")
        except OSError as error:
            log.warning("could not change start at login: %s", error)
            self._show(_info(_("Start at login"), _("Could not change it: {error}").format(error=error)))

    def teams_writeback_locked(self) -> bool:
        return "teams_writeback" in self._locked

    def toggle_teams_writeback(self) -> None:
        """Saved in the settings file (comments kept) and applied at once; the agent is asked for the
        Presence.ReadWrite permission when it turns the feature on."""
        if self.teams_writeback_locked():
            return
        wanted = not self._view.writeback_on
        try:
            set_setting(self._paths.settings_file, "agent", "teams_writeback", wanted)
        except (OSError, SettingsError) as error:
            log.warning("could not change teams_writeback: %s", error)
            self._show(_info(_("Show Genesys calls in Teams"), _("Could not change it: {error}").format(error=error)))
            return
        log.info("Genesys interactions in Teams %s", "on" if wanted else "off")
        self._submit(Command(CommandKind.SET_WRITEBACK, enabled=wanted))

    def about(self) -> None:
        self._show(
            _info(
                _("{app} {version}").format(app=app_title(), version=__version__),
                _("Settings: {settings_file}\nLogs: {log_folder}").format(
                    settings_file=self._paths.settings_file, log_folder=self._paths.log_dir
                ),
            )
        )

    def quit(self) -> None:
        log.info("quit requested")
        self._quitting.set()
        self._wake.set()
        icon = self._icon
        if icon is not None:
            icon.stop()

    # --- running -------------------------------------------------------------------------------

    def run(self) -> int:
        """Blocks on the main thread until the agent quits; returns the exit code."""
        try:
            import pystray  # lazily: on Linux the import needs a display
        except Exception as error:  # Xlib raises its own errors, not ImportError, without a display
            log.error("no tray available: %s", error)
            sys.stderr.write(
                _(
                    "{app} needs a desktop session with a notification area ({error}).\n"
                    "To try the agent without one:  tray-agent demo --headless\n"
                ).format(app=app_title(), error=f"{error.__class__.__name__}: {error}")
            )
            return 2
        if sys.platform != "win32":
            threading.Thread(target=self._wait_for_quit_signal, name="tray-signals", daemon=True).start()
        icon = pystray.Icon(self._name, tray_image(self._view.icon), self._view.tooltip)
        icon.menu = build_menu(pystray, self)
        self._icon = icon
        log.info("tray starting (%s backend)", type(icon).__module__.rsplit(".", 1)[-1].lstrip("_"))
        try:
            icon.run(setup=self._control)
        except Exception:  # e.g. gtk: no notification service on the session bus when closing
            log.warning("the tray backend reported an error while closing", exc_info=True)
        finally:
            self._quitting.set()
            self._wake.set()
            clean = self._engine.stop() if self._engine is not None else True
            if self._window is not None:
                with contextlib.suppress(Exception):
                    self._window.close()
            leftovers = sorted(
                t.name
                for t in threading.enumerate()
                if t is not threading.current_thread() and t.is_alive() and not t.daemon
            )
            log.info(
                "tray closed: engine %s; threads still running: %s",
                "stopped" if clean else "did NOT stop in time",
                ", ".join(leftovers) or "none",
            )
        return 0 if clean else 1

    def _wait_for_quit_signal(self) -> None:
        if sys.platform == "win32":
            return
        received = signal.sigwait(QUIT_SIGNALS)
        log.info("%s received", signal.Signals(received).name)
        self.quit()

    def _control(self, icon: Any) -> None:
        """pystray's setup thread: show the icon, start the engine, then keep the icon current."""
        icon.visible = True
        for problem in self._policy_problems:  # IT's policy has a bad value: its default is in effect
            self._show(_info(_("A setting from IT could not be used"), problem), icon)
        for problem in self._settings_problems:  # the agent's own file: last good settings or defaults apply
            self._show(_info(_("Your settings file has a problem"), problem), icon)
        if self._engine is not None and not self._quitting.is_set():
            self._engine.start()
        while not self._quitting.is_set():
            try:
                self.refresh(icon)
            except Exception:
                log.exception("could not update the tray")
            self._wake.wait(self._tick)
            self._wake.clear()

    def refresh(self, icon: Any) -> None:
        """One controller step: show the latest snapshot (only what changed) and notify."""
        snapshot, now = self._snapshot, self._now()
        shown = self._view
        view = view_of(snapshot, now=now, setup_problem=self._setup_problem, failure=self._failure)
        self._view = view
        if view.icon != shown.icon:
            image = tray_image(view.icon)  # cached per state key: rendered once per look
            self._on_ui(lambda: setattr(icon, "icon", image))
            log.info("tray shows %s (%s)", view.icon.look.value, view.icon.tone.value)
        if view.tooltip != self._tooltip:
            tooltip = view.tooltip
            self._on_ui(lambda: _set_tooltip(icon, tooltip))
            self._tooltip = tooltip
            log.info("tray tooltip: %s", tooltip)
        if view != shown:
            self._on_ui(icon.update_menu)
        notices: list[Notice] = []
        if snapshot is not None and snapshot is not self._notified:
            notices += notices_for_change(
                self._notified, snapshot, signed_out_by_agent=frozenset(self._signed_out_by_agent)
            )
            self._notified = snapshot
        if snapshot is not None:
            notices += ending_notices(snapshot, now)
        for notice in notices:
            if self._limiter.allow(notice.key):
                self._show(notice, icon)
            else:
                log.debug("notification not repeated so soon: %s", notice.title)

    def _show(self, notice: Notice | tuple[str, str], icon: Any = None) -> None:
        title, message = (notice.title, notice.message) if isinstance(notice, Notice) else notice
        icon = icon or self._icon
        log.info("notification: %s — %s", title, message)
        if icon is not None and getattr(icon, "HAS_NOTIFICATION", False):
            self._on_ui(lambda: icon.notify(message, title))

    def _open(self, path: Path, *, text_file: bool, what: str, failed: str) -> None:
        """``what``: for the log (English); ``failed``: the notification's title (translated)."""
        try:
            self._open_path(path, text_file)
        except OSError as error:
            log.warning("could not open %s: %s", what, error)
            self._show(_info(failed, _("It is here: {path}").format(path=path)))

    # --- engine callbacks (engine thread) ------------------------------------------------------

    def on_snapshot(self, snapshot: Snapshot) -> None:
        """The engine published a snapshot (called on the engine thread): wake the controller."""
        self._snapshot = snapshot
        if self._window is not None:
            self._window.on_snapshot(snapshot)
        self._wake.set()

    def _on_transition(self, transition: Transition) -> None:
        if self._window is not None:
            self._window.on_transition(transition)
        if self._print_transition is not None:
            self._print_transition(transition)

    def _on_failure(self, text: str) -> None:
        self._failure = text
        self._wake.set()

    def _submit(self, command: Command) -> None:
        if self._engine is not None:
            self._engine.submit(command)


def _ui_dispatcher() -> Callable[[Callable[[], object]], None]:
    """How to touch the icon from the controller thread.

    macOS requires UI changes on the main thread (pystray's darwin backend does not marshal them;
    a worker-thread ``update_menu()`` is a known crash), so there they are queued with PyObjC's
    ``callAfter`` (pyobjc is a pystray dependency on macOS). The other backends marshal themselves.
    """
    if sys.platform == "darwin":
        call_after = importlib.import_module("PyObjCTools.AppHelper").callAfter

        def on_main_thread(action: Callable[[], object]) -> None:
            call_after(action)

        return on_main_thread

    def directly(action: Callable[[], object]) -> None:
        action()

    return directly


def _set_tooltip(icon: Any, text: str) -> None:
    icon.title = text  # the tooltip on Windows and macOS; xorg names the window
    status_icon = getattr(icon, "_status_icon", None)
    if status_icon is not None:
        # pystray's gtk backend sets only the status icon's (unseen) title: give it the tooltip too,
        # on the GTK main loop like pystray's own updates.
        glib = importlib.import_module("gi.repository.GLib")
        glib.idle_add(lambda: status_icon.set_tooltip_text(text) and False)


def _info(title: str, message: str) -> tuple[str, str]:
    """An informational notification the agent asked for (not rate-limited), within Windows' limits."""
    return (title[:63], message[:255])
