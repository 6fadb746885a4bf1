"""``tray-agent doctor`` on the Genesys redirect port: busy only when another program listens on it."""

from __future__ import annotations

import io
import socket

from tray_agent.commands.doctor import Report, _check_redirect_port
from tray_agent.demo.runner import free_port


def test_a_port_another_program_listens_on_is_a_problem_with_its_fix() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        report = Report(io.StringIO())
        _check_redirect_port(other.getsockname()[1], report)
    assert report.problems == 1
    assert "is in use by another program" in report.out.getvalue()
    assert "set genesys_redirect_port" in report.out.getvalue()


def test_a_free_port_is_fine() -> None:
    report = Report(io.StringIO())
    _check_redirect_port(free_port(), report)
    assert report.problems == 0 and report.out.getvalue().startswith("ok       sign-in port: 127.0.0.1:")


def test_a_port_another_program_listens_on_only_on_ipv6_is_a_problem_too() -> None:
    """``localhost`` may be ::1 to the browser: a listener there would receive the redirect."""
    with socket.socket(socket.AF_INET6) as other:
        other.bind(("::1", 0))
        other.listen(1)
        port = other.getsockname()[1]
        report = Report(io.StringIO())
        _check_redirect_port(port, report)
    assert report.problems == 1
    assert f"[::1]:{port} is in use by another program" in report.out.getvalue()


def test_a_free_port_is_checked_on_both_loopback_addresses() -> None:
    port = free_port()
    report = Report(io.StringIO())
    _check_redirect_port(port, report)
    assert f"127.0.0.1:{port} and [::1]:{port} are free" in report.out.getvalue()
