"""Microphone or camera in use → ``DEVICE_IN_USE`` when one goes into use (nothing was),
``DEVICE_RELEASED`` when both are released; polled (every ~2 s). The camera joining a microphone
already in use (video switched on in a call) is not a new signal: Teams' presence does not change.

- **Windows — Teams only:** the per-app privacy records under ``HKCU\\…\\CapabilityAccessManager\\
  ConsentStore\\{microphone,webcam}``: the packaged new Teams (``MSTeams_8wekyb3d8bbwe``) and, under
  ``NonPackaged``, executables ending in ``ms-teams.exe`` or ``Teams.exe`` (``#`` for ``\\``). In use
  while ``LastUsedTimeStop`` is 0 and ``LastUsedTimeStart`` is set. HKCU: no admin rights.
- **Linux — any application:** a PipeWire capture stream (``pw-dump``: a node of class
  ``Stream/Input/Audio`` or ``Stream/Input/Video`` in state ``running``; monitor streams such as
  level meters and sink captures are left out), or, without PipeWire, any PulseAudio source output
  (``pactl list short source-outputs``). Linux does not say which app records, and Teams runs in a
  browser there, so any capture counts; a camera opened directly through V4L2 is not seen.
- **macOS:** not provided — which device is in use is only told by CoreAudio/CoreMediaIO, which
  needs a native helper (see :func:`tray_agent.signals.for_this_workstation.sources_for_this_workstation`).

The parsing is pure functions over plain data, so it is tested anywhere with recorded values.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Protocol

from tray_agent.signals.commands import CommandRunner, run_command
from tray_agent.signals.polled_source import ReadFailed, Reading, StateReader, why_not_readable

# --- Windows: the privacy records -----------------------------------------------------------------

CONSENT_STORE = "Software\\Microsoft\\Windows\\CurrentVersion\\CapabilityAccessManager\\ConsentStore"
CAPABILITIES = ("microphone", "webcam")
TEAMS_PACKAGE = "MSTeams_8wekyb3d8bbwe"
NON_PACKAGED = "NonPackaged"
TEAMS_EXECUTABLES = ("#ms-teams.exe", "#teams.exe")  # compared in lower case; "#" stands for "\"
_FILETIME_END = 2**63  # FILETIMEs are 64-bit and signed in practice: 0 ≤ t < 2**63

Records = Mapping[str, Mapping[str, Mapping[str, object]]]  # capability → subkey → value name → data


def is_teams_record(subkey: str) -> bool:
    """``MSTeams_8wekyb3d8bbwe``, or ``NonPackaged\\<path ending in ms-teams.exe or Teams.exe>``."""
    name = subkey.lower()
    if name == TEAMS_PACKAGE.lower():
        return True
    prefix = NON_PACKAGED.lower() + "\\"
    return name.startswith(prefix) and "\\" not in name[len(prefix) :] and name.endswith(TEAMS_EXECUTABLES)


def _filetime(value: object) -> int | None:
    """A FILETIME as winreg returns a REG_QWORD (an int); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _FILETIME_END:
        return None
    return value


def record_in_use(values: Mapping[str, object]) -> tuple[bool, str | None]:
    """One app's record: in use now? And what was odd about it (never its data: paths hold user names)."""
    start_value, stop_value = values.get("LastUsedTimeStart"), values.get("LastUsedTimeStop")
    if start_value is None and stop_value is None:
        return False, None  # allowed but never used: nothing to say
    start, stop = _filetime(start_value), _filetime(stop_value)
    if start_value is not None and start is None:
        return False, "LastUsedTimeStart is not a FILETIME"
    if stop_value is not None and stop is None:
        return False, "LastUsedTimeStop is not a FILETIME"
    if stop is None:
        return False, "LastUsedTimeStart without LastUsedTimeStop"
    if stop == 0 and not start:
        return False, "LastUsedTimeStop is 0 without LastUsedTimeStart"
    return stop == 0, None


