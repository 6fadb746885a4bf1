"""doctor tells the agent what IT has set, and which IT values could not be used."""

from __future__ import annotations

import io
from types import SimpleNamespace

from tray_agent.commands.doctor import Report, _check_policy


def test_policy_problems_are_problems_with_a_fix_and_locked_keys_are_listed() -> None:
    out = io.StringIO()
    report = Report(out)
    target = SimpleNamespace(
        policy_problems=("GenesysRegion 'mars_1' is not a Genesys Cloud region",),
        policy_origins=("/etc/xdg/TeamsGenesysPresence/policy.toml",),
        locked=frozenset({"genesys_region", "tenant_id"}),
    )
    _check_policy(target, report)
    text = out.getvalue()
    assert report.problems == 1
    assert "PROBLEM  policy: GenesysRegion 'mars_1'" in text and "ask IT to correct it in /etc/xdg" in text
    assert "ok       policy: set by IT (/etc/xdg/TeamsGenesysPresence/policy.toml): genesys_region, tenant_id" in text


def test_without_policy_doctor_says_nothing_about_it() -> None:
    out = io.StringIO()
    _check_policy(SimpleNamespace(policy_problems=(), policy_origins=(), locked=frozenset()), Report(out))
    assert out.getvalue() == ""
