"""axe-core (Deque's accessibility engine) for the Chromium tests, from the npm registry.

A pinned release, fetched once with ``npm pack`` into a cache outside the repository
(``~/.cache/tray-agent-tests/axe-core-<version>/``, or under ``$XDG_CACHE_HOME``), checked against the
registry's pinned ``integrity`` (SHA-512 of the tarball) every time it is read, and only then opened
for its ``package/axe.min.js``. Without npm or the network the caller gets :class:`AxeUnavailable`,
which the tests turn into a failure that says why: an accessibility test that cannot run must not pass.

To move to a newer release: ``npm view axe-core version`` and ``npm view axe-core@<version> dist.integrity``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

VERSION = "4.14.1"
INTEGRITY = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
MEMBER = "package/axe.min.js"
NPM_TIMEOUT = 180.0  # seconds: a cold npm on a slow network


class AxeUnavailable(RuntimeError):
    """axe-core could not be fetched or did not match its pin."""


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "tray-agent-tests" / f"axe-core-{VERSION}"


def integrity_of(data: bytes) -> str:
    """The npm ``integrity`` string (Subresource Integrity, SHA-512) of a tarball."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def tarball() -> Path:
    """The pinned tarball in the cache, fetched with ``npm pack`` if it is not there yet."""
    folder = cache_dir()
    target = folder / f"axe-core-{VERSION}.tgz"
    if target.is_file():
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise AxeUnavailable(
            "npm is missing, so axe-core cannot be fetched from the npm registry: "
            "run 'bash .ci/setup --system' as root (see .ci/apt-packages/window.txt)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="axe-core-", dir=folder) as temporary:
        try:
            done = subprocess.run(
                [npm, "pack", f"axe-core@{VERSION}", "--json", "--pack-destination", temporary],
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT,
                check=False,
                cwd=temporary,
            )
        except subprocess.TimeoutExpired:
            raise AxeUnavailable(f"'npm pack axe-core@{VERSION}' did not finish within {NPM_TIMEOUT:g} s") from None
        if done.returncode != 0:
            raise AxeUnavailable(
                f"'npm pack axe-core@{VERSION}' failed (exit {done.returncode}; no network or no registry?):\n"
                + done.stderr.strip()[-2000:]
            )
        try:
            [packed] = json.loads(done.stdout)
            fetched = Path(temporary) / packed["filename"]
        except (ValueError, KeyError, TypeError) as error:
            raise AxeUnavailable(f"'npm pack' said something unexpected: {done.stdout[:500]!r}") from error
        check(fetched.read_bytes())  # a wrong tarball never reaches the cache
        os.replace(fetched, target)
    return target


def check(data: bytes) -> None:
    found = integrity_of(data)
    if found != INTEGRITY:
        raise AxeUnavailable(f"axe-core {VERSION} does not match its pinned integrity: {found} != {INTEGRITY}")


def axe_source() -> str:
    """The text of ``axe.min.js`` of the pinned release, from a tarball that matches the pin."""
    path = tarball()
    data = path.read_bytes()
    try:
        check(data)
    except AxeUnavailable as error:
        path.unlink(missing_ok=True)  # fetched afresh next time
        raise AxeUnavailable(f"{error} (the cached {path} was removed)") from None
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:  # exactly the bytes checked
        member = archive.extractfile(MEMBER)
        if member is None:
            raise AxeUnavailable(f"axe-core {VERSION} has no {MEMBER}")
        return member.read().decode("utf-8")
