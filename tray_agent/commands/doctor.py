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
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

import httpx

from tray_agent.clients import bounded_json
from tray_agent.i18n import _, ngettext

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DOMAIN = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def register(commands: Any) -> None:
    from tray_agent.commands.target import add_target_options

    parser = commands.add_parser(
        "doctor",
        help=_("check settings, keyring, services and sign-ins"),
        description=_(
            "Checks settings, the keyring, both services and both sign-ins. One line per check: ok lines say what "
            "was found; each problem says what is wrong and how to fix it. Exits 1 when there is any problem."
        ),
    )
    add_target_options(parser)
    parser.set_defaults(handler=run)


@dataclass
class Report:
    out: TextIO
    problems: int = 0
    seen: set[str] = field(default_factory=set)  # failures already explained (each is said once in full)

    def ok(self, what: str, detail: str) -> None:
        self._line(_("ok"), _("{check}: {detail}").format(check=what, detail=detail))

    def warn(self, what: str, detail: str) -> None:
        self._line(_("warning"), _("{check}: {detail}").format(check=what, detail=detail))

    def problem(self, what: str, detail: str, fix: str) -> None:
        self.problems += 1
        self._line(_("PROBLEM"), _("{check}: {detail} — fix: {fix}").format(check=what, detail=detail, fix=fix))

    def _line(self, verdict: str, text: str) -> None:
        self.out.write(f"{verdict:<8} {text}\n")


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    from tray_agent import logs
    from tray_agent.auth.session import load_target

    target = load_target()
    logs.configure(target.paths.log_file, verbose=args.verbose)
    report = Report(out)
    asyncio.run(diagnose(args, target, report))
    if report.problems:
        found = ngettext("{count} problem found.", "{count} problems found.", report.problems)
        out.write("\n" + found.format(count=report.problems) + "\n")
    else:
        out.write("\n" + _("Everything needed to sync is in place.") + "\n")
    out.flush()
    return 1 if report.problems else 0


async def diagnose(args: argparse.Namespace, target: Any, report: Report) -> None:
    """Every check into ``report``: policy, settings, signals, keyring, proxies, both services and
    both sign-ins (also run by ``tray-agent diagnostics`` and the window's "Copy diagnostics")."""
    from tray_agent.auth.keyrings import assess
    from tray_agent.auth.storage import TokenStorageError, store_for
    from tray_agent.commands.target import endpoints_for
    from tray_agent.config.settings import SettingsError

    _check_policy(target, report)
    settings_ok = _check_settings(target, report)
    _check_redirect_port(target.settings.genesys_redirect_port, report)
    from tray_agent.signals.for_this_workstation import sources_for_this_workstation

    await _check_signals(sources_for_this_workstation(), report)

    verdict = assess()
    store = None
    if verdict.secure:
        report.ok(_("keyring"), _("{keyring} keeps the sign-ins' key").format(keyring=verdict.name))
    elif target.settings.allow_insecure_keyring:
        report.warn(
            _("keyring"), _("{problem} (allowed by allow_insecure_keyring = true)").format(problem=verdict.problem)
        )
    else:
        report.problem(
            _("keyring"),
            verdict.problem.split(": ", 1)[0],
            _("{fix} (or, accepting the risk, set allow_insecure_keyring = true)").format(
                fix=verdict.problem.split(": ", 1)[-1]
            ),
        )
    if verdict.secure or target.settings.allow_insecure_keyring:
        store = store_for(verdict, target.paths)

    try:
        endpoints = endpoints_for(target, args)
    except SettingsError as error:
        report.problem(_("endpoints"), str(error), _("edit {path}").format(path=target.paths.settings_file))
        return
    if not settings_ok:
        return
    from tray_agent.auth.session import proxies_for

    resolver = proxies_for(target)
    async with _Channels(endpoints.extra_ca_file, resolver) as http:
        _check_proxies(resolver, endpoints, report)
        await _check_microsoft_stack(endpoints, resolver, report)
        await _check_reachability(http, endpoints, report)
        await _check_notifications_socket(endpoints, resolver, report)
        if store is None:
            report.problem(
                _("sign-ins"), _("cannot be read without a usable keyring"), _("fix the keyring problem above")
            )
            return
        try:
            await _check_microsoft(http, target, endpoints, store, report)
            await _check_genesys(http, target, endpoints, store, report)
        except TokenStorageError as error:
            report.problem(_("sign-ins"), str(error), _("unlock your keyring, then run tray-agent doctor again"))


