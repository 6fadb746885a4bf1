"""Blocking calls (msal is synchronous) in daemon threads, with a deadline.

``asyncio.to_thread`` runs on the loop's default executor, whose threads ``asyncio.run`` joins on the
way out: one call stuck on a silent server would keep the agent from quitting. Here every call has
its own daemon thread, the caller stops waiting at ``deadline``, and quitting never waits for it.
(The thread itself ends when its socket times out: see :mod:`.requests_session`.)
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


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

    threading.Thread(target=run, name=f"blocking-{getattr(function, '__name__', 'call')}", daemon=True).start()
    try:
        return await asyncio.wait_for(asyncio.shield(future), deadline)
    except TimeoutError:
        future.add_done_callback(lambda done: done.cancelled() or done.exception())  # never "not retrieved"
        raise DeadlineExceeded(f"no answer within {deadline:g} s") from None
