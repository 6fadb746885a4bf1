"""A presence definition's ``languageLabels`` are kept, so the agent can name a presence in its person's
language: every string label under a locale-shaped key, trimmed, bounded (64 locales, 200 characters),
whatever else Genesys (or anyone between) sends skipped, never fatal. The en_US ``label`` that mapping
targets are matched by is read as before. The client asks for every locale (``localeCode=ALL``)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tray_agent.clients.genesys import (
    MAX_LABEL_CHARS,
    MAX_LOCALES,
    GenesysClient,
    parse_definitions,
    parse_language_labels,
    parse_legacy_definitions,
)

API = "https://api.mypurecloud.de"


def entity(labels: Any, **fields: Any) -> dict[str, Any]:
    return {"id": "d1", "systemPresence": "Busy", "type": "User", "languageLabels": labels, **fields}


def parsed_labels(labels: Any, **fields: Any) -> tuple[tuple[str, str], ...]:
    (definition,) = parse_definitions({"entities": [entity(labels, **fields)]})
    return definition.labels


# --- what is kept ----------------------------------------------------------------------------------


def test_every_language_label_is_kept_under_its_key_as_genesys_writes_it() -> None:
    labels = {"en_US": "Teams call", "de": "Teams-Anruf", "fr": "Appel Teams", "pt_BR": "Chamada", "zh_CN": "通话"}
    (definition,) = parse_definitions({"entities": [entity(labels)]})
    assert definition.labels == tuple(labels.items())
    assert definition.label == "Teams call"  # still the en_US label
    assert definition.label_in("de_DE") == "Teams-Anruf" and definition.label_in("zh-CN") == "通话"


def test_the_legacy_definitions_keep_their_labels_too() -> None:
    legacy = {"id": "d1", "name": "Teams call", "primary": False, "systemPresence": "Busy"}
    definitions, _pages = parse_legacy_definitions(
        {"entities": [{**legacy, "languageLabels": {"en_US": "Teams call", "de": "Teams-Anruf"}}], "pageCount": 1}
    )
    assert definitions[0].labels == (("en_US", "Teams call"), ("de", "Teams-Anruf"))


def test_labels_are_trimmed_and_a_key_in_another_casing_is_kept_once() -> None:
    assert parsed_labels({"en_US": "  Teams call ", " de ": "Teams-Anruf\u00a0", "DE": "Zweiter"}) == (
        ("en_US", "Teams call"),
        ("de", "Teams-Anruf"),
    )


def test_the_en_us_label_is_read_as_before() -> None:
    assert parse_definitions({"entities": [entity({"de": "Teams-Anruf"}, name="Teams call")]})[0].label == "Teams call"
    assert parse_definitions({"entities": [entity({"EN-us": "Teams call"})]})[0].label == "Teams call"
    assert parse_definitions({"entities": [entity(None)]})[0].label == "Busy"  # the system presence in words


# --- what is skipped, never fatal --------------------------------------------------------------------


@pytest.mark.parametrize(
    "labels",
    [
        pytest.param(None, id="no languageLabels"),
        pytest.param(["en_US", "Teams call"], id="a list"),
        pytest.param("Teams call", id="a string"),
        pytest.param({"de": 7, "fr": None, "es": ["Llamada"], "it": {"x": "y"}, "ja": True}, id="non-string labels"),
        pytest.param({"de": "", "fr": "   "}, id="empty labels"),
        pytest.param({"": "x", "d": "x", "deutsch-de-x-y-z": "x", "../etc": "x", "de DE": "x"}, id="keys not locales"),
        pytest.param({"de": "x" * (MAX_LABEL_CHARS + 1)}, id="a huge label"),
        pytest.param({"de": "Teams\nAnruf", "fr": "Appel\x00Teams", "es": "\x1b[31mLlamada"}, id="control characters"),
    ],
)
def test_hostile_language_labels_are_skipped(labels: Any) -> None:
    assert parsed_labels(labels) == ()


def test_a_label_of_exactly_the_limit_is_kept_once_trimmed() -> None:
    longest = "x" * MAX_LABEL_CHARS
    assert parsed_labels({"de": f"  {longest}  "}) == (("de", longest),)


def test_at_most_64_locales_are_kept_per_definition() -> None:
    keys = [first + second for first in "abcd" for second in "abcdefghijklmnopqrstuvwxyz"]  # aa, ab … dz
    kept = parsed_labels({"not a key": "x", **{key: f"label {key}" for key in keys}})
    assert len(kept) == MAX_LOCALES == 64
    assert kept[0] == ("aa", "label aa") and kept[-1] == (keys[63], f"label {keys[63]}")  # the first, in order


def test_a_hostile_label_skips_only_itself() -> None:
    assert parsed_labels({"en_US": "Teams call", "de": 7, "fr": "x" * 10_000, "es": "Llamada de Teams"}) == (
        ("en_US", "Teams call"),
        ("es", "Llamada de Teams"),
    )


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.text(max_size=12), st.none() | st.integers() | st.text(max_size=300), max_size=80) | st.text()
)
def test_any_language_labels_give_bounded_string_pairs(raw: Any) -> None:
    kept = parse_language_labels(raw)
    assert len(kept) <= MAX_LOCALES
    for key, text in kept:
        assert isinstance(key, str) and key == key.strip() and len(key) >= 2
        assert isinstance(text, str) and text == text.strip() and 0 < len(text) <= MAX_LABEL_CHARS


# --- the request ---------------------------------------------------------------------------------------


async def token() -> str:
    return "genesys-token"


@pytest.mark.anyio
@pytest.mark.parametrize("status", [200, 403])
async def test_the_client_asks_for_every_locale_from_either_list(status: int) -> None:
    requests: list[httpx.Request] = []
    body = {"entities": [entity({"en_US": "Teams call", "de": "Teams-Anruf"}, primary=False)], "pageCount": 1}

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.url.path == "/api/v2/presence/definitions":
            return httpx.Response(status, content=json.dumps(body).encode())
        return httpx.Response(200, content=json.dumps(body).encode())

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        definitions = await GenesysClient(http, token, API).presence_definitions()
    assert definitions[0].label_in("de") == "Teams-Anruf"
    assert [request.url.params.get("localeCode") for request in requests] == ["ALL"] * len(requests)
    assert len(requests) == (1 if status == 200 else 2)  # 403: the legacy list, which needs no permission