class _Channels:
    """httpx as the agent uses it: one client per proxy the resolver chose, so each host is checked
    through the same proxy, trust store and timeouts as the agent's own calls."""

    def __init__(self, ca_file: str | None, resolver: Any) -> None:
        self._ca_file = ca_file
        self._resolver = resolver
        self._clients: dict[str | None, httpx.AsyncClient] = {}

    async def __aenter__(self) -> _Channels:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for client in self._clients.values():
            await client.aclose()

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        from tray_agent.clients.http import make_http_client

        proxy = self._resolver.proxy_url(url)
        if proxy not in self._clients:
            self._clients[proxy] = make_http_client(self._ca_file, timeout=10.0, proxy=proxy)
        return await self._clients[proxy].get(url, **kwargs)


def _failure_fix(error: Any, host: str) -> str:
    from tray_agent.clients.errors import CertificateNotTrusted, NoAnswer, ProxyAuthenticationRequired
    from tray_agent.clients.failures import PROXY_AUTH_FIX

    if isinstance(error, CertificateNotTrusted):
        return _(
            "ask IT to put the TLS-inspection root certificate in this computer's trust store, or to exempt {host}"
        ).format(host=host)
    if isinstance(error, ProxyAuthenticationRequired):
        return PROXY_AUTH_FIX.format(hosts=host)  # the clients' own advice, English for now
    if isinstance(error, NoAnswer):
        return _("check the proxy and firewall: something accepts connections for {host} but does not answer").format(
            host=host
        )
    return _unreachable_fix().format(host=host)


def _unreachable_fix() -> str:
    return _("check the network connection and proxy, or ask IT whether {host} is allowed")


def _report_failure(report: Report, what: str, failure: Any, host: str) -> None:
    """One channel's network failure: what is wrong, then the fix; the same failure again is said briefly."""
    from tray_agent.clients.errors import CertificateNotTrusted

    text = str(failure).split(": ", 1)[-1]
    for advice in (". Ask IT", ": ask IT"):  # the failure's own advice becomes the fix
        text = text.split(advice, 1)[0]
    if isinstance(failure, CertificateNotTrusted):
        if "certificates" not in report.seen:
            report.seen.add("certificates")
            report.problem(_("certificates"), text, _failure_fix(failure, host))
        report.problem(
            what,
            _("cannot connect securely to {host}").format(host=host),
            _("see '{check}' above").format(check=_("certificates")),
        )
        return
    if text in report.seen:
        report.problem(what, _("{host}: the same problem as above").format(host=host), _("see above"))
        return
    report.seen.add(text)
    report.problem(
        what,
        # the clients' failure text is English for now (tray_agent/clients/failures.py)
        text
        if text.startswith(("the ", "cannot", host))
        else _("cannot reach {host} ({error})").format(host=host, error=text),
        _failure_fix(failure, host),
    )


def _check_proxies(resolver: Any, endpoints: Any, report: Report) -> None:
    shown: set[str] = set()
    for url in (endpoints.entra_authority, endpoints.graph_base, endpoints.genesys_login_base, _streaming(endpoints)):
        host = httpx.URL(url.replace("wss://", "https://")).host
        line = f"{host}: {resolver.for_url(url).describe()}"
        if line not in shown:
            shown.add(line)
            report.ok(_("proxy"), line)


