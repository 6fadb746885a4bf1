"""Real network parts for tests/network, started on loopback by the tests themselves.

- :func:`tinyproxy`: Debian's tinyproxy as a forward proxy (optionally demanding Basic auth → 407),
  logging every CONNECT to a file the test reads;
- :func:`stalled_server`: accepts TCP connections and never answers (a hung server or proxy);
- :func:`pac_server`: serves a PAC file over plain HTTP, as intranets do.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None = None, limit: float = 30.0) -> None:
    """Waits on the condition (the port accepts), with a generous ceiling for a loaded machine."""
    give_up = time.monotonic() + limit
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before listening")
        if time.monotonic() > give_up:
            raise RuntimeError(f"nothing listened on 127.0.0.1:{port}")
        time.sleep(0.05)


@dataclass
class Proxy:
    url: str
    log: Path

    def connects(self) -> list[str]:
        """The CONNECT requests tinyproxy logged so far (``CONNECT host:port``)."""
        if not self.log.exists():
            return []
        return [line for line in self.log.read_text(errors="replace").splitlines() if "CONNECT" in line]


@contextlib.contextmanager
def tinyproxy(*, basic_auth: tuple[str, str] | None = None) -> Iterator[Proxy]:
    binary = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"
    if not os.path.exists(binary):
        pytest.fail("tinyproxy is not installed: run `bash .ci/setup --system` (it is in .ci/apt-packages/network.txt)")
    folder = Path(tempfile.mkdtemp(prefix="tray-agent-tinyproxy-"))
    os.chmod(folder, 0o777)  # noqa: S103 - tinyproxy drops to user nobody as root; a throwaway test folder
    port = free_port()
    log = folder / "tinyproxy.log"
    lines = [
        f"Port {port}",
        "Listen 127.0.0.1",
        "Timeout 60",
        f'LogFile "{log}"',
        "LogLevel Connect",
        "MaxClients 50",
        "Allow 127.0.0.1",
        "DisableViaHeader Yes",
    ]
    if os.geteuid() == 0:
        lines += ["User nobody", "Group nogroup"]
    if basic_auth:
        lines.append(f"BasicAuth {basic_auth[0]} {basic_auth[1]}")
    config = folder / "tinyproxy.conf"
    config.write_text("\n".join(lines) + "\n")
    process = subprocess.Popen([binary, "-d", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        yield Proxy(f"http://127.0.0.1:{port}", log)
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def stalled_server() -> Iterator[int]:
    """A port that accepts connections and then says nothing at all (no TLS handshake, no HTTP)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                connection, _ = listener.accept()
                held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(5)
        for connection in held:
            connection.close()
        listener.close()


@contextlib.contextmanager
def pac_server(script: str) -> Iterator[str]:
    body = script.encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ns-proxy-autoconfig")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/proxy.pac"
    finally:
        server.shutdown()
        server.server_close()


MITMDUMP = Path(__file__).resolve().parents[2] / ".venv-mitmproxy" / "bin" / "mitmdump"
OS_STORE_FOLDER = Path("/usr/local/share/ca-certificates")


@dataclass
class Inspector:
    url: str
    ca_pem: Path  # the inspection root a company would push to its computers' OS stores
    flows: Path  # mitmdump's output: one line per request it re-signed and passed on


@contextlib.contextmanager
def mitmdump() -> Iterator[Inspector]:
    """A TLS-inspecting proxy: it re-signs every site with its own CA. (Its own upstream check is off:
    the simulators it meets make their CAs at start-up, and what is tested is the agent's check.)"""
    if not MITMDUMP.exists():
        pytest.fail("mitmdump is missing: run `bash .ci/setup` (it makes .venv-mitmproxy)")
    folder = Path(tempfile.mkdtemp(prefix="tray-agent-mitm-"))
    port = free_port()
    flows = folder / "flows.log"
    with flows.open("wb") as output:
        process = subprocess.Popen(
            [
                str(MITMDUMP),
                "--listen-host",
                "127.0.0.1",
                "--listen-port",
                str(port),
                "--set",
                f"confdir={folder}",
                "--set",
                "ssl_insecure=true",
                "--set",
                "flow_detail=1",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**{k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}, "PYTHONUNBUFFERED": "1"},
        )
    try:
        wait_for_port(port, process, limit=60)
        ca = folder / "mitmproxy-ca-cert.pem"
        yield Inspector(f"http://127.0.0.1:{port}", ca, flows)
    finally:
        process.terminate()
        process.wait(15)
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid > 0


@contextlib.contextmanager
def trusted_by_the_os(ca_pem: Path) -> Iterator[None]:
    """The CA in Debian's OS store (what IT's GPO/MDM does on Windows/macOS) for the test, removed after."""
    if os.geteuid() != 0:
        pytest.fail("adding a CA to the OS store needs root (CI and the dev machines run as root)")
    target = OS_STORE_FOLDER / f"tray-agent-test-inspection-{os.getpid()}.crt"
    OS_STORE_FOLDER.mkdir(parents=True, exist_ok=True)
    for stale in OS_STORE_FOLDER.glob("tray-agent-test-inspection-*.crt"):  # left by a run that was killed
        if not _alive(int(stale.stem.rsplit("-", 1)[-1] or 0)):
            stale.unlink()
    shutil.copyfile(ca_pem, target)
    try:
        subprocess.run(["update-ca-certificates"], check=True, capture_output=True)
        yield
    finally:
        target.unlink(missing_ok=True)
        subprocess.run(["update-ca-certificates", "--fresh"], check=True, capture_output=True)
