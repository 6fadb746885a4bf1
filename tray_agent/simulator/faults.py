"""Injectable faults: latency, 5xx, 429, dropped/closing sockets, expired tokens/channels, network loss.

Reached as ``sim.state.faults``. Service names: ``"graph"``, ``"entra"``, ``"genesys"`` (``/api/v2``),
``"genesys-login"`` (``/oauth``), ``"notifications"`` (websocket upgrades) and ``"all"`` (everything except
the control surface). Methods are synchronous; call them on the simulator's loop.

Finer targets name one endpoint each (:data:`TARGETS`); ``fail_next``, ``throttle_next`` and
``set_latency`` (a stall) take them in place of a service. A fault queued for a target is taken by that
endpoint first, then one queued for its service, then for "all"; latencies add up:

==========================================  ===============================================================
``graph_get_presence``                      ``GET /v1.0/me/presence``
``graph_set_presence``                      ``POST /v1.0/me/presence/setPresence`` (also ``/users/{id}/...``)
``graph_clear_presence``                    ``POST /v1.0/me/presence/clearPresence``
``graph_set_user_preferred_presence``       ``POST /v1.0/me/presence/setUserPreferredPresence``
``graph_clear_user_preferred_presence``     ``POST /v1.0/me/presence/clearUserPreferredPresence``
==========================================  ===============================================================
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .state import SimulatorState

SERVICES = ("graph", "entra", "genesys", "genesys-login", "notifications", "all")
TARGETS = (
    "graph_get_presence",
    "graph_set_presence",
    "graph_clear_presence",
    "graph_set_user_preferred_presence",
    "graph_clear_user_preferred_presence",
    "genesys_users_me",  # GET /api/v2/users/me: the agent's identity and the sync's Genesys re-reads
)


@dataclass(frozen=True)
class InjectedFault:
    status: int  # 5xx, or 429
    retry_after: float | None = None  # only for 429; None = no Retry-After header


def _check(service: str, *, targets: bool = False) -> str:
    known = SERVICES + TARGETS if targets else SERVICES
    if service not in known:
        raise ValueError(f"unknown service {service!r}; expected one of {known}")
    return service


class Faults:
    def __init__(self, state: SimulatorState) -> None:
        self._state = state
        self.latency: dict[str, float] = {}
        self._queued: dict[str, deque[InjectedFault]] = {}
        self.heartbeats_stopped = False
        self.is_network_down = False
        self.consent_blocked = False
        self.user_consent_blocked = False
        self._token_rewrites: dict[str, deque[Callable[[str], str]]] = {}

    # -------------------------------------------------------------- request faults

    def rewrite_next_token_answer(self, service: str, rewrite: Callable[[str], str]) -> None:
        """The next successful token answer of "entra" or "genesys-login" is sent as ``rewrite(its JSON
        text)``: a hostile or broken token endpoint (deep nesting, ``expires_in`` of NaN or 1e308)."""
        self._token_rewrites.setdefault(_check(service), deque()).append(rewrite)

    def token_answer(self, service: str, text: str) -> str:
        queued = self._token_rewrites.get(service)
        return queued.popleft()(text) if queued else text

    def set_latency(self, service: str, seconds: float) -> None:
        """Delay every request of ``service`` (or of one endpoint: a target) by ``seconds`` of simulated
        time (0 clears)."""
        if seconds < 0:
            raise ValueError("latency must be >= 0")
        self.latency[_check(service, targets=True)] = seconds

    def latency_for(self, service: str, target: str | None = None) -> float:
        extra = self.latency.get(target, 0.0) if target is not None else 0.0
        return extra + self.latency.get(service, 0.0) + self.latency.get("all", 0.0)

    def fail_next(self, service: str, count: int = 1, status: int = 503) -> None:
        """The next ``count`` requests of ``service`` get ``status`` (5xx) with that service's error body."""
        if not 500 <= status <= 599:
            raise ValueError("fail_next expects a 5xx status")
        queue = self._queued.setdefault(_check(service, targets=True), deque())
        queue.extend(InjectedFault(status) for _ in range(count))

    def throttle_next(self, service: str, count: int = 1, retry_after: float | None = 1.0) -> None:
        """The next ``count`` requests of ``service`` get 429.

        Graph sends ``Retry-After`` as given (fractional allowed); Genesys rounds it up to whole seconds,
        and ``retry_after=None`` means no header at all (Genesys code ``too.many.requests``).
        """
        queue = self._queued.setdefault(_check(service, targets=True), deque())
        queue.extend(InjectedFault(429, retry_after) for _ in range(count))

    def take(self, service: str, target: str | None = None) -> InjectedFault | None:
        """Consume the next queued fault for ``target`` (an endpoint), else ``service``, else "all"."""
        for key in (target, service, "all") if target is not None else (service, "all"):
            queue = self._queued.get(key)
            if queue:
                return queue.popleft()
        return None

    # -------------------------------------------------------------- socket / token / channel faults

    def drop_websockets(self) -> None:
        """Abort every websocket's TCP connection (no close frame: clients see 1006)."""
        self._state.notifications.observer.drop_all_sockets()

    def socket_closing(self, close_after: float = 1.0) -> None:
        """Send ``v2.system.socket_closing`` on every socket, then close them ``close_after`` sim-seconds later."""
        self._state.notifications.observer.socket_closing(close_after)

    def stop_heartbeats(self, stopped: bool = True) -> None:
        self.heartbeats_stopped = stopped

    def expire_tokens(self, service: str, *, refresh_tokens: bool = False) -> int:
        """Expire every current access token of "graph"/"entra" or "genesys" (→ 401). Returns how many."""
        return self._state.expire_tokens(service, refresh_tokens=refresh_tokens)

    def expire_channels(self) -> None:
        """Every notification channel disappears: HEAD → 404, connected sockets get ``{"result":"404"}``."""
        self._state.notifications.expire_all_channels()

    def network_down(self, down: bool = True) -> None:
        """While down, every connection (HTTP and websocket) is aborted without a response."""
        self.is_network_down = down
        if down:
            self._state.notifications.observer.drop_all_sockets()

    def entra_consent_blocked(self, blocked: bool = True) -> None:
        """Tenant policy blocks user consent: sign-in ends with ``consent_required`` (AADSTS65001)."""
        self.consent_blocked = blocked

    def user_consent_disabled(self, disabled: bool = True) -> None:
        """The tenant requires admin approval for permissions not consented yet: an interactive sign-in
        asking for one ends with ``consent_required`` (AADSTS65001); already consented ones (Presence.Read)
        keep working."""
        self.user_consent_blocked = disabled

    def clear(self) -> None:
        self.latency.clear()
        self._queued.clear()
        self.heartbeats_stopped = False
        self.is_network_down = False
        self.consent_blocked = False
        self.user_consent_blocked = False
        self._token_rewrites.clear()

    def snapshot(self) -> dict[str, Any]:
        return {
            "latency": dict(self.latency),
            "queued": {k: [f.status for f in v] for k, v in self._queued.items() if v},
            "heartbeatsStopped": self.heartbeats_stopped,
            "networkDown": self.is_network_down,
            "entraConsentBlocked": self.consent_blocked,
            "userConsentDisabled": self.user_consent_blocked,
        }
