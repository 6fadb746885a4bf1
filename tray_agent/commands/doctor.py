"""``tray-agent doctor``: checks settings, the keyring, both services and both sign-ins.

One line per check: ``ok`` lines say what was found; each problem says what is wrong and how to fix it.
Exits 1 when there is any problem. Nothing secret is printed or logged.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import re
import socket
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

import httpx

from tray_agent.clients import bounded_json

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DOMAIN = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def register(commands: Any) -> None:
    from tray_agent.auth.session import add_target_options

    parser = commands.add_parser("doctor", help="check settings, keyring, services and sign-ins", description=__doc__)
    add_target_options(parser)
    parser.set_defaults(handler=run)


@dataclass
class Report:
    out: TextIO
    problems: int = 0
    warnings: int = 0

    def ok(self, what: str, detail: str) -> None:
        self.out.write(f"ok       {what}: {detail}\n")

    def warn(self, what: str, detail: str) -> None:
        self.warnings += 1
        self.out.write(f"warning  {what}: {detail}\n")

    def problem(self, what: str, detail: str, fix: str) -> None:
        self.problems += 1
        self.out.write(f"PROBLEM  {what}: {detail} — fix: {fix}\n")


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    from tray_agent import logs
    from tray_agent.auth.session import load_target

    target = load_target()
    logs.configure(target.paths.log_file, verbose=args.verbose)
    report = Report(out)
    asyncio.run(_diagnose(args, target, report))
    out.write(
        f"\n{report.problems} problem(s) found.\n" if report.problems else "\nEverything needed to sync is in place.\n"
    )
    out.flush()
    return 1 if report.problems else 0


async def _diagnose(args: argparse.Namespace, target: Any, report: Report) -> None:
    from tray_agent.auth.keyrings import assess
    from tray_agent.auth.storage import TokenStorageError, store_for
    from tray_agent.settings import SettingsError

    _check_policy(target, report)
    settings_ok = _check_settings(target, report)
    _check_redirect_port(target.settings.genesys_redirect_port, report)

    verdict = assess()
    store = None
    if verdict.secure:
        report.ok("keyring", f"{verdict.name} keeps the sign-ins' key")
    elif target.settings.allow_insecure_keyring:
        report.warn("keyring", f"{verdict.problem} (allowed by allow_insecure_keyring = true)")
    else:
        report.problem(
            "keyring",
            verdict.problem.split(": ", 1)[0],
            verdict.problem.split(": ", 1)[-1] + " (or, accepting the risk, set allow_insecure_keyring = true)",
        )
    if verdict.secure or target.settings.allow_insecure_keyring:
        store = store_for(verdict, target.paths)

    try:
        endpoints = target.endpoints(args)
    except SettingsError as error:
        report.problem("endpoints", str(error), f"edit {target.paths.settings_file}")
        return
    if not settings_ok:
        return
    async with httpx.AsyncClient(
        verify=_tls(endpoints.extra_ca_file), timeout=httpx.Timeout(10.0), follow_redirects=False
    ) as http:
        await _check_reachability(http, endpoints, report)
        if store is None:
            report.problem("sign-ins", "cannot be read without a usable keyring", "fix the keyring problem above")
            return
        try:
            await _check_microsoft(http, target, endpoints, store, report)
            await _check_genesys(http, target, endpoints, store, report)
        except TokenStorageError as error:
            report.problem("sign-ins", str(error), "unlock your keyring, then run tray-agent doctor again")


def _tls(ca_file: str | None) -> Any:
    from tray_agent.clients.http import tls_context

    return tls_context(ca_file)


def _check_policy(target: Any, report: Report) -> None:
    where = ", ".join(target.policy_origins) or "your IT department's policy"
    for problem in target.policy_problems:
        report.problem("policy", problem, f"ask IT to correct it in {where} (its default is used meanwhile)")
    if target.locked:
        report.ok("policy", f"set by IT ({where}): {', '.join(sorted(target.locked))}")


def _check_settings(target: Any, report: Report) -> bool:
    path = target.paths.settings_file
    settings = target.settings
    if target.settings_problem:
        report.problem("settings", target.settings_problem, f"correct {path}")
        return False
    good = True
    checks = (
        ("tenant_id", "your organisation's Microsoft Entra tenant ID", settings.tenant_id, True),
        ("microsoft_client_id", "the agent's Microsoft app registration", settings.microsoft_client_id, False),
        ("genesys_client_id", "the agent's Genesys Cloud OAuth client ID", settings.genesys_client_id, False),
    )
    for key, meaning, value, domain_ok in checks:
        if not value:
            report.problem("settings", f"{key} is not set", f"set {key} (ask IT for {meaning}) in {path}")
            good = False
        elif not (_GUID.match(value) or (domain_ok and _DOMAIN.match(value))):
            report.problem("settings", f"{key} {value!r} is not an ID", f"ask IT for {meaning}, then set it in {path}")
            good = False
    if good:
        report.ok(
            "settings",
            f"tenant {settings.tenant_id}, Genesys region {settings.genesys_region}, "
            f"redirect port {settings.genesys_redirect_port} ({path})",
        )
    return good


def _check_redirect_port(port: int, report: Report) -> None:
    """Both loopback addresses, as the sign-in listener holds them: ``localhost`` may be either to the browser."""
    free = []
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        shown = f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"
        try:
            probe = socket.socket(family, socket.SOCK_STREAM)
        except OSError:  # no IPv6 at all here: nobody can listen there, and no browser connect there
            continue
        with probe:
            if os.name == "posix":  # as the sign-in listener binds: a port in TIME_WAIT is usable
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind((host, port))
                probe.listen(1)
            except OSError as error:
                if family == socket.AF_INET6 and error.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                    continue
                if error.errno == errno.EADDRINUSE:
                    report.problem(
                        "sign-in port",
                        f"{shown} is in use by another program, so the Genesys sign-in cannot finish "
                        "(a program of another user waiting there could receive the sign-in's answer)",
                        "close that program (or another tray-agent signing in), or ask IT for another registered "
                        "port and set genesys_redirect_port",
                    )
                else:
                    report.problem("sign-in port", f"cannot listen on {shown} ({error.strerror})", "ask IT")
                return
            free.append(shown)
    report.ok("sign-in port", f"{' and '.join(free)} are free for the Genesys sign-in")


async def _reachable(http: httpx.AsyncClient, url: str) -> tuple[int | None, Any, str]:
    """(status, JSON body or None, error text)."""
    try:
        response = await http.get(url)
    except httpx.HTTPError as error:
        return None, None, error.__class__.__name__
    try:
        body = bounded_json.loads(response.content)
    except ValueError:
        body = None
    return response.status_code, body, ""


async def _check_reachability(http: httpx.AsyncClient, endpoints: Any, report: Report) -> None:
    from tray_agent.auth.microsoft import explain_aad_error

    host_fix = "check the network connection and proxy, or ask IT whether {host} is allowed"
    status, body, error = await _reachable(http, f"{endpoints.entra_authority}/v2.0/.well-known/openid-configuration")
    host = httpx.URL(endpoints.entra_authority).host
    if status == 200:
        report.ok("Microsoft sign-in", f"{host} answers for your tenant")
    elif status is None:
        report.problem("Microsoft sign-in", f"cannot reach {host} ({error})", host_fix.format(host=host))
    elif isinstance(body, dict) and "error" in body:
        report.problem("Microsoft sign-in", explain_aad_error(body), "correct tenant_id in the settings")
    else:
        report.problem("Microsoft sign-in", f"{host} answered HTTP {status}", host_fix.format(host=host))

    for what, url in (
        ("Microsoft Graph", f"{endpoints.graph_base}/v1.0/me/presence"),
        ("Genesys Cloud API", f"{endpoints.genesys_api_base}/api/v2/tokens/me"),
        ("Genesys Cloud login", f"{endpoints.genesys_login_base}/oauth/authorize"),
    ):
        status, _, error = await _reachable(http, url)
        host = httpx.URL(url).host
        if status is None:
            report.problem(what, f"cannot reach {host} ({error})", host_fix.format(host=host))
        elif status >= 500:
            report.problem(what, f"{host} answered HTTP {status}", "the service has trouble: try again later")
        else:
            report.ok(what, f"{host} is reachable")


def _when(timestamp: float | None) -> str:
    return f"{datetime.fromtimestamp(timestamp):%a %H:%M}" if timestamp else "unknown"


async def _check_microsoft(http: httpx.AsyncClient, target: Any, endpoints: Any, store: Any, report: Report) -> None:
    from tray_agent.auth.loopback import SignInFailed
    from tray_agent.auth.session import build_microsoft
    from tray_agent.auth.tokens import SignInRequired
    from tray_agent.clients.errors import ServiceError

    fix = "run: tray-agent sign-in microsoft"
    microsoft = build_microsoft(target, endpoints, store)
    if not microsoft.signed_in:
        report.problem("Microsoft sign-in", "not signed in", fix)
        return
    try:
        token = await microsoft.access_token()
    except SignInRequired as error:
        report.problem("Microsoft sign-in", str(error).split(": ", 1)[-1], fix)
        return
    except (ServiceError, SignInFailed) as error:
        report.problem("Microsoft sign-in", str(error), "check the network, then run tray-agent doctor again")
        return
    who = microsoft.account_name or "you"
    until = _when(microsoft.expires_at)
    report.ok("Microsoft sign-in", f"signed in as {who}; renewed silently (this token is valid until {until})")
    try:
        answer = await http.get(
            f"{endpoints.graph_base}/v1.0/me/presence", headers={"Authorization": f"Bearer {token}"}
        )
    except httpx.HTTPError as error:
        report.problem("Teams presence", f"could not be read ({error.__class__.__name__})", "check the network")
        return
    if answer.status_code == 200:
        report.ok("Teams presence", "readable with Presence.Read")
    elif answer.status_code == 403:
        report.problem("Teams presence", "Graph refused Presence.Read", "ask IT to grant consent for Presence.Read")
    elif answer.status_code == 401:
        report.problem("Teams presence", "Graph refused the sign-in", fix)
    else:
        report.problem("Teams presence", f"Graph answered HTTP {answer.status_code}", "try again later")


async def _check_genesys(http: httpx.AsyncClient, target: Any, endpoints: Any, store: Any, report: Report) -> None:
    from tray_agent.auth.session import genesys_auth
    from tray_agent.auth.tokens import SignInRequired
    from tray_agent.clients.errors import ServiceError

    fix = "run: tray-agent sign-in genesys"
    async with genesys_auth(target, endpoints, store) as genesys:
        if not genesys.signed_in:
            expired = genesys.access_expires_at is not None
            report.problem("Genesys sign-in", "the sign-in has expired" if expired else "not signed in", fix)
            return
        try:
            token = await genesys.access_token()
        except SignInRequired as error:
            report.problem("Genesys sign-in", str(error).split(": ", 1)[-1], fix)
            return
        except ServiceError as error:
            report.problem("Genesys sign-in", str(error), "check the network, then run tray-agent doctor again")
            return
        try:
            answer = await http.get(
                f"{endpoints.genesys_api_base}/api/v2/tokens/me", headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as error:
            report.problem("Genesys sign-in", f"could not be checked ({error.__class__.__name__})", "check the network")
            return
        if answer.status_code == 200:
            until = genesys.expires_at
            detail = f"valid until {_when(until)}" if until else "renewed automatically"
            report.ok("Genesys sign-in", f"signed in; {detail}")
        elif answer.status_code == 401:
            genesys.invalidate()
            report.problem("Genesys sign-in", "Genesys no longer accepts the sign-in (expired or revoked)", fix)
        else:
            report.problem("Genesys sign-in", f"Genesys answered HTTP {answer.status_code}", "try again later")