def _streaming(endpoints: Any) -> str:
    """The notifications websocket's host: ``streaming.<region>`` in the cloud (the simulator serves it itself)."""
    api = httpx.URL(endpoints.genesys_api_base)
    host = api.host.replace("api.", "streaming.", 1) if api.host.startswith("api.") else api.host
    port = f":{api.port}" if api.port else ""
    return f"wss://{host}{port}/"


def _clock(report: Report, where: str, date_header: str | None) -> None:
    """Clock skew against the server's ``Date``: tokens are checked against this computer's clock."""
    import email.utils
    import time

    if not date_header:
        return
    try:
        server = email.utils.parsedate_to_datetime(date_header).timestamp()
    except (TypeError, ValueError):
        return
    skew = time.time() - server
    minutes, seconds = f"{abs(skew) / 60:.0f}", f"{abs(skew):.0f}"
    if abs(skew) > 300:
        detail = (
            _("this computer is {minutes} min ahead of {clock}: sign-ins look expired or not yet valid")
            if skew > 0
            else _("this computer is {minutes} min behind {clock}: sign-ins look expired or not yet valid")
        )
        report.problem(
            _("clock"),
            detail.format(minutes=minutes, clock=where),
            _("turn on automatic date and time (or ask IT to fix the time service)"),
        )
    elif abs(skew) > 60:
        detail = (
            _("this computer is {seconds} s ahead of {clock}; turn on automatic date and time")
            if skew > 0
            else _("this computer is {seconds} s behind {clock}; turn on automatic date and time")
        )
        report.warn(_("clock"), detail.format(seconds=seconds, clock=where))
    else:
        report.ok(_("clock"), _("within {seconds} s of {clock}").format(seconds=seconds, clock=where))


async def _check_microsoft_stack(endpoints: Any, resolver: Any, report: Report) -> None:
    """Microsoft sign-in through msal's own stack (the requests session with the OS trust store, the
    resolver's proxy and timeouts), not httpx: TLS inspection and proxies behave differently there."""
    from tray_agent.auth.microsoft import explain_aad_error, network_failure
    from tray_agent.clients.requests_session import BoundedSession
    from tray_agent.clients.threads import call_in_daemon_thread

    url = f"{endpoints.entra_authority}/v2.0/.well-known/openid-configuration"
    host = httpx.URL(url).host
    session = BoundedSession(endpoints.extra_ca_file, resolver.proxy_url)
    try:
        answer = await call_in_daemon_thread(session.get, url, deadline=30.0)
    except Exception as error:  # requests' errors, DeadlineExceeded: said in words below
        failure = network_failure(error, host)
        _report_failure(report, _("Microsoft sign-in"), failure, host)
        return
    finally:
        session.close()
    report.ok(
        _("certificates"),
        _("{host} presents a certificate this computer trusts (system trust store)").format(host=host),
    )
    _clock(report, _("{host}'s clock").format(host=host), answer.headers.get("Date"))
    try:
        body = answer.json()
    except ValueError:
        body = None
    if answer.status_code == 200:
        report.ok(_("Microsoft sign-in"), _("{host} answers for your tenant").format(host=host))
    elif isinstance(body, dict) and "error" in body:
        report.problem(_("Microsoft sign-in"), explain_aad_error(body), _("correct tenant_id in the settings"))
    else:
        report.problem(
            _("Microsoft sign-in"),
            _("{host} answered HTTP {status}").format(host=host, status=answer.status_code),
            _unreachable_fix().format(host=host),
        )


