"""Logs never carry secrets, even when a library or an exception tries to put one there."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tray_agent import logs

SECRETS = [
    ("Authorization: Bearer abcDEF123456789.xyz", "abcDEF123456789"),
    ("GET http://localhost:8765/callback?code=SplxlOBeZQQYbYS6WxSbIA&state=af0ifjsldkj", "SplxlOBeZQQYbYS6WxSbIA"),
    ('{"access_token": "2YotnFZFEjr1zCsicMWpAA", "expires_in": 3600}', "2YotnFZFEjr1zCsicMWpAA"),
    ("token eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMjM0NTY3ODkwIn0.", "eyJzdWIiOiIxMjM0NTY3ODkwIn0"),
    ("opaque " + "Zk9xY2" * 10, "Zk9xY2" * 10),
    ("opening http://127.0.0.1:40123/start/Hq3vX9-kLm2Pq8rT5sWz1yBc4dFg7hJk", "Hq3vX9-kLm2Pq8rT5sWz1yBc4dFg7hJk"),
]


@pytest.mark.parametrize(("line", "secret"), SECRETS)
def test_secret_looking_values_are_redacted(line: str, secret: str) -> None:
    assert secret not in logs.redact(line)


def test_ids_and_ordinary_words_are_kept() -> None:
    line = "Genesys set to Busy for user a7e5c3b1-2d4f-4e6a-9b8c-7d6e5f4a3b2c (429 too.many.requests)"
    assert logs.redact(line) == line


def test_the_log_file_is_redacted_rotating_and_user_only(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "agent.log"
    logs.configure(log_file, console=False)
    try:
        logging.getLogger("test").warning("refresh failed for %s", "refresh_token=0.AAAAx1y2z3")
        try:
            raise RuntimeError("bad answer ?code=Qw8RtY6uIo0pLk")
        except RuntimeError:
            logging.getLogger("test").exception("sign-in")
    finally:
        for handler in logging.getLogger().handlers:
            handler.flush()
        logs.configure(None, console=False)
    text = log_file.read_text()
    assert "0.AAAAx1y2z3" not in text and "Qw8RtY6uIo0pLk" not in text
    assert "refresh_token=[redacted]" in text
    assert (log_file.stat().st_mode & 0o777) == 0o600


def test_peoples_addresses_are_not_logged_but_their_organisation_is() -> None:
    line = "link: microsoft: sign-in failed: this computer is signed in to Microsoft as alex.agent@contoso.example"
    assert logs.redact(line) == (
        "link: microsoft: sign-in failed: this computer is signed in to Microsoft as [person]@contoso.example"
    )
