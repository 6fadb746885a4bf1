"""The tray: the agent's sync state at a glance and every control they need.

Functional core, imperative shell:

- :mod:`~tray_agent.tray.view` maps a :class:`~tray_agent.engine.snapshot.Snapshot` to what is shown
  (icon key, tooltip, menu texts and enabled flags) — a pure function.
- :mod:`~tray_agent.tray.desktop_notifications` decides which notifications a change deserves and rate-limits
  them — pure, with an injectable clock.
- :mod:`~tray_agent.tray.icon` draws the icon with Pillow from the base mark, cached per state key.
- :mod:`~tray_agent.tray.app` is the shell: pystray on the main thread, the engine on a worker thread.

pystray is imported lazily (``import pystray`` without a display raises on Linux).
"""
