"""Bad settings, policy and state files: each gives a clear message or is ignored — never a crash at
start-up, never a setting the agent would misbehave with (a NaN interval polls Graph in a tight
loop), never a changed or corrupted file. A half-written file is caught, and a crash while writing
leaves the last good file in place (atomic writes).

The settings come from the user's hand-edited ``settings.toml`` (``load_user_settings``) under IT
policy (``read_policy`` over policy.toml, the registry or managed preferences): both are fuzzed
through their public loaders.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.auth.fake_keyrings import WindowsSizedKeyring
from tray_agent.auth.storage import SealedTokenStore
from tray_agent.config import paths
from tray_agent.config.layers import load_user_settings
from tray_agent.config.paths import write_private
from tray_agent.config.policy import FilePolicySource, NoPolicy, PlistPolicySource, Policy, RawLayer, read_policy
from tray_agent.config.settings import Settings, SettingsError
from tray_agent.core.mapping import DEFAULT_MAPPING

AGENT_KEYS = (
    "tenant_id",
    "microsoft_client_id",
    "genesys_region",
    "genesys_client_id",
    "genesys_redirect_port",
    "poll_interval",
    "genesys_fallback_poll",
    "dwell_seconds",
    "loop_max_writes",
    "loop_window_minutes",
    "allow_insecure_keyring",
    "min_poll_interval",
    "start_at_login",
    "allow_device_code",
    "working_hours",
    "pause_when_away",
)
TEAMS_NAMES = tuple(DEFAULT_MAPPING)
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),  # NaN and ±inf included: TOML has them (nan, inf)
    text,
    st.sampled_from(["²", "¹²", "٣٠", "60", " 60 ", "8765", "1e3", "eu_west_1", "Busy|Meeting", "true"]),
    st.sampled_from(["Mon-Fri 07:30-18:00", "sun-sat 23:00-01:00", "Mon 25:00-26:00", "Fri-Mon 9-5", "x y-z"]),
)
values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(text, scalars, max_size=3))
agent_tables = st.dictionaries(st.sampled_from(AGENT_KEYS) | text, values, max_size=6)
mapping_tables = st.dictionaries(st.sampled_from(TEAMS_NAMES) | text, values, max_size=5)
documents = st.fixed_dictionaries({}, optional={"agent": agent_tables | values, "mapping": mapping_tables | values})

GOOD_SETTINGS = """\
[agent]
tenant_id = "6f9c1c1e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
microsoft_client_id = "0d5e5a4c-8f2b-4c1e-9a7d-3b6f8e2c1a90"
genesys_region = "eu_west_1"
genesys_client_id = "6f1c2b3a-4d5e-4f60-8a9b-0c1d2e3f4a5b"
poll_interval = 90
dwell_seconds = 20

[mapping]
InACall = "Teams call|Busy"
Away = ""
"""


def toml(value: Any) -> str:
    """A TOML literal (enough of TOML for these tests: scalars, arrays, inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml(item) for item in value) + "]"
    return "{" + ", ".join(f"{toml(str(key))} = {toml(item)}" for key, item in value.items()) + "}"


def toml_document(document: dict[str, Any]) -> str:
    lines = [f"{toml(name)} = {toml(value)}" for name, value in document.items() if not isinstance(value, dict)]
    for name, table in document.items():
        if isinstance(table, dict):
            lines.append(f"[{toml(name)}]")
            lines += [f"{toml(str(key))} = {toml(value)}" for key, value in table.items()]
    return "\n".join(lines) + "\n"


def assert_usable(settings_in_effect: Settings) -> None:
    """What the engine gets is finite and in range, whatever the file said."""
    timing, sync = settings_in_effect.timing, settings_in_effect.sync
    for name in ("poll_interval", "poll_floor", "genesys_fallback_poll", "heartbeat_timeout"):
        assert math.isfinite(getattr(timing, name)), f"{name} = {getattr(timing, name)}"
    for name in ("dwell_seconds", "loop_window_seconds", "max_genesys_staleness"):
        assert math.isfinite(getattr(sync, name)), f"{name} = {getattr(sync, name)}"
    assert 1 <= sync.loop_max_writes < 10**6
    assert 1024 <= settings_in_effect.genesys_redirect_port <= 65535


# --- the user's settings file -----------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(documents)
@example({"agent": {"loop_max_writes": math.inf}})
@example({"agent": {"genesys_redirect_port": math.nan}})
@example({"agent": {"poll_interval": math.nan}})
def test_any_settings_document_gives_usable_settings_or_a_settings_error(document: dict[str, Any]) -> None:
    try:
        loaded = Settings.from_mapping(document)
    except SettingsError as error:
        assert str(error)  # says what is wrong
        return
    assert_usable(loaded)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(documents.map(toml_document), st.binary(max_size=400).map(lambda b: b.decode("latin-1"))))
@example("[agent]\nloop_max_writes = inf\n")
def test_no_settings_file_stops_the_agent_or_is_changed_by_it(tmp_path: Path, content: str) -> None:
    path = tmp_path / "settings.toml"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    before = path.read_bytes()
    loaded, problem = load_user_settings(path, policy_source=NoPolicy())  # never raises
    assert_usable(loaded)
    assert problem is None or path.name in problem
    assert path.read_bytes() == before  # the user's file is theirs to fix


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ("poll_interval = nan", "poll_interval"),
        ("poll_interval = inf", "poll_interval"),
        ("dwell_seconds = inf", "dwell_seconds"),
        ("loop_max_writes = inf", "loop_max_writes"),
        ("genesys_redirect_port = nan", "genesys_redirect_port"),
    ],
)
def test_a_number_that_is_not_finite_is_refused_by_name(tmp_path: Path, line: str, complaint: str) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(f"[agent]\n{line}\n")
    loaded, problem = load_user_settings(path, policy_source=NoPolicy())
    assert problem is not None and complaint in problem
    assert_usable(loaded)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=0, max_value=len(GOOD_SETTINGS.encode()) - 1))
