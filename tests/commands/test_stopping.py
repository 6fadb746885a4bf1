"""SIGTERM stops an asyncio command the way Ctrl-C does: the main task is cancelled, every ``finally``
runs, and the process exits, even when the signal lands inside a task other than the main one."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is POSIX")

# The shape of ``tray-agent run``: the main task awaits the engine's task and, in its ``finally``,
# waits for it again (shut_down); the engine used an anyio worker thread (httpx's name lookups) and
# makes blocking calls (the sync memory's fsync), where a SIGTERM is most likely to land.
AGENT_SHAPED = """
import asyncio, contextlib, sys, time
import anyio.to_thread
from tray_agent.commands.stopping import stop_on_sigterm

async def engine():
    await anyio.to_thread.run_sync(lambda: None)
    print("ready", flush=True)
    while True:
        time.sleep(0.05)
        await asyncio.sleep(0)

async def run():
    task = asyncio.create_task(engine())
    try:
        await task
    finally:
        with contextlib.suppress(asyncio.CancelledError):
            await task
        print("shut down", flush=True)

stop_on_sigterm()
try:
    asyncio.run(run())
except KeyboardInterrupt:
    sys.exit(0)
"""


def test_sigterm_landing_inside_the_engines_task_still_ends_the_process_cleanly() -> None:
    # Before: SIGTERM raised KeyboardInterrupt in the engine's task, the shutdown re-raised it past
    # the callback that stops anyio's worker threads, and the interpreter waited for them forever.
    child = subprocess.Popen([sys.executable, "-c", AGENT_SHAPED], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGTERM)
        output, _ = child.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        child.kill()
        pytest.fail("the process did not end after SIGTERM")
    assert child.returncode == 0 and "shut down" in output
