"""Scripted contact-centre days, played against the simulator through the real engine.

Each step happens at a simulated time of day, changes the world the way a person or the cloud
would (Teams status, Genesys routing, a status chosen by hand, a fault), and states the Genesys
status the agent must show once things have settled. The expectations are written by hand from the
product rules — they are the specification the engine is checked against, not a replay of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tray_agent.simulator.state import SimulatorState

Action = Callable[[SimulatorState], object]


@dataclass(frozen=True)
class Step:
    at: str  # "HH:MM" simulated time of day
    story: str
    act: Action
    expect: str  # the Genesys presence label once settled, e.g. "Meeting", "On Queue", "Lunch"
    fault: bool = False
    # Genesys → Teams: once settled, whether Teams shows the agent's own session (None: not checked)
    teams_session: bool | None = None


def teams(availability: str, activity: str) -> Action:
    return lambda state: state.teams.set(availability, activity)


def genesys_by_hand(presence: str) -> Action:
    return lambda state: state.genesys.set_presence(presence, cause="ui")


def routing(status: str) -> Action:
    return lambda state: state.genesys.set_routing(status)


def out_of_office(active: bool) -> Action:
    return lambda state: state.genesys.set_out_of_office(active)


def interaction(media: str, *, connected: bool = True) -> Action:
    """A Genesys ACD interaction connects to the agent (routing follows) or ends."""

    def act(state: SimulatorState) -> None:
        if connected:
            state.genesys.connect_interaction(media)
        else:
            state.genesys.end_interaction(media=media)

    return act


def together(*actions: Action) -> Action:
    def run(state: SimulatorState) -> None:
        for action in actions:
            action(state)

    return run


def graph_throttled(count: int, retry_after: float) -> Action:
    return lambda state: state.faults.throttle_next("graph", count, retry_after)


def genesys_failing(count: int) -> Action:
    return lambda state: state.faults.fail_next("genesys", count, 503)


def drop_sockets() -> Action:
    return lambda state: state.faults.drop_websockets()


def socket_closing() -> Action:
    return lambda state: state.faults.socket_closing()


def lock_workstation(locked: bool) -> Action:
    return lambda state: state.workstation.lock() if locked else state.workstation.unlock()


def microphone(in_use: bool) -> Action:
    return lambda state: state.workstation.set_devices(microphone=in_use)


def calendar_meeting(subject: str, *, starts_in: float, lasts: float, attendees: int = 6) -> Action:
    """A meeting in the agent's calendar, ``starts_in`` seconds from now (Teams shows it at its start)."""

    def add(state: SimulatorState) -> None:
        start = state.clock.now() + starts_in
        state.workstation.set_calendar(
            [{"subject": subject, "start": start, "end": start + lasts, "attendees": attendees}]
        )

    return add


def expire_microsoft_tokens() -> Action:
    return lambda state: state.faults.expire_tokens("entra")