def test_a_half_written_settings_file_never_stops_the_agent(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "settings.toml"
    path.write_bytes(GOOD_SETTINGS.encode()[:cut])
    loaded, _ = load_user_settings(path, policy_source=NoPolicy())
    assert_usable(loaded)


def test_a_half_written_settings_file_keeps_the_settings_last_loaded_from_it_in_effect(tmp_path: Path) -> None:
    # An editor that crashed mid-save (or a sync tool that truncated the file) must not sign the agent
    # out of its tenant: the problem is reported, and the last good settings stay in effect.
    path = tmp_path / "settings.toml"
    path.write_text(GOOD_SETTINGS)
    good, problem = load_user_settings(path, policy_source=NoPolicy())
    assert problem is None and good.tenant_id and good.genesys_region == "eu_west_1"
    path.write_text(GOOD_SETTINGS[: GOOD_SETTINGS.index("genesys_region") + 20])  # cut inside a string
    in_effect, problem = load_user_settings(path, policy_source=NoPolicy())
    assert problem is not None and "settings.toml" in problem
    assert in_effect == good, "a half-written file replaced the last good settings with the defaults"


# --- IT policy ---------------------------------------------------------------------------------------


class Layers:
    def __init__(self, *layers: RawLayer) -> None:
        self._layers = list(layers)

    def layers(self) -> list[RawLayer]:
        return self._layers


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from([*AGENT_KEYS, "mapping"]) | text, values, max_size=8), st.booleans())
@example({"genesys_redirect_port": "²"}, False)
@example({"min_poll_interval": "¹²"}, True)
def test_any_policy_values_give_a_policy_with_problems_never_an_error(raw: dict[str, Any], registry: bool) -> None:
    layer = RawLayer("HKLM\\…\\TeamsGenesysPresence" if registry else "policy.toml", raw)
    policy = read_policy(Layers(layer))  # documented: never raises
    assert isinstance(policy, Policy)
    if policy.genesys_redirect_port is not None:
        assert 1024 <= policy.genesys_redirect_port <= 65535
    if policy.min_poll_interval is not None:
        assert math.isfinite(policy.min_poll_interval)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(documents.map(toml_document).map(str.encode), st.binary(max_size=400)))
def test_any_policy_file_or_managed_preferences_are_read_without_an_error(tmp_path: Path, content: bytes) -> None:
    for source in (FilePolicySource(tmp_path / "policy.toml", trusted_owner=None), PlistPolicySource(tmp_path / "p")):
        target = tmp_path / ("policy.toml" if isinstance(source, FilePolicySource) else "p")
        target.write_bytes(content)
        target.chmod(0o644)
        assert isinstance(read_policy(source), Policy)


# --- state files: atomic writes, damaged sign-ins -------------------------------------------------------


class CrashWhile:
    """Makes the ``step`` of an atomic write fail, as a crash or a full disk would."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, step: str) -> None:
        def fail(*args: object, **kwargs: object) -> None:
            raise OSError(28, "No space left on device")

        target = {"replace": (paths.os, "replace"), "fsync": (paths.os, "fsync")}[step]
        monkeypatch.setattr(*target, fail)


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_a_crash_while_writing_leaves_the_last_good_file_and_no_half_written_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    path = tmp_path / "state" / "settings.toml"
    write_private(path, GOOD_SETTINGS)
    with monkeypatch.context() as patched:
        CrashWhile(patched, step)
        with pytest.raises(OSError):
            write_private(path, "[agent]\npoll_interval = 30\n")
    assert path.read_text() == GOOD_SETTINGS
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.toml"]


def test_a_crash_while_saving_a_sign_in_keeps_the_previous_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SealedTokenStore(tmp_path / "secrets", WindowsSizedKeyring())
    store.save("genesys-token", '{"access_token": "first"}')
    with monkeypatch.context() as patched:
        CrashWhile(patched, "replace")
        with pytest.raises(Exception, match="could not save"):
            store.save("genesys-token", '{"access_token": "second"}')
    assert store.load("genesys-token") == '{"access_token": "first"}'
    assert [p.name for p in (tmp_path / "secrets").iterdir() if p.suffix == ".tmp"] == []


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_a_damaged_sign_in_file_reads_as_signed_out_never_as_something_else(
    tmp_path: Path, data: st.DataObject
) -> None:
    # There is deliberately no "last good copy" of a sign-in: a second copy of a token is a second
    # thing to steal. Damage is detected (AES-GCM), and the agent asks for a sign-in.
    store = SealedTokenStore(tmp_path / f"secrets-{data.draw(st.uuids())}", WindowsSizedKeyring())
    store.save("msal-cache", '{"RefreshToken": {"x": {"secret": "0.AR"}}}')
    sealed = store.directory / "msal-cache.sealed"
    original = sealed.read_bytes()
    damage = data.draw(
        st.one_of(
            st.integers(0, len(original) - 2).map(lambda cut: original[:cut]),  # half-written
            st.tuples(st.integers(0, len(original) - 1), st.integers(1, 255)).map(
                lambda flip: original[: flip[0]] + bytes([original[flip[0]] ^ flip[1]]) + original[flip[0] + 1 :]
            ),
            st.binary(max_size=200),
        )
    )
    sealed.write_bytes(damage)
    os.chmod(sealed, 0o600)
    loaded = store.load("msal-cache")
    assert loaded in (None, '{"RefreshToken": {"x": {"secret": "0.AR"}}}')
