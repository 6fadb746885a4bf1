"""Logging: a rotating, user-only log file, with a last line of defence against secrets.

The code never logs tokens, codes, full URLs or people's addresses on purpose; :class:`RedactingFilter`
additionally masks anything that looks like one (bearer tokens, ``code=``/``token=`` parameters, JWTs,
long opaque strings, one-time sign-in links, email addresses) in case a library or an exception message
carries one, and any value named with :func:`never_log` (a device-code sign-in's user code).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
import threading
from collections import deque
from pathlib import Path

_PATTERNS = (
    re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(
        r"(?i)\b(code|access_token|refresh_token|id_token|token|code_verifier|client_info|state|device_code)"
        r"=[^&\s\"']+"
    ),
    re.compile(r"(?i)\"(access_token|refresh_token|id_token|code|secret)\"\s*:\s*\"[^\"]+\""),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),  # JWT
    re.compile(r"/start/[A-Za-z0-9_-]{16,}"),  # the sign-in listener's one-time link (auth/loopback.py)
)
_OPAQUE = re.compile(r"\b[A-Za-z0-9_-]{40,}\b")  # long random tokens (ids are 36 chars with dashes)
# People's addresses (sign-in names, Genesys emails) are personal data the log does not need: the
# organisation's domain is kept, for support. The console and the tray still show them to the agent.
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+'-]+@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})\b")
# Short secrets that no pattern can recognise (a device-code sign-in's user code, e.g. "F7K2QXPLM"):
# the code that receives one names it here, and it is masked wherever it turns up in a log line.
_NEVER_LOG: deque[str] = deque(maxlen=32)
_NEVER_LOG_LOCK = threading.Lock()


def never_log(value: str) -> None:
    """Mask ``value`` in every log line from now on (for this process)."""
    if len(value) >= 4:  # anything shorter would mask ordinary words
        with _NEVER_LOG_LOCK:
            _NEVER_LOG.append(value)


def mask_never_logged(text: str) -> str:
    """``text`` with every value named by :func:`never_log` masked."""
    with _NEVER_LOG_LOCK:
        known = list(_NEVER_LOG)
    for value in known:
        text = text.replace(value, "[redacted]")
    return text


def redact(text: str) -> str:
    text = mask_never_logged(text)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda match: f"{match.group(1)}=[redacted]" if match.groups() else "[redacted]", text)
    text = _EMAIL.sub(r"[person]@\1", text)
    return _OPAQUE.sub("[redacted]", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Every log file it opens — the first and each one after a rotation — is user-only (0600)."""

    def _open(self):  # type: ignore[no-untyped-def]
        if sys.platform != "win32":
            descriptor = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.fchmod(descriptor, 0o600)
            return open(descriptor, self.mode, encoding=self.encoding, errors=self.errors)
        return super()._open()


def configure(log_file: Path | None, *, verbose: bool = False, console: bool = True) -> None:
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = []
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        file_handler = _PrivateRotatingFileHandler(log_file, maxBytes=1_000_000, backupCount=5, encoding="utf-8")
        handlers.append(file_handler)
    if console:
        stream = logging.StreamHandler()
        stream.setLevel(logging.INFO if verbose else logging.WARNING)
        handlers.append(stream)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
    for noisy in ("httpx", "httpcore", "urllib3", "msal", "websockets", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
