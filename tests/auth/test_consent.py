"""Incremental consent for Calendars.ReadBasic: the sign-in stays Presence.Read alone; the calendar
token is silent or says consent is missing; the consent page's answers become granted, declined or
"an administrator must approve", and only a grant for the same account is kept."""

from __future__ import annotations

from typing import Any

import msal
import pytest

from tests.auth.fake_msal import (
    AUTHORITY,
    CLIENT,
    OTHER_OID,
    ConsentPage,
    Entra,
    FakeApplication,
    signed_in_cache,
    token_answer,
)
from tray_agent.auth.consent import Consent, ConsentRequired, needs_consent, outcome_of
from tray_agent.auth.microsoft import CACHE_KEY, CALENDAR_SCOPES, PRESENCE_WRITE_SCOPES, SCOPES, MicrosoftAuth
from tray_agent.auth.tokens import MemoryTokenStore, SignInRequired

pytestmark = pytest.mark.anyio

# What Entra's token endpoint answers a refresh for a scope the user never consented to (MSAL passes it on).
NOT_CONSENTED = {
    "error": "invalid_grant",
    "error_description": "AADSTS65001: The user or administrator has not consented to use the application with ID "
    f"'{CLIENT}' named 'Teams Genesys Presence'. Send an interactive authorization request for this user and resource.",
    "error_codes": [65001],
    "suberror": "consent_required",
}
EXPIRED = {
    "error": "invalid_grant",
    "error_description": "AADSTS700082: The refresh token has expired due to inactivity.",
    "error_codes": [700082],
    "suberror": "bad_token",
}


@pytest.fixture
def entra(monkeypatch: pytest.MonkeyPatch) -> Entra:
    entra = Entra()

    def build(self: MicrosoftAuth, cache: msal.SerializableTokenCache) -> FakeApplication:
        return FakeApplication(cache, entra)

    monkeypatch.setattr(MicrosoftAuth, "_build_application", build)
    return entra


def signed_in(store: MemoryTokenStore | None = None) -> tuple[MicrosoftAuth, MemoryTokenStore]:
    store = store or MemoryTokenStore()
    store.save(CACHE_KEY, signed_in_cache())
    return MicrosoftAuth(authority=AUTHORITY, client_id=CLIENT, store=store), store


def scopes_asked(entra: Entra, call: str) -> list[tuple[str, ...]]:
    return [scopes for name, scopes, _ in entra.asked if name == call]


# --- the sign-in keeps to Presence.Read -----------------------------------------------------------


def test_the_sign_in_asks_for_presence_read_alone_and_the_calendar_is_its_own_scope() -> None:
    assert SCOPES == ["Presence.Read"]
    assert CALENDAR_SCOPES == ["Calendars.ReadBasic"]
    assert PRESENCE_WRITE_SCOPES == ("Presence.ReadWrite",)  # Teams write-back: its own consent, never at sign-in


async def test_a_browser_sign_in_asks_for_presence_read_only(entra: Entra) -> None:
    auth = MicrosoftAuth(authority=AUTHORITY, client_id=CLIENT, store=MemoryTokenStore())
    await auth.sign_in(ConsentPage(), 10)
    assert scopes_asked(entra, "auth_code_flow") == [("Presence.Read",)]
    assert auth.signed_in


async def test_the_presence_token_is_still_asked_for_presence_read_only(entra: Entra) -> None:
    entra.silent["Presence.Read"] = token_answer("Presence.Read", access="presence-token")
    auth, _ = signed_in()
    assert await auth.access_token() == "presence-token"
    assert scopes_asked(entra, "silent") == [("Presence.Read",)]


# --- the calendar token, silently ------------------------------------------------------------------


async def test_a_calendar_token_is_silent_when_consented_and_leaves_the_sign_in_expiry_alone(entra: Entra) -> None:
    entra.silent["Calendars.ReadBasic"] = token_answer("Calendars.ReadBasic", access="calendar-token")
    auth, _ = signed_in()
    assert await auth.token_for(CALENDAR_SCOPES) == "calendar-token"
    assert auth.expires_at is None  # the tray's "Microsoft sign-in expires" is about Presence.Read's token
    assert scopes_asked(entra, "silent_with_error") == [("Calendars.ReadBasic",)]


async def test_without_consent_the_calendar_token_says_so_and_not_sign_in_again(entra: Entra) -> None:
    entra.silent["Calendars.ReadBasic"] = NOT_CONSENTED
    auth, _ = signed_in()
    with pytest.raises(ConsentRequired, match=r"Calendars\.ReadBasic"):
        await auth.token_for(CALENDAR_SCOPES)
    assert auth.signed_in  # the sign-in itself is untouched


async def test_an_expired_sign_in_is_sign_in_required_for_the_calendar_too(entra: Entra) -> None:
    entra.silent["Calendars.ReadBasic"] = EXPIRED
    auth, _ = signed_in()
    with pytest.raises(SignInRequired, match="expired"):
        await auth.token_for(CALENDAR_SCOPES)


async def test_not_signed_in_is_sign_in_required(entra: Entra) -> None:
    auth = MicrosoftAuth(authority=AUTHORITY, client_id=CLIENT, store=MemoryTokenStore())
    with pytest.raises(SignInRequired, match="not signed in"):
        await auth.token_for(CALENDAR_SCOPES)


