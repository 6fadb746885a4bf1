"""Running the OS's tools: an argument list, a timeout, a cap on the output; failures are ReadFailed.

These start real (tiny) Python processes. The timeout is checked on virtual time: the loop jumps
straight to the deadline, so no test waits for it on the wall clock.
"""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from tests.engine.virtual_time import run_virtual
from tray_agent.signals import commands
from tray_agent.signals.commands import run_command
from tray_agent.signals.polled_source import ReadFailed


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_command_gives_its_output_and_runs_untranslated_without_a_shell() -> None:
    output = asyncio.run(run_command(python("import os; print(os.environ['LC_ALL'], '$HOME;*')")))
    assert output == "C $HOME;*\n"  # nothing was expanded: no shell


def test_a_command_gets_only_the_environment_it_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://agent:hunter2@proxy.example:8080")
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/1000")
    output = asyncio.run(run_command(python("import os, json; print(json.dumps(dict(os.environ)))")))
    environment = json.loads(output)
    assert "HTTPS_PROXY" not in environment
    assert environment["XDG_RUNTIME_DIR"] == "/run/user/1000"


def test_a_command_that_fails_is_a_read_failure_naming_only_the_program_and_status() -> None:
    with pytest.raises(ReadFailed, match=r"^python[0-9.]* exited with status 3$"):
        asyncio.run(run_command(python("import sys; print('secret'); sys.exit(3)")))


def test_a_program_that_is_not_there_is_a_read_failure() -> None:
    with pytest.raises(ReadFailed, match="cannot be run"):
        asyncio.run(run_command(["/nonexistent/pw-dump"]))


def test_a_command_that_writes_too_much_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(commands, "OUTPUT_CAP", 1000)
    with pytest.raises(ReadFailed, match="wrote more than"):
        asyncio.run(run_command(python("import sys; sys.stdout.write('x' * 100_000)")))


def test_a_command_that_does_not_answer_in_time_is_killed_and_is_a_read_failure() -> None:
    async def story() -> str:
        with pytest.raises(ReadFailed, match="did not answer within 2 s") as failure:
            await run_command(python("import time; time.sleep(3600)"), timeout=2.0)
        return str(failure.value)

    assert run_virtual(story())  # returning at all means the process was killed and reaped
