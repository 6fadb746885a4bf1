"""Whose sign-in it is: every sign-in is bound to the person who started it.

Another local user can read a browser's command line, so they can learn a sign-in's address and deliver
an answer for *their own* account to the agent's listener. Each service therefore checks who came back
before anything is kept (shared/reference/microsoft-graph-msal.md §2, genesys-cloud.md §3):

- Microsoft: the ID token's ``tid`` is the configured tenant, and on a re-sign-in its ``oid`` is the
  remembered account's;
- Genesys Cloud: ``users/me`` is the remembered user;
- across the two: the Genesys user's email is the Microsoft account's user name (UPN), unless IT policy
  ``allow_different_emails`` says the organisation uses different addresses.

A refused sign-in raises :class:`WrongPerson` and leaves the earlier sign-in exactly as it was. Changing
person takes an explicit sign-out first.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from tray_agent.auth.loopback import SignInFailed

EmailLookup = Callable[[], str | None]

CHANGE_PERSON = "To sign in as someone else, sign out first."
RELAX_HINT = "If your organisation uses different addresses for the two, IT can allow it (AllowDifferentEmails)."


class WrongPerson(SignInFailed):
    """The sign-in came back for someone other than the expected person; nothing was kept."""


def same_address(first: str | None, second: str | None) -> bool:
    """Two sign-in names / email addresses name the same mailbox (case does not matter)."""
    return bool(first and second) and str(first).strip().casefold() == str(second).strip().casefold()


def domain_of(address: str | None) -> str | None:
    if not address or "@" not in address:
        return None
    domain = address.rsplit("@", 1)[1].strip().lower()
    return domain or None


def check_same_email(service_name: str, theirs: str | None, other_service: str, expected: str | None) -> None:
    """Raise :class:`WrongPerson` unless ``theirs`` (the new sign-in's address) is ``expected``, the address
    the other service is signed in with. Nothing to compare with (not signed in there) passes."""
    if not expected:
        return
    if not same_address(theirs, expected):
        raise WrongPerson(
            f"the {service_name} account is not {expected}, the address you are signed in to {other_service} with, "
            f"so the sign-in was refused and nothing changed. Sign in to both as yourself. {RELAX_HINT}"
        )


def windows_logon_upn() -> str | None:
    """On Windows, the signed-in user's UPN (``GetUserNameExW(NameUserPrincipal)``); None elsewhere or
    for a local account. Used as the Microsoft sign-in's ``login_hint`` when no account is remembered."""
    if sys.platform != "win32":
        return None
    import ctypes

    name_user_principal = 8
    size = ctypes.c_ulong(0)
    secur32 = ctypes.windll.secur32
    secur32.GetUserNameExW(name_user_principal, None, ctypes.byref(size))
    if not size.value:
        return None
    buffer = ctypes.create_unicode_buffer(size.value)
    if not secur32.GetUserNameExW(name_user_principal, buffer, ctypes.byref(size)):
        return None
    return buffer.value or None
