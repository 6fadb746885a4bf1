"""``forget()``: each sign-in removes what it saved, without settings or network (sign-out with incomplete settings)."""

from __future__ import annotations

from tray_agent.auth.genesys_pkce import STORE_KEY, GenesysAuth
from tray_agent.auth.microsoft import CACHE_KEY, MicrosoftAuth
from tray_agent.auth.tokens import MemoryTokenStore


def a_store_with_both_sign_ins() -> MemoryTokenStore:
    store = MemoryTokenStore()
    store.save(CACHE_KEY, '{"AccessToken": {}}')
    store.save(STORE_KEY, '{"access_token": "t"}')
    return store


def test_microsoft_forgets_only_its_own_sign_in_and_says_whether_there_was_one() -> None:
    store = a_store_with_both_sign_ins()
    assert MicrosoftAuth.forget(store) is True
    assert store.load(CACHE_KEY) is None
    assert store.load(STORE_KEY) is not None
    assert MicrosoftAuth.forget(store) is False


def test_genesys_forgets_only_its_own_sign_in_and_says_whether_there_was_one() -> None:
    store = a_store_with_both_sign_ins()
    assert GenesysAuth.forget(store) is True
    assert store.load(STORE_KEY) is None
    assert store.load(CACHE_KEY) is not None
    assert GenesysAuth.forget(store) is False
