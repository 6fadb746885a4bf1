"""The tray's unit tests use pystray's ``dummy`` backend (menus can be built and exercised, never run)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType

import pytest


@pytest.fixture(scope="session")
def pystray_dummy() -> Iterator[ModuleType]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYSTRAY_BACKEND", "dummy")
        module = importlib.import_module("pystray")
        # the dummy backend is the base class itself; any other would be a subclass from its own module
        assert module.Icon.__module__ == "pystray._base", "pystray was imported earlier with another backend"
        yield module
