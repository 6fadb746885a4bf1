"""Sign-ins at rest: AES-GCM sealed files, user-only, whose key is the only thing in the OS keyring.

The size limit is the reason for the design: Windows Credential Manager refuses entries over 2,560
bytes, and an MSAL cache is larger. These tests run on a fake backend that enforces that limit; the
same store on a real Secret Service is in test_secret_service.py.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from keyring.errors import PasswordSetError

from tests.auth.fake_keyrings import WindowsSizedKeyring
from tray_agent.auth.keyrings import WINDOWS_ENTRY_LIMIT
from tray_agent.auth.storage import KEY_ENTRY, SealedTokenStore, TokenStorageError
from tray_agent.config.paths import APP_NAME


def msal_sized_cache() -> str:
    """A serialized MSAL cache shaped like a real one: access, refresh and ID tokens of real-world sizes."""
    home = "00000000-0000-0000-0000-000000000001.11111111-2222-3333-4444-555555555555"
    return json.dumps(
        {
            "AccessToken": {
                f"{home}-login.microsoftonline.com-accesstoken-client-tenant-presence.read": {
                    "credential_type": "AccessToken",
                    "secret": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9." + "A" * 1900 + ".sig" + "B" * 340,
                    "home_account_id": home,
                    "target": "Presence.Read openid profile offline_access",
                    "expires_on": "1795600000",
                }
            },
            "RefreshToken": {f"{home}-refreshtoken": {"secret": "0.ARwA" + "C" * 1400, "home_account_id": home}},
            "IdToken": {f"{home}-idtoken": {"secret": "eyJ0eXAiOiJKV1QifQ." + "D" * 1200 + ".x"}},
            "Account": {f"{home}-login.microsoftonline.com-{home}": {"username": "agent@contoso.example"}},
        }
    )


@pytest.fixture
def keyring() -> WindowsSizedKeyring:
    return WindowsSizedKeyring()


@pytest.fixture
def store(tmp_path: Path, keyring: WindowsSizedKeyring) -> SealedTokenStore:
    return SealedTokenStore(tmp_path / "secrets", keyring)


def test_an_msal_cache_does_not_fit_in_one_windows_credential(keyring: WindowsSizedKeyring) -> None:
    cache = msal_sized_cache()
    assert len(cache.encode("utf-16-le")) > WINDOWS_ENTRY_LIMIT
    with pytest.raises(PasswordSetError, match="1783"):
        keyring.set_password("anything", "msal-cache", cache)


def test_a_full_msal_cache_round_trips_and_the_keyring_holds_only_a_small_key(
    store: SealedTokenStore, keyring: WindowsSizedKeyring, tmp_path: Path
) -> None:
    cache = msal_sized_cache()
    store.save("msal-cache", cache)
    store.save("genesys-token", '{"access_token": "g-secret"}')

    reopened = SealedTokenStore(tmp_path / "secrets", keyring)  # another process: the tray after a restart
    assert reopened.load("msal-cache") == cache
    assert reopened.load("genesys-token") == '{"access_token": "g-secret"}'
    assert list(keyring.entries) == [(APP_NAME, KEY_ENTRY)]
    assert keyring.largest_write <= WINDOWS_ENTRY_LIMIT
    assert len(keyring.entries[(APP_NAME, KEY_ENTRY)]) == 44  # base64 of 256 random bits


def test_nothing_readable_is_written_to_disk_and_files_are_user_only(store: SealedTokenStore, tmp_path: Path) -> None:
    store.save("genesys-token", '{"access_token": "g-secret-value"}')
    files = [path for path in (tmp_path / "secrets").iterdir() if path.suffix == ".sealed"]
    assert [path.name for path in files] == ["genesys-token.sealed"]
    text = files[0].read_text()
    assert "g-secret-value" not in text and "access_token" not in text
    if os.name == "posix":
        assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "secrets").stat().st_mode) == 0o700


def test_each_write_uses_a_fresh_nonce(store: SealedTokenStore, tmp_path: Path) -> None:
    store.save("genesys-token", "same value")
    first = (tmp_path / "secrets" / "genesys-token.sealed").read_text()
    store.save("genesys-token", "same value")
    assert (tmp_path / "secrets" / "genesys-token.sealed").read_text() != first


def test_a_missing_value_reads_as_none(store: SealedTokenStore) -> None:
    assert store.load("msal-cache") is None


def test_a_damaged_file_reads_as_signed_out_and_is_removed(store: SealedTokenStore, tmp_path: Path) -> None:
    store.save("genesys-token", "value")
    path = tmp_path / "secrets" / "genesys-token.sealed"
    header, body = path.read_text().splitlines()
    path.write_text(f"{header}\n{body[:-6]}AAAA==\n")
    assert store.load("genesys-token") is None
    assert not path.exists()


def test_a_file_moved_to_another_name_does_not_open(store: SealedTokenStore, tmp_path: Path) -> None:
    store.save("genesys-token", "value")
    folder = tmp_path / "secrets"
    (folder / "msal-cache.sealed").write_text((folder / "genesys-token.sealed").read_text())
    assert store.load("msal-cache") is None
    assert store.load("genesys-token") == "value"


def test_when_the_keyring_entry_is_lost_the_sign_in_is_gone_and_a_new_key_is_made(
    store: SealedTokenStore, keyring: WindowsSizedKeyring
) -> None:
    store.save("genesys-token", "value")
    old_key = keyring.entries.pop((APP_NAME, KEY_ENTRY))
    assert store.load("genesys-token") is None
    store.save("genesys-token", "new value")
    assert keyring.entries[(APP_NAME, KEY_ENTRY)] != old_key
    assert store.load("genesys-token") == "new value"


def test_deleting_the_last_value_deletes_the_key_too(store: SealedTokenStore, keyring: WindowsSizedKeyring) -> None:
    store.save("msal-cache", "m")
    store.save("genesys-token", "g")
    store.delete("genesys-token")
    assert (APP_NAME, KEY_ENTRY) in keyring.entries and store.load("msal-cache") == "m"
    store.delete("msal-cache")
    assert keyring.entries == {} and store.names() == []
    store.delete("msal-cache")  # deleting what is not there is fine


def test_keyring_failures_are_reported_in_plain_words(tmp_path: Path) -> None:
    class LockedKeyring(WindowsSizedKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            raise RuntimeError("org.freedesktop.Secret.Error.IsLocked")

    store = SealedTokenStore(tmp_path / "secrets", LockedKeyring())
    with pytest.raises(TokenStorageError, match="keyring is unlocked"):
        store.save("genesys-token", "value")


@pytest.mark.parametrize("name", ["../escape", "", "UPPER", "a/b", "x" * 80])
def test_names_cannot_leave_the_folder(store: SealedTokenStore, name: str) -> None:
    with pytest.raises(ValueError, match="not a token store name"):
        store.save(name, "value")


def test_after_one_sign_out_an_old_copy_of_its_file_put_back_cannot_be_opened(tmp_path: Path) -> None:
    store = SealedTokenStore(tmp_path / "secrets", WindowsSizedKeyring())
    store.save("genesys-token", "genesys secret")
    store.save("msal-cache", "microsoft secret")
    sealed = tmp_path / "secrets" / "genesys-token.sealed"
    backup = sealed.read_bytes()
    store.delete("genesys-token")  # the other entry keeps a key, so the key is rotated
    sealed.write_bytes(backup)
    assert store.load("genesys-token") is None and not sealed.exists()
    assert store.load("msal-cache") == "microsoft secret"  # what stayed is still there


@pytest.mark.parametrize("name", ["genesys-token\n", "genesys-token\nx", "../genesys-token", "Genesys"])
def test_a_name_must_be_a_whole_store_name(tmp_path: Path, name: str) -> None:
    store = SealedTokenStore(tmp_path / "secrets", WindowsSizedKeyring())
    with pytest.raises(ValueError, match="not a token store name"):
        store.save(name, "value")
