"""Teams presence as Microsoft Graph reports it: what a person does in Teams, from the control surface
or a test (``state.teams.set("Busy", "InACall")``). Graph only reads it (``GET /me/presence``)."""

from __future__ import annotations

from tray_agent.clock import Clock

from .directory import People, UserRef
from .presence_records import TeamsPresence, TeamsSequence


class TeamsPresences:
    def __init__(self, people: People, clock: Clock, sequence: TeamsSequence) -> None:
        self._people = people
        self._clock = clock
        self._sequence = sequence

    def presence(self, user: UserRef = None) -> TeamsPresence:
        return self._people.user(user).teams

    def set(
        self,
        availability: str,
        activity: str,
        *,
        user: UserRef = None,
        out_of_office: bool | None = None,
        out_of_office_message: str | None = None,
    ) -> TeamsPresence:
        """Change what Graph reports for the person (as if they changed status in Teams)."""
        teams = self._people.user(user).teams
        teams.availability = availability
        teams.activity = activity
        if out_of_office is not None:
            teams.out_of_office = out_of_office
        if out_of_office_message is not None:
            teams.out_of_office_message = out_of_office_message
        teams.sequence_number = self._sequence.next()
        return teams

    def set_status_message(
        self, message: str | None, *, user: UserRef = None, expiry: float | None = None
    ) -> TeamsPresence:
        teams = self._people.user(user).teams
        teams.status_message = message
        teams.status_message_expiry = expiry if message is not None else None
        teams.status_message_published = self._clock.now() if message is not None else None
        teams.sequence_number = self._sequence.next()
        return teams
