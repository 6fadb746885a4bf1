"""Genesys interactions, and the Teams status they ask for (the Genesys → Teams direction).

Genesys tells the agent what it is handling in two ways, both about the agent's own user only:

- the routing status (``INTERACTING`` for an ACD interaction, ``COMMUNICATING`` for a non-ACD one:
  :class:`~tray_agent.core.presence.GenesysState`);
- the conversation summary (``GET /api/v2/users/{id}/conversations/summary`` and the notification
  topic ``v2.users.{id}.conversationsummary``): how many conversations of each media type are active,
  counts only, no customer data. :class:`InteractionSummary` keeps which media are active.

Graph's ``setPresence`` takes only the pairs its docs list (:data:`SESSION_PAIRS`); there is no
``Busy``/``Busy`` for an app session. ``setUserPreferredPresence`` takes others
(:data:`PREFERRED_PAIRS`) but overrides the agent's own choice, so it is used only when IT policy
asks for it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

TeamsPair = tuple[str, str]  # (availability, activity)

IN_A_CALL: TeamsPair = ("Busy", "InACall")
IN_A_CONFERENCE_CALL: TeamsPair = ("Busy", "InAConferenceCall")
PRESENTING: TeamsPair = ("DoNotDisturb", "Presenting")
BUSY: TeamsPair = ("Busy", "Busy")
DO_NOT_DISTURB: TeamsPair = ("DoNotDisturb", "DoNotDisturb")

# Graph v1.0 presence-setpresence: "the supported combinations of availability and activity".
SESSION_PAIRS: frozenset[TeamsPair] = frozenset(
    {("Available", "Available"), IN_A_CALL, IN_A_CONFERENCE_CALL, ("Away", "Away"), PRESENTING}
)
# Graph v1.0 presence-setuserpreferredpresence: its supported combinations.
PREFERRED_PAIRS: frozenset[TeamsPair] = frozenset(
    {
        ("Available", "Available"),
        BUSY,
        DO_NOT_DISTURB,
        ("BeRightBack", "BeRightBack"),
        ("Away", "Away"),
        ("Offline", "OffWork"),
    }
)


class Media(enum.Enum):
    """The media types of the conversation summary (``UserConversationSummary``)."""

    VOICE = "voice"  # summary field "call"
    CALLBACK = "callback"
    CHAT = "chat"
    MESSAGE = "message"
    EMAIL = "email"
    VIDEO = "video"
    SOCIAL = "social"  # summary field "socialExpression"

    @classmethod
    def parse(cls, raw: object) -> Media | None:
        """A media name from settings or the control API; None when unknown."""
        if not isinstance(raw, str):
            return None
        try:
            return cls(raw.strip().lower())
        except ValueError:
            return None


# Busy in Teams for the media a colleague should not interrupt; a call shows as a call.
DEFAULT_MEDIA_PAIRS: Mapping[Media, TeamsPair] = {
    Media.VOICE: IN_A_CALL,
    Media.CALLBACK: IN_A_CALL,
    Media.VIDEO: IN_A_CONFERENCE_CALL,
    Media.CHAT: IN_A_CALL,
    Media.MESSAGE: IN_A_CALL,
    Media.EMAIL: IN_A_CALL,
    Media.SOCIAL: IN_A_CALL,
}
# setUserPreferredPresence (IT policy only) has no call activities: what each session pair becomes there.
_PREFERRED_EQUIVALENT: Mapping[TeamsPair, TeamsPair] = {
    IN_A_CALL: BUSY,
    IN_A_CONFERENCE_CALL: BUSY,
    PRESENTING: DO_NOT_DISTURB,
}

# Which media wins when several are active: the one a colleague most needs to know about.
_PRIORITY = (Media.VOICE, Media.VIDEO, Media.CALLBACK, Media.CHAT, Media.MESSAGE, Media.SOCIAL, Media.EMAIL)


@dataclass(frozen=True, slots=True)
class InteractionSummary:
    """Which media the agent has active conversations in (after-call work does not count)."""

    active: frozenset[Media] = frozenset()

    @classmethod
    def of(cls, media: Iterable[Media]) -> InteractionSummary:
        return cls(frozenset(media))

    def first(self, among: Iterable[Media]) -> Media | None:
        wanted = set(among)
        return next((media for media in _PRIORITY if media in self.active and media in wanted), None)

    def describe(self) -> str:
        return ", ".join(media.value for media in _PRIORITY if media in self.active) or "none"


@dataclass(frozen=True, slots=True)
class WritebackConfig:
    """The Genesys → Teams direction, opt-in (setting ``teams_writeback``, policy ``TeamsWriteback``).

    ``media``: the Teams pair shown for each media type (a media type left out is not shown).
    ``while_on_queue``: IT policy may show a pair whenever the agent is On Queue.
    ``preferred``: IT policy only: use setUserPreferredPresence (overrides the agent's own Teams choice).
    ``expiration``: the session's expirationDuration (Graph: 300-14,400 s). Short, so an agent that
    crashed leaves Teams showing a call for minutes at most; renewed ``renew_before`` seconds early.
    """

    enabled: bool = False
    media: Mapping[Media, TeamsPair] = field(default_factory=lambda: dict(DEFAULT_MEDIA_PAIRS))
    while_on_queue: TeamsPair | None = None
    preferred: bool = False
    expiration: float = 300.0
    renew_before: float = 90.0
    # A reading sent this long after our clear may still show our session (Graph's lag: unknown in the
    # field, 3 s in the simulator). A Teams meeting right after a call is followed this much later.
    echo_fade: float = 60.0

    def pair_for(self, media: Media) -> TeamsPair | None:
        """What Teams shows for an interaction in ``media`` (None: not shown), as the API in use takes it."""
        pair = self.media.get(media)
        return self.usable(pair) if pair is not None else None

    def usable(self, pair: TeamsPair) -> TeamsPair:
        """``pair`` as the API in use takes it: setPresence has no Busy/Busy, preferred presence no InACall."""
        if self.preferred:
            return pair if pair in PREFERRED_PAIRS else _PREFERRED_EQUIVALENT.get(pair, BUSY)
        return pair if pair in SESSION_PAIRS else IN_A_CALL
