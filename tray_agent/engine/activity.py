"""The agent's story, kept across restarts: the last few hundred transitions, for the agent's window.

One JSON object per line (``at``, ``kind``, ``text``) in a user-only file in the state folder. The
texts are the engine's own lines, which never carry a token, a code or a URL's query (the same text
the log file gets). Bounded: at most ``2 × limit`` lines on disk, trimmed to the last ``limit`` when
it grows past that; a damaged line is skipped on reading, never fatal.
"""

from __future__ import annotations

import json
import logging
import math
import os
import string
import sys
from pathlib import Path
from typing import Protocol

from tray_agent.config.paths import write_private
from tray_agent.core.said import Named, Said
from tray_agent.engine.snapshot import Transition

log = logging.getLogger(__name__)

LIMIT = 500
MAX_LINE = 4096  # characters: a longer line is not ours
MAX_NAMES = 32  # languages kept for one name (a Genesys presence's languageLabels)


class ActivityStore(Protocol):
    def load(self) -> list[Transition]: ...

    def append(self, transition: Transition) -> None: ...


class NoActivity:
    """Nothing kept (the demo, tests): every start begins an empty story."""

    def load(self) -> list[Transition]:
        return []

    def append(self, transition: Transition) -> None:
        return None


class FileActivity:
    def __init__(self, path: Path, limit: int = LIMIT) -> None:
        self._path = path
        self._limit = limit
        self._lines = -1  # unknown until loaded

    def load(self) -> list[Transition]:
        try:
            lines = self._path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            lines = []
        except (OSError, UnicodeDecodeError) as error:
            log.warning("the activity file could not be read (%s); starting a new one", type(error).__name__)
            lines = []
        self._lines = len(lines)
        found = [transition for line in lines if (transition := _parse(line)) is not None]
        return found[-self._limit :]

    def append(self, transition: Transition) -> None:
        line = _line(transition)
        try:
            if self._lines < 0:
                self.load()
            if self._lines >= 2 * self._limit:
                kept = [*self.load(), transition][-self._limit :]
                write_private(self._path, "".join(_line(t) + "\n" for t in kept))
                self._lines = len(kept)
                return
            self._append_line(line)
            self._lines += 1
        except OSError as error:  # the story is a convenience: never let it stop the agent
            log.warning("could not keep the activity (%s)", type(error).__name__)

    def _append_line(self, line: str) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
        handle = os.open(self._path, flags, 0o600)
        try:
            if sys.platform != "win32":
                os.fchmod(handle, 0o600)
            os.write(handle, (line + "\n").encode("utf-8"))
        finally:
            os.close(handle)


def _line(transition: Transition) -> str:
    entry: dict[str, object] = {"at": transition.at, "kind": transition.kind, "text": transition.text}
    if isinstance(transition.text, Said):  # kept so that it is said in the agent's language after a restart
        said = json.dumps({**entry, "said": _encoded(transition.text)}, ensure_ascii=False)
        if len(said) <= MAX_LINE:  # else (an org with labels in very many languages) its English text stands
            return said
    return json.dumps(entry, ensure_ascii=False)


def _encoded(said: Said) -> dict[str, object]:
    return {"template": said.template, "values": {name: _encoded_value(value) for name, value in said.values.items()}}


def _encoded_value(value: object) -> object:
    if isinstance(value, Said):
        return _encoded(value)
    if isinstance(value, Named):
        return {"name": str(value), "names": [list(pair) for pair in value.names[:MAX_NAMES]]}
    return value if _plain_number(value) else str(value)


def _plain_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


_SPECS = frozenset({"", ".0f", ".1f", "g"})  # the format specs the core's templates use


def _plain_template(template: str) -> bool:
    """Only named fields with the core's own specs: a damaged line's ``{a.__class__}`` or
    ``{a:>99999999999}`` is never formatted."""
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:
        return False
    return all(
        name is None or (name.isidentifier() and spec in _SPECS and conversion in (None, "r"))
        for _literal, name, spec, conversion in fields
    )


def _decoded(data: object, depth: int = 0) -> Said | None:
    """The Said a line kept, or None where it is not one (an older or damaged line: its English text stands)."""
    if depth > 4 or not isinstance(data, dict):
        return None
    template, values = data.get("template"), data.get("values")
    if not isinstance(template, str) or not isinstance(values, dict) or not _plain_template(template):
        return None
    kept: dict[str, object] = {}
    for name, value in values.items():
        if isinstance(value, dict):
            value = _decoded_named(value) if "name" in value else _decoded(value, depth + 1)
        if not isinstance(value, str) and not _plain_number(value):
            return None
        kept[str(name)] = value
    try:
        return Said.kept(template, kept)
    except (KeyError, IndexError, ValueError, TypeError):
        return None


def _decoded_named(data: dict[str, object]) -> Named | None:
    """A kept name in several languages (a Genesys presence), or None where it is damaged."""
    text, names = data.get("name"), data.get("names")
    if not isinstance(text, str) or not isinstance(names, list) or len(names) > MAX_NAMES:
        return None
    pairs = [tuple(pair) for pair in names if isinstance(pair, list) and len(pair) == 2]
    if len(pairs) != len(names) or not all(
        isinstance(part, str) and len(part) <= 256 for pair in pairs for part in pair
    ):
        return None
    return Named(text, tuple((str(key), str(name)) for key, name in pairs))


def _parse(line: str) -> Transition | None:
    if not line or len(line) > MAX_LINE:
        return None
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    at, kind, text = data.get("at"), data.get("kind"), data.get("text")
    if not isinstance(at, int | float) or isinstance(at, bool) or not math.isfinite(at):
        return None
    if not isinstance(kind, str) or not isinstance(text, str) or len(kind) > 16:
        return None
    said = _decoded(data.get("said"))
    return Transition(float(at), kind, said if said is not None and said == text else text)
