"""Where the agent keeps its files, per user (platformdirs), and how they are written.

``TRAY_AGENT_HOME`` moves everything under one folder (tests, portable runs). Files are written
atomically (temp file + rename) and readable by the user only (0600; folders 0700 on POSIX).
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "TeamsGenesysPresence"
APP_AUTHOR = "TrayAgent"


@dataclass(frozen=True, slots=True)
class AgentPaths:
    config_dir: Path
    state_dir: Path
    log_dir: Path

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.toml"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "tray-agent.log"

    @property
    def activity_file(self) -> Path:
        """The agent's story, kept across restarts (engine/activity.py)."""
        return self.state_dir / "activity.jsonl"

    @classmethod
    def for_user(cls) -> AgentPaths:
        home = os.environ.get("TRAY_AGENT_HOME")
        if home:
            root = Path(home)
            return cls(root / "config", root / "state", root / "logs")
        return cls(
            Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR)),
            Path(platformdirs.user_state_dir(APP_NAME, APP_AUTHOR)),
            Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR)),
        )

    def ensure(self) -> AgentPaths:
        for folder in (self.config_dir, self.state_dir, self.log_dir):
            folder.mkdir(parents=True, exist_ok=True)
            if os.name == "posix":
                folder.chmod(0o700)
        return self


def write_private(path: Path, text: str) -> None:
    """Write ``text`` atomically, user-only: a crash leaves either the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if sys.platform != "win32":  # (mypy narrows sys.platform, not os.name)
            os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
