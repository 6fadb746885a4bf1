"""What a person's presence is in each cloud right now: the records the other parts read and change.

:class:`TeamsPresence` is what Microsoft Graph reports (``GET /me/presence``); :class:`GenesysStatus` is
a Genesys Cloud user's presence, routing status, out of office and queues. Changing them is the job of
:mod:`.teams_presence` and :mod:`.genesys_presence`; these are plain data.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

#: Who caused a Genesys change: "api" = an OAuth token (the agent app); "ui"/"control" = the control
#: surface (the agent clicking in Genesys, or a test); "system" = Genesys itself.
Cause = Literal["api", "control", "ui", "system"]
RoutingStatus = Literal["OFF_QUEUE", "IDLE", "INTERACTING", "NOT_RESPONDING", "COMMUNICATING"]
ROUTING_STATUSES: tuple[str, ...] = ("OFF_QUEUE", "IDLE", "INTERACTING", "NOT_RESPONDING", "COMMUNICATING")


@dataclass
class TeamsPresence:
    availability: str = "Available"
    activity: str = "Available"
    status_message: str | None = None
    status_message_expiry: float | None = None
    status_message_published: float | None = None
    out_of_office: bool = False
    out_of_office_message: str | None = None
    sequence_number: str = ""


class TeamsSequence:
    """Graph's presence ``sequenceNumber``: one counter for the whole tenant, stamped on every change."""

    def __init__(self) -> None:
        self._count = itertools.count(1)

    def next(self) -> str:
        # Graph: "lexicographically sortable String stamp"; zero-padded so string order == numeric order.
        return f"{next(self._count):020d}"


@dataclass
class GenesysStatus:
    definition_id: str
    message: str
    modified: float
    routing_status: str
    routing_start: float
    ooo_active: bool
    ooo_start: float | None
    ooo_end: float | None
    ooo_indefinite: bool
    ooo_modified: float
    queue_ids: tuple[str, ...]
    queues_changed: float
    # Several presence sources: the *primary* one's presence is the one shown (users/me, events). SDK
    # PresenceApi.md, patch_user_presences_purecloud: "Set the 'primary' property to true. This will set
    # the PURECLOUD source as the user's primary presence source." (inferred: a PURECLOUD write while
    # another source is primary is kept for that source but not shown.)
    primary_source: str = "PURECLOUD"
    unshown_purecloud_definition_id: str | None = None

    @property
    def on_queue(self) -> bool:
        return self.routing_status != "OFF_QUEUE"
