"""A server (or proxy) that accepts the connection and never answers: every call fails in bounded time,
with words, and a stuck call never keeps the process from quitting."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from tray_agent.auth.microsoft import DEADLINE, MicrosoftAuth
from tray_agent.auth.tokens import MemoryTokenStore
from tray_agent.clients.errors import NoAnswer
from tray_agent.clients.graph import GraphPresenceClient
from tray_agent.clients.http import make_http_client
from tray_agent.clients.threads import DeadlineExceeded, call_in_daemon_thread

from .servers import stalled_server

pytestmark = pytest.mark.anyio
TENANT = "11111111-2222-3333-4444-555555555555"


async def test_microsoft_sign_in_and_graph_fail_within_the_deadline_against_a_silent_server() -> None:
    with stalled_server() as port:
        auth = MicrosoftAuth(authority=f"https://127.0.0.1:{port}/{TENANT}", client_id=TENANT, store=MemoryTokenStore())

        async def browser(url: str) -> None:
            raise AssertionError("no sign-in page can come from a silent server")

        async def token() -> str:
            return "unused"

        async def sign_in() -> float:
            started = time.monotonic()
            with pytest.raises(NoAnswer, match="Microsoft sign-in did not answer"):
                await auth.sign_in(browser, 120)
            return time.monotonic() - started

        async def graph() -> float:
            started = time.monotonic()
            http = make_http_client(None)
            try:
                with pytest.raises(NoAnswer, match="did not answer"):
                    await GraphPresenceClient(http, token, f"https://127.0.0.1:{port}").my_presence()
            finally:
                await http.aclose()
            return time.monotonic() - started

        sign_in_took, graph_took = await asyncio.gather(sign_in(), graph())
    assert sign_in_took <= DEADLINE + 5
    assert graph_took <= 15 + 5


async def test_a_call_past_its_deadline_is_abandoned_not_awaited() -> None:
    stuck = threading.Event()
    with pytest.raises(DeadlineExceeded):
        await call_in_daemon_thread(stuck.wait, deadline=0)  # blocks until the test releases it
    assert any(thread.name == "blocking-wait" and thread.daemon for thread in threading.enumerate())
    stuck.set()


def test_quitting_does_not_wait_for_a_sign_in_stuck_on_a_silent_server() -> None:
    with stalled_server() as port:
        script = textwrap.dedent(
            f"""
            import asyncio, threading
            from tray_agent.auth.microsoft import MicrosoftAuth
            from tray_agent.auth.tokens import MemoryTokenStore

            async def main():
                auth = MicrosoftAuth(authority="https://127.0.0.1:{port}/{TENANT}", client_id="{TENANT}",
                                     store=MemoryTokenStore())
                async def browser(url): pass
                task = asyncio.ensure_future(auth.sign_in(browser, 120))
                while not any(t.name.startswith("blocking-") for t in threading.enumerate()):
                    await asyncio.sleep(0.01)  # until the msal call is blocked in its thread
                task.cancel()             # what quitting does to the engine's tasks
                print("quitting", flush=True)

            asyncio.run(main())
            from tray_agent.clients.threads import exit_code_or_leave_now
            raise SystemExit(exit_code_or_leave_now(0))  # how tray-agent leaves (tray_agent.cli.entry)
            """
        )
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
        took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert "quitting" in done.stdout
    assert took < 10  # the read timeout (20 s) and the deadline (30 s) were not waited for


async def test_a_silent_refresh_against_a_sign_in_service_that_stops_answering_fails_in_bounded_time() -> None:
    from tray_agent.demo.approving_browser import ApprovingBrowser
    from tray_agent.simulator import SimulatorThread

    with SimulatorThread(auto_approve=True) as simulator:
        auth = MicrosoftAuth(
            authority=f"{simulator.base_url}/{simulator.tenant_id}",
            client_id=simulator.ms_client_id,
            store=MemoryTokenStore(),
            ca_file=simulator.ca_path,
        )
        await auth.sign_in(ApprovingBrowser(simulator.ca_path), 30)
        simulator.call(simulator.state.faults.set_latency, "entra", 25.0)  # answers, but only after 25 s
        auth.invalidate()  # Graph refused the token: the next one needs the token endpoint
        started = time.monotonic()
        with pytest.raises(NoAnswer, match="Microsoft sign-in did not answer"):
            await auth.access_token()
        took = time.monotonic() - started
        simulator.call(simulator.state.faults.set_latency, "entra", 0.0)
    assert took <= DEADLINE + 5


def test_with_no_call_stuck_the_process_leaves_the_ordinary_way_with_its_code() -> None:
    from tray_agent.clients.threads import exit_code_or_leave_now, stuck_calls

    for thread in threading.enumerate():  # an earlier test's released call, ending
        if thread.name.startswith("blocking-"):
            thread.join(timeout=10)
    assert stuck_calls() == []
    assert exit_code_or_leave_now(3) == 3
