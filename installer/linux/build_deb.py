#!/usr/bin/env python3
"""Builds the Debian package: the agent in its own virtual environment under /opt, with a desktop entry,
a system-wide autostart entry and the ``tray-agent`` command.

    python3 installer/linux/build_deb.py --output dist/
    python3 installer/linux/build_deb.py --output dist/ --wheelhouse wheels/   # no package index at all

Layout of the package ``teams-genesys-presence``:

- ``/opt/teams-genesys-presence/venv``: a venv on the distribution's own ``python3.11`` (so the package
  depends on it, and is built per distribution release), holding the agent and the exact versions of
  its dependencies from PyPI (Debian's are too old: httpx, msal, keyring, websockets). It sees the
  system's site-packages too, for ``python3-gi`` (the tray icon's GTK/AppIndicator backends), but never
  the user's own (``~/.local/lib/python3.11/site-packages``): every script runs ``python -s``.
- ``/usr/bin/tray-agent`` → the venv's entry point. The agent's embedded simulator and demo
  (``tray_agent.simulator``, ``tray_agent.demo``: developer tools) are left out, and so is aiohttp, which
  only they need: the build fails if any dependency brings it (installer/payload_rules.py).
- ``/usr/share/applications/tray-agent.desktop`` and ``/etc/xdg/autostart/tray-agent.desktop`` (the
  latter through ``/opt/teams-genesys-presence/bin/start-at-login``, which honours IT policy
  ``start_at_login = false``). The user's ``~/.config/autostart/tray-agent.desktop`` overrides it.
- IT policy is read from ``/etc/xdg/TeamsGenesysPresence/policy.toml`` (not shipped: IT writes it; an
  example is in ``/usr/share/doc/teams-genesys-presence/examples/``).

Byte code is compiled at install time (postinst) and removed before removal (prerm), so ``dpkg --purge``
leaves nothing behind. Where the dependencies come from: pip's configured index (PyPI, or the
organisation's mirror), or with ``--wheelhouse`` only that folder (``pip wheel -w wheels .`` made it on
a connected machine).

Standard library only; needs ``dpkg-deb`` and the target Python with ``venv`` (python3-venv).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))
from payload_rules import DEMO_ONLY_DEPENDENCIES, DEMO_ONLY_PACKAGES  # noqa: E402 — the demo stays out of the package

PACKAGE = "teams-genesys-presence"
PREFIX = Path("/opt") / PACKAGE
POLICY_FILE = "/etc/xdg/TeamsGenesysPresence/policy.toml"
ICON_NAME = PACKAGE
ICON_SIZES = (32, 48, 64, 128, 256)
MAINTAINER = "TrayAgent packaging <packaging@trayagent.invalid>"
DEPENDS = "python3.11, python3-gi, gir1.2-gtk-3.0"
RECOMMENDS = "gir1.2-ayatanaappindicator3-0.1, gnome-keyring | kwalletmanager"

CONTROL = """\
Package: {package}
Version: {version}
Architecture: {architecture}
Maintainer: {maintainer}
Installed-Size: {installed_size}
Depends: {depends}
Recommends: {recommends}
Section: net
Priority: optional
Homepage: https://trayagent.invalid/teams-genesys-presence
Description: mirror each agent's Microsoft Teams presence into Genesys Cloud
 A per-user tray agent for contact-centre agents. When the agent joins a Teams
 meeting or call, their Genesys Cloud status follows, and it is put back
 afterwards, without ever fighting the agent or Genesys routing.
 .
 Signs in as the user (Microsoft Entra ID, Genesys Cloud PKCE); reads only the
 user's own Teams presence and writes only the user's own Genesys presence.
 IT settings: {policy_file}
"""

POSTINST = f"""\
#!/bin/sh
set -e
# Byte code is compiled here, on the target, so that it matches the installed paths; prerm removes it.
if [ "$1" = configure ]; then
    {PREFIX}/venv/bin/python -m compileall -q -j 0 {PREFIX}/venv/lib >/dev/null 2>&1 || true
