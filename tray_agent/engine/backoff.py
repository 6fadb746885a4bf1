"""Capped exponential backoff with jitter, and jittered intervals, so a fleet never syncs up."""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, base: float, cap: float, rng: random.Random | None = None) -> None:
        self._base = base
        self._cap = cap
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self.failures = 0

    def next_delay(self, at_least: float = 0.0) -> float:
        """Next delay: uniform in the upper half of the capped exponential, never below ``at_least``."""
        self.failures += 1
        ceiling = min(self._cap, self._base * (2 ** min(self.failures - 1, 30)))
        return max(at_least, self._rng.uniform(ceiling / 2, ceiling))

    def reset(self) -> None:
        self.failures = 0


def jittered(interval: float, fraction: float, rng: random.Random) -> float:
    return interval * (1 + rng.uniform(-fraction, fraction))
