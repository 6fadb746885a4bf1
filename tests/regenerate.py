"""Regenerates the committed figures. This is the only thing that writes them: a test run writes its
figures to ``build/`` and ``artifacts/`` (both untracked), and ``.ci/test`` fails if a test run changed
a tracked file.

    .venv/bin/python -m tests.regenerate reliability   # fault suite + soak → assets/reliability/, docs/reliability.md
    .venv/bin/python -m tests.regenerate bench         # python -m tests.bench → assets/bench/, docs/performance.md
    .venv/bin/python -m tests.regenerate screenshot    # the tray's X server test → assets/screenshots/tray-menu.png
    .venv/bin/python -m tests.regenerate icons         # assets/make_tray_mark.py → the tray mark, .ico, tray-states.png
    .venv/bin/python -m tests.regenerate window        # tests/screenshots_window.py → assets/screenshots/window-*.png
    .venv/bin/python -m tests.regenerate all           # all of them (bench alone takes about 5 minutes)

Arguments after ``--`` go to pytest, for example ``reliability -- -k soak`` re-runs only the soak:
the other rows of ``assets/reliability/figures.json`` are kept unless ``--fresh`` is given.
Figures from a failed run are still written (a "no" row is an open bug), and the exit code is non-zero.
Review the changes with ``git diff`` and commit them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
TARGETS = ("reliability", "bench", "screenshot", "icons", "window")


def fill(doc: Path, name: str, text: str) -> None:
    """Replace what stands between ``<!-- begin generated: NAME -->`` and ``<!-- end generated: NAME -->``."""
    begin, end = f"<!-- begin generated: {name} -->", f"<!-- end generated: {name} -->"
    content = doc.read_text(encoding="utf-8")
    start, stop = content.find(begin), content.find(end)
    if start < 0 or stop < start:
        raise SystemExit(f"{doc.relative_to(REPO)} has no '{begin}' … '{end}' block")
    content = content[: start + len(begin)] + "\n" + text.strip() + "\n" + content[stop:]
    doc.write_text(content, encoding="utf-8")


def generated(doc: Path, name: str) -> str:
    """The text of a generated block (for the test that keeps the docs equal to the assets)."""
    content = doc.read_text(encoding="utf-8")
    begin, end = f"<!-- begin generated: {name} -->", f"<!-- end generated: {name} -->"
    return content[content.index(begin) + len(begin) : content.index(end)].strip()


def pytest(*args: str, env: dict[str, str] | None = None) -> int:
    command = [sys.executable, "-m", "pytest", "-q", *args]
    print("$", " ".join(command[1:]), file=sys.stderr)
    return subprocess.run(command, cwd=REPO, env={**os.environ, **(env or {})}, check=False).returncode


def reliability(extra: list[str], *, fresh: bool) -> int:
    from tests.reliability import report

    with tempfile.TemporaryDirectory(prefix="reliability-figures-") as temporary:
        folder = Path(temporary)
        if not fresh and (report.TRACKED / "figures.json").is_file():
            shutil.copy(report.TRACKED / "figures.json", folder / "figures.json")
        code = pytest("tests/reliability", *extra, env={report.ENVIRONMENT: str(folder)})
        if not (folder / "summary.md").is_file():
            print("no reliability figures were recorded; nothing written", file=sys.stderr)
            return code or 1
        report.TRACKED.mkdir(parents=True, exist_ok=True)
        for name in ("figures.json", "summary.md"):
            shutil.copy(folder / name, report.TRACKED / name)
    fill(DOCS / "reliability.md", "reliability", (report.TRACKED / "summary.md").read_text(encoding="utf-8"))
    print("wrote assets/reliability/figures.json, summary.md and docs/reliability.md", file=sys.stderr)
    return code


def bench() -> int:
    from tests.bench.__main__ import TRACKED, main

    code = main(TRACKED)
    fill(DOCS / "performance.md", "bench", (TRACKED / "results.md").read_text(encoding="utf-8"))
    print("wrote assets/bench/results.md, fleet-load.png and docs/performance.md", file=sys.stderr)
    return code


def screenshot(extra: list[str]) -> int:
    from PIL import Image

    shot = REPO / "artifacts" / "tray" / "tray-menu.png"
    shot.unlink(missing_ok=True)
    code = pytest("tests/tray/test_tray_x11.py", *extra)
    if not shot.is_file():
        print("the tray test took no screenshot; nothing written", file=sys.stderr)
        return code or 1
    target = REPO / "assets" / "screenshots" / "tray-menu.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(shot) as picture:
        picture.save(target, optimize=True)
    print("wrote assets/screenshots/tray-menu.png", file=sys.stderr)
    return code


def icons() -> int:
    return subprocess.run([sys.executable, "assets/make_tray_mark.py"], cwd=REPO, check=False).returncode


def window() -> int:
    """The agent's window in headless Chromium, each view (tests/screenshots_window.py)."""
    from tests.screenshots_window import main

    return main([])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    own, extra = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    parser = argparse.ArgumentParser(prog="python -m tests.regenerate", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("targets", nargs="+", choices=(*TARGETS, "all"))
    parser.add_argument("--fresh", action="store_true", help="reliability: drop rows no test recorded this time")
    args = parser.parse_args(own)
    targets = TARGETS if "all" in args.targets else tuple(t for t in TARGETS if t in args.targets)
    codes = []
    for target in targets:
        if target == "reliability":
            codes.append(reliability(extra, fresh=args.fresh))
        elif target == "bench":
            codes.append(bench())
        elif target == "screenshot":
            codes.append(screenshot(extra))
        elif target == "icons":
            codes.append(icons())
        else:
            codes.append(window())
    return max(codes)


if __name__ == "__main__":
    raise SystemExit(main())
