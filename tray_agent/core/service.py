"""The two services the agent links: Microsoft (Teams presence, read) and Genesys Cloud (presence, written).

A ``StrEnum``: each member *is* its string (``Service.GENESYS == "genesys"``), so what is printed,
logged or accepted on the command line is the plain name.
"""

from __future__ import annotations

import enum


class Service(enum.StrEnum):
    MICROSOFT = "microsoft"
    GENESYS = "genesys"
