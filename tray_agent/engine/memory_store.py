"""Keeps the sync memory across restarts: one user-only JSON file in the state folder.

The format and its checks are :mod:`tray_agent.core.memory`'s; this only reads and writes the file,
atomically. A damaged, foreign or too old file is set aside with one log line and the agent starts
clean: the memory is a convenience, never a reason not to start.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Protocol

from tray_agent.config.paths import write_private
from tray_agent.core.memory import MemoryRefused, SyncMemory, decode, encode

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 64 * 1024


class MemoryStore(Protocol):
    def load(self, now: float) -> SyncMemory | None: ...

    def save(self, memory: SyncMemory, now: float) -> None: ...


class NoMemory:
    """Nothing is kept (tests that start every run clean)."""

    def load(self, now: float) -> SyncMemory | None:
        return None

    def save(self, memory: SyncMemory, now: float) -> None:
        return None


class FileMemory:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, now: float) -> SyncMemory | None:
        try:
            if self.path.stat().st_size > MAX_FILE_BYTES:
                raise MemoryRefused("the file is too large")
            memory = decode(json.loads(self.path.read_text(encoding="utf-8")), now)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, RecursionError) as error:  # MemoryRefused is a ValueError
            log.warning("sync memory %s not used (%s): starting clean", self.path.name, error)
            return None
        log.info("sync memory restored (phase %s)", memory.phase.value)
        return memory

    def save(self, memory: SyncMemory, now: float) -> None:
        try:
            write_private(self.path, json.dumps(encode(memory, now), separators=(",", ":")))
        except OSError as error:
            log.warning("could not keep the sync memory: %s", error)
