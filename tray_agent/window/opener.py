"""The agent's window beside the tray: its server on its own thread and loop, started on first use.

The tray hands it snapshots and transitions (from the engine's callbacks) and gives it ``submit`` for
its buttons; :meth:`AgentWindow.open` shows it in the system browser through a one-time link.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import webbrowser
from collections.abc import Callable, Iterable

from tray_agent.engine.snapshot import Command, Snapshot, Transition
from tray_agent.window.pages import WindowModel
from tray_agent.window.server import WindowServer
from tray_agent.window.settings_view import SettingsAccess

log = logging.getLogger(__name__)


class AgentWindow:
    def __init__(
        self,
        submit: Callable[[Command], None],
        *,
        story: Iterable[Transition] = (),
        settings: SettingsAccess | None = None,
        diagnostics: Callable[[], str] | None = None,
        browser: Callable[[str], object] = webbrowser.open,
    ) -> None:
        self._model = WindowModel(story, settings=settings, diagnostics=diagnostics)
        self._submit = submit
        self._browser = browser
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: WindowServer | None = None

    def on_snapshot(self, snapshot: Snapshot) -> None:
        self._model.on_snapshot(snapshot)

    def on_transition(self, transition: Transition) -> None:
        self._model.on_transition(transition)

    def story(self) -> list[Transition]:
        """The story the window holds (kept before this start, and since)."""
        return self._model.read()[1]

    def open(self, view: str = "/") -> None:
        """Start the server if it is not running, and open the window at ``view`` with a fresh one-time link."""
        server = self._started()
        self._browser(server.new_link(view))  # the link is never logged

    def close(self) -> None:
        loop, server = self._loop, self._server
        if loop is not None and server is not None:
            asyncio.run_coroutine_threadsafe(server.close(), loop).result(5)
            loop.call_soon_threadsafe(loop.stop)

    def _started(self) -> WindowServer:
        with self._lock:
            if self._server is not None:
                return self._server
            ready = threading.Event()
            loop = asyncio.new_event_loop()
            server = WindowServer(self._model, self._submit)

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.run_until_complete(server.start())
                ready.set()
                loop.run_forever()

            threading.Thread(target=run, name="tray-agent-window", daemon=True).start()
            if not ready.wait(10):
                raise RuntimeError("the agent's window could not start")
            log.info("the agent's window listens on 127.0.0.1:%d", server.port)
            self._loop, self._server = loop, server
            return server
