"""SIGTERM (logoff, ``kill``, a service manager) stops a command the way Ctrl-C does, so every
``finally`` runs: the simulator's temporary folder (with its private key) is removed, sockets close.

"The way Ctrl-C does" is taken literally: SIGTERM calls whatever handles SIGINT at that moment. Under
``asyncio.run`` that is the runner's own handler, which cancels the main task, so the agent shuts
down from a clean cancellation. Raising ``KeyboardInterrupt`` from the SIGTERM handler instead lands
at any point, even inside the event loop's machinery, where it could skip the callback that stops
anyio's worker threads; the interpreter then waited for them forever at exit (``tray-agent run``
hung in 1 of 24 runs, until killed). Where SIGINT is ignored (a job a script started in the
background), the runner installs no handler and SIGTERM raises ``KeyboardInterrupt`` as before.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType


def _as_ctrl_c(_signum: int, frame: FrameType | None) -> None:
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)
    else:
        raise KeyboardInterrupt


def stop_on_sigterm() -> None:
    if sys.platform != "win32":  # Windows has no SIGTERM delivery to Python code worth handling here
        signal.signal(signal.SIGTERM, _as_ctrl_c)
