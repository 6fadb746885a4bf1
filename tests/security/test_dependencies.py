"""Dependencies are pinned to ranges, and the audit step exists for CI to run."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
RUNTIME = [Requirement(line) for line in PROJECT["dependencies"]]
# An extra that names the project's own other extras ("tray-agent[demo]") is this very version, not a dependency.
TOOLS = [
    requirement
    for group in PROJECT.get("optional-dependencies", {}).values()
    for requirement in map(Requirement, group)
    if requirement.name != PROJECT["name"]
]


def bounds(requirement: Requirement) -> set[str]:
    return {spec.operator for spec in requirement.specifier}


def test_every_dependency_has_a_version_bound() -> None:
    unbounded = [str(r) for r in [*RUNTIME, *TOOLS] if not bounds(r)]
    assert unbounded == []


def test_every_runtime_dependency_has_a_floor() -> None:
    """A floor keeps out releases with known problems; the range is what CI tested against."""
    no_floor = [str(r) for r in RUNTIME if not bounds(r) & {">=", "~=", "==", ">"}]
    assert no_floor == []


def test_the_audit_step_is_an_executable_script_that_audits_this_environment() -> None:
    audit = ROOT / ".ci" / "audit"
    assert audit.is_file() and os.access(audit, os.X_OK)
    text = audit.read_text()
    assert "pip-audit" in text and ".venv" in text
