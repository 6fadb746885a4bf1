"""Which notifications a change deserves, and a limiter so they never spam. Pure: no I/O, injectable clock.

Notified: a sign-in is needed, a sign-in is about to end (Genesys: PKCE has no silent renewal), the
loop breaker tripped, sync paused and resumed. Everything else is visible in the icon and menu.
Every kind (per service) is shown at most once per :data:`MIN_INTERVAL` of real time.
"""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from tray_agent.core.rules import SyncStatus
from tray_agent.core.service import Service
from tray_agent.engine.snapshot import Link, Snapshot
from tray_agent.i18n import _
from tray_agent.tray.view import EXPIRY_LEAD, SERVICE_NAMES, expiring, links_of, local_hhmm, names_of

MIN_INTERVAL = 30 * 60.0
TITLE_LIMIT = 63  # Windows: szInfoTitle is WCHAR[64]
MESSAGE_LIMIT = 255  # Windows: szInfo is WCHAR[256]


class NoticeKind(enum.Enum):
    SIGN_IN_NEEDED = "sign-in-needed"
    SIGN_IN_ENDING = "sign-in-ending"
    LOOP_BREAKER = "loop-breaker"
    PAUSED = "paused"
    RESUMED = "resumed"
    SIGN_IN_CODE = "sign-in-code"


@dataclass(frozen=True, slots=True)
class Notice:
    kind: NoticeKind
    title: str
    message: str
    service: str = ""  # its service(s), "microsoft+genesys" for both: the rate limit is per kind and service

    @property
    def key(self) -> tuple[NoticeKind, str]:
        return (self.kind, self.service)

    def __post_init__(self) -> None:
        if len(self.title) > TITLE_LIMIT or len(self.message) > MESSAGE_LIMIT:
            raise ValueError(f"notice text too long for Windows: {self.title!r}")


def notices_for_change(
    before: Snapshot | None,
    after: Snapshot,
    *,
    signed_out_by_agent: frozenset[Service] = frozenset(),
    clock_text: Callable[[float], str] = local_hhmm,
) -> list[Notice]:
    """What the agent should be told about the step from ``before`` to ``after``.

    ``signed_out_by_agent``: services the agent signed out of from the menu (no "sign in" nagging).
    """
    notices: list[Notice] = []
    was = links_of(before) if before is not None else {s: Link.STARTING for s in Service}
    now = links_of(after)
    needed = [
        service
        for service in Service
        if now[service] is Link.SIGN_IN_NEEDED
        and was[service] is not Link.SIGN_IN_NEEDED
        and service not in signed_out_by_agent
    ]
    if needed:
        notices.append(_sign_in_needed_notice(needed))
    if after.status is SyncStatus.LOOP_BREAKER and (before is None or before.status is not SyncStatus.LOOP_BREAKER):
        notices.append(
            Notice(
                NoticeKind.LOOP_BREAKER,
                _("Presence sync stopped itself"),
                _(
                    "Your Genesys status changed too often in a short time, so sync stopped to break a loop. "
                    "It starts again by itself later, or choose “Resume sync”."
                ),
            )
        )
    paused_before = before is not None and before.paused_until is not None
    if after.paused_until is not None and not paused_before:
        notices.append(_paused_notice(after.paused_until, clock_text))
    if paused_before and after.paused_until is None:
        notices.append(
            Notice(NoticeKind.RESUMED, _("Presence sync resumed"), _("Genesys follows your Teams status again."))
        )
    if after.sign_in_prompt and (before is None or before.sign_in_prompt != after.sign_in_prompt):
        notices.append(
            Notice(
                NoticeKind.SIGN_IN_CODE,
                _("Sign in to Microsoft with a code"),
                after.sign_in_prompt,  # MSAL's own instructions, in English
                after.sign_in_prompt,
            )
        )
    return notices


def _sign_in_needed_notice(needed: list[Service]) -> Notice:
    names = names_of(needed)
    return Notice(
        NoticeKind.SIGN_IN_NEEDED,
        _("Sign in to {services}").format(services=names),
        _(
            "Your Teams status is not copied to Genesys until you sign in to {services}. "
            "Open the tray menu and choose “Sign in”."
        ).format(services=names),
        "+".join(needed),
    )


def _paused_notice(paused_until: float, clock_text: Callable[[float], str]) -> Notice:
    if math.isinf(paused_until):
        message = _("Genesys does not follow Teams until you resume it. Your Genesys status is yours to set.")
    else:
        message = _("Genesys does not follow Teams until {time}. Your Genesys status is yours to set.").format(
            time=clock_text(paused_until)
        )
    return Notice(NoticeKind.PAUSED, _("Presence sync paused"), message)


def ending_notices(
    snapshot: Snapshot,
    now: float,
    *,
    lead: float = EXPIRY_LEAD,
    clock_text: Callable[[float], str] = local_hhmm,
) -> list[Notice]:
    """Sign-ins that end within ``lead`` seconds (engine clock) and cannot renew themselves."""
    notices = []
    for service in Service:
        if not expiring(snapshot, service, now, lead):
            continue
        expires_at = snapshot.genesys_expires_at if service == Service.GENESYS else snapshot.microsoft_expires_at
        assert expires_at is not None  # noqa: S101 - expiring() checked it
        name = SERVICE_NAMES[service]
        if expires_at > now:
            message = _(
                "Your {service} sign-in ends at {time}. Choose “Sign in to {service}” in the tray menu "
                "to keep your status in sync."
            ).format(service=name, time=clock_text(expires_at))
        else:
            message = _(
                "Your {service} sign-in ends now. Choose “Sign in to {service}” in the tray menu "
                "to keep your status in sync."
            ).format(service=name)
        notices.append(
            Notice(NoticeKind.SIGN_IN_ENDING, _("{service} sign-in ends soon").format(service=name), message, service)
        )
    return notices


class RateLimiter:
    """``allow(key)`` is true at most once per ``interval`` seconds of ``clock`` for each key."""

    def __init__(self, interval: float = MIN_INTERVAL, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._last: dict[Hashable, float] = {}

    def allow(self, key: Hashable) -> bool:
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self._interval:
            return False
        self._last[key] = now
        return True
