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
