"""The :class:`~tray_agent.engine.teams_writer.TeamsWriter` over Microsoft Graph: our own presence session.

``Presence.ReadWrite`` is not part of the sign-in (which asks for ``Presence.Read`` only). It is asked
for by incremental consent (:mod:`tray_agent.auth.consent`), and only for an agent with the feature on:
:meth:`GraphTeamsWriter.prepare` runs when the feature is turned on, at start and after a Microsoft
sign-in, never in the middle of a call. Entra's consent page is shown at most once per account on this
computer (noted before asking, like the calendar's); after that, or when the tenant requires an
administrator, the writer says what is missing and every set answers NOT_CONSENTED, so the direction
stops and says so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from tray_agent.auth.consent import AskOnce, Consent, ConsentAsker, ConsentRequired, Remember
from tray_agent.auth.microsoft import PRESENCE_WRITE_SCOPES
from tray_agent.auth.tokens import SignInRequired
from tray_agent.clients.errors import ServiceError
from tray_agent.clients.graph_presence_session import GraphPresenceSession, WriteOutcome, WriteResult
from tray_agent.core.teams_writeback import SessionResult
from tray_agent.engine.teams_writer import SessionAnswer

log = logging.getLogger(__name__)

CONSENT_ASKED = "presence-write-consent-asked"  # what ``remember`` keeps: the account already asked
NOT_GRANTED = "Presence.ReadWrite is not granted: ask IT to grant consent for the app, or turn teams_writeback off"

_RESULTS = {
    WriteOutcome.OK: SessionResult.OK,
    WriteOutcome.GONE: SessionResult.GONE,
    WriteOutcome.THROTTLED: SessionResult.THROTTLED,
    WriteOutcome.SIGNED_OUT: SessionResult.SIGNED_OUT,
    WriteOutcome.NOT_CONSENTED: SessionResult.NOT_CONSENTED,
    WriteOutcome.REJECTED: SessionResult.REJECTED,
    WriteOutcome.FAILED: SessionResult.FAILED,
}


class WriterAuth(Protocol):
    @property
    def signed_in(self) -> bool: ...

    @property
    def account_id(self) -> str | None: ...

    async def token_for(self, scopes: Sequence[str], *, force_refresh: bool = False) -> str: ...


class GraphTeamsWriter:
    def __init__(
        self,
        session: GraphPresenceSession,
        auth: WriterAuth,
        client_id: str,
        *,
        ask_consent: ConsentAsker | None = None,
        remember: Remember | None = None,
    ) -> None:
        self._session = session
        self._auth = auth
        self._session_id = client_id  # Graph: "provide the ID of the application as the sessionId"
        self._consent_page = AskOnce(
            ask_consent, remember, key=CONSENT_ASKED, feature="Teams write-back", purpose="set the Teams presence"
        )
        self._consent_pending: asyncio.Event | None = None  # the consent page is open (prepare)

    async def prepare(self) -> str | None:
        """Make sure Presence.ReadWrite is granted (asking once per account); None, or what is missing."""
        if not self._auth.signed_in:
            return None  # asked after the sign-in
        try:
            await self._auth.token_for(PRESENCE_WRITE_SCOPES)
        except ConsentRequired:
            return await self._consent()
        except (SignInRequired, ServiceError) as error:  # passing trouble: the first set will tell
            log.info("Teams write-back: no token yet (%s)", type(error).__name__)
        return None

    async def set(self, availability: str, activity: str, expiration: float, *, preferred: bool) -> SessionAnswer:
        async def call(token: str) -> WriteResult:
            if preferred:
                return await self._session.set_preferred_presence(token, availability, activity, expiration)
            return await self._session.set_presence(token, self._session_id, availability, activity, expiration)

        return await self._with_token(call)

    async def clear(self, *, preferred: bool) -> SessionAnswer:
        async def call(token: str) -> WriteResult:
            if preferred:
                return await self._session.clear_preferred_presence(token)
            return await self._session.clear_presence(token, self._session_id)

        return await self._with_token(call)

    async def _with_token(self, call: Callable[[str], Awaitable[WriteResult]]) -> SessionAnswer:
        """One call; a 401 gets one fresh token and one retry (as the presence reads do). A call made
        while the consent page is open waits for the agent's answer first."""
        for force_refresh in (False, True):
            try:
                token = await self._token(force_refresh)
            except ConsentRequired:
                return SessionAnswer(SessionResult.NOT_CONSENTED, NOT_GRANTED)
            except SignInRequired as error:
                return SessionAnswer(SessionResult.SIGNED_OUT, str(error))
            except ServiceError as error:
                return SessionAnswer(SessionResult.FAILED, str(error))
            result = await call(token)
            if result.outcome is not WriteOutcome.SIGNED_OUT or force_refresh:
                break
        detail = NOT_GRANTED if result.outcome is WriteOutcome.NOT_CONSENTED else result.describe()
        return SessionAnswer(_RESULTS[result.outcome], "" if result.done else detail, result.retry_after)

    async def _token(self, force_refresh: bool) -> str:
        try:
            return await self._auth.token_for(PRESENCE_WRITE_SCOPES, force_refresh=force_refresh)
        except ConsentRequired:
            pending = self._consent_pending
            if pending is None:
                raise
            await pending.wait()
            return await self._auth.token_for(PRESENCE_WRITE_SCOPES, force_refresh=force_refresh)

    async def _consent(self) -> str | None:
        pending = self._consent_pending = asyncio.Event()
        try:
            return await self._ask_once()
        finally:
            pending.set()
            self._consent_pending = None

    async def _ask_once(self) -> str | None:
        outcome = await self._consent_page.ask(self._auth.account_id or "?")
        if outcome is None:
            return NOT_GRANTED
        return None if outcome.consent is Consent.GRANTED else outcome.message
