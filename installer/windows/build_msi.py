#!/usr/bin/env python3
"""Builds the per-machine MSI from TeamsGenesysPresence.wxs and a PyInstaller onedir payload.

    # Windows (the MSI that ships; WiX 3.14's candle/light on PATH, ICE validation included):
    python installer/windows/build_msi.py --toolset wix --payload dist/TeamsGenesysPresence --output dist/x.msi
    # Linux (CI checks with msitools' wixl; a stand-in payload where the Windows exe cannot be built):
    python installer/windows/build_msi.py --toolset wixl --stand-in --output /tmp/x.msi

The payload's files are harvested into a WiX fragment (component group ``AgentFiles``) with IDs and
component GUIDs derived from each file's path, so they stay the same from build to build (Windows
Installer's component rules need that for clean upgrades). The main exe is declared in the .wxs.

wixl 0.101 drops two things the .wxs says: component ``<Condition>``s and ``Secure="yes"``. After wixl,
this script writes both into the MSI (``msibuild``'s SQL) from the .wxs itself, so the wixl-built MSI
has the same Component conditions and SecureCustomProperties as WiX's.

Standard library only, so it runs from any Python 3.11+.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WXS = HERE / "TeamsGenesysPresence.wxs"
ICON = ROOT / "assets" / "tray-agent.ico"
EXE_NAME = "TeamsGenesysPresence.exe"
WIX_NS = "{http://schemas.microsoft.com/wix/2006/wi}"
# Namespace for the payload's component GUIDs: fixed forever (changing it orphans installed components).
COMPONENT_NAMESPACE = uuid.UUID("0b7f3a52-51f1-4a7e-9f0c-6d1c2e5a8b34")


def project_version() -> str:
    text = (ROOT / "tray_agent" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if not found:
        raise SystemExit("tray_agent/__init__.py has no __version__")
    return found.group(1)


def msi_version(version: str) -> str:
    """MSI ProductVersion is major.minor.build (255.255.65535); pre-release tags are dropped."""
    numbers = re.findall(r"\d+", version.split("+")[0])[:3]
    while len(numbers) < 3:
        numbers.append("0")
    major, minor, build = (int(n) for n in numbers)
    if major > 255 or minor > 255 or build > 65535:
        raise SystemExit(f"version {version!r} does not fit an MSI ProductVersion")
    return f"{major}.{minor}.{build}"


def _identifier(prefix: str, relative: str) -> str:
    return prefix + hashlib.sha1(relative.encode("utf-8"), usedforsecurity=False).hexdigest()[:32].upper()


def harvest(
    payload: Path, *, exclude: set[str], directory_ref: str = "INSTALLFOLDER", group: str = "AgentFiles"
) -> str:
    """A WiX fragment installing every file under ``payload`` (but ``exclude``) beneath ``directory_ref``."""
    wix = ET.Element("Wix", xmlns=WIX_NS.strip("{}"))
    fragment = ET.SubElement(wix, "Fragment")
    root = ET.SubElement(fragment, "DirectoryRef", Id=directory_ref)
    folders: dict[str, ET.Element] = {"": root}
    component_ids: list[str] = []
    for path in sorted(p for p in payload.rglob("*") if p.is_file()):
        relative = path.relative_to(payload).as_posix()
        if relative in exclude:
            continue
        parent = ""
        for part in relative.split("/")[:-1]:
            here = f"{parent}/{part}" if parent else part
            if here not in folders:
                folders[here] = ET.SubElement(folders[parent], "Directory", Id=_identifier("dir", here), Name=part)
            parent = here
        component_id = _identifier("cmp", relative)
        guid = "{" + str(uuid.uuid5(COMPONENT_NAMESPACE, relative.lower())).upper() + "}"
        component = ET.SubElement(folders[parent], "Component", Id=component_id, Guid=guid, Win64="yes")
        ET.SubElement(
            component, "File", Id=_identifier("fil", relative), Source=f"$(var.PayloadDir)/{relative}", KeyPath="yes"
        )
        component_ids.append(component_id)
    refs = ET.SubElement(ET.SubElement(wix, "Fragment"), "ComponentGroup", Id=group)
    for component_id in component_ids:
        ET.SubElement(refs, "ComponentRef", Id=component_id)
    ET.indent(wix)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(wix, encoding="unicode") + "\n"


def stand_in_payload(folder: Path, version: str) -> Path:
    """A stand-in for PyInstaller's onedir output (the real exe can only be built on Windows)."""
    folder.mkdir(parents=True, exist_ok=True)
    for exe in (EXE_NAME, "tray-agent.exe"):  # the windowed tray and the console CLI (see the .spec)
        (folder / exe).write_bytes(f"MZ stand-in for {exe} {version} (built on Linux for CI)\n".encode())
    internal = folder / "_internal"
    for relative in ("python311.dll", "base_library.zip", "tray_agent/simulator/static/control.html"):
        target = internal / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"stand-in {relative}\n", encoding="utf-8")
    return folder


