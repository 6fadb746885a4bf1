"""The bodies of the user topics a notification channel can carry (``v2.users.{id}.activity`` and
friends): what Genesys publishes when a person's presence, routing status or out of office changes."""

from __future__ import annotations

import re
from typing import Any

from tray_agent.clock import iso

from .definitions import PresenceDefinitions
from .directory import SimUser

#: A user topic: ``v2.users.<genesys user id>.<kind>``.
USER_TOPIC = re.compile(r"^v2\.users\.([0-9A-Za-z-]+)\.([A-Za-z]+)$")


def activity_body(person: SimUser, definitions: PresenceDefinitions) -> dict[str, Any]:
    g = person.genesys
    definition = definitions[g.definition_id]
    return {
        "id": person.genesys_id,
        "routingStatus": routing_status_of(person),
        "presence": {
            "presenceDefinition": {"id": definition.id, "systemPresence": definition.event_system_presence},
            "presenceMessage": g.message,
            "modifiedDate": iso(g.modified),
        },
        "outOfOffice": {"active": g.ooo_active, "modifiedDate": iso(g.ooo_modified)},
        "activeQueueIds": list(g.queue_ids) if g.on_queue else [],
        "dateActiveQueuesChanged": iso(g.queues_changed),
    }


def presence_body(person: SimUser, definitions: PresenceDefinitions) -> dict[str, Any]:
    g = person.genesys
    definition = definitions[g.definition_id]
    # real behaviour unknown: systemPresence casing on this topic; we use the event casing
    return {
        "source": "PURECLOUD",
        "presenceDefinition": {"id": definition.id, "systemPresence": definition.event_system_presence},
        "primary": True,
        "message": g.message,
        "modifiedDate": iso(g.modified),
    }


def routing_status_body(person: SimUser) -> dict[str, Any]:
    return {"id": person.genesys_id, "routingStatus": routing_status_of(person)}


def routing_status_of(person: SimUser) -> dict[str, Any]:
    return {"status": person.genesys.routing_status, "startTime": iso(person.genesys.routing_start)}


#: ``UserConversationSummary`` fields, in the SDK model's order (inferred from the Platform API SDKs; the
#: reference does not confirm the shape): each a ``MediaSummary`` {contactCenter, enterprise}, each a
#: ``MediaSummaryDetail`` {active, acw}.
SUMMARY_FIELDS = ("call", "callback", "email", "message", "video", "chat", "socialExpression")
#: The media an interaction can be in (the control surface's names) and its summary field.
FIELD_OF_MEDIA = {"voice": "call", "callback": "callback", "chat": "chat", "message": "message", "email": "email"}


def conversation_summary_body(person: SimUser, active: list[tuple[str, bool]]) -> dict[str, Any]:
    """The REST ``/users/{id}/conversations/summary`` body and the ``v2.users.{id}.conversationsummary``
    event body: counts of the person's own active conversations (``(media, acd)`` pairs), no customer
    data. ACD conversations count under ``contactCenter``, the others under ``enterprise``; no after-call
    work is simulated (``acw`` 0)."""
    body: dict[str, Any] = {"userId": person.genesys_id}
    for name in SUMMARY_FIELDS:
        mine = [acd for media, acd in active if FIELD_OF_MEDIA.get(media) == name]
        body[name] = {
            "contactCenter": {"active": sum(1 for acd in mine if acd), "acw": 0},
            "enterprise": {"active": sum(1 for acd in mine if not acd), "acw": 0},
        }
    return body


def out_of_office_body(person: SimUser) -> dict[str, Any]:
    """Also the REST ``/users/{id}/outofoffice`` body (which adds its ``selfUri``)."""
    g = person.genesys
    return {
        "user": {"id": person.genesys_id, "selfUri": f"/api/v2/users/{person.genesys_id}"},
        "startDate": iso(g.ooo_start) if g.ooo_start is not None else None,
        "endDate": iso(g.ooo_end) if g.ooo_end is not None else None,
        "active": g.ooo_active,
        "indefinite": g.ooo_indefinite,
    }
