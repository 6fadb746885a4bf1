"""The README and docs/ say what the code does: the commands CI runs, the rules in their order, the layers,
and the generated figures as they were last regenerated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import tray_agent
from tests import regenerate
from tray_agent.core import rules

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
DOCS = REPO / "docs"


def words(name: str) -> str:
    return re.sub(r"[\s_-]+", " ", name.lower().replace("'", "")).strip()


def test_the_readme_gives_the_two_commands_ci_runs() -> None:
    assert "bash .ci/setup && .venv/bin/tray-agent demo --headless --scenario day --speed 120" in README
    assert "\nbash .ci/test\n" in README
    assert "bash .ci/test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_the_readme_links_files_that_exist() -> None:
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README):
        if not target.startswith("http"):
            assert (REPO / target).exists(), target


@pytest.mark.parametrize("doc", sorted(DOCS.glob("*.md")), ids=lambda path: path.name)
def test_every_doc_links_files_that_exist(doc: Path) -> None:
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
        if not target.startswith("http"):
            assert (doc.parent / target).exists(), target


def section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end > 0 else len(text)]


def test_the_rules_table_is_in_the_order_the_code_runs_them() -> None:
    text = section((DOCS / "architecture.md").read_text(encoding="utf-8"), "## The rules")
    table = re.findall(r"^\| (\d+) \| ([^|]+) \|", text, flags=re.MULTILINE)
    assert [int(number) for number, _ in table] == list(range(1, len(rules.RULES) + 1))
    assert [words(name) for _, name in table] == [words(rule.__name__) for rule in rules.RULES]
    docstring = re.findall(r"^\s*(\d+)\s+([a-z_]+)\s", rules.__doc__ or "", flags=re.MULTILINE)
    assert [name for _, name in docstring] == [rule.__name__ for rule in rules.RULES]


def test_the_layer_map_follows_the_package_docstring() -> None:
    listed = re.findall(r"``([a-z0-9]+)/?``", (tray_agent.__doc__ or "").split("The layers", 1)[1])
    text = section((DOCS / "architecture.md").read_text(encoding="utf-8"), "## The layers")
    layers = re.findall(r"^\| \d+ \| ([a-z0-9]+) \| `", text, flags=re.MULTILINE)
    assert layers == listed
    assert " → ".join(layers) in README


@pytest.mark.parametrize(
    ("doc", "block", "source"),
    [
        ("reliability.md", "reliability", "assets/reliability/summary.md"),
        ("performance.md", "bench", "assets/bench/results.md"),
    ],
)
def test_the_docs_show_the_figures_as_last_regenerated(doc: str, block: str, source: str) -> None:
    shown = regenerate.generated(DOCS / doc, block)
    assert shown == (REPO / source).read_text(encoding="utf-8").strip(), "run python -m tests.regenerate"


def test_regenerate_fills_only_its_block(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    block = "<!-- begin generated: x -->\n{}\n<!-- end generated: x -->"
    doc.write_text(f"before\n{block.format('old')}\nafter\n", encoding="utf-8")
    regenerate.fill(doc, "x", "new\n")
    assert doc.read_text(encoding="utf-8") == f"before\n{block.format('new')}\nafter\n"
    assert regenerate.generated(doc, "x") == "new"
