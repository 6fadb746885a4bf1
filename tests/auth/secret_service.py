"""A real Secret Service for the tests: a private D-Bus session bus and gnome-keyring-daemon, unlocked.

Started once per test process (on first use) in a temporary home, and stopped at exit. Tests point
``DBUS_SESSION_BUS_ADDRESS`` at it (see :func:`use_secret_service`), so ``keyring`` finds the real
``SecretService`` backend exactly as it does on an agent's Linux desktop. Needs Debian's
``dbus-daemon`` and ``gnome-keyring`` (listed in .ci/apt-packages/auth.txt).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import secretstorage
from keyring.backends import SecretService


@dataclass(frozen=True)
class SecretServiceDaemon:
    address: str  # DBUS_SESSION_BUS_ADDRESS
    home: Path
    processes: tuple[subprocess.Popen[str], ...]

    def items(self) -> list[tuple[dict[str, str], bytes]]:
        """Every (attributes, secret) in the default collection: what an attacker with the keyring sees."""
        with _bus(self.address) as connection:
            collection = secretstorage.get_default_collection(connection)
            return [(item.get_attributes(), item.get_secret()) for item in collection.get_all_items()]

    def clear(self) -> None:
        with _bus(self.address) as connection:
            for item in secretstorage.get_default_collection(connection).get_all_items():
                item.delete()


_daemon: SecretServiceDaemon | None = None

# A session bus without service directories: nothing is auto-activated, so no second (locked)
# gnome-keyring can race ours for org.freedesktop.secrets.
_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@dataclass(frozen=True)
class RealKeyring:
    daemon: SecretServiceDaemon
    backend: SecretService.Keyring


@pytest.fixture
def real_keyring(monkeypatch: pytest.MonkeyPatch) -> RealKeyring:
    """An empty, unlocked Secret Service on this test's session bus, and keyring's backend for it."""
    daemon = secret_service()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", daemon.address)
    daemon.clear()
    backend = SecretService.Keyring()
    assert backend.priority == 5  # keyring's own viability check: the service is on the bus
    return RealKeyring(daemon, backend)


@contextlib.contextmanager
def _bus(address: str) -> Iterator[secretstorage.DBusConnection]:
    saved = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
    try:
        connection = secretstorage.dbus_init()
        try:
            yield connection
        finally:
            connection.close()
    finally:
        if saved is None:
            os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SESSION_BUS_ADDRESS"] = saved


def secret_service() -> SecretServiceDaemon:
    """The running daemon, started on first call."""
    global _daemon
    if _daemon is None:
        _daemon = _start()
        atexit.register(_stop, _daemon)
    return _daemon


def _start() -> SecretServiceDaemon:
    for tool in ("dbus-daemon", "gnome-keyring-daemon"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is missing: run 'bash .ci/setup --system' (see .ci/apt-packages/auth.txt)")
    home = Path(tempfile.mkdtemp(prefix="tray-agent-secret-service-"))
    runtime = home / "run"
    runtime.mkdir(mode=0o700)
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_RUNTIME_DIR": str(runtime),
    }
    config = home / "session.conf"
    config.write_text(_BUS_CONFIG.format(socket=runtime / "bus"))
    bus = subprocess.Popen(
        ["dbus-daemon", f"--config-file={config}", "--nofork", "--nopidfile", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    assert bus.stdout is not None
    address = bus.stdout.readline().strip()
    if not address:
        bus.kill()
        raise RuntimeError("dbus-daemon did not start")
    env["DBUS_SESSION_BUS_ADDRESS"] = address
    keyring_daemon = subprocess.Popen(
        ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    assert keyring_daemon.stdin is not None
    keyring_daemon.stdin.write("test-login-password")  # --unlock reads the login keyring's password on stdin
    keyring_daemon.stdin.close()
    daemon = SecretServiceDaemon(address, home, (keyring_daemon, bus))
    deadline = time.monotonic() + 15
    while True:
        with contextlib.suppress(secretstorage.exceptions.SecretStorageException), _bus(address) as connection:
            if secretstorage.check_service_availability(connection):
                collection = secretstorage.get_default_collection(connection)
                if not collection.is_locked():
                    return daemon
        if time.monotonic() > deadline:
            _stop(daemon)
            raise RuntimeError("gnome-keyring-daemon did not offer an unlocked Secret Service within 15 s")
        time.sleep(0.05)


def _stop(daemon: SecretServiceDaemon) -> None:
    for process in daemon.processes:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
    shutil.rmtree(daemon.home, ignore_errors=True)