async def _check_signals(sources: Any, report: Report) -> None:
    """Each local trigger: watched here, or why not (a warning: the timer reads Teams anyway)."""
    for source in sources:
        try:
            reason = await asyncio.wait_for(source.start(), 10.0)
        except Exception as error:  # a source that cannot even say: the agent leaves it off too
            reason = _("cannot tell whether it works here ({error})").format(error=type(error).__name__)
        check = _("trigger: {name}").format(name=source.name)
        if reason is None:
            report.ok(check, _("watched; a change reads Teams at once"))
        else:
            # the source's own reason is English for now (tray_agent/signals/)
            report.warn(check, _("not watched here: {reason}; the timer reads Teams instead").format(reason=reason))


def _check_policy(target: Any, report: Report) -> None:
    where = ", ".join(target.policy_origins) or _("your IT department's policy")
    for problem in target.policy_problems:
        report.problem(
            _("policy"),
            problem,
            _("ask IT to correct it in {where} (its default is used meanwhile)").format(where=where),
        )
    if target.locked:
        report.ok(
            _("policy"), _("set by IT ({where}): {keys}").format(where=where, keys=", ".join(sorted(target.locked)))
        )


def _check_settings(target: Any, report: Report) -> bool:
    path = target.paths.settings_file
    settings = target.settings
    if target.settings_problem:
        report.problem(_("settings"), target.settings_problem, _("correct {path}").format(path=path))
        return False
    good = True
    checks = (
        ("tenant_id", _("your organisation's Microsoft Entra tenant ID"), settings.tenant_id, True),
        ("microsoft_client_id", _("the agent's Microsoft app registration"), settings.microsoft_client_id, False),
        ("genesys_client_id", _("the agent's Genesys Cloud OAuth client ID"), settings.genesys_client_id, False),
    )
    for key, meaning, value, domain_ok in checks:
        if not value:
            report.problem(
                _("settings"),
                _("{key} is not set").format(key=key),
                _("set {key} (ask IT for {meaning}) in {path}").format(key=key, meaning=meaning, path=path),
            )
            good = False
        elif not (_GUID.match(value) or (domain_ok and _DOMAIN.match(value))):
            report.problem(
                _("settings"),
                _("{key} {value} is not an ID").format(key=key, value=repr(value)),
                _("ask IT for {meaning}, then set it in {path}").format(meaning=meaning, path=path),
            )
            good = False
    if good:
        found = dict(
            tenant=settings.tenant_id,
            region=settings.genesys_region,
            port=settings.genesys_redirect_port,
            cloud=settings.microsoft_cloud,
            path=path,
        )
        if settings.microsoft_cloud != "global":
            text = _("tenant {tenant}, Genesys region {region}, redirect port {port}, Microsoft cloud {cloud} ({path})")
        else:
            text = _("tenant {tenant}, Genesys region {region}, redirect port {port} ({path})")
        report.ok(_("settings"), text.format(**found))
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
                        _("sign-in port"),
                        _(
                            "{address} is in use by another program, so the Genesys sign-in cannot finish "
                            "(a program of another user waiting there could receive the sign-in's answer)"
                        ).format(address=shown),
                        _(
                            "close that program (or another tray-agent signing in), or ask IT for another registered "
                            "port and set genesys_redirect_port"
                        ),
                    )
                else:
                    report.problem(
                        _("sign-in port"),
                        _("cannot listen on {address} ({error})").format(address=shown, error=error.strerror),
                        _("ask IT"),
                    )
                return
            free.append(shown)
    if len(free) != 2:
        report.ok(_("sign-in port"), _("{address} is free for the Genesys sign-in").format(address=", ".join(free)))
    else:
        report.ok(
            _("sign-in port"),
            _("{address} and {other} are free for the Genesys sign-in").format(address=free[0], other=free[-1]),
        )


async def _reachable(http: Any, url: str) -> tuple[int | None, Any, str]:
    """(status, JSON body or None, error text: the certificate, 407 or no-answer sentence when it is one)."""
    from tray_agent.clients.failures import transport_failure

    try:
        response = await http.get(url)
    except httpx.HTTPError as error:
        failure = transport_failure("", error, httpx.URL(url).host)
        return None, failure, str(failure).split(": ", 1)[-1]
    try:
        body = bounded_json.loads(response.content)
    except ValueError:
        body = None
    return response.status_code, body, ""


