"""The Genesys → Teams settings (``teams_writeback``, ``teams_writeback_media``) and their IT policy
(``TeamsWriteback``, ``TeamsWritebackMedia``, ``TeamsBusyWhileOnQueue``, ``TeamsPreferredPresence``):
off unless asked for, the user's choice unless policy sets it, and the ``WritebackConfig`` they give."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.policy_fakes import FakeRegistry
from tests.config.test_layers import effective, paths_in
from tray_agent.config.layers import load_user_settings
from tray_agent.config.policy import RegistryPolicySource, describe, read_policy
from tray_agent.config.settings import ALL_MEDIA, Settings, SettingsError, media_names
from tray_agent.core.interactions import BUSY, DEFAULT_MEDIA_PAIRS, IN_A_CALL, Media, WritebackConfig

MEDIA_NAMES = "voice, callback, chat, message, email, video, social"


def test_it_is_off_with_every_media_by_default_and_the_config_says_so() -> None:
    settings = Settings()
    assert settings.teams_writeback is False and settings.teams_writeback_media == tuple(Media)
    assert settings.writeback == WritebackConfig()  # the vocabulary's own default: off, every media, a session
    assert settings.writeback.while_on_queue is None and settings.writeback.preferred is False


def test_the_users_file_turns_it_on_for_the_media_it_lists(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[agent]\nteams_writeback = true\nteams_writeback_media = ["Voice", "email", "voice"]\n')
    settings = Settings.load(path)
    assert settings.teams_writeback is True
    assert settings.teams_writeback_media == (Media.VOICE, Media.EMAIL)  # case and repeats do not matter
    config = settings.writeback
    assert config.enabled and dict(config.media) == {Media.VOICE: IN_A_CALL, Media.EMAIL: IN_A_CALL}
    assert config.pair_for(Media.CHAT) is None  # left out: not shown in Teams


def test_an_empty_media_list_shows_no_interaction() -> None:
    settings = Settings.from_mapping({"agent": {"teams_writeback": True, "teams_writeback_media": []}})
    assert settings.teams_writeback_media == () and dict(settings.writeback.media) == {}


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ('["voice", "fax"]', "'fax' is not a media type"),
        ('["pigeon", "fax"]', "'pigeon', 'fax' are not media types"),
        ("3", "must be a list of media names"),
        ('["voice", 3]', "must be a list of media names"),
    ],
)
def test_an_unknown_media_is_a_problem_naming_the_allowed_ones_and_the_default_stays(
    tmp_path: Path, value: str, named: str
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(f'[agent]\ntenant_id = "contoso.example"\nteams_writeback_media = {value}\n')
    with pytest.raises(SettingsError, match="teams_writeback_media"):
        Settings.load(path)
    settings, problem = load_user_settings(path)
    assert settings.tenant_id == "contoso.example"  # the rest of the file applies
    assert settings.teams_writeback_media == ALL_MEDIA  # that one setting keeps its default
    assert problem is not None and "teams_writeback_media" in problem and named in problem
    assert MEDIA_NAMES in problem and "using the default, all of them" in problem


def test_a_writeback_switch_that_is_not_true_or_false_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[agent]\nteams_writeback = "on"\n')
    with pytest.raises(SettingsError, match="teams_writeback must be true or false"):
        Settings.load(path)


def test_media_names_read_text_as_the_msi_writes_it_and_arrays_as_profiles_do() -> None:
    assert media_names("voice,chat,email") == ((Media.VOICE, Media.CHAT, Media.EMAIL), None)
    assert media_names(" social; video  voice ") == ((Media.VOICE, Media.VIDEO, Media.SOCIAL), None)
    assert media_names(["callback"]) == ((Media.CALLBACK,), None)
    media, complaint = media_names({"voice": True})
    assert media == ALL_MEDIA and complaint is not None and MEDIA_NAMES in complaint


@pytest.mark.parametrize(
    ("user_file", "policy", "in_effect"),
    [
        ("", None, False),  # opt-in: off until someone turns it on
        ("[agent]\nteams_writeback = true\n", None, True),
        ("[agent]\nteams_writeback = true\n", False, False),  # IT says no: the user's file has no effect
        ("[agent]\nteams_writeback = false\n", True, True),  # IT turns it on for everyone
        ("", "1", True),  # what the MSI writes (REG_SZ)
    ],
)
def test_teams_writeback_is_the_users_choice_unless_policy_sets_it(
    tmp_path: Path, user_file: str, policy: object, in_effect: bool
) -> None:
    given = {} if policy is None else {"teams_writeback": policy}
    layered = effective(tmp_path, user_file, **given)
    assert layered.settings.teams_writeback is in_effect and layered.settings.writeback.enabled is in_effect
    assert ("teams_writeback" in layered.locked) is (policy is not None)
    assert ("teams_writeback" in layered.ignored) is (policy is not None and "teams_writeback" in user_file)
    assert layered.problems == ()


def test_policy_media_lock_the_users_list(tmp_path: Path) -> None:
    layered = effective(
        tmp_path, '[agent]\nteams_writeback_media = ["email"]\n', teams_writeback_media="voice,chat,email"
    )
    assert layered.settings.teams_writeback_media == (Media.VOICE, Media.CHAT, Media.EMAIL)
    assert "teams_writeback_media" in layered.locked and "teams_writeback_media" in layered.ignored
    assert layered.problems == ()


def test_a_bad_policy_media_list_is_a_problem_naming_the_allowed_ones_and_every_media_shows(tmp_path: Path) -> None:
    layered = effective(tmp_path, '[agent]\nteams_writeback_media = ["email"]\n', teams_writeback_media="voice,fax")
    assert layered.settings.teams_writeback_media == ALL_MEDIA  # the built-in default, locked
    assert "teams_writeback_media" in layered.locked
    (problem,) = layered.problems
    assert "teams_writeback_media" in problem and "'fax' is not a media type" in problem and MEDIA_NAMES in problem


def test_busy_while_on_queue_and_preferred_presence_are_policy_only(tmp_path: Path) -> None:
    user_file = "[agent]\nteams_busy_while_on_queue = true\nteams_preferred_presence = true\n"
    assert Settings.from_mapping({"agent": {"teams_busy_while_on_queue": True}}).teams_busy_while_on_queue is False
    mine = effective(tmp_path / "user", user_file).settings.writeback
    assert (mine.while_on_queue, mine.preferred) == (None, False)  # a user's file cannot turn them on
    it = effective(tmp_path / "it", "", teams_busy_while_on_queue="1", teams_preferred_presence=True)
    assert {"teams_busy_while_on_queue", "teams_preferred_presence"} <= it.locked
    config = it.settings.writeback
    assert config.preferred is True
    assert config.while_on_queue == BUSY  # preferred presence has no InACall: Busy/Busy
    assert config.pair_for(Media.VOICE) == BUSY


def test_busy_while_on_queue_with_a_session_is_in_a_call(tmp_path: Path) -> None:
    config = effective(tmp_path, "", teams_writeback=True, teams_busy_while_on_queue=True).settings.writeback
    assert config.enabled and config.while_on_queue == IN_A_CALL and config.preferred is False
    assert dict(config.media) == dict(DEFAULT_MEDIA_PAIRS)


def test_the_registry_names_are_the_ones_the_msi_and_admx_write() -> None:
    registry = FakeRegistry().set(
        "HKLM",
        TeamsWriteback="1",
        TeamsWritebackMedia="voice,chat,email",
        TeamsBusyWhileOnQueue=0,
        TeamsPreferredPresence=1,
    )
    policy = read_policy(RegistryPolicySource(registry))
    assert policy.problems == ()
    assert policy.teams_writeback is True and policy.teams_busy_while_on_queue is False
    assert policy.teams_writeback_media == (Media.VOICE, Media.CHAT, Media.EMAIL)
    assert policy.teams_preferred_presence is True
    assert '  teams_writeback_media = ["voice", "chat", "email"]' in describe(policy)


def test_the_first_settings_file_names_the_media_it_has_set(tmp_path: Path) -> None:
    effective(tmp_path, None, teams_writeback=True, teams_writeback_media=["chat", "voice"])
    text = paths_in(tmp_path).settings_file.read_text()
    assert "#   teams_writeback = true" in text
    assert '#   teams_writeback_media = ["voice", "chat"]' in text
    assert Settings.load(paths_in(tmp_path).settings_file) == Settings()  # still only comments
