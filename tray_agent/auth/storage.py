"""Where sign-ins live between runs: sealed files whose key lives in the OS keyring.

Each value (the MSAL token cache, the Genesys token) is encrypted with AES-256-GCM and written
atomically, user-only, to ``<state_dir>/secrets/<name>.sealed``. The 256-bit key is random, made on
first use, and kept in the OS keyring (Windows Credential Manager, macOS Keychain, Secret Service).
Nothing readable is ever on disk, and the keyring holds one small entry.

Why not the keyring alone: Windows Credential Manager holds at most 2,560 bytes per entry (UTF-16, so
about 1,280 characters) and a serialized MSAL cache with its refresh, access and ID tokens is larger
(jaraco/keyring#355, #540). Splitting it over several entries would make writes non-atomic and clutter
the agent's Credential Manager; one sealed file per value is written with a single rename.

- The associated data binds a file to its name and format, so files cannot be swapped or replayed
  under another name.
- Deleting the last value deletes the key too, which makes any stray copy (a backup) useless.
  Deleting one value while others remain rotates the key: the others are sealed again under a new
  one, so a copy of the deleted file put back later cannot be opened either.
- A file that cannot be opened (key lost or reset, file damaged) reads as "not signed in" and is removed.
- A file lock serialises key creation and writes between the tray and ``tray-agent sign-in``.
- Keyring and file errors surface as :class:`TokenStorageError` with a message for the agent.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import re
import secrets
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from filelock import FileLock
from filelock import Timeout as LockTimeout
from keyring.backend import KeyringBackend

from tray_agent.auth.keyrings import KeyringVerdict, choose, prefer_local_persistence
from tray_agent.auth.tokens import MemoryTokenStore, TokenStore
from tray_agent.config.paths import APP_NAME, AgentPaths, write_private

if TYPE_CHECKING:
    from tray_agent.config.settings import Settings

log = logging.getLogger(__name__)

KEY_ENTRY = "token-encryption-key"  # keyring username under service APP_NAME
_MAGIC = "tray-agent sealed v1"
_SUFFIX = ".sealed"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")  # whole name: fullmatch ("x\n" must not pass)


class TokenStorageError(Exception):
    """The token store cannot be read or written; the message is for the agent and has no secret."""


class SealedTokenStore:
    """A :class:`TokenStore`: AES-GCM sealed files in ``directory``, key in ``backend`` (an OS keyring)."""

    def __init__(self, directory: Path, backend: KeyringBackend, *, service: str = APP_NAME) -> None:
        self.directory = directory
        self.backend = backend
        self.service = service
        self._lock = FileLock(str(directory / ".lock"), timeout=15, mode=0o600)

    # --- TokenStore ----------------------------------------------------------------------------

    def load(self, name: str) -> str | None:
        path = self._path(name)
        with self._locked():
            if not path.exists():
                return None
            key = self._existing_key()
            try:
                raw = path.read_bytes()
            except OSError as error:
                raise TokenStorageError(f"could not read the saved sign-in ({error.__class__.__name__})") from None
            try:
                text: str | None = raw.decode("ascii")
            except UnicodeDecodeError:
                text = None  # damaged: not even the sealed text format
            value = _open(key, name, text) if key is not None and text is not None else None
            if value is None:
                log.warning("a saved sign-in could not be opened (keyring reset or file damaged); sign in again")
                path.unlink(missing_ok=True)
                self._forget_key_if_empty()
            return value

    def save(self, name: str, value: str) -> None:
        path = self._path(name)
        with self._locked():
            key = self._existing_key() or self._new_key()
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                if os.name == "posix":
                    self.directory.chmod(0o700)
                write_private(path, _seal(key, name, value))
            except OSError as error:
                raise TokenStorageError(f"could not save the sign-in ({error.strerror or error})") from None

    def delete(self, name: str) -> None:
        path = self._path(name)
        with self._locked():
            existed = path.exists()
            try:
                path.unlink(missing_ok=True)
            except OSError as error:
                raise TokenStorageError(f"could not remove the saved sign-in ({error.strerror})") from None
            if existed and self.names():
                self._rotate_key()
            self._forget_key_if_empty()

    # --- internals -----------------------------------------------------------------------------

    def names(self) -> list[str]:
        """The values stored now (for ``doctor`` and tests)."""
        if not self.directory.is_dir():
            return []
        return sorted(path.name.removesuffix(_SUFFIX) for path in self.directory.glob("*" + _SUFFIX))

    def _path(self, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise ValueError(f"not a token store name: {name!r}")
        return self.directory / f"{name}{_SUFFIX}"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            if os.name == "posix":
                self.directory.chmod(0o700)
        except OSError as error:
            raise TokenStorageError(f"could not create the folder for saved sign-ins ({error.strerror})") from None
        try:
            self._lock.acquire()
        except LockTimeout:
            raise TokenStorageError("another copy of the agent is busy with the saved sign-ins; try again") from None
        try:
            yield
        finally:
            self._lock.release()

    def _existing_key(self) -> bytes | None:
        try:
            stored = self.backend.get_password(self.service, KEY_ENTRY)
        except Exception as error:  # any backend: locked keyring, D-Bus trouble, missing service...
            raise TokenStorageError(_keyring_trouble("read", error)) from None
        return _decode_key(stored)

    def _new_key(self) -> bytes:
        key = AESGCM.generate_key(bit_length=256)
        try:
            self.backend.set_password(self.service, KEY_ENTRY, base64.b64encode(key).decode("ascii"))
        except Exception as error:
            raise TokenStorageError(_keyring_trouble("save", error)) from None
        return key

    def _rotate_key(self) -> None:
        """Seal every remaining value under a new key (called with the lock held). A value the old key
        cannot open is left as it is: it reads as signed out and is removed then."""
        old = self._existing_key()
        if old is None:
            return
        values: dict[str, str] = {}
        for name in self.names():
            try:
                text = self._path(name).read_text(encoding="ascii")
            except (OSError, UnicodeDecodeError, ValueError):
                continue
            value = _open(old, name, text)
            if value is not None:
                values[name] = value
        new = self._new_key()  # from here on only the new key opens anything written below
        try:
            for name, value in values.items():
                write_private(self._path(name), _seal(new, name, value))
        except OSError as error:
            raise TokenStorageError(f"could not save the sign-in again ({error.strerror or error})") from None

    def _forget_key_if_empty(self) -> None:
        """The files are gone already; a key left behind (keyring locked) opens nothing and is replaced later."""
        if self.names():
            return
        try:
            if self.backend.get_password(self.service, KEY_ENTRY) is not None:
                self.backend.delete_password(self.service, KEY_ENTRY)
        except Exception as error:
            log.warning("%s", _keyring_trouble("remove", error))


def _keyring_trouble(verb: str, error: Exception) -> str:
    return (
        f"could not {verb} the agent's key in the system keyring ({error.__class__.__name__}): "
        "make sure your keyring is unlocked (log out and in again), or ask IT"
    )


def _decode_key(stored: str | None) -> bytes | None:
    if not stored:
        return None
    try:
        key = base64.b64decode(stored.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None
    return key if len(key) == 32 else None


def _aad(name: str) -> bytes:
    return f"{_MAGIC}/{name}".encode("ascii")


def _seal(key: bytes, name: str, value: str) -> str:
    nonce = secrets.token_bytes(12)  # random 96-bit nonce per write; far below GCM's 2^32-message bound
    sealed = AESGCM(key).encrypt(nonce, value.encode("utf-8"), _aad(name))
    return f"{_MAGIC}\n{base64.b64encode(nonce + sealed).decode('ascii')}\n"


def _open(key: bytes, name: str, text: str) -> str | None:
    header, _, body = text.partition("\n")
    if header != _MAGIC:
        return None
    try:
        blob = base64.b64decode(body.strip(), validate=True)
        return AESGCM(key).decrypt(blob[:12], blob[12:], _aad(name)).decode("utf-8")
    except (binascii.Error, InvalidTag, ValueError):
        return None


def open_token_store(
    settings: Settings | None = None,
    *,
    paths: AgentPaths | None = None,
    backend: KeyringBackend | None = None,
) -> TokenStore:
    """The agent's token store: sealed files under the user's state folder, key in the OS keyring.

    Raises :class:`~tray_agent.auth.keyrings.KeyringRefused` when the keyring is not a secure one,
    unless the settings say ``allow_insecure_keyring = true``. ``settings`` defaults to the user's
    settings file. With that setting and no keyring at all, sign-ins are kept in memory only.
    """
    where = paths or AgentPaths.for_user()
    allow = settings.allow_insecure_keyring if settings is not None else _file_allows_insecure(where)
    verdict = choose(backend, allow_insecure=allow)
    return store_for(verdict, where)


def store_for(verdict: KeyringVerdict, paths: AgentPaths) -> TokenStore:
    if verdict.backend is None or not verdict.available:
        log.warning("no keyring: sign-ins are kept in memory only and last until the agent quits")
        return MemoryTokenStore()
    if not verdict.secure:
        log.warning("the keyring in use is not secure (%s); allowed by allow_insecure_keyring", verdict.name)
    prefer_local_persistence(verdict.backend)
    return SealedTokenStore(paths.state_dir / "secrets", verdict.backend)


def _file_allows_insecure(paths: AgentPaths) -> bool:
    """Read only the one flag: a settings file that is broken elsewhere must not make storage less safe."""
    try:
        with paths.settings_file.open("rb") as handle:
            agent = tomllib.load(handle).get("agent", {})
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError):
        return False
    return isinstance(agent, dict) and agent.get("allow_insecure_keyring") is True
