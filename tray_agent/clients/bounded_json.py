"""JSON from the network, with bounds: every answer, frame and token reply goes through :func:`loads`.

``json.loads`` recurses once per nesting level, so ``[[[[…]]]]`` a few thousand deep raises
``RecursionError`` (not ``ValueError``), and it accepts ``NaN``, ``Infinity`` and ``1e999`` (infinite),
which no service sends and which break arithmetic later. :func:`loads` refuses both, and anything
larger than ``max_bytes``, with :class:`JSONRefused` (a ``ValueError``), before the parser sees it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Final

MAX_DEPTH: Final = 32  # Graph, Genesys and token answers nest at most about 6 deep
MAX_BYTES: Final = 1024 * 1024

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


class JSONRefused(ValueError):
    """Not JSON we accept: too large, too deep, or carrying NaN/Infinity. The message has no content."""


def _no_constants(name: str) -> Any:
    raise JSONRefused(f"{name} is not a number JSON allows")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses to inf
        raise JSONRefused("a number in the answer is out of range")
    return value


def nesting_depth(text: str) -> int:
    """How deeply arrays and objects nest in ``text`` (brackets inside strings do not count)."""
    depth = deepest = 0
    for bracket in _BRACKETS.finditer(_STRINGS.sub("", text)):
        if bracket.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def loads(data: str | bytes, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``data``; raises :class:`JSONRefused` (or another ``ValueError``) instead of anything else."""
    if len(data) > max_bytes:
        raise JSONRefused(f"answer larger than {max_bytes} bytes")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise JSONRefused("answer is not UTF-8 text") from None
    # Fewer opening brackets than the limit cannot nest deeper than it (the common case: no scan at all).
    if text.count("[") + text.count("{") > max_depth and nesting_depth(text) > max_depth:
        raise JSONRefused(f"answer nested deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_constant=_no_constants, parse_float=_finite)
    except RecursionError:  # cannot happen after the depth check; kept so the promise holds regardless
        raise JSONRefused("answer nested too deeply") from None
