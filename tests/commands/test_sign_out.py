"""``tray-agent sign-out`` with settings too incomplete to build the sign-ins: the saved ones still go."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest

from tray_agent.auth.genesys_pkce import STORE_KEY
from tray_agent.auth.microsoft import CACHE_KEY
from tray_agent.auth.session import Target
from tray_agent.auth.tokens import MemoryTokenStore
from tray_agent.commands.sign_out import _sign_out
from tray_agent.config.paths import AgentPaths
from tray_agent.config.settings import Settings


def incomplete_target(tmp_path: Path) -> Target:
    paths = AgentPaths(config_dir=tmp_path, state_dir=tmp_path, log_dir=tmp_path)
    return Target(paths, Settings(), None)  # no tenant, no client IDs


@pytest.mark.parametrize("service", [None, "microsoft", "genesys"])
def test_sign_out_with_incomplete_settings_removes_the_saved_sign_ins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], service: str | None
) -> None:
    store = MemoryTokenStore()
    store.save(CACHE_KEY, '{"AccessToken": {}}')
    store.save(STORE_KEY, '{"access_token": "t"}')
    args = argparse.Namespace(service=service, simulator=None, ca=None)
    assert asyncio.run(_sign_out(args, incomplete_target(tmp_path), store)) == 0
    out = capsys.readouterr().out
    assert (store.load(CACHE_KEY) is None) is (service in (None, "microsoft"))
    assert (store.load(STORE_KEY) is None) is (service in (None, "genesys"))
    if service != "genesys":
        assert "Microsoft: signed out; the account and its tokens were removed from this computer." in out
    if service != "microsoft":
        assert "Genesys Cloud: the saved sign-in was removed (it could not be revoked" in out


def test_sign_out_with_nothing_saved_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(service=None, simulator=None, ca=None)
    assert asyncio.run(_sign_out(args, incomplete_target(tmp_path), MemoryTokenStore())) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["Microsoft: was not signed in.", "Genesys Cloud: was not signed in."]
