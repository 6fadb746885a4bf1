"""Genesys Cloud Platform API: the agent's own user, presences and notification channel.

Parsing is separate from I/O (``parse_*``) so malformed answers are tested directly; every parser
raises :class:`BadResponse` rather than letting a KeyError or TypeError escape.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import httpx

from tray_agent.clients.errors import BadResponse, Rejected
from tray_agent.clients.genesys_conversations import parse_conversation_summary
from tray_agent.clients.http import TokenGetter, json_body, request
from tray_agent.clock import parse_iso
from tray_agent.core.interactions import InteractionSummary
from tray_agent.core.presence import GenesysState, PresenceDefinition, normalise_system_presence

log = logging.getLogger(__name__)

SERVICE = "Genesys Cloud"
MAX_LEGACY_PAGES = 10  # 1,000 presences: more than any org defines
# languageLabels: Genesys documents 25 locales (below); anything past these bounds is not a label.
MAX_LOCALES = 64  # per definition
MAX_LABEL_CHARS = 200  # per label, once trimmed
LOCALE_CODE_ALL = "ALL"  # the definitions' localeCode for every label
_LOCALE_KEY = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,3}")
ACTIVITY_TOPIC = "v2.users.{user_id}.activity"


@dataclass(frozen=True, slots=True)
class GenesysUser:
    id: str
    name: str
    state: GenesysState


@dataclass(frozen=True, slots=True)
class Channel:
    id: str
    connect_uri: str
    expires: float


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadResponse(SERVICE, f"{what} is not a JSON object")
    return value


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise BadResponse(SERVICE, f"{what} is missing")
    return value


def timestamp_or_zero(value: Any) -> float:
    """An ISO timestamp from a response as epoch seconds; 0.0 when absent or malformed."""
    if isinstance(value, str):
        try:
            return parse_iso(value)
        except ValueError:
            return 0.0
    return 0.0


def parse_user_me(body: Any, now: float) -> GenesysUser:
    """``GET /api/v2/users/me?expand=presence,routingStatus,outOfOffice``."""
    user = _dict(body, "users/me answer")
    presence = _dict(user.get("presence"), "users/me presence")
    definition = _dict(presence.get("presenceDefinition"), "presence definition")
    routing = user.get("routingStatus")
    ooo = user.get("outOfOffice")
    return GenesysUser(
        id=_str(user.get("id"), "user id"),
        name=str(user["name"]) if isinstance(user.get("name"), str) else "",
        state=GenesysState(
            presence_id=_str(definition.get("id"), "presence definition id"),
            system_presence=normalise_system_presence(definition.get("systemPresence")),
            routing_status=_routing_status(routing),
            out_of_office=bool(isinstance(ooo, dict) and ooo.get("active") is True),
            confirmed_at=now,
            modified_at=timestamp_or_zero(presence.get("modifiedDate")),
        ),
    )


def _routing_status(routing: Any) -> str:
    if isinstance(routing, dict) and isinstance(routing.get("status"), str):
        return str(routing["status"]).upper()
    # Not expanded or absent: Genesys documents OFF_QUEUE as its own default for unknown users.
    return "OFF_QUEUE"


def parse_user_presence(body: Any) -> tuple[str, str, float]:
    """A ``UserPresence`` (PATCH/GET presences/purecloud) → (definition id, system presence, modified)."""
    presence = _dict(body, "presence answer")
    definition = _dict(presence.get("presenceDefinition"), "presence definition")
    return (
        _str(definition.get("id"), "presence definition id"),
        normalise_system_presence(definition.get("systemPresence")),
        timestamp_or_zero(presence.get("modifiedDate")),
    )


def parse_language_labels(raw: Any) -> tuple[tuple[str, str], ...]:
    """A definition's ``languageLabels`` as (locale key, label) pairs, in the order Genesys sent them.

    Which keys Genesys writes. *Confirmed*: the ``localeCode`` values the SDKs list for
    ``GET /api/v2/presence/definitions`` (e.g. platform-client-sdk-javascript docs/PresenceApi.md) are
    ``en_US``, ``pt_BR``, ``pt_PT``, ``zh_CN`` and ``zh_TW`` with a region and every other language
    bare: ``ar cs da de es fi fr he it ja ko nl no pl ru sv th tr uk`` (German is ``de``, not
    ``de_DE``). Genesys's Terraform provider accepts the same keys plus ``en`` and ``hi``; an org's
    answer captured there shows ``{"en": …, "en_US": …}`` and ``{"en_US": …, "es": …}`` on secondary
    presences and only ``en_US`` on the system ones (MyPureCloud/terraform-provider-genesyscloud,
    genesyscloud/organization_presence_definition/). *Inferred*: that no other spelling turns up; so
    any locale-shaped key is kept, to be matched case-insensitively, ``-`` and ``_`` alike
    (core/presence.py ``label_in``).

    Kept: string keys shaped like a locale and string labels, trimmed, non-empty, at most
    :data:`MAX_LABEL_CHARS` long and without control characters; at most :data:`MAX_LOCALES` of them;
    a key repeated in another casing only once. Anything else is skipped, never fatal.
    """
    if not isinstance(raw, dict):
        return ()
    kept: dict[str, tuple[str, str]] = {}
    for key, value in raw.items():
        if len(kept) >= MAX_LOCALES:
            break
        if not isinstance(key, str) or not isinstance(value, str):
            continue
        key, text = key.strip(), value.strip()
        if not _LOCALE_KEY.fullmatch(key) or not text or len(text) > MAX_LABEL_CHARS:
            continue
        if any(unicodedata.category(char) == "Cc" for char in text):
            continue
        kept.setdefault(key.replace("-", "_").lower(), (key, text))
    return tuple(kept.values())


def parse_definitions(body: Any) -> list[PresenceDefinition]:
    """``GET /api/v2/presence/definitions``: entries that don't parse are skipped, not fatal.

    ``label`` is the en_US label (else ``name``, else the system presence in words): what mapping
    targets are matched by. ``labels`` are every usable ``languageLabels`` entry (:func:`parse_language_labels`).
    """
    listing = _dict(body, "presence definitions answer")
    entities = listing.get("entities")
    if not isinstance(entities, list):
        raise BadResponse(SERVICE, "presence definitions answer has no entities")
    definitions = []
    for entity in entities:
        if not isinstance(entity, dict) or not isinstance(entity.get("id"), str) or not entity["id"].strip():
            continue
        system = normalise_system_presence(entity.get("systemPresence"))
        labels = entity.get("languageLabels")
        label = ""
        if isinstance(labels, dict):
            label = next(
                (
                    v
                    for k, v in labels.items()
                    if isinstance(k, str) and k.lower() in ("en_us", "en-us") and isinstance(v, str)
                ),
                "",
            )
        if not label and isinstance(entity.get("name"), str):
            label = entity["name"]
        definitions.append(
            PresenceDefinition(
                id=entity["id"],
                system_presence=system,
                label=label or system.replace("_", " ").title(),
                secondary=str(entity.get("type", "System")).lower() == "user",
                deactivated=entity.get("deactivated") is True,
                labels=parse_language_labels(labels),
            )
        )
    if not definitions:
        raise BadResponse(SERVICE, "presence definitions answer lists no usable presence")
    return definitions


def parse_legacy_definitions(body: Any) -> tuple[list[PresenceDefinition], int]:
    """``GET /api/v2/presencedefinitions`` (``OrganizationPresence`` pages) → (definitions, page count).

    Legacy entities say ``primary: true`` for the system presences instead of ``type``; they are put in
    the new shape and read by :func:`parse_definitions`, so both answers are held to the same rules.
    """
    listing = _dict(body, "presence definitions answer")
    entities = listing.get("entities")
    if not isinstance(entities, list):
        raise BadResponse(SERVICE, "presence definitions answer has no entities")
    reshaped = [
        {**entity, "type": "System" if entity.get("primary") is not False else "User"}
        for entity in entities
        if isinstance(entity, dict)
    ]
    pages = listing.get("pageCount")
    return parse_definitions({"entities": reshaped}), pages if isinstance(pages, int) and pages > 0 else 1


def parse_channel(body: Any) -> Channel:
    channel = _dict(body, "channel answer")
    uri = _str(channel.get("connectUri"), "channel connectUri")
    if not uri.startswith("wss://"):  # never a notifications socket without TLS
        raise BadResponse(SERVICE, "channel connectUri is not a secure websocket (wss://) address")
    return Channel(
        id=_str(channel.get("id"), "channel id"), connect_uri=uri, expires=timestamp_or_zero(channel.get("expires"))
    )


class GenesysClient:
    def __init__(self, http: httpx.AsyncClient, token: TokenGetter, api_base_url: str) -> None:
        self._http = http
        self._token = token
        self._base = api_base_url.rstrip("/")

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await request(self._http, SERVICE, method, self._base + path, await self._token(), **kwargs)

    async def me(self, now: float) -> GenesysUser:
        response = await self._call("GET", "/api/v2/users/me", params={"expand": "presence,routingStatus,outOfOffice"})
        return parse_user_me(json_body(SERVICE, response), now)

    async def presence_definitions(self) -> list[PresenceDefinition]:
        """The org's presences, for an agent with or without ``presence:presenceDefinition:view``.

        1. ``GET /api/v2/presence/definitions`` (needs that permission, SDK PresenceApi.md);
        2. on 403, the legacy ``GET /api/v2/presencedefinitions`` ("Requires no permissions"; deprecated,
           paged), so a least-privilege agent role still syncs.

        Both with ``localeCode=ALL`` ("Use ALL to fetch everything", SDK PresenceApi.md): every
        ``languageLabels`` entry, to name the presence in the agent's language. Which labels come back
        without it is not documented.
        """
        params = {"deactivated": "false", "localeCode": LOCALE_CODE_ALL}
        try:
            response = await self._call("GET", "/api/v2/presence/definitions", params=params)
        except Rejected as error:
            if error.status != 403:
                raise
            log.info("no presence:presenceDefinition:view permission: reading the legacy presence definitions")
            return await self._legacy_presence_definitions()
        return parse_definitions(json_body(SERVICE, response))

    async def _legacy_presence_definitions(self) -> list[PresenceDefinition]:
        found: list[PresenceDefinition] = []
        page, pages = 1, 1
        while page <= min(pages, MAX_LEGACY_PAGES):
            params = {"pageSize": "100", "pageNumber": str(page), "deleted": "false", "localeCode": LOCALE_CODE_ALL}
            try:
                response = await self._call("GET", "/api/v2/presencedefinitions", params=params)
            except Rejected as error:
                raise Rejected(
                    SERVICE,
                    "your Genesys role may not read presence definitions (presence:presenceDefinition:view): "
                    "ask IT to add it to your role",
                    status=error.status,
                    code=error.code,
                ) from None
            definitions, pages = parse_legacy_definitions(json_body(SERVICE, response))
            found.extend(definitions)
            page += 1
        return found

    async def set_my_presence(self, user_id: str, definition_id: str) -> tuple[str, str, float]:
        """PATCH the PURECLOUD presence with ``primary: true``: where another source (an integration) is
        primary, a write without it is kept for PURECLOUD but not shown (SDK PresenceApi.md,
        patch_user_presences_purecloud, "Option 1"; Genesys's own Teams blueprint sends it too)."""
        response = await self._call(
            "PATCH",
            f"/api/v2/users/{user_id}/presences/purecloud",
            json_payload={"presenceDefinition": {"id": definition_id}, "primary": True},
        )
        return parse_user_presence(json_body(SERVICE, response))

    async def conversation_summary(self, user_id: str) -> InteractionSummary:
        """``GET /api/v2/users/{userId}/conversations/summary``: which media the user has active
        conversations in (counts only, no customer data; :mod:`.genesys_conversations`)."""
        response = await self._call("GET", f"/api/v2/users/{user_id}/conversations/summary")
        summary = parse_conversation_summary(json_body(SERVICE, response))
        if summary is None:
            raise BadResponse(SERVICE, "conversation summary answer is not a JSON object")
        return summary

    async def create_channel(self) -> Channel:
        return parse_channel(json_body(SERVICE, await self._call("POST", "/api/v2/notifications/channels")))

    async def subscribe(self, channel_id: str, topics: list[str], *, optional: Collection[str] = ()) -> dict[str, str]:
        """PUT replaces the channel's topics (and extends its 24 h lifetime). A rejected topic (a
        ``ChannelTopic`` with ``state: Rejected``) raises BadResponse, unless it is in ``optional``:
        those are returned instead, topic → Genesys's reason, and the channel carries on without them."""
        response = await self._call(
            "PUT",
            f"/api/v2/notifications/channels/{channel_id}/subscriptions",
            json_payload=[{"id": topic} for topic in topics],
        )
        listing = json_body(SERVICE, response)
        entities = listing.get("entities") if isinstance(listing, dict) else None
        refused: dict[str, str] = {}
        for entity in entities if isinstance(entities, list) else ():
            if not isinstance(entity, dict) or str(entity.get("state", "")).lower() != "rejected":
                continue
            topic = entity.get("id")
            if not isinstance(topic, str) or topic not in optional:
                raise BadResponse(SERVICE, f"subscription to {topic!s:.80} was rejected")
            refused[topic] = _rejection_reason(entity)
        return refused


def _rejection_reason(entity: dict[str, Any]) -> str:
    """A ``ChannelTopic``'s ``rejectionReason`` and ``missingPermissions``, one bounded line for the log."""
    reason = entity.get("rejectionReason")
    text = " ".join(str(reason).split())[:160] if isinstance(reason, str) and reason.strip() else "no reason given"
    missing = entity.get("missingPermissions")
    if isinstance(missing, list) and missing:
        names = ", ".join(" ".join(str(name).split())[:60] for name in missing[:5])
        text += f" (missing permissions: {names})"
    return text
