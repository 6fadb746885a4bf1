"""Incremental consent: a permission the sign-in did not ask for, asked for on its own, later.

The sign-in asks for ``Presence.Read`` only. A feature that needs more (calendar triggers:
``Calendars.ReadBasic``) first tries a silent token for it; Entra refuses one the user never
consented to with ``invalid_grant``, suberror ``consent_required``, AADSTS65001
(:class:`ConsentRequired`). Only then, and only as an explicit step, is the user shown Entra's
consent page (:meth:`MicrosoftAuth.ask_consent`). Its answer is one of three outcomes people can
act on (:class:`ConsentOutcome`): granted; declined; or the tenant lets only an administrator
consent (AADSTS65001 or AADSTS90094 at the consent page: "Need admin approval"). A consent that is
declined or fails never touches the sign-in.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_ADMIN_CODES = ("AADSTS65001", "AADSTS90094")
_DECLINED_CODES = ("AADSTS65004",)
_DECLINED_ERRORS = frozenset({"access_denied", "authorization_declined", "consent_declined"})


class ConsentRequired(Exception):
    """No silent token for ``scopes``: the user has not consented to them (yet)."""

    def __init__(self, scopes: Sequence[str]) -> None:
        self.scopes = tuple(scopes)
        super().__init__(f"the permission {', '.join(self.scopes)} has not been granted")


class Consent(enum.Enum):
    GRANTED = "granted"
    DECLINED = "declined"
    NEEDS_ADMIN = "needs an administrator"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ConsentOutcome:
    consent: Consent
    message: str  # for the agent: what happened and what to do


def _description(answer: Mapping[str, Any]) -> str:
    return str(answer.get("error_description", ""))[:300]


def needs_consent(answer: Mapping[str, Any] | None) -> bool:
    """A silent token answer that says the user has not consented (rather than: sign in again)."""
    if not answer or "error" not in answer:
        return False
    codes = answer.get("error_codes")
    return (
        answer.get("suberror") == "consent_required"
        or answer.get("error") == "consent_required"
        or (isinstance(codes, list) and 65001 in codes)
        or "AADSTS65001" in _description(answer)
    )


def outcome_of(answer: Mapping[str, Any], scopes: Sequence[str]) -> ConsentOutcome:
    """What an error answer from the consent page (or its token redemption) means, in words."""
    wanted = ", ".join(scopes)
    description = _description(answer)
    error = answer.get("error")
    for code in _ADMIN_CODES:
        if code in description:
            return ConsentOutcome(
                Consent.NEEDS_ADMIN,
                f"your organisation requires an administrator to approve {wanted}: ask IT to grant "
                f"consent for it ({code})",
            )
    if error == "consent_required":
        return ConsentOutcome(
            Consent.NEEDS_ADMIN,
            f"your organisation requires an administrator to approve {wanted}: ask IT to grant consent for it",
        )
    if error in _DECLINED_ERRORS or any(code in description for code in _DECLINED_CODES):
        return ConsentOutcome(Consent.DECLINED, f"permission to use {wanted} was declined; nothing else changed")
    shown = error if isinstance(error, str) and error.replace("_", "").isalnum() and len(error) <= 64 else "unknown"
    return ConsentOutcome(Consent.FAILED, f"the consent for {wanted} did not complete (error code: {shown})")
