"""What the sign-in, sign-out and doctor commands share: the user's settings, the endpoints (the cloud,
or the simulator for testing), the token store and the two sign-in flows.

Pointing a command at the simulator: ``--simulator https://127.0.0.1:PORT --ca /path/to/ca.pem``
(hidden options; see docs/tray.md). The CA is *added* to the trust store; verification stays on.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tray_agent.auth.genesys_pkce import GenesysAuth
from tray_agent.auth.microsoft import MicrosoftAuth
from tray_agent.auth.tokens import BrowserOpener, TokenStore, system_browser
from tray_agent.clients.http import make_http_client
from tray_agent.clients.proxy import ProxyResolver
from tray_agent.config.endpoints import Endpoints
from tray_agent.config.layers import load_effective_settings
from tray_agent.config.paths import AgentPaths
from tray_agent.config.settings import Settings, SettingsError

SERVICES = ("microsoft", "genesys")


def add_target_options(parser: argparse.ArgumentParser) -> None:
    """``--simulator URL`` and ``--ca FILE``: talk to the embedded simulator instead of the cloud."""
    parser.add_argument("--simulator", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--ca", metavar="FILE", help=argparse.SUPPRESS)


@dataclass(frozen=True, slots=True)
class Target:
    paths: AgentPaths
    settings: Settings
    settings_problem: str | None  # the settings file could not be used (defaults are in effect)
    locked: frozenset[str] = frozenset()  # set by IT policy
    policy_problems: tuple[str, ...] = ()  # unusable policy values (their defaults are in effect)
    policy_origins: tuple[str, ...] = ()  # where the policy in effect came from

    def endpoints(self, args: argparse.Namespace) -> Endpoints:
        """Raises SettingsError naming what is missing."""
        simulator: str | None = getattr(args, "simulator", None)
        ca: str | None = getattr(args, "ca", None)
        if ca and not simulator:
            raise SettingsError("--ca is only for --simulator (the cloud uses the system's trusted CAs)")
        if simulator:
            if not simulator.startswith("https://"):
                raise SettingsError("--simulator must be the simulator's https:// address")
            if not ca or not Path(ca).is_file():
                raise SettingsError("--simulator needs --ca with the simulator's CA file")
            return Endpoints.simulator(simulator.rstrip("/"), self.settings.tenant_id, ca)
        return Endpoints.cloud(self.settings.tenant_id, self.settings.genesys_region, self.settings.microsoft_cloud)

    def missing(self) -> list[str]:
        """Settings a sign-in cannot do without."""
        names = ("tenant_id", "microsoft_client_id", "genesys_client_id")
        return [name for name in names if not getattr(self.settings, name)]


def load_target() -> Target:
    paths = AgentPaths.for_user().ensure()
    layered = load_effective_settings(paths)
    return Target(
        paths,
        layered.settings,
        layered.file_problem,
        locked=layered.locked,
        policy_problems=layered.policy.problems,
        policy_origins=layered.policy.origins,
    )


def proxies_for(target: Target) -> ProxyResolver:
    """The same resolver the tray agent uses (app.resolver_for), for the CLI commands."""
    from tray_agent.agent import resolver_for

    return resolver_for(target.settings)


def build_microsoft(target: Target, endpoints: Endpoints, store: TokenStore) -> MicrosoftAuth:
    if not target.settings.microsoft_client_id:
        raise SettingsError("microsoft_client_id is not set (ask IT for the agent's app registration)")
    return MicrosoftAuth(
        authority=endpoints.entra_authority,
        client_id=target.settings.microsoft_client_id,
        store=store,
        ca_file=endpoints.extra_ca_file,
        windows_broker=target.settings.windows_broker,
        genesys_email=lambda: _remembered_genesys_email(store),
        allow_different_emails=target.settings.allow_different_emails,
        proxy_for=proxies_for(target).proxy_url,
    )


def _remembered_genesys_email(store: TokenStore) -> str | None:
    from tray_agent.auth.genesys_pkce import remembered_email

    return remembered_email(store)


def _remembered_microsoft_upn(target: Target, endpoints: Endpoints, store: TokenStore) -> str | None:
    if not target.settings.microsoft_client_id:
        return None
    return build_microsoft(target, endpoints, store).account_name


@contextlib.asynccontextmanager
async def genesys_auth(target: Target, endpoints: Endpoints, store: TokenStore) -> AsyncIterator[GenesysAuth]:
    if not target.settings.genesys_client_id:
        raise SettingsError("genesys_client_id is not set (ask IT for the agent's Genesys OAuth client)")
    http = make_http_client(endpoints.extra_ca_file, proxy=proxies_for(target).proxy_url(endpoints.genesys_login_base))
    try:
        yield GenesysAuth(
            login_base_url=endpoints.genesys_login_base,
            api_base_url=endpoints.genesys_api_base,
            client_id=target.settings.genesys_client_id,
            redirect_port=target.settings.genesys_redirect_port,
            http=http,
            store=store,
            microsoft_email=lambda: _remembered_microsoft_upn(target, endpoints, store),
            allow_different_emails=target.settings.allow_different_emails,
        )
    finally:
        await http.aclose()


def terminal_browser(*, open_browser: bool, out: TextIO = sys.stdout) -> BrowserOpener:
    """Opens the system browser; prints the address instead with ``open_browser=False`` or no browser."""
    opener: Callable[[str], Awaitable[None]] = system_browser

    async def show(url: str) -> None:
        if open_browser:
            try:
                await opener(url)
            except RuntimeError:
                pass
            else:
                out.write("Your browser has been opened: finish signing in there.\n")
                out.flush()
                return
        out.write(f"Open this address in a browser on this computer to sign in:\n\n  {url}\n\n")
        out.flush()

    return show
