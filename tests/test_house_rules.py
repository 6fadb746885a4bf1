"""House rules a newcomer can rely on, checked over all of ``tray_agent/`` with ``ast`` (no imports run).

- Layering: each layer imports only the layers the ``tray_agent/__init__.py`` docstring lists before it.
- Length: no function is longer than :data:`MAX_LINES` lines, unless its body starts with a comment or
  docstring that says why (it contains "longer because").
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import tray_agent

PACKAGE = Path(tray_agent.__file__).parent

# From the inside out: each may import the ones before it (and itself). ``logs`` and ``i18n`` sit with
# ``clock``: leaves that import nothing of the agent's.
LAYERS = ("core", "clock", "logs", "i18n", "clients", "config", "auth", "signals", "engine", "agent", "tray", "window")
# Beside the layers: the simulator is the services on loopback (it shares only the clock and the
# core's vocabulary with the agent); the demo and the command line may use anything.
SIDE = {"simulator": frozenset({"core", "clock"})}
ANYTHING = frozenset({"demo", "commands", "cli", "__main__"})

# Imports the layering does not allow yet, each to be removed by the change named beside it.
KNOWN_LAYERING_EXCEPTIONS: set[tuple[str, str]] = set()

MAX_LINES = 60
# Functions longer than MAX_LINES that are being split elsewhere: remove each entry when that lands.
KNOWN_LONG: set[tuple[str, str]] = set()


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(encoding="utf-8"), str(path))


def unit_of(relative: str) -> str:
    """``auth/session.py`` → ``auth``; ``clock.py`` → ``clock``; ``__init__.py`` → the package itself ("")."""
    first = relative.split("/")[0]
    return "" if first == "__init__.py" else first.removesuffix(".py")


def imported_units(relative: str, tree: ast.Module) -> Iterator[str]:
    """The units of ``tray_agent`` that a module imports (anywhere in it, type-checking imports included)."""
    package = relative.split("/")[:-1]  # the module's package, relative to tray_agent
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name.split(".") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ["tray_agent", *package[: len(package) - node.level + 1]]
                module = [*base, *(node.module.split(".") if node.module else [])]
            else:
                module = (node.module or "").split(".")
            targets = [[*module, alias.name] for alias in node.names] if module == ["tray_agent"] else [module]
        else:
            continue
        for target in targets:
            if target[0] == "tray_agent" and len(target) > 1:
                yield target[1].removesuffix(".py")


def allowed_for(unit: str) -> frozenset[str] | None:
    """The units ``unit`` may import (None: any)."""
    if unit in ANYTHING or unit == "":
        return None
    if unit in SIDE:
        return SIDE[unit] | {unit}
    if unit in LAYERS:
        return frozenset(LAYERS[: LAYERS.index(unit) + 1])
    raise AssertionError(f"tray_agent/{unit} is in no layer: add it to the tray_agent/__init__.py docstring and here")


def test_each_layer_imports_only_the_layers_before_it() -> None:
    version = {"__version__"}  # ``from tray_agent import __version__``: the package's own, for anyone
    wrong = []
    for relative, tree in modules():
        allowed = allowed_for(unit_of(relative))
        if allowed is None:
            continue
        for imported in set(imported_units(relative, tree)) - allowed - version:
            if (relative, imported) not in KNOWN_LAYERING_EXCEPTIONS:
                wrong.append(f"tray_agent/{relative} imports tray_agent.{imported}")
    assert not wrong, "imports across the layers (see tray_agent/__init__.py):\n" + "\n".join(sorted(wrong))


def test_the_layers_are_the_ones_the_package_docstring_lists_in_that_order() -> None:
    doc = tray_agent.__doc__ or ""
    listed = list(dict.fromkeys(name for name in re.findall(r"``(\w+)/?``", doc) if name in LAYERS))
    assert listed == list(LAYERS), "tray_agent/__init__.py and tests/test_house_rules.py disagree on the layers"


@dataclass(frozen=True)
class Function:
    relative: str
    name: str  # qualified: Class.method, outer.inner
    lines: int
    says_why: bool


def functions() -> Iterator[Function]:
    for relative, tree in modules():
        source = (PACKAGE / relative).read_text(encoding="utf-8").splitlines()
        yield from _functions_in(relative, tree, source, "")


def _functions_in(relative: str, node: ast.AST, source: list[str], prefix: str) -> Iterator[Function]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            name = prefix + child.name
            end = child.end_lineno or child.lineno
            opening = "\n".join(source[child.lineno - 1 : child.body[0].end_lineno or child.body[0].lineno])
            yield Function(relative, name, end - child.lineno + 1, "longer because" in opening)
            yield from _functions_in(relative, child, source, name + ".")
        elif isinstance(child, ast.ClassDef):
            yield from _functions_in(relative, child, source, prefix + child.name + ".")
        else:
            yield from _functions_in(relative, child, source, prefix)


def test_no_function_is_longer_than_60_lines_unless_it_says_why() -> None:
    long = [
        f"tray_agent/{f.relative}: {f.name} is {f.lines} lines"
        for f in functions()
        if f.lines > MAX_LINES and not f.says_why and (f.relative, f.name) not in KNOWN_LONG
    ]
    assert not long, (
        f"split these into named helpers (or say in a first comment why one is longer because …), at most "
        f"{MAX_LINES} lines each:\n" + "\n".join(long)
    )


def test_the_rules_see_what_they_check() -> None:
    """The walks find the code they judge: a rule that reads nothing passes for the wrong reason."""
    found = {(f.relative, f.name) for f in functions()}
    assert ("agent.py", "build_agent") in found
    assert ("engine/engine.py", "Engine.run") in found
    units = dict(modules())
    assert "core" in set(imported_units("engine/engine.py", units["engine/engine.py"]))
    assert "context" not in set(imported_units("simulator/entra.py", units["simulator/entra.py"]))
    assert set(imported_units("simulator/entra.py", units["simulator/entra.py"])) <= {"simulator", "clock", "core"}