def teams_device_in_use(records: Records) -> Reading:
    """Whether Teams has the microphone or the camera now, from the records of each capability."""
    in_use = False
    problems: list[str] = []
    for capability, apps in records.items():
        for subkey, values in apps.items():
            if not is_teams_record(subkey):
                continue
            using, problem = record_in_use(values)
            in_use = in_use or using
            if problem is not None:
                kind = "packaged" if subkey.lower() == TEAMS_PACKAGE.lower() else "non-packaged"
                problems.append(f"a {kind} Teams {capability} record: {problem}")
    return Reading(in_use, tuple(problems))


class RegistryTree(Protocol):
    """Read-only HKCU keys (winreg on Windows; a dict in tests). Raise OSError when a key cannot be read."""

    def subkeys(self, key: str) -> list[str] | None:
        """The names of ``key``'s subkeys; None if there is no such key."""
        ...

    def values(self, key: str) -> dict[str, object] | None:
        """``key``'s values as winreg returns them; None if there is no such key."""
        ...


def read_consent_records(tree: RegistryTree) -> dict[str, dict[str, dict[str, object]]]:
    """The Teams records of each capability, as :func:`teams_device_in_use` takes them."""
    records: dict[str, dict[str, dict[str, object]]] = {}
    for capability in CAPABILITIES:
        base = f"{CONSENT_STORE}\\{capability}"
        apps: dict[str, dict[str, object]] = {}
        packaged = tree.values(f"{base}\\{TEAMS_PACKAGE}")
        if packaged is not None:
            apps[TEAMS_PACKAGE] = packaged
        for name in tree.subkeys(f"{base}\\{NON_PACKAGED}") or []:
            subkey = f"{NON_PACKAGED}\\{name}"
            if is_teams_record(subkey):
                found = tree.values(f"{base}\\{subkey}")
                if found is not None:
                    apps[subkey] = found
        records[capability] = apps
    return records


class ConsentStoreReader:
    """:class:`~tray_agent.signals.polled_source.StateReader` over the privacy records (Teams' only)."""

    def __init__(self, tree: RegistryTree | None) -> None:
        self._tree = tree

    async def available(self) -> str | None:
        if self._tree is None:
            return "not Windows"
        try:
            if self._tree.subkeys(CONSENT_STORE) is None:
                return "Windows keeps no microphone or camera records for this user"
        except OSError as error:
            return f"the microphone and camera records cannot be read ({type(error).__name__})"
        return None

    async def read(self) -> Reading:
        assert self._tree is not None  # noqa: S101 - available() first
        try:
            return teams_device_in_use(read_consent_records(self._tree))
        except OSError as error:
            raise ReadFailed(f"the registry could not be read ({type(error).__name__})") from None


if sys.platform == "win32":
    import winreg

    class WinRegistryTree:
        """:class:`RegistryTree` over ``HKEY_CURRENT_USER``, read-only, in the 64-bit view."""

        _ACCESS = winreg.KEY_READ | winreg.KEY_WOW64_64KEY

        def subkeys(self, key: str) -> list[str] | None:
            try:
                handle = winreg.OpenKey(winreg.HKEY_CURRENT_USER, key, 0, self._ACCESS)
            except FileNotFoundError:
                return None
            names: list[str] = []
            with handle:
                count, _values, _modified = winreg.QueryInfoKey(handle)
                for index in range(count):
                    try:
                        names.append(winreg.EnumKey(handle, index))
                    except OSError:  # removed while listing
                        break
            return names

        def values(self, key: str) -> dict[str, object] | None:
            try:
                handle = winreg.OpenKey(winreg.HKEY_CURRENT_USER, key, 0, self._ACCESS)
            except FileNotFoundError:
                return None
            found: dict[str, object] = {}
            with handle:
                _keys, count, _modified = winreg.QueryInfoKey(handle)
                for index in range(count):
                    try:
                        name, data, _kind = winreg.EnumValue(handle, index)
                    except OSError:
                        break
                    found[name] = data
            return found

    def this_users_registry() -> RegistryTree | None:
        return WinRegistryTree()