def wixl_fixups(wxs: Path, version: str) -> list[str]:
    """SQL giving a wixl-built MSI what the .wxs says but wixl 0.101 ignores: component conditions,
    Secure="yes" (SecureCustomProperties) and MajorUpgrade/@AllowSameVersionUpgrades."""
    tree = ET.parse(wxs)  # noqa: S314 — our own source file
    queries = []
    for component in tree.iter(f"{WIX_NS}Component"):
        condition = component.find(f"{WIX_NS}Condition")
        if condition is not None and condition.text:
            text = condition.text.strip()
            if "'" in text:
                raise SystemExit(f"condition of {component.attrib['Id']} cannot contain a single quote: {text}")
            queries.append(  # values from our own .wxs, single quotes refused above
                f"UPDATE `Component` SET `Condition` = '{text}' WHERE `Component` = '{component.attrib['Id']}'"  # noqa: S608
            )
    secure = [p.attrib["Id"] for p in tree.iter(f"{WIX_NS}Property") if p.attrib.get("Secure") == "yes"]
    detected = ["WIX_DOWNGRADE_DETECTED", "WIX_UPGRADE_DETECTED"]
    queries.append(
        f"UPDATE `Property` SET `Value` = '{';'.join(detected + secure)}' WHERE `Property` = 'SecureCustomProperties'"  # noqa: S608
    )
    upgrade = tree.find(f".//{WIX_NS}MajorUpgrade")
    product = tree.find(f"{WIX_NS}Product")
    if upgrade is not None and product is not None and upgrade.attrib.get("AllowSameVersionUpgrades") == "yes":
        # The row that finds older versions also finds this one: msidbUpgradeAttributesMigrateFeatures (1) +
        # msidbUpgradeAttributesVersionMaxInclusive (512). Attributes is part of the key: replace the row.
        queries.append("DELETE FROM `Upgrade` WHERE `ActionProperty` = 'WIX_UPGRADE_DETECTED'")
        queries.append(
            "INSERT INTO `Upgrade` (`UpgradeCode`, `VersionMax`, `Attributes`, `ActionProperty`) "  # noqa: S608
            f"VALUES ('{product.attrib['UpgradeCode']}', '{version}', 513, 'WIX_UPGRADE_DETECTED')"
        )
    return queries


def _run(command: list[str], *, cwd: Path, quiet_warnings: bool = False) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603 — our tools
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    if quiet_warnings and done.returncode == 0:  # wixl's warnings for what wixl_fixups supplies
        ignored = ("has no property named 'Secure'", "has no property named 'AllowSameVersionUpgrades'")
        lines = [line for line in lines if not any(text in line for text in ignored)]
    if lines:
        print("\n".join(lines), file=sys.stderr)
    if done.returncode != 0:
        raise SystemExit(f"{Path(command[0]).name} failed with exit code {done.returncode}")


def build_with_wixl(work: Path, sources: list[str], defines: dict[str, str], output: Path) -> None:
    """wixl resolves sources relative to the working folder and refuses absolute paths: run it in ``work``."""
    definitions = [arg for name, value in defines.items() for arg in ("-D", f"{name}={value}")]
    _run(["wixl", "-a", "x64", *definitions, "-o", str(output), *sources], cwd=work, quiet_warnings=True)
    for query in wixl_fixups(WXS, defines["Version"]):
        _run(["msibuild", str(output), "-q", query], cwd=work)


def build_with_wix(work: Path, sources: list[str], defines: dict[str, str], output: Path) -> None:
    candle, light = shutil.which("candle"), shutil.which("light")
    if not candle or not light:
        raise SystemExit("WiX 3.14 (candle.exe, light.exe) is not on PATH")
    definitions = [f"-d{name}={value}" for name, value in defines.items()]
    (work / "obj").mkdir()
    _run([candle, "-nologo", "-arch", "x64", *definitions, "-out", "obj\\", *sources], cwd=work)
    objects = sorted(str(path.relative_to(work)) for path in (work / "obj").glob("*.wixobj"))
    _run([light, "-nologo", "-out", str(output), *objects], cwd=work)  # runs the ICE validation suites


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--toolset", choices=["wix", "wixl"], default="wix" if sys.platform == "win32" else "wixl")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--payload", type=Path, help="PyInstaller onedir output (holds TeamsGenesysPresence.exe)")
    source.add_argument("--stand-in", action="store_true", help="use a stand-in payload (Linux CI)")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--version", default=None, help="default: tray_agent.__version__")
    parser.add_argument("--icon", type=Path, default=ICON)
    parser.add_argument("--keep", type=Path, help="also write the generated fragment here (for review)")
    args = parser.parse_args(argv)

    version = msi_version(args.version or project_version())
    output = args.output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="msi-build-") as temporary:
        work = Path(temporary)
        payload = work / "payload"
        if args.stand_in:
            stand_in_payload(payload, version)
        else:
            shutil.copytree(args.payload, payload)
        if not (payload / EXE_NAME).is_file():
            raise SystemExit(f"{EXE_NAME} is missing from the payload: build it with PyInstaller first")
        shutil.copyfile(WXS, work / WXS.name)
        shutil.copyfile(args.icon, work / "AgentIcon.ico")
        (work / "AgentFiles.wxs").write_text(harvest(payload, exclude={EXE_NAME}), encoding="utf-8")
        if args.keep:
            shutil.copyfile(work / "AgentFiles.wxs", args.keep)
        defines = {"Version": version, "PayloadDir": "payload", "IconFile": "AgentIcon.ico", "Toolset": args.toolset}
        sources = [WXS.name, "AgentFiles.wxs"]
        if args.toolset == "wixl":
            build_with_wixl(work, sources, defines, output)
        else:
            build_with_wix(work, sources, defines, output)
    print(f"built {output} (version {version}, {args.toolset})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
