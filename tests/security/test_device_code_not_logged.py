"""The device-code sign-in's user code is for the agent's eyes only: the tray shows it, the log never
has it, whoever logs the prompt (the engine notes it, the tray logs its notifications and tooltip)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from tests.agent_logging import agent_logging
from tests.e2e.harness import running_world
from tray_agent import logs
from tray_agent.core.service import Service
from tray_agent.engine.snapshot import Command, CommandKind, Link
from tray_agent.simulator.state import SimulatorState

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


async def test_the_user_code_is_shown_but_never_logged(tmp_path: Path) -> None:
    with agent_logging(tmp_path / "tray-agent.log") as log_file:
        async with running_world() as world:
            engine = world.agent.engine
            engine.submit(Command(CommandKind.SIGN_OUT, service=Service.MICROSOFT))
            await world.eventually(lambda: engine.snapshot.microsoft is Link.SIGN_IN_NEEDED, 60, "signed out")
            engine.submit(Command(CommandKind.SIGN_IN, service=Service.MICROSOFT, device_code=True))
            await world.eventually(lambda: bool(engine.snapshot.sign_in_prompt), 60, "the code is shown")
            found = re.search(r"enter the code (\S+)", engine.snapshot.sign_in_prompt)
            assert found is not None, engine.snapshot.sign_in_prompt
            user_code = found.group(1)
            logging.getLogger("tray_agent.tray.app").info("notification: Sign in — %s", engine.snapshot.sign_in_prompt)

            def approve_on_another_device(state: SimulatorState) -> None:
                entry = state.tokens.device_code_by_user_code(user_code)
                assert entry is not None
                entry.status, entry.user_id = "approved", state.people.user().ms_id

            world.act(approve_on_another_device)
            await world.eventually(lambda: engine.snapshot.microsoft is Link.CONNECTED, 1200, "signed in again")
    text = log_file.read_text()
    assert "enter the code [redacted]" in text  # the prompt was logged, by the engine and the tray ...
    assert user_code not in text  # ... but never the code


def test_a_value_named_as_never_logged_is_masked_in_any_line() -> None:
    logs.never_log("QX7KP2LMN")
    assert logs.redact("go to https://microsoft.com/devicelogin and enter QX7KP2LMN now") == (
        "go to https://microsoft.com/devicelogin and enter [redacted] now"
    )
    assert logs.redact("an ordinary line") == "an ordinary line"
