"""Blocking calls (msal is synchronous) in daemon threads, with a deadline.

``asyncio.to_thread`` runs on the loop's default executor, whose threads ``asyncio.run`` joins on the
way out: one call stuck on a silent server would keep the agent from quitting. Here every call has
its own daemon thread, the caller stops waiting at ``deadline``, and quitting never waits for it.
(The thread itself ends when its socket times out: see :mod:`.requests_session`.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


_PREFIX = "blocking-"


class DeadlineExceeded(TimeoutError):
    """The blocking call did not return within its deadline (it goes on in its daemon thread)."""


async def call_in_daemon_thread(function: Callable[..., T], *args: Any, deadline: float | None = None) -> T:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]  # T when error is None

    def run() -> None:
        result: T | None = None
        failure: BaseException | None = None
        try:
            result = function(*args)
        except BaseException as error:
            failure = error
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody is waiting
            loop.call_soon_threadsafe(deliver, result, failure)

    threading.Thread(target=run, name=f"{_PREFIX}{getattr(function, '__name__', 'call')}", daemon=True).start()
    try:
        return await asyncio.wait_for(asyncio.shield(future), deadline)
    except TimeoutError:
        future.add_done_callback(lambda done: done.cancelled() or done.exception())  # never "not retrieved"
        raise DeadlineExceeded(f"no answer within {deadline:g} s") from None


def stuck_calls() -> list[str]:
    """The blocking calls still running in their daemon threads (their thread names)."""
    return [thread.name for thread in threading.enumerate() if thread.daemon and thread.name.startswith(_PREFIX)]


def exit_code_or_leave_now(code: int) -> int:
    """On the way out of the process: ``code``, or, while a blocking call is still stuck in its daemon
    thread, flush the logs and the console and end the process at once with ``code``.

    Letting the interpreter finalise under a thread blocked inside OpenSSL can crash it (SIGSEGV,
    seen on CPython 3.11 with a sign-in stuck on a silent server): everything of ours is closed
    by then, so nothing is lost by not finalising. Only the command line's entry calls this.
    """
    if not stuck_calls():
        return code
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