else:

    def this_users_registry() -> RegistryTree | None:
        return None


# --- Linux: PipeWire, else PulseAudio -------------------------------------------------------------

CAPTURE_STREAM_CLASSES = frozenset({"Stream/Input/Audio", "Stream/Input/Video"})
_MONITOR_PROPS = ("stream.monitor", "stream.capture.sink")  # level meters, recording what is played


def _flag(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def parse_pw_dump(output: str) -> Reading:
    """``pw-dump`` → whether any application is capturing sound or video now."""
    try:
        objects = json.loads(output)
    except ValueError:  # JSONDecodeError, or a number too long to read
        return Reading(None, ("pw-dump's answer is not JSON",))
    if not isinstance(objects, list):
        return Reading(None, ("pw-dump's answer is not a list of objects",))
    problems: set[str] = set()
    capturing = False
    for entry in objects:
        if not isinstance(entry, dict):
            problems.add("pw-dump listed something that is not an object")
            continue
        if entry.get("type") != "PipeWire:Interface:Node":
            continue
        info = entry.get("info")
        if not isinstance(info, dict):
            continue  # a node being removed has no info
        props = info.get("props")
        if not isinstance(props, dict):
            problems.add("pw-dump listed a node without properties")
            continue
        if props.get("media.class") not in CAPTURE_STREAM_CLASSES:
            continue
        if any(_flag(props.get(name)) for name in _MONITOR_PROPS):
            continue
        if info.get("state") == "running":
            capturing = True
    return Reading(capturing, tuple(sorted(problems)))


def parse_pactl_source_outputs(output: str) -> Reading:
    """``pactl list short source-outputs`` (one tab-separated line per stream) → any capture?"""
    streams = 0
    problems: set[str] = set()
    for line in output.splitlines():
        if not line.strip():
            continue
        index = line.split("\t", 1)[0].strip()
        if index.isascii() and index.isdigit():
            streams += 1
        else:
            problems.add("pactl listed a line that is not a source output")
    return Reading(streams > 0, tuple(sorted(problems)))


class PipeWireCapture:
    """:class:`~tray_agent.signals.polled_source.StateReader`: any PipeWire capture stream running."""

    def __init__(self, pw_dump: str | None, run: CommandRunner = run_command) -> None:
        self._pw_dump = pw_dump
        self._run = run

    async def available(self) -> str | None:
        if self._pw_dump is None:
            return "pw-dump is not installed"
        return await why_not_readable(self, "pw-dump", "pw-dump's answer makes no sense")

    async def read(self) -> Reading:
        assert self._pw_dump is not None  # noqa: S101 - available() first
        return parse_pw_dump(await self._run([self._pw_dump]))


class PulseCapture:
    """:class:`~tray_agent.signals.polled_source.StateReader`: any PulseAudio source output."""

    def __init__(self, pactl: str | None, run: CommandRunner = run_command) -> None:
        self._pactl = pactl
        self._run = run

    async def available(self) -> str | None:
        if self._pactl is None:
            return "pactl is not installed"
        return await why_not_readable(self, "pactl", "pactl's answer makes no sense")

    async def read(self) -> Reading:
        assert self._pactl is not None  # noqa: S101 - available() first
        return parse_pactl_source_outputs(await self._run([self._pactl, "list", "short", "source-outputs"]))


class FirstThatWorks:
    """:class:`~tray_agent.signals.polled_source.StateReader`: the first of ``readers`` that works here."""

    def __init__(self, readers: Sequence[StateReader]) -> None:
        self._readers = tuple(readers)
        self._chosen: StateReader | None = None

    async def available(self) -> str | None:
        reasons = []
        for reader in self._readers:
            reason = await reader.available()
            if reason is None:
                self._chosen = reader
                return None
            reasons.append(reason)
        return "; ".join(reasons) or "nothing to read"

    async def read(self) -> Reading:
        if self._chosen is None:
            raise ReadFailed("no reader works here")
        return await self._chosen.read()
