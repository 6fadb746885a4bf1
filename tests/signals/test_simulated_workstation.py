"""The simulator's workstation as the agent's signals: what the demo and ``run --simulator`` follow.

The simulator's answers are played by an httpx MockTransport; the real control API is exercised
end to end in tests/e2e/test_triggers_end_to_end.py."""

from __future__ import annotations

import json

import httpx
import pytest

from tray_agent.core.triggers import SignalKind
from tray_agent.demo.simulated_workstation import (
    FAILURES_ALLOWED,
    SimulatedWorkstation,
    WorkstationAnswerInvalid,
    WorkstationState,
    changes,
    parse_workstation,
)

pytestmark = pytest.mark.anyio


def state(version: int, *, locked: bool = False, microphone: bool = False, camera: bool = False) -> dict[str, object]:
    return {"locked": locked, "microphone": microphone, "camera": camera, "calendar": [], "version": version}


class Simulator:
    """Answers each GET with the next of ``answers`` (a dict is JSON, an int a bare status, bytes a body)."""

    def __init__(self, answers: list[object]) -> None:
        self.answers = list(answers)
        self.queries: list[dict[str, str]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.queries.append(dict(request.url.params))
        if not self.answers:
            return httpx.Response(503)
        answer = self.answers.pop(0)
        if isinstance(answer, int):
            return httpx.Response(answer)
        if isinstance(answer, bytes):
            return httpx.Response(200, content=answer)
        return httpx.Response(200, content=json.dumps(answer).encode())


def workstation(simulator: Simulator, slept: list[float] | None = None) -> SimulatedWorkstation:
    async def sleep(seconds: float) -> None:
        if slept is not None:
            slept.append(seconds)

    return SimulatedWorkstation(
        "https://127.0.0.1:1", "/nonexistent-ca.pem", transport=httpx.MockTransport(simulator.handler), sleep=sleep
    )


@pytest.fixture(autouse=True)
def no_ca_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mock transport never does TLS; the CA file need not exist."""
    import tray_agent.demo.simulated_workstation as module

    monkeypatch.setattr(module, "tls_context", lambda _ca: None)


async def signals_of(source: SimulatedWorkstation, limit: int = 10) -> list[SignalKind]:
    kinds: list[SignalKind] = []
    async for signal in source.watch():
        kinds.append(signal.kind)
        if len(kinds) >= limit:
            break
    return kinds


def test_a_lock_and_devices_going_into_use_are_signals_lock_first() -> None:
    before = WorkstationState(False, False, False, 1)
    after = WorkstationState(True, True, False, 2)
    assert changes(before, after) == [SignalKind.SESSION_LOCKED, SignalKind.DEVICE_IN_USE]


def test_the_camera_after_the_microphone_is_no_new_signal_and_both_released_is_one() -> None:
    microphone = WorkstationState(False, True, False, 2)
    both = WorkstationState(False, True, True, 3)
    released = WorkstationState(False, False, False, 4)
    assert changes(microphone, both) == []
    assert changes(both, released) == [SignalKind.DEVICE_RELEASED]


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ([], "not an object"),
        ({"locked": "yes", "microphone": False, "camera": False, "version": 1}, "locked"),
        ({"locked": False, "microphone": False, "camera": None, "version": 1}, "camera"),
        ({"locked": False, "microphone": False, "camera": False, "version": True}, "version"),
        ({"locked": False, "microphone": False, "camera": False, "version": -1}, "version"),
    ],
)
def test_an_answer_that_is_not_a_workstation_is_refused_naming_the_field(body: object, names: str) -> None:
    with pytest.raises(WorkstationAnswerInvalid, match=names):
        parse_workstation(body)


async def test_the_first_answer_is_the_baseline_and_later_ones_long_poll_after_its_version() -> None:
    simulator = Simulator([state(5, locked=True), state(6, locked=True, microphone=True), state(7, locked=False)])
    source = workstation(simulator)
    assert await source.start() is None
    assert await source.away() is True  # a session locked at start-up: nobody at the desk, no signal
    assert await signals_of(source, 2) == [SignalKind.DEVICE_IN_USE, SignalKind.SESSION_UNLOCKED]
    assert simulator.queries[0] == {}
    assert simulator.queries[1:] == [{"after": "5", "wait": "25"}, {"after": "6", "wait": "25"}]
    assert await source.away() is False


async def test_a_simulator_that_does_not_answer_leaves_the_source_off_with_the_reason() -> None:
    source = workstation(Simulator([404]))
    reason = await source.start()
    assert reason is not None and "does not answer" in reason
    assert await source.away() is False  # never a reason to stop syncing by mistake


async def test_bad_answers_are_retried_keeping_the_last_state_then_watching_goes_on() -> None:
    slept: list[float] = []
    simulator = Simulator([state(1), 500, b"{not json", b"[[[[" * 100, state(2, microphone=True)])
    source = workstation(simulator, slept)
    assert await source.start() is None
    assert await signals_of(source, 1) == [SignalKind.DEVICE_IN_USE]
    assert slept == [1.0, 2.0, 5.0]


async def test_a_simulator_gone_for_good_ends_the_watch() -> None:
    slept: list[float] = []
    simulator = Simulator([state(1)])  # then 503 for ever
    source = workstation(simulator, slept)
    assert await source.start() is None
    assert await signals_of(source) == []
    assert len(slept) == FAILURES_ALLOWED - 1
