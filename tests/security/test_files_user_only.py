"""Everything the agent writes is readable by the user only — including what it writes later on:
the log file it starts after rotating the old one, under the usual umask."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from tray_agent import logs
from tray_agent.config.paths import AgentPaths, write_private

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> object:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_every_log_file_stays_user_only_after_rotation(tmp_path: Path, usual_umask: object) -> None:
    log_file = tmp_path / "logs" / "tray-agent.log"
    logs.configure(log_file, console=False)
    try:
        for n in range(2500):  # ~1.2 MB of ordinary lines: past the 1 MB rotation
            logging.getLogger("tray_agent.test").warning("line %d %s", n, "words " * 80)
    finally:
        for handler in logging.getLogger().handlers:
            handler.flush()
        logs.configure(None, console=False)
    files = sorted(log_file.parent.iterdir())
    assert [path.name for path in files] == ["tray-agent.log", "tray-agent.log.1"]
    assert {path.name: oct(mode(path)) for path in files} == dict.fromkeys(
        ["tray-agent.log", "tray-agent.log.1"], oct(0o600)
    )


def test_the_agents_folders_are_user_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, usual_umask: object) -> None:
    monkeypatch.setenv("TRAY_AGENT_HOME", str(tmp_path / "home"))
    where = AgentPaths.for_user().ensure()
    for folder in (where.config_dir, where.state_dir, where.log_dir):
        assert mode(folder) == 0o700, folder


def test_private_files_are_user_only_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0)  # the most permissive umask a session can have
    try:
        write_private(tmp_path / "state" / "file.json", "{}")
    finally:
        os.umask(previous)
    assert mode(tmp_path / "state" / "file.json") == 0o600
