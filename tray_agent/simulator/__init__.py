"""A faithful loopback simulator of Microsoft Entra ID + Graph presence and Genesys Cloud.

``Simulator`` (asyncio) or ``SimulatorThread`` (own thread + loop) serve HTTPS on 127.0.0.1 with a
throwaway CA (``ca_path``); the world model and fault injection live on ``.state`` / ``.state.faults``;
a human-usable control page is at ``.control_url``. ``.state.workstation`` is the agent's simulated
workstation (lock, microphone, camera, calendar) that the Teams client reacts to.
"""

from .directory import SimUser
from .faults import Faults, InjectedFault
from .genesys_presence import GenesysEvent
from .request_log import Counters, RequestLogEntry
from .server import (
    DEFAULT_GENESYS_CLIENT_ID,
    DEFAULT_GENESYS_REDIRECT_URIS,
    DEFAULT_MS_CLIENT_ID,
    DEFAULT_TENANT_ID,
    Simulator,
)
from .state import SimulatorState
from .thread import SimulatorThread
from .workstation import CalendarEvent, Workstation

__all__ = [
    "DEFAULT_GENESYS_CLIENT_ID",
    "DEFAULT_GENESYS_REDIRECT_URIS",
    "DEFAULT_MS_CLIENT_ID",
    "DEFAULT_TENANT_ID",
    "CalendarEvent",
    "Counters",
    "Faults",
    "GenesysEvent",
    "InjectedFault",
    "RequestLogEntry",
    "SimUser",
    "Simulator",
    "SimulatorState",
    "SimulatorThread",
    "Workstation",
]
