"""Keyring backends for tests: one that enforces Windows Credential Manager's size limit, one that
looks like keyrings.alt's plain-text file."""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError, PasswordSetError

from tray_agent.auth.keyrings import WINDOWS_ENTRY_LIMIT


class WindowsSizedKeyring(KeyringBackend):
    """In memory, refusing what Windows Credential Manager refuses: a blob over 2,560 bytes.

    keyring's WinVaultKeyring writes the password as UTF-16, and CredWrite fails with
    ``(1783, 'CredWrite', 'The stub received bad data')`` beyond CRED_MAX_CREDENTIAL_BLOB_SIZE.
    """

    # keyring registers every backend class it sees; below fail.Keyring's 0 it is never chosen or chained.
    priority = -1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.largest_write = 0

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        size = len(password.encode("utf-16-le"))
        self.largest_write = max(self.largest_write, size)
        if size > WINDOWS_ENTRY_LIMIT:
            raise PasswordSetError("(1783, 'CredWrite', 'The stub received bad data')")
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


class PlaintextKeyring(WindowsSizedKeyring):
    """Stands in for ``keyrings.alt.file.PlaintextKeyring`` (not installed here): judged by its module."""


PlaintextKeyring.__module__ = "keyrings.alt.file"
