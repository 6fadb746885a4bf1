"""Everything the simulated sign-in services hand out: authorization codes, device codes, access and
refresh tokens (Entra and Genesys), with their lifetimes, Graph's per-app budget and the Genesys org's
Idle Token Timeout.

Tokens are opaque random strings; a token's record says whose it is, for which client, and until when.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

from tray_agent.clock import Clock

from .ratelimit import SlidingWindow

ENTRA_CODE_LIFETIME = 600.0
GENESYS_CODE_LIFETIME = 600.0  # real behaviour unknown: Genesys does not document the code lifetime
ENTRA_REFRESH_LIFETIME = 90 * 86400.0
GENESYS_REFRESH_LIFETIME = 30 * 86400.0
DEVICE_CODE_LIFETIME = 900.0
_USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

TokenStatus = Literal["ok", "expired", "invalid"]


@dataclass
class EntraAuthCode:
    code: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    user_id: str
    expires_at: float


@dataclass
class EntraToken:
    token: str
    user_id: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: float
    revoked: bool = False


@dataclass
class DeviceCode:
    device_code: str
    user_code: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: float
    status: Literal["pending", "approved", "declined", "consent_required", "redeemed"] = "pending"
    user_id: str | None = None


@dataclass
class GenesysAuthCode:
    code: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    user_id: str
    expires_at: float


@dataclass
class GenesysToken:
    token: str
    user_id: str
    client_id: str
    created: float
    expires_at: float
    revoked: bool = False
    window: SlidingWindow | None = None
    last_used: float | None = None  # for the org's Idle Token Timeout; None = since it was issued

    def idles_at(self, idle_timeout: float | None) -> float | None:
        if idle_timeout is None:
            return None
        return (self.created if self.last_used is None else self.last_used) + idle_timeout


class Tokens:
    """Codes and tokens of both clouds. User ids are Microsoft object ids for Entra tokens and Genesys
    user ids for Genesys tokens."""

    def __init__(
        self,
        clock: Clock,
        *,
        tenant_id: str,
        entra_token_lifetime: int,
        genesys_token_lifetime: int,
        genesys_rate_per_minute: int,
        graph_limit_per_30s: int,
        genesys_issue_refresh_tokens: bool,
    ) -> None:
        self._clock = clock
        self._tenant_id = tenant_id
        self.entra_token_lifetime = entra_token_lifetime
        self.genesys_token_lifetime = genesys_token_lifetime
        self.genesys_rate_per_minute = genesys_rate_per_minute
        self.graph_limit_per_30s = graph_limit_per_30s
        self.genesys_issue_refresh_tokens = genesys_issue_refresh_tokens
        # The org's Idle Token Timeout (Genesys: 5 min to 8 h, at most 15 min with HIPAA; IdleTokenTimeout.md):
        # a token not used for this long is ended. Every authenticated API call counts as use, except
        # GET /api/v2/tokens/me?preserveIdleTTL=true; websocket traffic does not (inferred: undocumented).
        self.genesys_idle_timeout: float | None = None

        self.entra_codes: dict[str, EntraAuthCode] = {}
        self.entra_redeemed_codes: set[str] = set()
        self.entra_access_tokens: dict[str, EntraToken] = {}
        self.entra_refresh_tokens: dict[str, EntraToken] = {}
        self.device_codes: dict[str, DeviceCode] = {}
        self._device_by_user_code: dict[str, DeviceCode] = {}
        self.graph_windows: dict[tuple[str, str], SlidingWindow] = {}
        # Outlook's own limit, apart from the presence budget: "10,000 API requests in a 10 minute period"
        # per app per mailbox (Graph throttling limits, Outlook service).
        self.outlook_limit_per_10min = 10_000
        self.outlook_windows: dict[tuple[str, str], SlidingWindow] = {}

        self.genesys_codes: dict[str, GenesysAuthCode] = {}
        self.genesys_redeemed_codes: set[str] = set()
        self.genesys_tokens: dict[str, GenesysToken] = {}
        self.genesys_refresh_tokens: dict[str, GenesysToken] = {}

    def secrets_handed_out(self) -> set[str]:
        """Every code and token this simulator issued (redeemed or not): none may appear in the
        agent's files, logs or output — the security tests scan for exactly these."""
        return {
            *self.entra_codes,
            *self.entra_redeemed_codes,
            *self.entra_access_tokens,
            *self.entra_refresh_tokens,
            *self.device_codes,
            *self.genesys_codes,
            *self.genesys_redeemed_codes,
            *self.genesys_tokens,
            *self.genesys_refresh_tokens,
        }

    def _status(self, found: EntraToken | GenesysToken | None) -> TokenStatus:
        if found is None or found.revoked:
            return "invalid"
        now = self._clock.now()
        if isinstance(found, GenesysToken):
            idles_at = found.idles_at(self.genesys_idle_timeout)
            if idles_at is not None and now >= idles_at:
                return "expired"  # ended by the idle timeout (real behaviour unknown: the code it answers with)
        return "expired" if now >= found.expires_at else "ok"

    # ------------------------------------------------------------------ Entra

    def new_entra_access_token(self, user_id: str, client_id: str, scopes: tuple[str, ...]) -> EntraToken:
        token = EntraToken(
            "eyJ0eXAiOiJzaW0ifQ." + secrets.token_urlsafe(48),  # opaque to clients; "sim" prefix for humans
            user_id,
            client_id,
            scopes,
            self._clock.now() + self.entra_token_lifetime,
        )
        self.entra_access_tokens[token.token] = token
        return token

    def new_entra_refresh_token(self, user_id: str, client_id: str, scopes: tuple[str, ...]) -> EntraToken:
        token = EntraToken(
            "0.SIM" + secrets.token_urlsafe(64), user_id, client_id, scopes, self._clock.now() + ENTRA_REFRESH_LIFETIME
        )
        self.entra_refresh_tokens[token.token] = token
        return token

    def entra_token_status(self, token: str) -> tuple[TokenStatus, EntraToken | None]:
        found = self.entra_access_tokens.get(token)
        return self._status(found), found

    def add_device_code(self, client_id: str, scopes: tuple[str, ...]) -> DeviceCode:
        user_code = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(9))
        entry = DeviceCode(
            "SIMDC." + secrets.token_urlsafe(48), user_code, client_id, scopes, self._clock.now() + DEVICE_CODE_LIFETIME
        )
        self.device_codes[entry.device_code] = entry
        self._device_by_user_code[user_code] = entry
        return entry

    def device_code_by_user_code(self, user_code: str) -> DeviceCode | None:
        return self._device_by_user_code.get(user_code.strip().upper().replace("-", ""))

    def graph_window(self, client_id: str) -> SlidingWindow:
        """The presence budget shared by every user of one app in this tenant."""
        key = (self._tenant_id, client_id)
        window = self.graph_windows.get(key)
        if window is None:
            window = self.graph_windows[key] = SlidingWindow(self.graph_limit_per_30s, 30.0)
        return window

    def outlook_window(self, client_id: str, user_id: str) -> SlidingWindow:
        """The calendar budget of one app for one mailbox."""
        key = (client_id, user_id)
        window = self.outlook_windows.get(key)
        if window is None:
            window = self.outlook_windows[key] = SlidingWindow(self.outlook_limit_per_10min, 600.0)
        return window

    # ------------------------------------------------------------------ Genesys

    def new_genesys_token(self, user_id: str, client_id: str) -> GenesysToken:
        now = self._clock.now()
        token = GenesysToken(secrets.token_urlsafe(64), user_id, client_id, now, now + self.genesys_token_lifetime)
        self.genesys_tokens[token.token] = token
        return token

    def new_genesys_refresh_token(self, user_id: str, client_id: str) -> GenesysToken:
        now = self._clock.now()
        token = GenesysToken(secrets.token_urlsafe(64), user_id, client_id, now, now + GENESYS_REFRESH_LIFETIME)
        self.genesys_refresh_tokens[token.token] = token
        return token

    def genesys_token_status(self, token: str) -> tuple[TokenStatus, GenesysToken | None]:
        found = self.genesys_tokens.get(token)
        return self._status(found), found

    def use_genesys_token(self, token: GenesysToken) -> None:
        """An API call with ``token``: it restarts the idle timeout."""
        token.last_used = self._clock.now()

    def revoke_genesys_token(self, token: str) -> GenesysToken | None:
        """The token (if it is one) is revoked; its channels are the notification part's business."""
        found = self.genesys_tokens.get(token)
        if found is not None:
            found.revoked = True
        return found

    # ------------------------------------------------------------------ both

    def expire(self, service: str, *, refresh_tokens: bool = False) -> int:
        """Make every current access token of ``service`` ("graph"/"entra", "genesys" or "all") expired
        now (and with ``refresh_tokens`` revoke the refresh tokens too); how many were still current."""
        if service not in ("graph", "entra", "genesys", "all"):
            raise ValueError(f"unknown service {service!r}")
        now = self._clock.now()
        count = 0
        entra = service in ("graph", "entra", "all")
        genesys = service in ("genesys", "all")
        access: list[EntraToken | GenesysToken] = [
            *(self.entra_access_tokens.values() if entra else ()),
            *(self.genesys_tokens.values() if genesys else ()),
        ]
        for token in access:
            if token.expires_at > now:
                token.expires_at, count = now, count + 1
        if refresh_tokens:
            refresh: list[EntraToken | GenesysToken] = [
                *(self.entra_refresh_tokens.values() if entra else ()),
                *(self.genesys_refresh_tokens.values() if genesys else ()),
            ]
            for token in refresh:
                token.revoked = True
        return count
