"""Sliding-window request budgets (Graph's per-app presence budget, Genesys's per-token limit)."""

from __future__ import annotations

from collections import deque


class SlidingWindow:
    """At most ``limit`` hits in any ``window`` seconds.

    Real behaviour unknown: neither service documents whether its window is fixed or sliding. A sliding
    log is the stricter reading and makes ``Retry-After`` meaningful ("until the oldest hit leaves the
    window"). Amortised O(1) per hit; memory is bounded by ``limit``.
    """

    __slots__ = ("_hits", "limit", "window")

    def __init__(self, limit: int, window: float) -> None:
        if limit <= 0 or window <= 0:
            raise ValueError("limit and window must be positive")
        self.limit = limit
        self.window = window
        self._hits: deque[float] = deque()

    def hit(self, now: float) -> float | None:
        """Record a hit at ``now`` and return None, or — if over budget — return seconds to wait."""
        hits = self._hits
        horizon = now - self.window
        while hits and hits[0] <= horizon:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(hits[0] + self.window - now, 0.001)
        hits.append(now)
        return None

    def used(self, now: float) -> int:
        horizon = now - self.window
        return sum(1 for t in self._hits if t > horizon)
