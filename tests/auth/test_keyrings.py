"""Only a secure OS keyring may hold the sign-ins' key; anything else is refused with the fix, unless the
agent's settings say ``allow_insecure_keyring = true``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from keyring.backends import SecretService, chainer, fail, null

from tests.auth.fake_keyrings import PlaintextKeyring, WindowsSizedKeyring
from tray_agent.auth.keyrings import KeyringRefused, assess, choose
from tray_agent.auth.storage import SealedTokenStore, open_token_store
from tray_agent.auth.tokens import MemoryTokenStore
from tray_agent.config.paths import AgentPaths
from tray_agent.config.settings import Settings, SettingsError


@pytest.fixture
def paths(tmp_path: Path) -> AgentPaths:
    return AgentPaths(tmp_path / "config", tmp_path / "state", tmp_path / "logs").ensure()


def chain_of(monkeypatch: pytest.MonkeyPatch, *members: object) -> chainer.ChainerBackend:
    monkeypatch.setattr(chainer.ChainerBackend, "backends", list(members))
    return chainer.ChainerBackend()


def test_the_os_keyrings_are_accepted() -> None:
    verdict = assess(SecretService.Keyring())
    assert verdict.secure and verdict.name.startswith("Secret Service")


@pytest.mark.parametrize(
    ("backend", "complaint"),
    [
        (fail.Keyring(), "no system keyring was found"),
        (null.Keyring(), "no system keyring was found"),
        (PlaintextKeyring(), "stores secrets in a plain file"),
        (WindowsSizedKeyring(), "is not a known secure keyring"),
    ],
)
def test_anything_else_is_refused_with_the_reason_and_the_fix(backend: object, complaint: str) -> None:
    with pytest.raises(KeyringRefused) as refusal:
        choose(backend)  # type: ignore[arg-type]
    message = str(refusal.value)
    assert complaint in message
    assert "gnome-keyring" in message  # the fix, on Linux
    assert "allow_insecure_keyring = true" in message


def test_a_chain_is_narrowed_to_its_secure_member_so_nothing_is_written_in_plain_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secure = SecretService.Keyring()
    verdict = choose(chain_of(monkeypatch, PlaintextKeyring(), secure))
    assert verdict.secure and verdict.backend is secure


def test_a_chain_with_nothing_secure_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(KeyringRefused, match=r"only keyrings\.alt\.file\.PlaintextKeyring"):
        choose(chain_of(monkeypatch, PlaintextKeyring()))


def test_the_default_backend_is_judged_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("keyring.get_keyring", lambda: fail.Keyring())
    assert not assess().available


def test_open_token_store_refuses_a_plain_text_keyring(paths: AgentPaths) -> None:
    with pytest.raises(KeyringRefused, match="plain file"):
        open_token_store(Settings(), paths=paths, backend=PlaintextKeyring())


def test_the_setting_allows_an_insecure_keyring_and_still_seals_the_files(paths: AgentPaths) -> None:
    store = open_token_store(Settings(allow_insecure_keyring=True), paths=paths, backend=PlaintextKeyring())
    assert isinstance(store, SealedTokenStore)
    assert store.directory == paths.state_dir / "secrets"


def test_with_the_setting_and_no_keyring_at_all_sign_ins_live_in_memory_only(paths: AgentPaths) -> None:
    store = open_token_store(Settings(allow_insecure_keyring=True), paths=paths, backend=fail.Keyring())
    assert isinstance(store, MemoryTokenStore)


def test_without_settings_the_flag_is_read_from_the_users_settings_file(paths: AgentPaths) -> None:
    with pytest.raises(KeyringRefused):
        open_token_store(paths=paths, backend=PlaintextKeyring())
    paths.settings_file.write_text("[agent]\nallow_insecure_keyring = true\n")
    assert isinstance(open_token_store(paths=paths, backend=PlaintextKeyring()), SealedTokenStore)
    paths.settings_file.write_text('[agent]\nallow_insecure_keyring = "yes"\n')  # not a boolean: stays safe
    with pytest.raises(KeyringRefused):
        open_token_store(paths=paths, backend=PlaintextKeyring())


def test_a_secure_keyring_gives_the_sealed_store(paths: AgentPaths) -> None:
    store = open_token_store(Settings(), paths=paths, backend=SecretService.Keyring())
    assert isinstance(store, SealedTokenStore)


def test_the_setting_is_off_unless_set_to_true() -> None:
    assert Settings.from_mapping({}).allow_insecure_keyring is False
    assert Settings.from_mapping({"agent": {"allow_insecure_keyring": True}}).allow_insecure_keyring is True
    with pytest.raises(SettingsError, match="allow_insecure_keyring must be true or false"):
        Settings.from_mapping({"agent": {"allow_insecure_keyring": "yes"}})


class LookAlikeKeyring(PlaintextKeyring):
    """A plain-text backend that gives itself the Secret Service backend's module and name."""


LookAlikeKeyring.__module__, LookAlikeKeyring.__qualname__ = "keyring.backends.SecretService", "Keyring"


class LeakySecretService(SecretService.Keyring):
    """The real class, with the write sent elsewhere: a subclass is not the OS keyring either."""

    def set_password(self, service: str, username: str, password: str) -> None:
        Path("/dev/null").write_text(password)


@pytest.mark.parametrize("backend", [LookAlikeKeyring(), LeakySecretService()], ids=["same name", "subclass"])
def test_a_backend_is_judged_by_its_class_not_its_name(backend: object) -> None:
    with pytest.raises(KeyringRefused, match="is not a known secure keyring"):
        choose(backend)  # type: ignore[arg-type]


def test_a_look_alike_backend_chosen_by_environment_is_refused_in_a_real_process(tmp_path: Path) -> None:
    (tmp_path / "lookalike.py").write_text(
        "import json, pathlib\n"
        "from keyring.backend import KeyringBackend\n"
        "class Keyring(KeyringBackend):\n"
        "    priority = 1\n"
        "    def get_password(self, service, username):\n"
        "        return None\n"
        "    def set_password(self, service, username, password):\n"
        "        pathlib.Path(__file__).with_name('stolen.json').write_text(json.dumps(password))\n"
        "    def delete_password(self, service, username):\n"
        "        pass\n"
        "Keyring.__module__ = 'keyring.backends.SecretService'\n"
    )
    probe = (
        "from tray_agent.auth.keyrings import assess; v = assess(); "
        "print(v.secure, type(v.backend).__module__, type(v.backend).__qualname__)"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "PYTHON_KEYRING_BACKEND": "lookalike.Keyring"}
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["False", "keyring.backends.SecretService", "Keyring"], result.stderr
