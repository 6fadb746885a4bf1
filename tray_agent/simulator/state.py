"""The simulated world, put together from its parts. Pure-ish: no aiohttp, no sockets.

========================  =========================================================================
``state.apps``            the tenant and the two OAuth clients (:mod:`.identity`)
``state.people``          who is in the world; ``state.people.default_user`` (:mod:`.identity`)
``state.definitions``     the org's Genesys presence definitions (:mod:`.definitions`)
``state.teams``           what each Teams client shows, and Graph a moment later (:mod:`.teams_presence`)
``state.workstation``     the default user's lock, microphone, camera and calendar (:mod:`.workstation`);
                          anyone's: ``state.workstations.of(user)``
``state.consents``        which Graph permissions each person consented to, per app (:mod:`.directory`)
``state.genesys``         Genesys presence, routing, out of office, and its change log (:mod:`.genesys_presence`)
``state.tokens``          codes and tokens of both clouds (:mod:`.tokens`)
``state.notifications``   Genesys notification channels and subscriptions (:mod:`.notification_channels`)
``state.request_log``     the last requests; ``state.counters`` (:mod:`.request_log`)
``state.faults``          injected failures (:mod:`.faults`)
========================  =========================================================================

Time comes from the injected :class:`~tray_agent.clock.Clock`. All methods are synchronous and must run
on the simulator's event loop thread (``SimulatorThread.call`` marshals them there).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from tray_agent.clock import Clock

from .definitions import PresenceDefinitions
from .directory import AppRegistrations, People
from .faults import Faults
from .genesys_presence import GenesysPresences
from .issued_tokens import Tokens
from .notification_channels import NotificationChannels
from .presence_records import TeamsSequence
from .request_log import Counters, RequestLogEntry
from .teams_presence import TeamsPresences
from .workstation import Workstation, Workstations


class SimulatorState:
    """The world model. Construct via :class:`~tray_agent.simulator.Simulator`; read and mutate freely on the loop."""

    def __init__(
        self,
        clock: Clock,
        *,
        tenant_id: str,
        ms_client_id: str,
        genesys_client_id: str,
        genesys_redirect_uris: Sequence[str],
        entra_token_lifetime: int,
        genesys_token_lifetime: int,
        genesys_rate_per_minute: int,
        graph_limit_per_30s: int,
        genesys_issue_refresh_tokens: bool,
        auto_approve: bool,
        heartbeat_interval: float,
        device_code_interval: int,
        request_log_size: int,
        teams_away_after_lock: float = 10.0,
        graph_propagation_delay: float = 3.0,
    ) -> None:
        self.clock = clock
        self.apps = AppRegistrations(tenant_id, ms_client_id, genesys_client_id, tuple(genesys_redirect_uris))
        self.auto_approve = auto_approve  # sign-ins are approved without a page (as the default user)
        self.heartbeat_interval = heartbeat_interval  # of the notification websockets
        self.device_code_interval = device_code_interval  # the polling interval Entra tells device-code clients
        self.base_url = ""  # set by the server once it listens
        self.counters = Counters()
        self.request_log: deque[RequestLogEntry] = deque(maxlen=request_log_size)

        self.definitions = PresenceDefinitions()
        teams_sequence = TeamsSequence()
        self.people = People(clock, self.definitions, teams_sequence)
        self.consents = self.people.consents
        # real behaviour: inferred, the client's own delay, at once or within minutes
        self.teams = TeamsPresences(
            self.people,
            clock,
            teams_sequence,
            away_after_lock=teams_away_after_lock,
            propagation_delay=graph_propagation_delay,
        )
        self.workstations = Workstations(self.people, clock, self.teams)
        self.teams.workstation_of = self.workstations.existing
        self.tokens = Tokens(
            clock,
            tenant_id=tenant_id,
            entra_token_lifetime=entra_token_lifetime,
            genesys_token_lifetime=genesys_token_lifetime,
            genesys_rate_per_minute=genesys_rate_per_minute,
            graph_limit_per_30s=graph_limit_per_30s,
            genesys_issue_refresh_tokens=genesys_issue_refresh_tokens,
        )
        self.notifications = NotificationChannels(clock, self.tokens, self.definitions, self.counters)
        self.genesys = GenesysPresences(self.people, self.definitions, self.notifications, self.counters, clock)
        self.faults = Faults(self)

    @property
    def workstation(self) -> Workstation:
        """The default user's workstation (lock, microphone, camera, calendar)."""
        return self.workstations.of(None)

    def log_request(self, entry: RequestLogEntry) -> None:
        self.request_log.append(entry)

    def expire_tokens(self, service: str, *, refresh_tokens: bool = False) -> int:
        """Make every current access token of ``service`` ("graph"/"entra", "genesys" or "all") expired now."""
        count = self.tokens.expire(service, refresh_tokens=refresh_tokens)
        if service in ("genesys", "all"):
            # real behaviour unknown: we assume a channel dies with the token that created it (the
            # genesys-notifications library reads {"result":"404"} as "channel expired or its token expired").
            self.notifications.close_channels_of_dead_tokens()
        return count

    def revoke_genesys_token(self, token: str) -> None:
        """``DELETE /api/v2/tokens/me``: the token and the channels it created die."""
        found = self.tokens.revoke_genesys_token(token)
        if found is not None:
            self.notifications.remove_channels_of_token(found)
