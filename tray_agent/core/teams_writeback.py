"""The Genesys → Teams direction: Teams shows the agent busy while a Genesys interaction lasts.

A pure part of the sync protocol (:class:`~tray_agent.core.protocol.SyncProtocol` owns one and feeds
it): no I/O, no clock. What it decides, in order, after every event:

 #  rule                    what it says
 1  off                     Not enabled, or the agent is leaving (quit, sign-out) → nothing is shown.
 2  genesys_unknown         No Genesys state (signed out, not read yet) → hold: neither renew nor
                            clear; a session we set lapses by itself within ``expiration``.
 3  genesys_offline         Offline in Genesys → nothing is shown.
 4  interaction             An active conversation in a configured media type (the conversation
                            summary; the routing status INTERACTING/COMMUNICATING when the summary
                            is unknown) → the pair configured for that media.
 5  while_on_queue          IT policy ``TeamsBusyWhileOnQueue`` and On Queue → its pair.
 6  otherwise               → nothing is shown.

What it does about the decision:

- **set** the wanted pair when Teams does not show it from us yet, and **renew** it ``renew_before``
  seconds before its ``expirationDuration`` lapses (one call at a time);
- **clear** when nothing is wanted and our session may still exist; a clear that fails is retried
  with backoff until it succeeds, Graph says the session is gone (404), or it has lapsed;
- **backoff** on 429 (at least Retry-After) and 5xx; a refusal (4xx, consent missing) stops this
  direction until the next Microsoft sign-in and says why; the Teams → Genesys direction never waits
  for any of it.

**Echo-free.** :meth:`TeamsWriteback.is_ours` says whether a Teams reading may be our own session
showing: its availability is ours (Graph may report our Busy/InACall as Busy/Busy), and the read was
sent while our session could show: from the first set until ``echo_fade`` after the clear was
confirmed (or after the session lapsed, when the clear never got through). The sync rules never act
on such a reading (rule ``teams_shows_our_own_status``), so no write to Genesys is ever caused by our
own Teams session. The session is kept in the persisted memory, so a restart recognises it too and
clears it if it is no longer wanted.

What the agent cannot guarantee (Graph's aggregation): a status the agent chose by hand in Teams beats
every app session, so Teams then shows their choice, not ours; among app sessions DoNotDisturb beats
Busy, so another app's DoNotDisturb shows instead of our Busy. While our Busy shows, a Teams
change of the agent's own that is also Busy (a Teams meeting) cannot be told apart from ours.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from tray_agent.core.backoff import backoff_delay
from tray_agent.core.interactions import IN_A_CALL, InteractionSummary, TeamsPair, WritebackConfig
from tray_agent.core.presence import OFFLINE, GenesysState, TeamsPresence
from tray_agent.core.said import Said

INTERACTING_ROUTING = frozenset({"INTERACTING", "COMMUNICATING"})
THROTTLED_WITHOUT_RETRY_AFTER = 2.0


@dataclass(frozen=True, slots=True)
class OwnSession:
    """Our presence session in Teams, as far as we know: from the first set until it is gone.

    ``lapse_at``: the latest set sent + its expiration: gone by then whatever happened to our calls.
    ``cleared_at``: when a clear was confirmed, or the session lapsed (it is gone from then on).
    """

    availability: str
    activity: str
    since: float
    lapse_at: float
    cleared_at: float | None = None

    @property
    def pair(self) -> TeamsPair:
        return self.availability, self.activity

    @property
    def live(self) -> bool:
        return self.cleared_at is None

    def shows_until(self, echo_fade: float) -> float:
        """A reading sent before this may still show our session."""
        return (self.cleared_at if self.cleared_at is not None else self.lapse_at) + echo_fade


class SessionCall(enum.Enum):
    SET = "set"
    CLEAR = "clear"


class SessionResult(enum.Enum):
    OK = "ok"
    GONE = "gone"  # clear: the session did not exist (404), which is what we wanted
    THROTTLED = "throttled"
    FAILED = "failed"  # 5xx, timeouts, bad answers: retried with backoff
    REJECTED = "rejected"  # 4xx: Graph will not take it (stops this direction until a new sign-in)
    NOT_CONSENTED = "not-consented"  # Presence.ReadWrite not granted (likewise)
    SIGNED_OUT = "signed-out"  # no Microsoft token: nothing was sent


@dataclass(frozen=True, slots=True)
class Wanted:
    """What Teams should show from us, and why (None pair: nothing; ``hold``: don't touch it)."""

    pair: TeamsPair | None
    why: str
    hold: bool = False


def wanted(
    config: WritebackConfig,
    genesys: GenesysState | None,
    summary: InteractionSummary | None,
    *,
    leaving: bool,
) -> Wanted:
    """The rule table above."""
    if not config.enabled:
        return Wanted(None, Said("off"))
    if leaving:
        return Wanted(None, Said("the agent is signing out or quitting"))
    if genesys is None:
        return Wanted(None, Said("the Genesys status is not known"), hold=True)
    if genesys.system_presence == OFFLINE:
        return Wanted(None, Said("Offline in Genesys"))
    if summary is not None:
        media = summary.first(config.media)
        if media is not None:
            pair = config.pair_for(media)
            assert pair is not None  # noqa: S101 - media is one of config.media
            return Wanted(pair, Said("Genesys {media} interaction", media=media.value))
    elif genesys.routing_status in INTERACTING_ROUTING:
        return Wanted(config.usable(IN_A_CALL), Said("Genesys interaction"))
    if config.while_on_queue is not None and genesys.on_queue:
        return Wanted(config.usable(config.while_on_queue), Said("On Queue in Genesys"))
    return Wanted(None, Said("no Genesys interaction"))


@dataclass(frozen=True, slots=True)
class SetTeamsSession:
    """``setPresence`` (or ``setUserPreferredPresence`` when ``preferred``) for our session."""

    availability: str
    activity: str
    expiration: float  # seconds (expirationDuration)
    preferred: bool
    why: str


@dataclass(frozen=True, slots=True)
class ClearTeamsSession:
    """``clearPresence`` for our session (or ``clearUserPreferredPresence`` when ``preferred``)."""

    preferred: bool
    why: str


SessionEffect = SetTeamsSession | ClearTeamsSession


class TeamsWriteback:
    """Our Teams session: the protocol calls :meth:`step` after every event and performs its effects."""

    def __init__(
        self,
        config: WritebackConfig,
        *,
        random: Callable[[], float],
        session: OwnSession | None = None,
        backoff_base: float = 2.0,
        backoff_cap: float = 300.0,
    ) -> None:
        self.config = config
        self._random = random
        self.session = session  # persisted: a restart still knows what Teams may show from us
        self.summary: InteractionSummary | None = None
        self.wanted = Wanted(None, Said("starting"))
        self.leaving = False
        self.blocked: str | None = None  # why this direction stopped (a refusal), until a new sign-in
        self._ready = False  # Microsoft signed in
        self._in_flight: tuple[SessionCall, TeamsPair | None, float] | None = None  # call, pair, sent at
        self._shown: TeamsPair | None = None  # the pair Graph confirmed for our session
        self._renew_at = math.inf
        self._failures = 0
        self._not_before = -math.inf
        self._backoff_base, self._backoff_cap = backoff_base, backoff_cap

    # --- inputs --------------------------------------------------------------------------------

    def microsoft_ready(self, ready: bool) -> None:
        if ready and not self._ready:
            self.blocked, self.leaving = None, False  # a new sign-in may have granted consent
            self._failures, self._not_before = 0, -math.inf
        self._ready = ready

    def set_enabled(self, enabled: bool) -> None:
        """The agent turned the direction on or off; turning it on tries again after a refusal."""
        self.config = replace(self.config, enabled=enabled)
        if enabled:
            self.blocked, self._failures, self._not_before = None, 0, -math.inf

    def prepared(self, problem: str | None) -> None:
        """The writer's permission: granted (a refusal before it, e.g. a set sent while the consent
        page was open, is tried again), or what is missing (shown at once, before any interaction)."""
        self.blocked = problem
        if problem is None:
            self._failures, self._not_before = 0, -math.inf

    def interactions(self, summary: InteractionSummary | None) -> None:
        self.summary = summary

    def leave(self) -> None:
        """Quit or sign-out: clear our session now (the engine waits a moment for it)."""
        self.leaving = True

    def genesys_signed_in(self) -> None:
        self.leaving = False

    def answered(
        self, call: SessionCall, result: SessionResult, now: float, retry_after: float | None, detail: str = ""
    ) -> str | None:
        """Graph's answer to our call; returns a line for the agent's story, if any."""
        if self._in_flight is None or self._in_flight[0] is not call:
            return None
        _, pair, sent_at = self._in_flight
        self._in_flight = None
        if result is SessionResult.OK and call is SessionCall.SET:
            changed = pair != self._shown
            self._shown, self._failures = pair, 0
            self._renew_at = sent_at + self.config.expiration - self.config.renew_before
            return Said("Teams shows {pair} ({why})", pair=_describe(pair), why=self.wanted.why) if changed else None
        if result in (SessionResult.OK, SessionResult.GONE):
            self._gone(now)
            self._failures = 0
            return Said("our Teams status is cleared")
        self._shown = None if call is SessionCall.SET else self._shown
        if result is SessionResult.SIGNED_OUT:
            self._ready = False
            return None
        if result in (SessionResult.REJECTED, SessionResult.NOT_CONSENTED):
            session = self.session
            if call is SessionCall.SET and session is not None and session.since == sent_at:
                self.session = None  # refused: our first set never showed
            default = (
                Said("Presence.ReadWrite is not granted: ask IT to consent, or turn teams_writeback off")
                if result is SessionResult.NOT_CONSENTED
                else Said("Graph refused to change the Teams status")
            )
            self.blocked = detail or default
            if call is SessionCall.SET:
                return Said("could not set the Teams status: {problem}", problem=self.blocked)
            return Said("could not clear the Teams status: {problem}", problem=self.blocked)
        self._failures += 1
        at_least = (retry_after or THROTTLED_WITHOUT_RETRY_AFTER) if result is SessionResult.THROTTLED else 0.0
        delay = backoff_delay(self._failures, self._backoff_base, self._backoff_cap, self._random(), at_least)
        self._not_before = now + delay
        if detail:
            if call is SessionCall.SET:
                return Said(
                    "could not set the Teams status ({detail}): trying again in {delay:.1f} s",
                    detail=detail,
                    delay=delay,
                )
            return Said(
                "could not clear the Teams status ({detail}): trying again in {delay:.1f} s", detail=detail, delay=delay
            )
        if call is SessionCall.SET:
            return Said("could not set the Teams status: trying again in {delay:.1f} s", delay=delay)
        return Said("could not clear the Teams status: trying again in {delay:.1f} s", delay=delay)

    # --- decide and act ------------------------------------------------------------------------

    def step(self, now: float, genesys: GenesysState | None) -> list[SessionEffect]:
        self._lapse(now)
        self.wanted = wanted(self.config, genesys, self.summary, leaving=self.leaving)
        if self._in_flight is not None or not self._ready or now < self._not_before or self.wanted.hold:
            return []
        pair = self.wanted.pair
        if pair is not None and self.blocked is None:
            if pair != self._shown or now >= self._renew_at:
                return [self._set(pair, now)]
            return []
        session = self.session
        if session is not None and session.live and self.blocked is None:
            self._in_flight = (SessionCall.CLEAR, None, now)
            return [ClearTeamsSession(self.config.preferred, self.wanted.why)]
        return []

    def next_wake(self, now: float) -> float | None:
        times = [self._not_before, self._renew_at if self._shown is not None else math.inf]
        session = self.session
        if session is not None:
            times.append(session.lapse_at if session.live else session.shows_until(self.config.echo_fade))
        due = [t for t in times if math.isfinite(t) and t > now]
        return min(due) if due else None

    def is_ours(self, reading: TeamsPresence, requested_at: float) -> bool:
        """The reading may be our own session showing (see the module's "Echo-free")."""
        session = self.session
        if session is None or reading.availability != session.availability:
            return False
        return session.since <= requested_at < session.shows_until(self.config.echo_fade)

    @property
    def clearing(self) -> bool:
        """A clear is under way, or due and possible (for leaving: wait for it)."""
        if self._in_flight is not None:
            return self._in_flight[0] is SessionCall.CLEAR or self.leaving
        session = self.session
        return session is not None and session.live and self._ready and self.blocked is None and self.leaving

    def echo_ends_at(self) -> float | None:
        """When a reading can no longer show our session (None: while it lives, unknown)."""
        session = self.session
        return None if session is None or session.live else session.shows_until(self.config.echo_fade)

    @property
    def problem(self) -> str | None:
        """For the tray: why this direction stopped (the writer's words), while it is turned on."""
        return self.blocked if self.config.enabled else None

    def describe(self) -> str | None:
        """For the tray: what Teams shows from us, e.g. "Busy / InACall – set by sync (Genesys voice interaction)"."""
        if self.problem is not None:
            return None
        session = self.session
        if session is None or not session.live:
            return None
        return Said("{pair} – set by sync ({why})", pair=_describe(session.pair), why=self.wanted.why)

    # --- helpers -------------------------------------------------------------------------------

    def _set(self, pair: TeamsPair, now: float) -> SetTeamsSession:
        session = self.session
        # One window from the first set: a session set again while the last one may still show
        # (live, or fading) keeps its start, so a reading sent in between is still ours.
        since = session.since if session is not None and now < session.shows_until(self.config.echo_fade) else now
        # The request may land even if its answer is lost: from now on Teams may show it.
        self.session = OwnSession(pair[0], pair[1], since, now + self.config.expiration)
        self._in_flight = (SessionCall.SET, pair, now)
        return SetTeamsSession(pair[0], pair[1], self.config.expiration, self.config.preferred, self.wanted.why)

    def _gone(self, now: float) -> None:
        if self.session is not None and self.session.live:
            self.session = replace(self.session, cleared_at=now)
        self._shown, self._renew_at = None, math.inf

    def _lapse(self, now: float) -> None:
        """A session past its expiration is gone; one that can no longer show is forgotten."""
        session = self.session
        if session is None or self._in_flight is not None:
            return
        if session.live and now >= session.lapse_at:
            self.session = session = replace(session, cleared_at=session.lapse_at)
            self._shown, self._renew_at = None, math.inf
        if not session.live and now >= session.shows_until(self.config.echo_fade):
            self.session = None


def _describe(pair: TeamsPair | None) -> str:
    if pair is None:
        return "nothing"
    availability, activity = pair
    return availability if activity == availability else f"{availability} / {activity}"
