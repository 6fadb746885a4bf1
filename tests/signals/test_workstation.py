"""Is anybody at the workstation? (what timer reads wait for; tray_agent/signals/workstation.py)"""

from __future__ import annotations

from tray_agent.signals.workstation import parse_logind


def test_logind_hints_mean_away_when_locked_or_idle() -> None:
    assert parse_logind("LockedHint=yes\nIdleHint=no\n") is True
    assert parse_logind("LockedHint=no\nIdleHint=yes\n") is True
    assert parse_logind("LockedHint=no\nIdleHint=no\n") is False
    assert parse_logind("garbage") is False  # the OS did not answer: present