async def _check_reachability(http: Any, endpoints: Any, report: Report) -> None:
    """Graph and Genesys through httpx, as the agent calls them (Microsoft sign-in: _check_microsoft_stack)."""
    for what, url in (
        ("Microsoft Graph", f"{endpoints.graph_base}/v1.0/me/presence"),
        ("Genesys Cloud API", f"{endpoints.genesys_api_base}/api/v2/tokens/me"),
        (_("Genesys Cloud login"), f"{endpoints.genesys_login_base}/oauth/authorize"),
    ):
        status, failure, _text = await _reachable(http, url)
        host = httpx.URL(url).host
        if status is None:
            _report_failure(report, what, failure, host)
        elif status >= 500:
            report.problem(
                what,
                _("{host} answered HTTP {status}").format(host=host, status=status),
                _("the service has trouble: try again later"),
            )
        else:
            report.ok(what, _("{host} is reachable").format(host=host))


async def _check_notifications_socket(endpoints: Any, resolver: Any, report: Report) -> None:
    """The websocket's own stack (websockets, the same proxy and trust store): a refused upgrade is fine here;
    what matters is that the TLS handshake through the proxy succeeds."""
    import ssl

    import websockets

    from tray_agent.clients.failures import transport_failure
    from tray_agent.clients.http import tls_context

    url = _streaming(endpoints)
    host = httpx.URL(url.replace("wss://", "https://")).host
    try:
        async with websockets.connect(
            url, ssl=tls_context(endpoints.extra_ca_file), proxy=resolver.proxy_url(url), open_timeout=10
        ):
            pass
    except websockets.InvalidStatus:
        pass  # the server answered over a trusted TLS connection: reachable
    except (OSError, ssl.SSLError, TimeoutError, websockets.WebSocketException) as error:
        _report_failure(report, _("Genesys notifications"), transport_failure("", error, host), host)
        return
    report.ok(_("Genesys notifications"), _("{host} is reachable (websocket)").format(host=host))


def _when(timestamp: float | None) -> str:
    return f"{datetime.fromtimestamp(timestamp):%a %H:%M}" if timestamp else _("unknown")


async def _check_microsoft(http: Any, target: Any, endpoints: Any, store: Any, report: Report) -> None:
    from tray_agent.auth.loopback import SignInFailed
    from tray_agent.auth.session import build_microsoft
    from tray_agent.auth.tokens import SignInRequired
    from tray_agent.clients.errors import ServiceError

    fix = _("run: tray-agent sign-in microsoft")
    check = _("Microsoft sign-in")
    microsoft = build_microsoft(target, endpoints, store)
    if not microsoft.signed_in:
        report.problem(check, _("not signed in"), fix)
        return
    try:
        token = await microsoft.access_token()
    except SignInRequired as error:
        report.problem(check, str(error).split(": ", 1)[-1], fix)
        return
    except (ServiceError, SignInFailed) as error:
        report.problem(check, str(error), _("check the network, then run tray-agent doctor again"))
        return
    until = _when(microsoft.expires_at)
    if microsoft.account_name:
        signed_in = _("signed in as {account}; renewed silently (this token is valid until {time})")
    else:
        signed_in = _("signed in; renewed silently (this token is valid until {time})")
    report.ok(check, signed_in.format(account=microsoft.account_name, time=until))
    try:
        answer = await http.get(
            f"{endpoints.graph_base}/v1.0/me/presence", headers={"Authorization": f"Bearer {token}"}
        )
    except httpx.HTTPError as error:
        report.problem(
            _("Teams presence"),
            _("could not be read ({error})").format(error=error.__class__.__name__),
            _("check the network"),
        )
        return
    if answer.status_code == 200:
        report.ok(_("Teams presence"), _("readable with Presence.Read"))
    elif answer.status_code == 403:
        report.problem(
            _("Teams presence"), _("Graph refused Presence.Read"), _("ask IT to grant consent for Presence.Read")
        )
    elif answer.status_code == 401:
        report.problem(_("Teams presence"), _("Graph refused the sign-in"), fix)
    else:
        report.problem(
            _("Teams presence"),
            _("Graph answered HTTP {status}").format(status=answer.status_code),
            _("try again later"),
        )