# --- the consent step ------------------------------------------------------------------------------


async def test_a_granted_consent_asks_only_for_the_calendar_for_the_same_account_and_is_kept(entra: Entra) -> None:
    auth, store = signed_in()
    before = store.load(CACHE_KEY)
    page = ConsentPage()
    outcome = await auth.ask_consent(CALENDAR_SCOPES, page, 10)
    assert outcome.consent is Consent.GRANTED, outcome.message
    assert len(page.opened) == 1 and page.opened[0].startswith("http://127.0.0.1:")  # the one-time link
    flows = [(scopes, prompt) for name, scopes, prompt in entra.asked if name == "auth_code_flow"]
    assert flows == [(("Calendars.ReadBasic",), None)]  # no account picker: the account signed in
    assert store.load(CACHE_KEY) != before  # the account's fresh sign-in, with the permission, is saved
    assert auth.account_id is not None and auth.signed_in


@pytest.mark.parametrize(
    ("answer", "consent", "words"),
    [
        (
            {"error": "access_denied", "error_description": "AADSTS65004: User declined to consent to access the app."},
            Consent.DECLINED,
            "declined",
        ),
        (
            {
                "error": "access_denied",
                "error_description": "AADSTS90094: An administrator of Contoso has set a policy that prevents you "
                "from granting Teams Genesys Presence the permissions it is requesting.",
            },
            Consent.NEEDS_ADMIN,
            "your organisation requires an administrator to approve Calendars.ReadBasic",
        ),
        (
            {
                "error": "consent_required",
                "error_description": "AADSTS65001: The user or administrator has not consented to use the application.",
            },
            Consent.NEEDS_ADMIN,
            "ask IT to grant consent for it (AADSTS65001)",
        ),
        ({"error": "server_error", "error_description": "AADSTS50000: something"}, Consent.FAILED, "server_error"),
    ],
    ids=["declined", "admin-policy-90094", "admin-65001", "other"],
)
async def test_the_consent_pages_answer_is_an_outcome_and_the_sign_in_is_untouched(
    entra: Entra, answer: dict[str, str], consent: Consent, words: str
) -> None:
    auth, store = signed_in()
    before = store.load(CACHE_KEY)
    outcome = await auth.ask_consent(CALENDAR_SCOPES, ConsentPage(answer), 10)
    assert outcome.consent is consent and words in outcome.message, outcome
    assert store.load(CACHE_KEY) == before and auth.signed_in


async def test_a_consent_made_by_another_account_is_refused_and_nothing_changes(entra: Entra) -> None:
    entra.consenting_oid = OTHER_OID
    auth, store = signed_in()
    before = store.load(CACHE_KEY)
    outcome = await auth.ask_consent(CALENDAR_SCOPES, ConsentPage(), 10)
    assert outcome.consent is Consent.FAILED and "different account" in outcome.message
    assert store.load(CACHE_KEY) == before


async def test_a_token_answer_without_the_permission_is_not_a_grant(entra: Entra) -> None:
    entra.redeemed = token_answer("Presence.Read openid profile")
    auth, store = signed_in()
    before = store.load(CACHE_KEY)
    outcome = await auth.ask_consent(CALENDAR_SCOPES, ConsentPage(), 10)
    assert outcome.consent is Consent.DECLINED
    assert store.load(CACHE_KEY) == before


async def test_a_refused_redemption_is_explained(entra: Entra) -> None:
    entra.redeemed = {
        "error": "invalid_grant",
        "error_description": "AADSTS65001: not consented",
        "error_codes": [65001],
    }
    auth, _ = signed_in()
    outcome = await auth.ask_consent(CALENDAR_SCOPES, ConsentPage(), 10)
    assert outcome.consent is Consent.NEEDS_ADMIN


async def test_consent_is_never_asked_before_the_sign_in(entra: Entra) -> None:
    auth = MicrosoftAuth(authority=AUTHORITY, client_id=CLIENT, store=MemoryTokenStore())
    page = ConsentPage()
    outcome = await auth.ask_consent(CALENDAR_SCOPES, page, 10)
    assert outcome.consent is Consent.FAILED and "sign in to Microsoft first" in outcome.message
    assert page.opened == [] and entra.asked == []


async def test_a_consent_page_left_open_gives_up_at_its_timeout(entra: Entra) -> None:
    async def nobody_answers(link: str) -> None:
        return None

    auth, _ = signed_in()
    outcome = await auth.ask_consent(CALENDAR_SCOPES, nobody_answers, 0.2)
    assert outcome.consent is Consent.FAILED and "within 0.2 s" in outcome.message


def test_only_a_missing_consent_counts_as_one() -> None:
    assert needs_consent(NOT_CONSENTED)
    assert needs_consent({"error": "interaction_required", "error_codes": [65001]})
    assert not needs_consent(EXPIRED) and not needs_consent(None) and not needs_consent({"access_token": "x"})


def test_an_error_code_from_the_page_is_never_shown_unless_it_is_a_plain_word() -> None:
    answer: dict[str, Any] = {"error": "<script>alert(1)</script>"}
    assert "script" not in outcome_of(answer, CALENDAR_SCOPES).message
