"""The agent's own logging set-up (rotating file, redaction, DEBUG) inside one test, undone afterwards."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from tray_agent import logs


@contextlib.contextmanager
def agent_logging(log_file: Path, *, console: bool = False) -> Iterator[Path]:
    """``logs.configure(log_file, verbose=True)`` for the block (``console``: INFO to stderr as well);
    the test runner's own handlers and level come back afterwards. Yields ``log_file``."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    logs.configure(log_file, verbose=True, console=console)
    try:
        yield log_file
    finally:
        for handler in list(root.handlers):
            handler.flush()
            root.removeHandler(handler)
            handler.close()
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
