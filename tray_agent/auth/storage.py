"""Where tokens live between runs. Production storage is the OS keyring (see issue 3); until that
lands, tokens are kept in memory only, which means signing in again after a restart."""

from __future__ import annotations

from tray_agent.auth.tokens import MemoryTokenStore, TokenStore


def open_token_store() -> TokenStore:
    return MemoryTokenStore()
