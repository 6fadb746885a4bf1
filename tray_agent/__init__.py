"""Teams → Genesys Cloud presence tray agent.

The layers, from the inside out (each may use only those listed before it; tests/test_house_rules.py):

- ``core/``: the sync protocol, pure (events in, effects out), and its words (``Service``: the two services);
- ``clock``: the injectable clock; ``logs``: the log file, redacted;
  ``i18n``: the user-facing words in the OS's language (gettext catalogs); ``clients/``: one client per service;
- ``config/``: settings, IT policy, how they layer, endpoints, folders;
- ``auth/``: signing in as the agent; ``signals/``: the workstation's own signals (lock, microphone, own calendar);
- ``engine/``: performs the core's effects;
- ``agent``: the one place that builds the agent; ``tray/``: the tray icon and menu;
- ``window/``: the agent's own window, a local web page on loopback (it reuses the tray's words);
- ``simulator/`` and ``demo/``: the services on loopback, and the demo on them (not shipped; the simulator
  uses only the core and the clock);
- ``commands/`` and ``cli``: the ``tray-agent`` command line (these and the demo may use any layer).
"""

__version__ = "0.1.0"
