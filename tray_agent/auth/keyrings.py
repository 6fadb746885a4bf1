"""Which OS keyring backends may hold the agent's secret, and a clear refusal for the others.

``keyring`` picks a backend by priority, and on a machine with ``keyrings.alt`` installed a plain-text
file (``PlaintextKeyring``) silently becomes the default; with nothing installed it is the ``fail``
backend, which raises on every call. We accept only backends that hand the secret to the operating
system's own protected store, by an allow-list of the backend *classes themselves* (identity, not
name: a plain-text backend can call its module ``keyring.backends.SecretService`` and be chosen through
``PYTHON_KEYRING_BACKEND``, and a subclass of a secure one can override where it writes), so an unknown
or look-alike backend is refused rather than trusted. ``allow_insecure_keyring = true`` (settings or
IT policy) overrides that.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from typing import Any

import keyring
from keyring.backend import KeyringBackend
from keyring.backends import SecretService, Windows, chainer, fail, kwallet, libsecret, macOS, null

# The backends that keep secrets in the OS's protected store: these exact classes (each module imports
# on every platform; its backend is just not viable where the OS service is missing).
SECURE_BACKENDS: dict[type[Any], str] = {
    Windows.WinVaultKeyring: "Windows Credential Manager",
    macOS.Keyring: "macOS Keychain",
    SecretService.Keyring: "Secret Service (GNOME Keyring / KWallet)",
    libsecret.Keyring: "Secret Service (libsecret)",
    kwallet.DBusKeyring: "KWallet",
    kwallet.DBusKeyringKWallet4: "KWallet 4",
}
_NO_KEYRING: tuple[type[Any], ...] = (fail.Keyring, null.Keyring)

WINDOWS_ENTRY_LIMIT = 2560  # CRED_MAX_CREDENTIAL_BLOB_SIZE: bytes per Credential Manager entry (UTF-16)


class KeyringRefused(Exception):
    """The keyring cannot keep sign-ins safely; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class KeyringVerdict:
    backend: KeyringBackend | None  # the backend to use (a chainer is narrowed to its secure member)
    name: str  # for people: "Secret Service (GNOME Keyring / KWallet)", "keyrings.alt PlaintextKeyring"
    secure: bool
    available: bool  # False for the fail/null backends: nothing can be stored at all
    problem: str = ""  # why it is not acceptable, and the fix; empty when secure


def _label(backend: Any) -> str:
    cls = type(backend)
    return SECURE_BACKENDS.get(cls) or f"{cls.__module__}.{cls.__qualname__}"


def _is_secure(backend: Any) -> bool:
    return type(backend) in SECURE_BACKENDS


def _fix() -> str:
    if sys.platform == "win32":
        return "Windows Credential Manager should always be there: reinstall the agent or ask IT"
    if sys.platform == "darwin":
        return "the login Keychain must be available: sign in to macOS normally, or ask IT"
    return (
        "install and unlock a Secret Service keyring (e.g. GNOME Keyring: 'sudo apt install gnome-keyring', "
        "then log out and in), or ask IT"
    )


def assess(backend: KeyringBackend | None = None) -> KeyringVerdict:
    """Judge ``backend`` (default: the one ``keyring`` would use)."""
    chosen = backend if backend is not None else keyring.get_keyring()
    module = type(chosen).__module__
    if type(chosen) is chainer.ChainerBackend:
        members = list(getattr(chosen, "backends", []))
        for member in members:
            if _is_secure(member):
                return KeyringVerdict(member, _label(member), secure=True, available=True)
        names = ", ".join(_label(member) for member in members) or "nothing"
        return KeyringVerdict(
            members[0] if members else None,
            f"a chain of {names}",
            secure=False,
            available=bool(members),
            problem=f"no secure keyring is available (only {names}): {_fix()}",
        )
    if _is_secure(chosen):
        return KeyringVerdict(chosen, _label(chosen), secure=True, available=True)
    if type(chosen) in _NO_KEYRING:
        return KeyringVerdict(
            None, "no keyring", secure=False, available=False, problem=f"no system keyring was found: {_fix()}"
        )
    label = _label(chosen)
    kind = "stores secrets in a plain file" if module.startswith("keyrings.alt") else "is not a known secure keyring"
    return KeyringVerdict(
        chosen,
        label,
        secure=False,
        available=True,
        problem=f"the keyring in use ({label}) {kind}: {_fix()}",
    )


def choose(backend: KeyringBackend | None = None, *, allow_insecure: bool = False) -> KeyringVerdict:
    """The verdict for ``backend``; raises :class:`KeyringRefused` unless it is secure or explicitly allowed."""
    verdict = assess(backend)
    if not verdict.secure and not allow_insecure:
        raise KeyringRefused(
            f"Sign-ins are not saved: {verdict.problem}. (To accept the risk, set allow_insecure_keyring = true "
            "in the [agent] section of the settings file.)"
        )
    return verdict


def prefer_local_persistence(backend: KeyringBackend) -> None:
    """On Windows, keep our entry on this machine (the default, CRED_PERSIST_ENTERPRISE, roams with the
    profile; the files the key unlocks do not). Untested here: Windows only."""
    if type(backend) is Windows.WinVaultKeyring and hasattr(backend, "persist"):
        with contextlib.suppress(AttributeError, ValueError):  # depends on pywin32's constants
            backend.persist = "local machine"
