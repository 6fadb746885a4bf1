"""Microphone or camera in use: the Windows privacy records (as dicts, odd values included), recorded
``pw-dump`` and ``pactl`` answers, and the watchers on virtual time with fake readers."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from tests.engine.virtual_time import run_virtual
from tests.signals.fakes import DictRegistry, FakeRunner, follow
from tray_agent.core.triggers import SignalKind
from tray_agent.signals.devices import (
    CONSENT_STORE,
    ConsentStoreReader,
    FirstThatWorks,
    PipeWireCapture,
    PulseCapture,
    is_teams_record,
    parse_pactl_source_outputs,
    parse_pw_dump,
    record_in_use,
    teams_device_in_use,
)
from tray_agent.signals.polled_source import PolledSource, ReadFailed, Reading, StateReader

IN_USE, RELEASED = SignalKind.DEVICE_IN_USE, SignalKind.DEVICE_RELEASED
DATA = Path(__file__).parent / "data"
STARTED = 134_089_776_000_000_000  # a FILETIME in December 2026
STOPPED = STARTED + 9_000_000_000  # 15 minutes later
NOW_IN_USE = {"Value": "Allow", "LastUsedTimeStart": STARTED, "LastUsedTimeStop": 0}
USED_BEFORE = {"Value": "Allow", "LastUsedTimeStart": STARTED, "LastUsedTimeStop": STOPPED}
NEW_TEAMS = "MSTeams_8wekyb3d8bbwe"
CLASSIC_TEAMS = "NonPackaged\\C:#Users#agent#AppData#Local#Microsoft#Teams#current#Teams.exe"
NEW_TEAMS_UNPACKAGED = (
    "NonPackaged\\C:#Program Files#WindowsApps#MSTeams_24295.605.3225.8804_x64__8wekyb3d8bbwe#ms-teams.exe"
)
ZOOM = "NonPackaged\\C:#Users#agent#AppData#Roaming#Zoom#bin#Zoom.exe"


def watched(reader: StateReader) -> PolledSource:
    return PolledSource("microphone or camera", reader, became_true=IN_USE, became_false=RELEASED)


# --- Windows: which records are Teams' ------------------------------------------------------------


def test_the_teams_records_are_the_package_and_the_teams_executables_in_any_case() -> None:
    assert is_teams_record(NEW_TEAMS)
    assert is_teams_record("msteams_8wekyb3d8bbwe")
    assert is_teams_record(CLASSIC_TEAMS)
    assert is_teams_record(NEW_TEAMS_UNPACKAGED)
    assert is_teams_record(CLASSIC_TEAMS.upper())


def test_other_apps_and_look_alikes_are_not_teams() -> None:
    assert not is_teams_record(ZOOM)
    assert not is_teams_record("NonPackaged\\C:#Tools#NotTeams.exe")
    assert not is_teams_record("NonPackaged\\C:#Tools#Teams.exe.bak")
    assert not is_teams_record("Microsoft.WindowsCamera_8wekyb3d8bbwe")
    assert not is_teams_record("C:#Users#agent#Teams.exe")  # an executable path outside NonPackaged


# --- Windows: one record ----------------------------------------------------------------------------


def test_a_record_is_in_use_while_its_stop_time_is_zero() -> None:
    assert record_in_use(NOW_IN_USE) == (True, None)
    assert record_in_use(USED_BEFORE) == (False, None)


def test_a_record_that_was_allowed_but_never_used_has_nothing_to_say() -> None:
    assert record_in_use({"Value": "Allow"}) == (False, None)
    assert record_in_use({}) == (False, None)


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"LastUsedTimeStart": STARTED}, "LastUsedTimeStart without LastUsedTimeStop"),
        ({"LastUsedTimeStop": 0}, "LastUsedTimeStop is 0 without LastUsedTimeStart"),
        ({"LastUsedTimeStart": 0, "LastUsedTimeStop": 0}, "LastUsedTimeStop is 0 without LastUsedTimeStart"),
        ({"LastUsedTimeStart": STARTED, "LastUsedTimeStop": "0"}, "LastUsedTimeStop is not a FILETIME"),
        ({"LastUsedTimeStart": STARTED, "LastUsedTimeStop": b"\0" * 8}, "LastUsedTimeStop is not a FILETIME"),
        ({"LastUsedTimeStart": STARTED, "LastUsedTimeStop": False}, "LastUsedTimeStop is not a FILETIME"),
        ({"LastUsedTimeStart": STARTED, "LastUsedTimeStop": 0.0}, "LastUsedTimeStop is not a FILETIME"),
        ({"LastUsedTimeStart": STARTED, "LastUsedTimeStop": ["0"]}, "LastUsedTimeStop is not a FILETIME"),
        ({"LastUsedTimeStart": 2**64 - 1, "LastUsedTimeStop": 0}, "LastUsedTimeStart is not a FILETIME"),
        ({"LastUsedTimeStart": 10**40, "LastUsedTimeStop": 0}, "LastUsedTimeStart is not a FILETIME"),
        ({"LastUsedTimeStart": -1, "LastUsedTimeStop": 0}, "LastUsedTimeStart is not a FILETIME"),
        ({"LastUsedTimeStart": STARTED, "LastUsedTimeStop": 2**63}, "LastUsedTimeStop is not a FILETIME"),
    ],
)
def test_an_odd_record_is_not_in_use_and_says_what_is_odd(values: dict[str, object], problem: str) -> None:
    assert record_in_use(values) == (False, problem)


# --- Windows: every record --------------------------------------------------------------------------


def test_teams_has_a_device_when_its_microphone_or_its_camera_record_is_in_use() -> None:
    assert teams_device_in_use({"microphone": {NEW_TEAMS: NOW_IN_USE}, "webcam": {}}) == Reading(True)
    assert teams_device_in_use({"microphone": {NEW_TEAMS: USED_BEFORE}, "webcam": {CLASSIC_TEAMS: NOW_IN_USE}}) == (
        Reading(True)
    )
    assert teams_device_in_use({"microphone": {NEW_TEAMS_UNPACKAGED: NOW_IN_USE}}) == Reading(True)


def test_another_app_using_the_microphone_is_not_teams_on_windows() -> None:
    records = {"microphone": {NEW_TEAMS: USED_BEFORE, ZOOM: NOW_IN_USE}, "webcam": {ZOOM: NOW_IN_USE}}
    assert teams_device_in_use(records) == Reading(False)


def test_no_records_at_all_means_nothing_in_use() -> None:
    assert teams_device_in_use({}) == Reading(False)
    assert teams_device_in_use({"microphone": {}, "webcam": {}}) == Reading(False)


def test_an_odd_teams_record_does_not_hide_a_good_one_and_its_problem_names_no_path() -> None:
    records = {
        "microphone": {CLASSIC_TEAMS: {"LastUsedTimeStart": "yesterday", "LastUsedTimeStop": 0}},
        "webcam": {NEW_TEAMS: NOW_IN_USE},
    }
    reading = teams_device_in_use(records)
    assert reading.state is True
    assert reading.problems == ("a non-packaged Teams microphone record: LastUsedTimeStart is not a FILETIME",)
    assert "agent" not in " ".join(reading.problems)  # the user name in the path stays out of the log


# --- Windows: the registry, and the watcher -----------------------------------------------------------


def consent_store(**apps: dict[str, dict[str, object]]) -> DictRegistry:
    """The registry under ConsentStore: ``microphone={subkey: values}, webcam={...}``."""
    keys: dict[str, dict[str, object]] = {
        f"{CONSENT_STORE}\\microphone": {"Value": "Allow"},
        f"{CONSENT_STORE}\\webcam": {"Value": "Allow"},
        f"{CONSENT_STORE}\\microphone\\Microsoft.WindowsSoundRecorder_8wekyb3d8bbwe": USED_BEFORE,
        f"{CONSENT_STORE}\\microphone\\NonPackaged\\{ZOOM.split(chr(92))[1]}": NOW_IN_USE,
    }
    for capability, records in apps.items():
        for subkey, values in records.items():
            keys[f"{CONSENT_STORE}\\{capability}\\{subkey}"] = dict(values)
    return DictRegistry(keys)


def test_the_registry_is_read_for_teams_records_only() -> None:
    registry = consent_store(microphone={NEW_TEAMS: USED_BEFORE, CLASSIC_TEAMS: NOW_IN_USE})
    assert run_virtual(ConsentStoreReader(registry).read()) == Reading(True)
    registry = consent_store(microphone={NEW_TEAMS: USED_BEFORE})  # only Zoom has the microphone
    assert run_virtual(ConsentStoreReader(registry).read()) == Reading(False)


def test_a_teams_call_with_video_is_one_in_use_and_one_released_signal() -> None:
    registry = consent_store(microphone={NEW_TEAMS: USED_BEFORE}, webcam={NEW_TEAMS: USED_BEFORE})
    microphone = registry.keys[f"{CONSENT_STORE}\\microphone\\{NEW_TEAMS}"]
    webcam = registry.keys[f"{CONSENT_STORE}\\webcam\\{NEW_TEAMS}"]

    async def story() -> list[tuple[float, SignalKind]]:
        loop = asyncio.get_running_loop()
        loop.call_later(60, microphone.update, {"LastUsedTimeStop": 0})  # the call starts
        loop.call_later(90, webcam.update, {"LastUsedTimeStop": 0})  # video on: no new signal
        loop.call_later(120, microphone.update, {"LastUsedTimeStop": STOPPED})  # muted device, camera on
        loop.call_later(150, webcam.update, {"LastUsedTimeStop": STOPPED})  # the call ends
        return (await follow(watched(ConsentStoreReader(registry)), 300)).signals

    assert run_virtual(story()) == [(60.0, IN_USE), (150.0, RELEASED)]


def test_odd_registry_values_are_logged_once_and_do_not_stop_the_watch(caplog: pytest.LogCaptureFixture) -> None:
    registry = consent_store(microphone={NEW_TEAMS: {"LastUsedTimeStart": 10**40, "LastUsedTimeStop": 0}})
    with caplog.at_level(logging.WARNING):
        followed = run_virtual(follow(watched(ConsentStoreReader(registry)), 600))
    assert followed.signals == [] and not followed.ended
    said = [r.getMessage() for r in caplog.records if "FILETIME" in r.getMessage()]
    assert said == [
        "microphone or camera: a packaged Teams microphone record: LastUsedTimeStart is not a FILETIME — ignored"
    ]


def test_a_registry_that_cannot_be_read_any_more_ends_the_watch_quietly() -> None:
    registry = consent_store(microphone={NEW_TEAMS: USED_BEFORE})

    async def story() -> tuple[bool, BaseException | None]:
        asyncio.get_running_loop().call_later(30, setattr, registry, "broken", True)
        followed = await follow(watched(ConsentStoreReader(registry)), 600)
        return followed.ended, followed.error

    assert run_virtual(story()) == (True, None)


def test_the_windows_records_are_not_available_off_windows_or_without_the_consent_store() -> None:
    assert run_virtual(ConsentStoreReader(None).available()) == "not Windows"
    assert run_virtual(ConsentStoreReader(DictRegistry()).available()) == (
        "Windows keeps no microphone or camera records for this user"
    )
    assert run_virtual(ConsentStoreReader(DictRegistry({CONSENT_STORE: {}}, broken=True)).available()) == (
        "the microphone and camera records cannot be read (PermissionError)"
    )
    broken = ConsentStoreReader(DictRegistry({CONSENT_STORE: {}}, broken=True))
    with pytest.raises(ReadFailed, match=r"the registry could not be read \(PermissionError\)"):
        run_virtual(broken.read())


# --- Linux: pw-dump ---------------------------------------------------------------------------------


def recorded(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def test_a_running_pipewire_capture_stream_is_a_device_in_use() -> None:
    assert parse_pw_dump(recorded("pw-dump-in-a-call.json")) == Reading(True)


def test_no_capture_stream_is_nothing_in_use_even_with_a_level_meter_and_playback() -> None:
    assert parse_pw_dump(recorded("pw-dump-no-capture.json")) == Reading(False)
    assert parse_pw_dump("[]") == Reading(False)


def test_a_video_capture_stream_counts_and_a_stream_that_is_not_running_does_not() -> None:
    def node(media_class: str, state: str, **props: object) -> dict[str, object]:
        return {
            "id": 7,
            "type": "PipeWire:Interface:Node",
            "info": {"state": state, "props": {"media.class": media_class, **props}},
        }

    assert parse_pw_dump(json.dumps([node("Stream/Input/Video", "running")])) == Reading(True)
    assert parse_pw_dump(json.dumps([node("Stream/Input/Audio", "idle")])) == Reading(False)
    assert parse_pw_dump(json.dumps([node("Stream/Input/Audio", "suspended")])) == Reading(False)
    assert parse_pw_dump(json.dumps([node("Video/Source", "running")])) == Reading(False)  # the device, not a stream
    assert parse_pw_dump(json.dumps([node("Stream/Input/Audio", "running", **{"stream.monitor": "true"})])) == (
        Reading(False)
    )
    assert parse_pw_dump(json.dumps([node("Stream/Input/Audio", "running", **{"stream.capture.sink": True})])) == (
        Reading(False)
    )


def test_a_malformed_pw_dump_cannot_tell_and_says_so_without_the_data() -> None:
    assert parse_pw_dump(recorded("pw-dump-truncated.json")) == Reading(None, ("pw-dump's answer is not JSON",))
    assert parse_pw_dump("") == Reading(None, ("pw-dump's answer is not JSON",))
    assert parse_pw_dump('{"id": 0}') == Reading(None, ("pw-dump's answer is not a list of objects",))
    assert parse_pw_dump("1" * 5000).state is None  # a number too long for int()


def test_odd_entries_in_a_pw_dump_are_skipped_and_said_once() -> None:
    objects = json.loads(recorded("pw-dump-in-a-call.json"))
    objects += [42, "node", None, {"type": "PipeWire:Interface:Node", "info": {"props": "none"}}]
    objects += [{"type": "PipeWire:Interface:Node", "info": None}]  # being removed
    reading = parse_pw_dump(json.dumps(objects))
    assert reading.state is True
    assert reading.problems == (
        "pw-dump listed a node without properties",
        "pw-dump listed something that is not an object",
    )


# --- Linux: pactl -----------------------------------------------------------------------------------

PACTL_IN_A_CALL = "53\t2\t88\tprotocol-native.c\tfloat32le 1ch 48000Hz\n"


def test_any_pulseaudio_source_output_is_a_device_in_use() -> None:
    assert parse_pactl_source_outputs(PACTL_IN_A_CALL) == Reading(True)
    assert parse_pactl_source_outputs(PACTL_IN_A_CALL + "54\t1\t91\tprotocol-native.c\ts16le 2ch 44100Hz\n") == (
        Reading(True)
    )


def test_no_pulseaudio_source_output_is_nothing_in_use() -> None:
    assert parse_pactl_source_outputs("") == Reading(False)
    assert parse_pactl_source_outputs("\n\n") == Reading(False)


def test_a_pactl_line_that_is_not_a_source_output_is_said_and_skipped() -> None:
    reading = parse_pactl_source_outputs("Connection failure: Connection refused\n")
    assert reading == Reading(False, ("pactl listed a line that is not a source output",))
    assert parse_pactl_source_outputs("٣\t2\t88\n").problems  # a digit, but not an index


# --- Linux: choosing PipeWire or PulseAudio, and the watcher ----------------------------------------

PW_DUMP = "/usr/bin/pw-dump"
PACTL = "/usr/bin/pactl"
PACTL_LIST = (PACTL, "list", "short", "source-outputs")


def linux(runner: FakeRunner, pw_dump: str | None = PW_DUMP, pactl: str | None = PACTL) -> FirstThatWorks:
    return FirstThatWorks([PipeWireCapture(pw_dump, runner), PulseCapture(pactl, runner)])


def test_pipewire_is_read_where_it_answers() -> None:
    runner = FakeRunner({(PW_DUMP,): recorded("pw-dump-in-a-call.json"), PACTL_LIST: ""})
    reader = linux(runner)
    assert run_virtual(reader.available()) is None
    assert run_virtual(reader.read()) == Reading(True)
    assert runner.calls[-1][0] == (PW_DUMP,)


def test_pulseaudio_is_read_without_pipewire_or_when_pipewire_does_not_answer() -> None:
    runner = FakeRunner({PACTL_LIST: PACTL_IN_A_CALL})
    assert run_virtual(linux(runner, pw_dump=None).available()) is None
    reader = linux(runner)  # pw-dump installed, but PipeWire not running: it fails
    assert run_virtual(reader.available()) is None
    assert run_virtual(reader.read()) == Reading(True)
    assert runner.calls[-1][0] == PACTL_LIST


def test_with_neither_pipewire_nor_pulseaudio_the_source_says_why() -> None:
    assert run_virtual(linux(FakeRunner({}), pw_dump=None, pactl=None).available()) == (
        "pw-dump is not installed; pactl is not installed"
    )
    runner = FakeRunner({(PW_DUMP,): "not json", PACTL_LIST: ReadFailed("pactl exited with status 1")})
    assert run_virtual(linux(runner).available()) == (
        "pw-dump's answer makes no sense (pw-dump's answer is not JSON); "
        "pactl does not answer (pactl exited with status 1)"
    )


def test_a_linux_call_is_one_in_use_and_one_released_signal_and_a_bad_dump_between_is_ignored() -> None:
    runner = FakeRunner({(PW_DUMP,): recorded("pw-dump-no-capture.json")})

    async def story() -> list[tuple[float, SignalKind]]:
        loop = asyncio.get_running_loop()
        loop.call_later(60, runner.answers.update, {(PW_DUMP,): recorded("pw-dump-in-a-call.json")})
        loop.call_later(100, runner.answers.update, {(PW_DUMP,): recorded("pw-dump-truncated.json")})
        loop.call_later(110, runner.answers.update, {(PW_DUMP,): recorded("pw-dump-in-a-call.json")})
        loop.call_later(200, runner.answers.update, {(PW_DUMP,): recorded("pw-dump-no-capture.json")})
        return (await follow(watched(linux(runner)), 400)).signals

    assert run_virtual(story()) == [(60.0, IN_USE), (200.0, RELEASED)]
