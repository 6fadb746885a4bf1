"""Shared fixtures of the real-browser sign-in tests: one simulator per module, with the Genesys OAuth
client's redirect registered on a free port, and one headless Chromium that trusts its CA."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from selenium import webdriver

from tests.e2e.chromium import chromium
from tray_agent.demo.runner import free_port
from tray_agent.simulator import SimulatorThread


@dataclass
class Cloud:
    simulator: SimulatorThread
    redirect_port: int  # the port registered for the Genesys OAuth client

    @property
    def base_url(self) -> str:
        return self.simulator.base_url

    @property
    def ca(self) -> str:
        return self.simulator.ca_path


@pytest.fixture(scope="module")
def cloud() -> Iterator[Cloud]:
    port = free_port()
    simulator = SimulatorThread(genesys_redirect_uris=(f"http://localhost:{port}/callback",), device_code_interval=1)
    simulator.start()
    try:
        yield Cloud(simulator, port)
    finally:
        simulator.stop()


@pytest.fixture(scope="module")
def driver(cloud: Cloud) -> Iterator[webdriver.Chrome]:
    with chromium(cloud.ca) as browser:
        yield browser
