"""What the Windows and macOS payloads carry, read from their PyInstaller specs without PyInstaller (which
only runs on those systems): each spec is run with stand-ins for PyInstaller's build steps and helpers,
and what it hands to ``Analysis`` is checked. And what PyInstaller will find from the entry point: every
import of every module that ships (function-level and TYPE_CHECKING ones too, as PyInstaller sees them),
so that no shipped module needs the simulator or the demo they leave out, nor aiohttp, which only those
need (it is the ``demo`` extra's, not one of the agent's dependencies).
"""

from __future__ import annotations

import ast
import fnmatch
import pkgutil
import sys
import tomllib
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

import tray_agent
from tests.installer.conftest import INSTALLER, ROOT

SPECS = {
    "windows": INSTALLER / "windows" / "TeamsGenesysPresence.spec",
    "macos": INSTALLER / "macos" / "TeamsGenesysPresence.spec",
}
LEFT_OUT = ("tray_agent.simulator", "tray_agent.demo")
LEFT_OUT_DEPENDENCIES = ("aiohttp",)  # the simulator's web server; the agent needs none


def _inside(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def _collect_submodules(package: str, filter: Callable[[str], bool] = lambda name: True, **_: Any) -> list[str]:
    """PyInstaller's: the package and every module under it that ``filter`` keeps (a package it drops
    takes its modules with it). Packages that are not installed here (pymsalruntime) have none."""
    try:
        root = __import__(package, fromlist=["__path__"])
    except ImportError:
        return []
    found = [package] if filter(package) else []
    dropped: list[str] = []
    for info in pkgutil.walk_packages(root.__path__, package + ".", onerror=lambda name: None):
        if _inside(info.name, tuple(dropped)) or not filter(info.name):
            dropped.append(info.name)
            continue
        found.append(info.name)
    return found if package in found else []


def _collect_data_files(package: str, includes: list[str] | None = None, **_: Any) -> list[tuple[str, str]]:
    """PyInstaller's: (source file, destination folder) for the package's files matching ``includes``."""
    root = Path(__import__(package).__file__ or "").parent
    files = [p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return [
        (str(p), str(Path(package, p.relative_to(root).parent)))
        for p in files
        if any(fnmatch.fnmatch(p.relative_to(root).as_posix(), pattern) for pattern in includes or ["*"])
    ]


def _anything(*args: Any, **kwargs: Any) -> types.SimpleNamespace:
    return types.SimpleNamespace(args=args, kwargs=kwargs, pure=[], scripts=[], binaries=[], datas=[])


def analysis_of(spec: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run ``spec`` with PyInstaller stood in for; what it gave ``Analysis``."""
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_submodules = _collect_submodules  # type: ignore[attr-defined]
    hooks.collect_data_files = _collect_data_files  # type: ignore[attr-defined]
    hooks.collect_dynamic_libs = lambda package, **_: []  # type: ignore[attr-defined]
    hooks.copy_metadata = lambda name, **_: []  # type: ignore[attr-defined]
    versioninfo = types.ModuleType("PyInstaller.utils.win32.versioninfo")
    for name in ("FixedFileInfo", "StringFileInfo", "StringStruct", "StringTable", "VarFileInfo", "VarStruct"):
        setattr(versioninfo, name, _anything)
    versioninfo.VSVersionInfo = _anything  # type: ignore[attr-defined]
    for name in ("PyInstaller", "PyInstaller.utils", "PyInstaller.utils.win32"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.hooks", hooks)
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.win32.versioninfo", versioninfo)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the spec puts installer/ on it
    monkeypatch.delitem(sys.modules, "payload_rules", raising=False)

    given: dict[str, Any] = {}

    def analysis(scripts: list[str], **kwargs: Any) -> types.SimpleNamespace:
        given.update(kwargs, scripts=scripts)
        return _anything()

    namespace = {"SPECPATH": str(spec.parent), "Analysis": analysis, "__name__": "__main__"}
    namespace |= {name: _anything for name in ("PYZ", "EXE", "COLLECT", "BUNDLE")}
    exec(compile(spec.read_text(encoding="utf-8"), str(spec), "exec"), namespace)  # noqa: S102 - our own spec
    return given


@pytest.mark.parametrize("system", sorted(SPECS))
def test_the_installer_payload_leaves_out_the_simulator_and_the_demo(
    system: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = analysis_of(SPECS[system], monkeypatch)
    assert set(LEFT_OUT) <= set(given["excludes"]), "PyInstaller must not follow the demo command's lazy imports"
    assert set(LEFT_OUT_DEPENDENCIES) <= set(given["excludes"]), "aiohttp is the demo's, not the agent's"
    hidden = given["hiddenimports"]
    assert "tray_agent.cli" in hidden and "tray_agent.tray.app" in hidden  # the agent's lazily imported parts
    assert not [m for m in hidden if _inside(m, (*LEFT_OUT, *LEFT_OUT_DEPENDENCIES))]
    sources = [Path(source) for source, _ in given["datas"]]
    assert Path(tray_agent.__file__).parent / "py.typed" in sources
    assert not [s for s in sources if {"simulator", "demo"} & set(s.parts)]


# ---------------------------------------------------------------------------------------- what ships

PACKAGE_ROOT = ROOT / "tray_agent"
ENTRY_POINT = "tray_agent.__main__"
# They ship, but only to say how to get the demo: they import it after checking it is there
# (`tray-agent demo`, `tray-agent simulator`, `tray-agent run --simulator`).
DEMO_COMMANDS = ("tray_agent.commands.demo", "tray_agent.commands.simulator", "tray_agent.commands.run")


def _module_file(module: str) -> Path | None:
    path = ROOT.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imports_of(module: str) -> set[str]:
    """Every module ``module`` imports, anywhere in it (``from pkg import name`` counts ``pkg.name``
    when that is a module of ours)."""
    file = _module_file(module)
    assert file is not None, module
    package = module if file.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names if _module_file(f"{base}.{alias.name}")}
    return found


def shipped_modules() -> dict[str, set[str]]:
    """The modules of ours PyInstaller reaches from the entry point (not entering the demo), and what each imports."""
    seen: dict[str, set[str]] = {}
    todo = [ENTRY_POINT]
    while todo:
        module = todo.pop()
        if module in seen or _inside(module, LEFT_OUT):
            continue
        seen[module] = imports_of(module)
        parts = module.split(".")
        parents = [".".join(parts[:i]) for i in range(1, len(parts))]  # importing a module runs its packages
        todo += [m for m in [*seen[module], *parents] if m.startswith("tray_agent") and _module_file(m)]
    return seen


def test_no_shipped_module_but_the_demo_commands_imports_the_simulator_or_the_demo() -> None:
    shipped = shipped_modules()
    assert {"tray_agent.cli", "tray_agent.tray.launch", "tray_agent.agent"} <= set(shipped)
    importers = {module for module, imports in shipped.items() if any(_inside(i, LEFT_OUT) for i in imports)}
    assert importers == set(DEMO_COMMANDS)


@pytest.mark.parametrize("command", DEMO_COMMANDS)
def test_the_demo_commands_import_the_demo_only_once_they_know_it_is_there(command: str) -> None:
    file = _module_file(command)
    assert file is not None
    tree = ast.parse(file.read_text(encoding="utf-8"))
    at_the_top = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert not [n for n in at_the_top if _inside(ast.unparse(n).split()[1], LEFT_OUT)]
    assert "demo_installed(" in file.read_text(encoding="utf-8")


def test_no_shipped_module_imports_aiohttp() -> None:
    """aiohttp is the simulator's web server, and it is left out with the simulator: the sign-in redirect
    listener (tray_agent/auth/loopback.py) is standard library, and no other shipped module may come to
    need aiohttp, not even lazily (PyInstaller would not find it, and the .deb does not install it)."""
    shipped = shipped_modules()
    assert "tray_agent.auth.loopback" in shipped
    users = {module for module, imports in shipped.items() if any(_inside(i, LEFT_OUT_DEPENDENCIES) for i in imports)}
    assert users == set()


def test_aiohttp_is_a_dependency_of_the_demo_extra_alone() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    agent = {Requirement(line).name.lower() for line in project["dependencies"]}
    demo = {Requirement(line).name.lower() for line in project["optional-dependencies"]["demo"]}
    assert not agent & set(LEFT_OUT_DEPENDENCIES) and set(LEFT_OUT_DEPENDENCIES) <= demo
    assert "tray-agent[demo]" in project["optional-dependencies"]["test"]


def test_the_tray_never_imports_the_demo() -> None:
    tray = [f"tray_agent.tray.{p.stem}" for p in (PACKAGE_ROOT / "tray").glob("*.py") if p.stem != "__init__"]
    assert tray
    for module in tray:
        assert not [i for i in imports_of(module) if _inside(i, ("tray_agent.demo",))], module
