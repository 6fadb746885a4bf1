"""Running the OS's own tools (``loginctl``, ``pw-dump``, ``pactl``, ``ioreg``) to read a state.

Always an argument list, never a shell; the executable is an absolute path found once (``which``);
stdin is closed, stderr dropped; every run has a timeout (the process is killed when it passes) and
a cap on its output. The tools get only the environment they need to find the user's buses
(nothing else of the agent's environment, which may hold a proxy password), and ``LC_ALL=C`` so
that what is parsed is not translated.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Sequence
from typing import Protocol

from tray_agent.signals.polled_source import ReadFailed

COMMAND_TIMEOUT = 5.0
PASSED_ENVIRONMENT = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "XDG_RUNTIME_DIR",
    "XDG_CONFIG_HOME",
    "DBUS_SESSION_BUS_ADDRESS",
    "DBUS_SYSTEM_BUS_ADDRESS",
    "PIPEWIRE_REMOTE",
    "PIPEWIRE_RUNTIME_DIR",
    "PULSE_SERVER",
    "PULSE_RUNTIME_PATH",
)
OUTPUT_CAP = 8 * 1024 * 1024  # a pw-dump of a busy desktop is a few hundred kB


class CommandRunner(Protocol):
    async def __call__(self, argv: Sequence[str], timeout: float = COMMAND_TIMEOUT) -> str:
        """The command's standard output; raises :class:`ReadFailed` if it cannot run, fails or times out."""
        ...


async def run_command(argv: Sequence[str], timeout: float = COMMAND_TIMEOUT) -> str:
    program = os.path.basename(argv[0]) if argv else "?"
    environment = {name: os.environ[name] for name in PASSED_ENVIRONMENT if name in os.environ}
    environment["LC_ALL"] = "C"
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=environment,
        )
    except OSError as error:
        raise ReadFailed(f"{program} cannot be run ({type(error).__name__})") from None
    try:
        output = await asyncio.wait_for(_read_capped(process, program), timeout)
    except TimeoutError:
        raise ReadFailed(f"{program} did not answer within {timeout:g} s") from None
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            with contextlib.suppress(Exception):
                await process.wait()
    if process.returncode != 0:
        raise ReadFailed(f"{program} exited with status {process.returncode}")
    return output.decode("utf-8", errors="replace")


async def _read_capped(process: asyncio.subprocess.Process, program: str) -> bytes:
    assert process.stdout is not None  # noqa: S101 - stdout=PIPE above
    chunks: list[bytes] = []
    size = 0
    while chunk := await process.stdout.read(65536):
        size += len(chunk)
        if size > OUTPUT_CAP:
            raise ReadFailed(f"{program} wrote more than {OUTPUT_CAP // (1024 * 1024)} MB")
        chunks.append(chunk)
    await process.wait()
    return b"".join(chunks)
