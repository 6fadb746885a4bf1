"""Without the demo extra (or in an installed agent, which carries no simulator), the demo commands say
how to get it, in one paragraph, and exit non-zero: no traceback. The missing module is made missing
for real, in a child interpreter: a ``sitecustomize`` on ``PYTHONPATH`` puts a meta path finder first
that refuses to find it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tray_agent.commands.demo_extra import DEMO_NOT_INSTALLED_EXIT

BLOCKER = """\
import sys


class _NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name == {blocked!r} or name.startswith({blocked!r} + "."):
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, _NotInstalled())
"""


def run_without(blocked: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "sitecustomize.py").write_text(BLOCKER.format(blocked=blocked), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path, check=False
    )


def test_the_blocker_blocks(tmp_path: Path) -> None:
    done = run_without("aiohttp", tmp_path, "-c", "import aiohttp")
    assert done.returncode != 0 and "No module named 'aiohttp'" in done.stderr


DEMO_COMMANDS = [["demo", "--headless"], ["demo"], ["simulator"]]
RUN_ON_A_SIMULATOR = ["run", "--simulator", "https://127.0.0.1:1", "--ca", "ca.pem"]
CASES = [
    *[
        (blocked, command)
        for blocked in ("aiohttp", "tray_agent.simulator", "tray_agent.demo")
        for command in DEMO_COMMANDS
    ],
    # it needs only the demo's browser (the simulator runs elsewhere), which an installed agent lacks
    ("tray_agent.demo", RUN_ON_A_SIMULATOR),
]


@pytest.mark.parametrize(("blocked", "command"), CASES, ids=[f"{b}-{' '.join(c[:2])}" for b, c in CASES])
def test_a_demo_command_without_the_demo_says_how_to_get_it(blocked: str, command: list[str], tmp_path: Path) -> None:
    done = run_without(blocked, tmp_path, "-m", "tray_agent", *command)
    assert done.returncode == DEMO_NOT_INSTALLED_EXIT, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    message = done.stderr.strip()
    assert "pip install 'tray-agent[demo]'" in message
    assert f"`tray-agent {' '.join(command[:2]) if command[0] == 'run' else command[0]}`" in message
    assert "\n\n" not in message and done.stdout == ""  # one paragraph, on stderr


SIGN_IN_WITHOUT_AIOHTTP = """\
import asyncio
import sys
import urllib.request

import tray_agent.auth.genesys_pkce, tray_agent.auth.microsoft, tray_agent.cli  # what an installed agent loads
from tray_agent.auth.loopback import LoopbackRedirect


async def main():
    listener = LoopbackRedirect(path="/callback", expected_state="s")
    port = await listener.start()
    waiting = asyncio.create_task(listener.wait(10))
    url = f"http://127.0.0.1:{port}/callback?code=c&state=s"
    page = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=10).read())  # noqa: S310
    print((await waiting)["code"], b"signed in" in page.lower(), "aiohttp" in sys.modules)


asyncio.run(main())
"""


def test_the_agent_signs_in_without_aiohttp(tmp_path: Path) -> None:
    """aiohttp is the demo extra's: the agent's sign-in redirect listener runs where it is not installed."""
    done = run_without("aiohttp", tmp_path, "-c", SIGN_IN_WITHOUT_AIOHTTP)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["c", "True", "False"]
