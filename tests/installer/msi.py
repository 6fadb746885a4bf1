"""Reading an MSI's tables with msitools (msiinfo), as rows of column name → text."""

from __future__ import annotations

import subprocess
from pathlib import Path


def table(msi: Path, name: str) -> list[dict[str, str]]:
    """``msiinfo export`` prints column names, column types, the key line, then one tab-separated row per line."""
    done = subprocess.run(
        ["msiinfo", "export", str(msi), name], cwd=msi.parent, capture_output=True, text=True, check=True
    )
    lines = done.stdout.split("\r\n") if "\r\n" in done.stdout else done.stdout.splitlines()
    columns = lines[0].split("\t")
    return [dict(zip(columns, line.split("\t"), strict=False)) for line in lines[3:] if line]


def summary(msi: Path) -> dict[str, str]:
    done = subprocess.run(["msiinfo", "suminfo", str(msi)], capture_output=True, text=True, check=True)
    return dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)


def properties(msi: Path) -> dict[str, str]:
    return {row["Property"]: row["Value"] for row in table(msi, "Property")}