fi
exit 0
"""

PRERM = f"""\
#!/bin/sh
set -e
# Remove the byte code postinst compiled (dpkg only removes the files it unpacked).
case "$1" in
    remove|upgrade|deconfigure|failed-upgrade)
        find {PREFIX} -depth -type d -name __pycache__ -exec rm -rf {{}} + 2>/dev/null || true
        ;;
esac
exit 0
"""

START_AT_LOGIN = f"""\
#!/bin/sh
# Started by the desktop at sign-in through /etc/xdg/autostart/tray-agent.desktop.
# IT stops this for everyone with start_at_login = false in {POLICY_FILE};
# a user stops it with the agent's menu (or Hidden=true in ~/.config/autostart/tray-agent.desktop).
{PREFIX}/venv/bin/python -s -m tray_agent.config.policy --start-at-login || exit 0
exec {PREFIX}/venv/bin/tray-agent --at-login "$@"
"""

DESKTOP_ENTRY = """\
[Desktop Entry]
Type=Application
Name=Teams → Genesys presence
GenericName=Presence sync
Comment=Mirrors your Microsoft Teams presence into Genesys Cloud
Exec={exec_line}
Icon={icon}
Terminal=false
Categories=Network;
StartupNotify=false
"""

AUTOSTART_EXTRA = "NoDisplay=true\nX-GNOME-Autostart-enabled=true\n"

POLICY_EXAMPLE = f"""\
# IT policy for the Teams → Genesys presence agent: copy to {POLICY_FILE}
# (owned by root, mode 0644 — a file others can write is ignored). Every key is optional; what is set
# here wins over each user's ~/.config/TeamsGenesysPresence/settings.toml and cannot be changed there.
# Check what the agent sees with: {PREFIX}/venv/bin/python -m tray_agent.config.policy

[agent]
# tenant_id = "00000000-0000-0000-0000-000000000000"      # Entra tenant ID (or verified domain)
# microsoft_client_id = "00000000-0000-0000-0000-000000000000"
# genesys_region = "eu_west_1"
# genesys_client_id = "00000000-0000-0000-0000-000000000000"
# genesys_redirect_port = 8765       # must match the Genesys OAuth client's redirect URI
# min_poll_interval = 60             # seconds; for N agents at least N / 40
# start_at_login = true              # true: always; false: never; unset: each user decides
# allow_device_code = false
# allow_insecure_keyring = false
# calendar_triggers = true           # needs Calendars.ReadBasic (installer/README.md §1)
# teams_writeback = true             # Genesys interactions shown in Teams; needs Presence.ReadWrite
# teams_writeback_media = ["voice", "callback", "chat", "message", "email", "video", "social"]
# teams_busy_while_on_queue = false  # Busy in Teams whenever On Queue
# teams_preferred_presence = false   # overrides the user's own Teams choice: leave it off

[mapping]
# InAMeeting = "Meeting|Busy"
# InACall = "Teams call"
"""

COPYRIGHT = """\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: tray-agent
Comment: The agent is proprietary. Its virtual environment bundles third-party Python packages under
 their own licences (each package's licence is in its *.dist-info folder under
 /opt/teams-genesys-presence/venv/lib/python3.11/site-packages).