DAY: tuple[Step, ...] = (
    Step("08:10", "Teams: the morning stand-up starts", teams("Busy", "InAMeeting"), "Meeting"),
    Step("08:25", "Teams: stand-up over", teams("Available", "Available"), "Available"),
    Step("08:35", "Genesys: the agent goes On Queue", routing("IDLE"), "On Queue"),
    Step("08:45", "Teams: a colleague calls while the agent is On Queue", teams("Busy", "InACall"), "On Queue"),
    Step(
        "08:55",
        "Genesys: an ACD call is routed to the agent; Teams shows them busy in a call",
        interaction("voice"),
        "On Queue",
        teams_session=True,
    ),
    Step(
        "09:05",
        "Genesys: the ACD call ends and Teams clears; the Teams call ended too",
        together(interaction("voice", connected=False), teams("Available", "Available")),
        "On Queue",
        teams_session=False,
    ),
    Step("09:08", "Genesys: an ACD email is routed to the agent", interaction("email"), "On Queue", teams_session=True),
    Step(
        "09:15",
        "Genesys: email done, the agent goes Off Queue at once while Teams still fades: nothing carried back",
        together(interaction("email", connected=False), routing("OFF_QUEUE")),
        "Available",
        teams_session=False,
    ),
    Step("09:25", "Teams: the agent starts presenting", teams("DoNotDisturb", "Presenting"), "Busy"),
    Step(
        "09:35",
        "Genesys: the agent picks Lunch by hand",
        genesys_by_hand("8e2a4c6b-1f3d-4a5e-9c7b-0d2f4e6a8c1b"),
        "Lunch",
    ),
    Step(
        "09:45",
        "Teams flips Presenting → InACall (same target): the agent's own Lunch stays",
        teams("Busy", "InACall"),
        "Lunch",
    ),
    Step(
        "09:55",
        "Fault: Graph throttles 3 reads (Retry-After 45.5 s); Teams goes Available: the agent's Lunch stands",
        together(graph_throttled(3, 45.5), teams("Available", "Available")),
        "Lunch",
        fault=True,
    ),
    Step("10:05", "Teams: be right back", teams("BeRightBack", "BeRightBack"), "Away"),
    Step(
        "10:15",
        "Fault: notifications socket dropped; the agent picks Break by hand meanwhile",
        together(drop_sockets(), genesys_by_hand("Break")),
        "Break",
        fault=True,
    ),
    Step("10:25", "Teams: a meeting interrupts the break", teams("Busy", "InAMeeting"), "Meeting"),
    Step(
        "10:40",
        "Fault: Genesys closes the socket for maintenance; the meeting ends → Break restored",
        together(socket_closing(), teams("Available", "Available")),
        "Break",
        fault=True,
    ),
    Step("10:55", "Teams: appears offline → Genesys left alone", teams("Offline", "OffWork"), "Break"),
    Step("11:05", "Teams: back online → the agent's Break stands", teams("Available", "Available"), "Break"),
    Step("11:10", "Genesys: the agent ends the break by hand", genesys_by_hand("Available"), "Available"),
    Step("11:15", "Genesys: Out of Office switched on", out_of_office(True), "Available"),
    Step("11:20", "Teams: a meeting while Out of Office → hands off", teams("Busy", "InAMeeting"), "Available"),
    Step("11:35", "Genesys: Out of Office off (the agent's status stays theirs)", out_of_office(False), "Available"),
    Step("11:45", "Teams: available again (already matches)", teams("Available", "Available"), "Available"),
    Step(
        "11:50",
        "Fault: Genesys answers 503 twice; a Teams call starts (the microphone opens)",
        together(genesys_failing(2), teams("Busy", "InACall"), microphone(True)),
        "Busy",
        fault=True,
    ),
    Step(
        "12:05",
        "Fault: Microsoft tokens revoked; the call ends (the microphone closes)",
        together(expire_microsoft_tokens(), teams("Available", "Available"), microphone(False)),
        "Available",
        fault=True,
    ),
    Step(
        "12:10", "Workstation: the agent locks the PC and walks off; Teams turns Away", lock_workstation(True), "Away"
    ),
    Step("12:20", "Workstation: back and unlocked; Teams is Available again", lock_workstation(False), "Available"),
    Step(
        "12:25",
        "Teams: an ad-hoc call, the microphone opens",
        together(teams("Busy", "InACall"), microphone(True)),
        "Busy",
    ),
    Step(
        "12:35",
        "Teams: the call ends, the microphone closes",
        together(teams("Available", "Available"), microphone(False)),
        "Available",
    ),
    Step(
        "12:40",
        "Calendar: the 12:45 team meeting; Teams shows it at its start (not joined)",
        calendar_meeting("Team meeting", starts_in=5 * 60, lasts=15 * 60),
        "Meeting",
    ),
    Step("13:00", "Calendar: the team meeting ends", lambda state: None, "Available"),
    Step("13:10", "Genesys: end of shift, the agent goes Offline by hand", genesys_by_hand("Offline"), "Offline"),
    Step(
        "13:20", "Teams: a late meeting → not bringing an Offline agent online", teams("Busy", "InAMeeting"), "Offline"
    ),
)

SCENARIOS: dict[str, tuple[Step, ...]] = {"day": DAY}
