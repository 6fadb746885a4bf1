"""The token store on a real Secret Service (gnome-keyring-daemon on a private D-Bus session bus)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from keyring.backends import SecretService

from tests.auth.secret_service import RealKeyring, real_keyring
from tests.auth.test_storage import msal_sized_cache
from tray_agent.auth.keyrings import WINDOWS_ENTRY_LIMIT
from tray_agent.auth.storage import KEY_ENTRY, SealedTokenStore, open_token_store
from tray_agent.config.paths import APP_NAME, AgentPaths
from tray_agent.config.settings import Settings

__all__ = ["real_keyring"]  # the fixture


def test_a_fresh_agent_process_finds_the_secret_service_by_itself_and_judges_it_secure(
    real_keyring: RealKeyring,
) -> None:
    probe = "from tray_agent.auth.keyrings import assess; v = assess(); print(v.secure, type(v.backend).__module__)"
    answer = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert answer.stdout.split() == ["True", "keyring.backends.SecretService"]


def test_a_full_msal_cache_is_stored_and_read_back_with_only_the_key_in_the_secret_service(
    real_keyring: RealKeyring, tmp_path: Path
) -> None:
    paths = AgentPaths(tmp_path / "config", tmp_path / "state", tmp_path / "logs").ensure()
    cache = msal_sized_cache()
    store = open_token_store(Settings(), paths=paths, backend=real_keyring.backend)
    store.save("msal-cache", cache)

    fresh_backend = SecretService.Keyring()  # a new process: nothing shared but the keyring and the files
    assert SealedTokenStore(paths.state_dir / "secrets", fresh_backend).load("msal-cache") == cache

    items = real_keyring.daemon.items()
    assert [(attributes["service"], attributes["username"]) for attributes, _ in items] == [(APP_NAME, KEY_ENTRY)]
    ((_, secret),) = items
    assert len(secret) == 44 and len(secret.decode().encode("utf-16-le")) <= WINDOWS_ENTRY_LIMIT
    assert cache.encode() not in secret


def test_removing_the_last_sign_in_removes_the_key_from_the_secret_service(
    real_keyring: RealKeyring, tmp_path: Path
) -> None:
    store = SealedTokenStore(tmp_path / "secrets", real_keyring.backend)
    store.save("genesys-token", "value")
    assert len(real_keyring.daemon.items()) == 1
    store.delete("genesys-token")
    assert real_keyring.daemon.items() == []
