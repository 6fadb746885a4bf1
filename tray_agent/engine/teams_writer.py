"""Where the engine writes the agent's own Teams presence session (the Genesys → Teams direction).

*Whether* and *what* to write is the sync protocol's (:mod:`tray_agent.core.teams_writeback`); a
writer only performs one Graph call and says how it went, as a :class:`SessionAnswer`. It never
raises for what Graph or the network answered: every outcome is one of
:class:`~tray_agent.core.teams_writeback.SessionResult`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tray_agent.core.teams_writeback import SessionResult


@dataclass(frozen=True, slots=True)
class SessionAnswer:
    result: SessionResult
    detail: str = ""  # for the agent's story: no token, no URL with a secret
    retry_after: float | None = None


class TeamsWriter(Protocol):
    async def prepare(self) -> str | None:
        """Before the first call (the feature turned on, a sign-in): ask for what the calls need, at
        most once (the consent page); None when ready, else what is missing, in words."""
        ...

    async def set(self, availability: str, activity: str, expiration: float, *, preferred: bool) -> SessionAnswer:
        """``setPresence`` for our session (``setUserPreferredPresence`` when ``preferred``)."""
        ...

    async def clear(self, *, preferred: bool) -> SessionAnswer:
        """``clearPresence`` for our session; GONE when it did not exist."""
        ...


class NoTeamsWriter:
    """The feature is off here (or cannot work): every call is refused, so the direction stops and says so."""

    def __init__(self, why: str = "writing Teams presence is not set up") -> None:
        self._why = why

    async def prepare(self) -> str | None:
        return self._why

    async def set(self, availability: str, activity: str, expiration: float, *, preferred: bool) -> SessionAnswer:
        return SessionAnswer(SessionResult.REJECTED, self._why)

    async def clear(self, *, preferred: bool) -> SessionAnswer:
        return SessionAnswer(SessionResult.GONE, self._why)
