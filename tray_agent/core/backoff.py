"""Capped exponential backoff with jitter, so a fleet of agents never retries in step."""

from __future__ import annotations

import random
from collections.abc import Callable


def backoff_delay(failures: int, base: float, cap: float, u: float, at_least: float = 0.0) -> float:
    """The wait after ``failures`` failures in a row: uniform in the upper half of the capped
    exponential (``u`` is uniform in [0, 1)), never below ``at_least``."""
    ceiling: float = min(cap, base * 2.0 ** min(max(failures, 1) - 1, 30))
    return max(at_least, ceiling / 2 + u * ceiling / 2)


class Backoff:
    def __init__(self, base: float, cap: float, rng: random.Random | Callable[[], float] | None = None) -> None:
        self._base = base
        self._cap = cap
        source = rng or random.Random()  # noqa: S311 - jitter, not security
        self._random = source.random if isinstance(source, random.Random) else source
        self.failures = 0

    def next_delay(self, at_least: float = 0.0) -> float:
        self.failures += 1
        return backoff_delay(self.failures, self._base, self._cap, self._random(), at_least)

    def reset(self) -> None:
        self.failures = 0
