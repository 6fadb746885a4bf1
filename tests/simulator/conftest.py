from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tray_agent.simulator import Simulator


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """A started simulator that signs people in without showing its pages (auto_approve)."""
    async with Simulator(auto_approve=True) as simulator:
        yield simulator
