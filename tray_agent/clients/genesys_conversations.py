"""Genesys Cloud: what the agent is handling, from the conversation summary (counts only, no customer data).

``GET /api/v2/users/{userId}/conversations/summary`` and the notification topic
``v2.users.{userId}.conversationsummary`` both carry a ``UserConversationSummary``::

    {"userId": "…", "call": {"contactCenter": {"active": 1, "acw": 0}, "enterprise": {"active": 0, "acw": 0}},
     "callback": {…}, "email": {…}, "message": {…}, "chat": {…}, "socialExpression": {…}, "video": {…}}

A media type is active when ``contactCenter.active + enterprise.active > 0``; after-call work (``acw``)
does not count. ``call`` is :attr:`Media.VOICE` and ``socialExpression`` :attr:`Media.SOCIAL`.
The body comes from the network: a field that is missing or not a count makes that media inactive,
never an exception; only a body that is not an object at all is unknown (None).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

from tray_agent.core.interactions import InteractionSummary, Media

CONVERSATION_SUMMARY_TOPIC: Final = "v2.users.{user_id}.conversationsummary"

# The summary's field for each media type (UserConversationSummary).
SUMMARY_FIELDS: Final[Mapping[str, Media]] = {
    "call": Media.VOICE,
    "callback": Media.CALLBACK,
    "chat": Media.CHAT,
    "message": Media.MESSAGE,
    "email": Media.EMAIL,
    "video": Media.VIDEO,
    "socialExpression": Media.SOCIAL,
}
_PARTS: Final = ("contactCenter", "enterprise")


def _count(value: object) -> int:
    """A count of conversations; anything that is not a whole number of at least 0 counts as none."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return max(int(value), 0)
    return 0


def is_active(media_summary: object) -> bool:
    """One media type's ``MediaSummary``: are any of its conversations active (ACD or not)?"""
    if not isinstance(media_summary, Mapping):
        return False
    parts = (media_summary.get(part) for part in _PARTS)
    return sum(_count(part.get("active")) for part in parts if isinstance(part, Mapping)) > 0


def parse_conversation_summary(body: object) -> InteractionSummary | None:
    """A ``UserConversationSummary`` → the media with active conversations; None when ``body`` is not
    an object (unknown: not the same as "nothing active")."""
    if not isinstance(body, Mapping):
        return None
    return InteractionSummary.of(media for name, media in SUMMARY_FIELDS.items() if is_active(body.get(name)))
