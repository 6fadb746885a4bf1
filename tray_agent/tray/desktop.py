"""Opening the settings file and the log folder with the desktop's own applications.

Windows has no default application for ``.toml``, so the settings file opens in Notepad (there on
every Windows machine), by its full path in the system folder, so that no ``notepad.exe`` in the
current folder or on ``PATH`` is started instead; folders open in Explorer. macOS uses ``open``
(``-t``: the default text editor). Other desktops use ``xdg-open``. A failure raises
:class:`OSError`; the tray then tells the agent where the file is instead.
"""

from __future__ import annotations

import logging
import ntpath
import os
import subprocess
import sys
import threading
from pathlib import Path

log = logging.getLogger(__name__)


def open_command(path: Path, *, text_file: bool, platform: str = sys.platform) -> list[str] | None:
    """The command that opens ``path``; ``None`` means ``os.startfile`` (Windows folders)."""
    if platform == "win32":
        return [ntpath.join(system_folder(), "notepad.exe"), str(path)] if text_file else None
    if platform == "darwin":
        return ["open", "-t", str(path)] if text_file else ["open", str(path)]
    return ["xdg-open", str(path)]


def system_folder() -> str:
    """Windows' System32 folder (``GetSystemDirectoryW``); its usual place when asked elsewhere (tests)."""
    if sys.platform == "win32":
        import ctypes

        buffer = ctypes.create_unicode_buffer(260)
        if ctypes.windll.kernel32.GetSystemDirectoryW(buffer, len(buffer)):
            return buffer.value
    return "C:\\Windows\\System32"


def open_path(path: Path, *, text_file: bool) -> None:
    command = open_command(path, text_file=text_file)
    if command is None:
        if sys.platform == "win32":
            os.startfile(path)  # noqa: S606 - the agent's own folder, opened in Explorer
            return
        raise OSError(f"cannot open {path} here")
    process = subprocess.Popen(  # noqa: S603 - fixed program, the path is ours
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=sys.platform != "win32",
    )

    def reap() -> None:
        code = process.wait()
        if code:
            log.warning("%s exited with %s opening %s", command[0], code, path)

    threading.Thread(target=reap, name="open-path", daemon=True).start()
