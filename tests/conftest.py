"""Shared test configuration: async tests run on asyncio (through anyio's pytest plugin), in English."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tray_agent import i18n

# The tests read the English texts: the machine's locale must not leak in (nor into the agents they start).
os.environ[i18n.ENV_OVERRIDE] = "en"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """A test that switches the language (``i18n.set_language("de")``) leaves the next one in English."""
    yield
    i18n.set_language(None)
