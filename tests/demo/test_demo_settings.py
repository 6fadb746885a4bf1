"""The demo's window and the demo's engine start from the same settings: the demo's own file, under
this machine's IT policy."""

from __future__ import annotations

from pathlib import Path

from tray_agent.config.paths import AgentPaths
from tray_agent.config.policy import Policy
from tray_agent.config.settings import Settings
from tray_agent.config.settings_file import UserSettingsFile
from tray_agent.demo.demo_tray import demo_settings_file

IT_LOCKS_MEETINGS = Policy(mapping=(("InAMeeting", "Training"),), locked=frozenset({"mapping.InAMeeting"}))


def agent_paths(root: Path) -> AgentPaths:
    return AgentPaths(root / "config", root / "state", root / "logs").ensure()


def test_the_demo_engine_follows_the_mapping_it_policy_locks_in_the_demo_window(tmp_path: Path) -> None:
    demo_paths, sync = demo_settings_file(agent_paths(tmp_path), lambda: IT_LOCKS_MEETINGS)
    assert dict(sync.mapping.entries)["inameeting"] == "Training"  # what the engine starts on
    shown = UserSettingsFile(demo_paths.settings_file, lambda: IT_LOCKS_MEETINGS).current()  # the window's
    assert "mapping.InAMeeting" in shown.locked and shown.settings.sync == sync


def test_the_demo_writes_its_own_settings_file_fresh_and_never_the_agents(tmp_path: Path) -> None:
    paths = agent_paths(tmp_path)
    paths.settings_file.write_text('[mapping]\nAway = "Break"\n', encoding="utf-8")
    demo_paths, sync = demo_settings_file(paths, Policy)
    demo_paths.settings_file.write_text('[mapping]\nAway = "Meal"\n', encoding="utf-8")  # tried in the demo
    again, sync_again = demo_settings_file(paths, Policy)
    assert again.settings_file != paths.settings_file
    assert paths.settings_file.read_text(encoding="utf-8") == '[mapping]\nAway = "Break"\n'
    assert sync == sync_again == Settings().sync  # the demo starts on the defaults each time
