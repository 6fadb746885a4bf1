"""The real agent, headless, as its own process, signed in to a simulator running in another process.

Used by the footprint benchmark: ``python -m tests.bench.agent_process BASE_URL CA_FILE``. Prints
``first-sync <seconds since process start>`` once the engine has read both services and settled,
then keeps running until killed — exactly what an idle agent does all day.
"""

from __future__ import annotations

import asyncio
import sys
import time

PROCESS_START = time.perf_counter()


async def main(base_url: str, ca_file: str) -> None:
    from tray_agent.app import build_agent
    from tray_agent.auth.tokens import MemoryTokenStore
    from tray_agent.clock import RealClock
    from tray_agent.core.rules import SyncStatus
    from tray_agent.demo.approving_browser import ApprovingBrowser
    from tray_agent.engine.snapshot import Snapshot
    from tray_agent.settings import Endpoints, Settings
    from tray_agent.simulator import DEFAULT_GENESYS_CLIENT_ID, DEFAULT_MS_CLIENT_ID, DEFAULT_TENANT_ID

    reported = False

    def on_snapshot(snapshot: Snapshot) -> None:
        nonlocal reported
        if not reported and snapshot.genesys is not None and snapshot.status is SyncStatus.SYNCED:
            reported = True
            print(f"first-sync {time.perf_counter() - PROCESS_START:.3f}", flush=True)

    settings = Settings(
        tenant_id=DEFAULT_TENANT_ID,
        microsoft_client_id=DEFAULT_MS_CLIENT_ID,
        genesys_client_id=DEFAULT_GENESYS_CLIENT_ID,
        genesys_redirect_port=8765,
    )
    browser = ApprovingBrowser(ca_file)
    agent = build_agent(
        settings,
        Endpoints.simulator(base_url, DEFAULT_TENANT_ID, ca_file),
        clock=RealClock(),
        store=MemoryTokenStore(),
        browser=browser,
        on_snapshot=on_snapshot,
    )
    await agent.microsoft.sign_in(browser, 30)
    await agent.genesys.sign_in(browser, 30)
    await agent.engine.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