Files: *
Copyright: TrayAgent
License: proprietary
"""


def project_version() -> str:
    text = (ROOT / "tray_agent" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if not found:
        raise SystemExit("tray_agent/__init__.py has no __version__")
    return found.group(1)


def run(command: list[str], **kwargs: object) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, **kwargs)  # type: ignore[call-overload]  # noqa: S603 — our tools


def write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)


def build_venv(staging: Path, python: str, wheelhouse: Path | None, version: str) -> Path:
    """The venv, built in the staging tree, then made to believe it lives at PREFIX/venv."""
    venv = staging / PREFIX.relative_to("/") / "venv"
    run([python, "-m", "venv", "--system-site-packages", str(venv)])
    pip = [
        str(venv / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-compile",
        "--disable-pip-version-check",
    ]
    if wheelhouse:
        run([*pip, "--no-index", "--find-links", str(wheelhouse), f"tray-agent=={version}"])
    else:
        run([*pip, str(source_copy(staging.parent / "source"))])
    run([str(venv / "bin" / "python"), "-m", "pip", "uninstall", "--quiet", "--yes", "pip", "setuptools"])
    _forget_source(venv)
    _leave_out_demo(venv)
    for cache in sorted(venv.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache)
    for leftover in venv.glob("bin/[Aa]ctivate*"):
        leftover.unlink()  # not needed (nobody activates it) and they would carry the build path
    _relocate(venv, staging)
    _no_user_site(venv)
    return venv


def _no_user_site(venv: Path) -> None:
    """``--system-site-packages`` also turns on the user's site-packages (site.ENABLE_USER_SITE), where
    anything the user (or a program of theirs) installed would be imported before the agent's own
    dependencies. The scripts' interpreter line gets ``-s``, which switches that off."""
    interpreter = f"#!{PREFIX}/venv/bin/python"
    for script in venv.glob("bin/*"):
        if script.is_file() and not script.is_symlink():
            data = script.read_bytes()
            if data.startswith(f"{interpreter}\n".encode()):
                script.write_bytes(f"{interpreter} -s\n".encode() + data[len(interpreter) + 1 :])


