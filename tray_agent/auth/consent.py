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
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)

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


class Remember(Protocol):
    """Where it is noted that consent was asked (a :class:`~tray_agent.auth.tokens.TokenStore` will do)."""

    def load(self, name: str) -> str | None: ...

    def save(self, name: str, value: str) -> None: ...


ConsentAsker = Callable[[], Awaitable[ConsentOutcome]]


class AskOnce:
    """Entra's consent page for one feature, shown at most once per account on this computer.

    The ask is noted in ``remember`` under ``key`` *before* the page opens, so a page left unanswered,
    a crash or a restart does not ask again; a keyring that cannot tell counts as asked (better not to
    ask than to ask at every start). ``feature`` and ``purpose`` are for the log lines only.
    """

    def __init__(
        self, ask: ConsentAsker | None, remember: Remember | None, *, key: str, feature: str, purpose: str
    ) -> None:
        self._ask = ask
        self._remember = remember
        self._key = key
        self._feature = feature
        self._purpose = purpose
        self._asked_here: set[str] = set()

    @property
    def can_ask(self) -> bool:
        return self._ask is not None

    async def ask(self, account: str) -> ConsentOutcome | None:
        """The answer of the page, or None when it is not shown (asked before, or no way to ask) or its
        step failed. Never raises: the consent step must never take anything else down."""
        if self._ask is None or account in self._asked_here or self._asked_before(account):
            return None
        self._asked_here.add(account)
        self._note_asked(account)
        log.info("%s: asking for permission to %s (once)", self._feature, self._purpose)
        try:
            outcome = await self._ask()
        except Exception as error:
            log.warning("%s: the consent step failed (%s)", self._feature, type(error).__name__)
            return None
        log.info("%s: consent %s", self._feature, outcome.consent.value)
        return outcome

    def _asked_before(self, account: str) -> bool:
        try:
            return self._remember is not None and self._remember.load(self._key) == account
        except Exception as error:
            log.warning("%s: cannot tell whether consent was asked before (%s)", self._feature, type(error).__name__)
            return True

    def _note_asked(self, account: str) -> None:
        if self._remember is None:
            return
        try:
            self._remember.save(self._key, account)
        except Exception as error:
            log.warning("%s: could not note that consent was asked (%s)", self._feature, type(error).__name__)
