"""SIGTERM (logoff, ``kill``, a service manager) stops a command the way Ctrl-C does, so every
``finally`` runs: the simulator's temporary folder (with its private key) is removed, sockets close."""

from __future__ import annotations

import signal
import sys
from types import FrameType


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def stop_on_sigterm() -> None:
    if sys.platform != "win32":  # Windows has no SIGTERM delivery to Python code worth handling here
        signal.signal(signal.SIGTERM, _interrupt)
