"""One tray agent per user session.

Windows: a named mutex in the session's ``Local\\`` namespace, so each RDS / Citrix / fast-user-switching
session runs its own agent while a second start in the same session is refused. Elsewhere: an OS file
lock (``filelock``) on a per-user path; the OS drops it if the process dies, so there is never a stale lock.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Protocol

import filelock

log = logging.getLogger(__name__)

INSTANCE_NAME = "TeamsGenesysPresence.TrayAgent"
DEMO_INSTANCE_NAME = "TeamsGenesysPresence.TrayAgentDemo"
ALREADY_RUNNING_EXIT = 3


class InstanceLock(Protocol):
    def release(self) -> None: ...


class _FileInstanceLock:
    def __init__(self, lock: filelock.BaseFileLock) -> None:
        self._lock = lock

    def release(self) -> None:
        self._lock.release(force=True)


def acquire(name: str, lock_dir: Path) -> InstanceLock | None:
    """The lock for this session, or ``None`` when another instance already holds it."""
    if sys.platform == "win32":
        return _acquire_mutex(name)
    lock_dir.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(lock_dir / f"{name}.lock"), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        return None
    return _FileInstanceLock(lock)


if sys.platform == "win32":
    import ctypes
    from ctypes import wintypes

    _ERROR_ALREADY_EXISTS = 183

    class _MutexLock:
        def __init__(self, handle: int) -> None:
            self._handle: int | None = handle

        def release(self) -> None:
            if self._handle is not None:
                ctypes.WinDLL("kernel32", use_last_error=True).CloseHandle(self._handle)
                self._handle = None

    def _acquire_mutex(name: str) -> InstanceLock | None:
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        kernel32.CreateMutexW.argtypes = (ctypes.c_void_p, wintypes.BOOL, wintypes.LPCWSTR)
        kernel32.CreateMutexW.restype = wintypes.HANDLE
        handle = kernel32.CreateMutexW(None, False, f"Local\\{name}")
        error = ctypes.get_last_error()
        if not handle:
            raise OSError(error, "CreateMutexW failed")
        if error == _ERROR_ALREADY_EXISTS:
            kernel32.CloseHandle(handle)
            return None
        return _MutexLock(handle)

else:

    def _acquire_mutex(name: str) -> InstanceLock | None:
        raise OSError("named mutexes exist on Windows only")
