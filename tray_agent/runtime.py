"""Builds the agent for real use: the user's settings, the cloud endpoints, the OS token store and
the system browser. (The demo builds the same agent against the simulator instead.)"""

from __future__ import annotations

from collections.abc import Callable

from tray_agent.app import Agent, build_agent
from tray_agent.auth.storage import open_token_store
from tray_agent.auth.tokens import system_browser
from tray_agent.clock import RealClock
from tray_agent.engine.memory_store import FileMemory
from tray_agent.engine.snapshot import Snapshot, Transition
from tray_agent.paths import AgentPaths
from tray_agent.settings import Endpoints, Settings


def build_real_agent(
    settings: Settings,
    *,
    paths: AgentPaths | None = None,
    on_snapshot: Callable[[Snapshot], None] | None = None,
    on_transition: Callable[[Transition], None] | None = None,
) -> Agent:
    """Raises SettingsError when the settings do not name a tenant, region or clients yet, and
    KeyringRefused when the OS keyring is not a secure one (unless the settings allow it)."""
    paths = paths or AgentPaths.for_user()
    return build_agent(
        settings,
        Endpoints.cloud(settings.tenant_id, settings.genesys_region, settings.microsoft_cloud),
        clock=RealClock(),
        store=open_token_store(settings, paths=paths),
        browser=system_browser,
        on_snapshot=on_snapshot,
        on_transition=on_transition,
        memory=FileMemory(paths.state_dir / "sync-memory.json"),
    )
