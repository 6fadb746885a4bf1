"""A tester's setup: ``tray-agent simulator --speed N`` in one process, ``tray-agent run --simulator``
in another, killed and started again while the simulator keeps its state. Real processes, real
HTTPS and websockets; every wait is on a condition read from the simulator's control API.
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tray_agent.demo.runner import free_port

pytestmark = pytest.mark.e2e

SPEED = 20.0
WITHIN = 90.0  # real seconds: generous on a loaded 2-core machine; the waits end as soon as it holds


@contextmanager
def process(*args: str, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    child = subprocess.Popen(
        [sys.executable, "-m", "tray_agent", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(10)


class Simulator:
    def __init__(self, child: subprocess.Popen[str]) -> None:
        assert child.stdout is not None
        lines = [child.stdout.readline() for _ in range(4)]
        self.base_url = lines[0].split()[-1]
        self.ca_file = lines[2].split()[-1]
        self._context = ssl.create_default_context(cafile=self.ca_file)

    def call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        url = f"{self.base_url}/control/api/{path}"
        with httpx.Client(verify=self._context, timeout=10) as http:
            answer = http.get(url) if body is None else http.post(url, json=body)
            return answer.raise_for_status().json()

    def genesys_shows(self) -> str:
        return str(self.call("state")["users"][0]["genesys"]["label"])


def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WITHIN
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WITHIN} s: {what}")
        time.sleep(0.1)


def agent_env(home: Path) -> dict[str, str]:
    return {**os.environ, "TRAY_AGENT_HOME": str(home), "PYTHONUNBUFFERED": "1"}


def test_a_killed_and_restarted_agent_restores_the_status_from_before_the_meeting(tmp_path: Path) -> None:
    env = agent_env(tmp_path)
    with process("simulator", "--speed", str(SPEED), "--redirect-port", str(free_port()), env=env) as sim_process:
        sim = Simulator(sim_process)
        sim.call("genesys/presence", {"systemPresence": "Training"})
        with process("run", "--simulator", sim.base_url, "--ca", sim.ca_file, env=env) as agent:
            sim.call("teams", {"availability": "Busy", "activity": "InAMeeting"})
            until(lambda: sim.genesys_shows() == "Meeting", "the meeting reaches Genesys")
            agent.send_signal(signal.SIGTERM)
            assert agent.wait(30) == 0
        memory = json.loads((tmp_path / "state" / "sync-memory.json").read_text())
        assert memory["episode"]["restore"] == next(
            d["id"] for d in sim.call("state")["definitions"] if d["label"] == "Training"
        )
        with process("run", "--simulator", sim.base_url, "--ca", sim.ca_file, env=env):
            until(lambda: "sync memory restored" in (tmp_path / "logs" / "tray-agent.log").read_text(), "restarted")
            sim.call("teams", {"availability": "Available", "activity": "Available"})
            until(lambda: sim.genesys_shows() == "Training", "Training is restored after the restart")


@pytest.mark.parametrize("command", [["simulator"], ["demo", "--headless"]])
def test_sigterm_removes_the_simulators_private_key(tmp_path: Path, command: list[str]) -> None:
    with process(*command, env=agent_env(tmp_path)) as child:
        assert child.stdout is not None
        ca_line = ""
        while not ca_line:
            line = child.stdout.readline()
            assert line, "the command ended before printing its CA"
            ca_line = line if "CA:" in line else ""
        folder = Path(ca_line.split()[-1]).parent
        assert folder.name.startswith("tray-agent-sim-") and folder.exists()
        child.send_signal(signal.SIGTERM)
        assert child.wait(30) == 0
    assert not folder.exists(), "the simulator's key was left in the temp folder"