def source_copy(target: Path) -> Path:
    """The package's sources, copied out so that building the wheel leaves nothing in the checkout."""
    target.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(ROOT / name, target / name)
    shutil.copytree(ROOT / "tray_agent", target / "tray_agent", ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _forget_source(venv: Path) -> None:
    """pip notes the folder the agent was installed from (direct_url.json): a build path, not wanted."""
    for record in venv.glob("lib/python3*/site-packages/tray_agent-*.dist-info/RECORD"):
        (record.parent / "direct_url.json").unlink(missing_ok=True)
        lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
        record.write_text("".join(line for line in lines if "/direct_url.json," not in line), encoding="utf-8")


def _leave_out_demo(venv: Path) -> None:
    """The wheel carries the embedded simulator and the demo (developer tools): removed here, and from
    the agent's RECORD, so that the installed agent has none (its ``tray-agent demo`` says how to get them).
    What only they need (aiohttp) is not among the agent's dependencies: if something brought it anyway,
    the build stops rather than ship it or break what needs it."""
    folders = [package.replace(".", "/") + "/" for package in DEMO_ONLY_PACKAGES]
    for site in venv.glob("lib/python3*/site-packages"):
        brought = [name for name in DEMO_ONLY_DEPENDENCIES if (site / name).exists() or [*site.glob(f"{name}-*")]]
        if brought:
            raise SystemExit(f"the agent's dependencies brought {', '.join(brought)}, which only the demo needs")
        for folder in folders:
            shutil.rmtree(site / folder, ignore_errors=True)
        for record in site.glob("tray_agent-*.dist-info/RECORD"):
            lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
            kept = [line for line in lines if not line.startswith(tuple(folders))]
            record.write_text("".join(kept), encoding="utf-8")


def _relocate(venv: Path, staging: Path) -> None:
    """Point every script and pyvenv.cfg at PREFIX/venv instead of the staging path; fail if any file
    still names the staging folder."""
    built, final = str(venv).encode(), str(PREFIX / "venv").encode()
    for path in [*venv.glob("bin/*"), venv / "pyvenv.cfg"]:
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if built in data:
                path.write_bytes(data.replace(built, final))
    stale = [
        str(p)
        for p in venv.rglob("*")
        if p.is_file() and not p.is_symlink() and str(staging).encode() in p.read_bytes()
    ]
    if stale:
        raise SystemExit(f"files still name the build folder: {stale[:5]}")


def icons(staging: Path, venv: Path) -> None:
    """The tray's mark (assets/tray-mark.png) at the sizes desktops look for, drawn by the venv's Pillow."""
    script = (
        "import sys\nfrom PIL import Image\n"
        "mark = Image.open(sys.argv[1]).convert('RGBA')\n"
        "for size, target in zip(sys.argv[2::2], sys.argv[3::2]):\n"
        "    mark.resize((int(size), int(size)), Image.Resampling.LANCZOS).save(target)\n"
    )
    targets = []
    for size in ICON_SIZES:
        target = staging / f"usr/share/icons/hicolor/{size}x{size}/apps/{ICON_NAME}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        targets += [str(size), str(target)]
    run([str(venv / "bin" / "python"), "-B", "-c", script, str(ROOT / "assets" / "tray-mark.png"), *targets])


def desktop_files(staging: Path) -> None:
    write(
        staging / "usr/share/applications/tray-agent.desktop",
        DESKTOP_ENTRY.format(exec_line="tray-agent", icon=ICON_NAME),
    )
    write(
        staging / "etc/xdg/autostart/tray-agent.desktop",
        DESKTOP_ENTRY.format(exec_line=f"{PREFIX}/bin/start-at-login", icon=ICON_NAME) + AUTOSTART_EXTRA,
    )
    write(staging / PREFIX.relative_to("/") / "bin" / "start-at-login", START_AT_LOGIN, 0o755)
    command = staging / "usr/bin/tray-agent"
    command.parent.mkdir(parents=True, exist_ok=True)
    command.symlink_to(PREFIX / "venv" / "bin" / "tray-agent")
    write(staging / f"usr/share/doc/{PACKAGE}/examples/policy.toml", POLICY_EXAMPLE)
    write(staging / f"usr/share/doc/{PACKAGE}/copyright", COPYRIGHT)


def control(staging: Path, version: str) -> None:
    debian = staging / "DEBIAN"
    files = sorted(p for p in staging.rglob("*") if (p.is_file() or p.is_symlink()) and debian not in p.parents)
    size_kib = sum(p.lstat().st_size for p in files) // 1024 + 1
    dpkg = shutil.which("dpkg") or "/usr/bin/dpkg"
    architecture = subprocess.run([dpkg, "--print-architecture"], capture_output=True, text=True, check=True)  # noqa: S603
    write(
        debian / "control",
        CONTROL.format(
            package=PACKAGE,
            version=version,
            architecture=architecture.stdout.strip(),
            maintainer=MAINTAINER,
            installed_size=size_kib,
            depends=DEPENDS,
            recommends=RECOMMENDS,
            policy_file=POLICY_FILE,
        ),
    )
    write(debian / "conffiles", "/etc/xdg/autostart/tray-agent.desktop\n")
    write(debian / "postinst", POSTINST, 0o755)
    write(debian / "prerm", PRERM, 0o755)
    sums = [
        f"{hashlib.md5(p.read_bytes(), usedforsecurity=False).hexdigest()}  {p.relative_to(staging)}"
        for p in files
        if p.is_file() and not p.is_symlink() and not str(p.relative_to(staging)).startswith("etc/")
    ]
    write(debian / "md5sums", "\n".join(sums) + "\n")


def normalise_modes(staging: Path) -> None:
    for path in staging.rglob("*"):
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        executable = path.is_dir() or mode & stat.S_IXUSR
        path.chmod(0o755 if executable else 0o644)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, required=True, help="folder for the .deb")
    parser.add_argument("--python", default="/usr/bin/python3.11", help="the target distribution's Python")
    parser.add_argument("--wheelhouse", type=Path, help="install only from this folder of wheels (no index)")
    parser.add_argument("--version", default=None, help="package version (default: tray_agent.__version__)")
    parser.add_argument("--compression", default="xz", choices=["xz", "gzip", "zstd", "none"])
    args = parser.parse_args(argv)

    version = args.version or project_version()
    args.output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="deb-build-") as temporary:
        staging = Path(temporary) / "root"
        venv = build_venv(staging, args.python, args.wheelhouse, version)
        icons(staging, venv)
        desktop_files(staging)
        normalise_modes(staging)
        control(staging, version)
        architecture = (staging / "DEBIAN/control").read_text().split("Architecture: ")[1].split("\n")[0]
        deb = args.output.resolve() / f"{PACKAGE}_{version}_{architecture}.deb"
        run(["dpkg-deb", "--root-owner-group", f"-Z{args.compression}", "--build", str(staging), str(deb)])
    print(f"built {deb}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
