"""The token store on a real Secret Service (gnome-keyring-daemon on a private D-Bus session bus)."""

from __future__ import annotations

from pathlib import Path

import keyring
import keyring.core
from keyring.backends import SecretService

from tests.auth.secret_service import RealKeyring, real_keyring
from tests.auth.test_storage import msal_sized_cache
from tray_agent.auth.keyrings import WINDOWS_ENTRY_LIMIT, assess
from tray_agent.auth.storage import KEY_ENTRY, SealedTokenStore, open_token_store
from tray_agent.paths import APP_NAME, AgentPaths
from tray_agent.settings import Settings

__all__ = ["real_keyring"]  # the fixture


def test_keyring_chooses_the_secret_service_by_itself_and_it_is_judged_secure(real_keyring: RealKeyring) -> None:
    before = keyring.get_keyring()
    try:
        keyring.core.init_backend()  # what a fresh agent process does on this desktop
        verdict = assess()
    finally:
        keyring.set_keyring(before)
    assert verdict.secure and isinstance(verdict.backend, SecretService.Keyring)


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