async def _check_genesys(http: Any, target: Any, endpoints: Any, store: Any, report: Report) -> None:
    from tray_agent.auth.session import genesys_auth
    from tray_agent.auth.tokens import SignInRequired
    from tray_agent.clients.errors import ServiceError

    fix = _("run: tray-agent sign-in genesys")
    check = _("Genesys sign-in")
    async with genesys_auth(target, endpoints, store) as genesys:
        if not genesys.signed_in:
            expired = genesys.access_expires_at is not None
            report.problem(check, _("the sign-in has expired") if expired else _("not signed in"), fix)
            return
        try:
            token = await genesys.access_token()
        except SignInRequired as error:
            report.problem(check, str(error).split(": ", 1)[-1], fix)
            return
        except ServiceError as error:
            report.problem(check, str(error), _("check the network, then run tray-agent doctor again"))
            return
        try:
            answer = await http.get(
                f"{endpoints.genesys_api_base}/api/v2/tokens/me", headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as error:
            report.problem(
                check,
                _("could not be checked ({error})").format(error=error.__class__.__name__),
                _("check the network"),
            )
            return
        if answer.status_code == 200:
            until = genesys.expires_at
            if until:
                report.ok(check, _("signed in; valid until {time}").format(time=_when(until)))
            else:
                report.ok(check, _("signed in; renewed automatically"))
            _clock(report, _("Genesys Cloud's clock"), answer.headers.get("Date"))
            await _check_genesys_permissions(http, endpoints, token, report)
        elif answer.status_code == 401:
            genesys.invalidate()
            report.problem(check, _("Genesys no longer accepts the sign-in (expired or revoked)"), fix)
        else:
            report.problem(
                check, _("Genesys answered HTTP {status}").format(status=answer.status_code), _("try again later")
            )


async def _check_genesys_permissions(http: Any, endpoints: Any, token: str, report: Report) -> None:
    """What the signed-in user's Genesys role allows, for the calls that need a permission at all."""
    headers = {"Authorization": f"Bearer {token}"}
    base = endpoints.genesys_api_base
    try:
        current = await http.get(f"{base}/api/v2/presence/definitions", headers=headers)
        if current.status_code == 200:
            report.ok(
                _("Genesys permissions"),
                _("your role can read presence definitions (presence:presenceDefinition:view)"),
            )
            return
        legacy = await http.get(f"{base}/api/v2/presencedefinitions", headers=headers)
    except httpx.HTTPError as error:
        report.problem(
            _("Genesys permissions"),
            _("could not be checked ({error})").format(error=error.__class__.__name__),
            _("check the network"),
        )
        return
    # Genesys's own names of the permission (Presence > Presence Definition > View): kept as in its admin UI
    add = _("ask IT to add Presence > Presence Definition > View (presence:presenceDefinition:view) to your role")
    if current.status_code == 403 and legacy.status_code == 200:
        report.warn(
            _("Genesys permissions"),
            _(
                "your role lacks presence:presenceDefinition:view, so the agent reads Genesys's deprecated list "
                "(GET /api/v2/presencedefinitions) instead; it works today — {fix}"
            ).format(fix=add),
        )
    else:
        report.problem(
            _("Genesys permissions"),
            _("the presence definitions cannot be read (HTTP {status}, legacy {legacy})").format(
                status=current.status_code, legacy=legacy.status_code
            ),
            add,
        )
