"""``tray-agent diagnostics`` and the window's "Copy diagnostics": a bundle for the helpdesk.

It holds the versions, every setting in effect by its settings.toml/policy name with where it comes
from (default, the user's file or its last good copy, IT policy), the settings' problems, doctor's
findings and the recent activity. **Never a secret**: the bundle's own parts read no keyring entry
and no token file. Doctor's checks use the saved sign-ins as ``tray-agent doctor`` does (to try them
against both services) and print only whether they work and who is signed in. :func:`redact` runs
over the whole text at the end as well, removing URL query strings, credentials in URLs, JWT-shaped
and long key-shaped runs, and named secrets (``code=…``, ``access_token: …``). Account names (UPN,
email) stay: the helpdesk needs to know who it is.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import platform
import re
import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

from tray_agent import __version__, logs
from tray_agent.config.layers import LayeredSettings, layer_settings
from tray_agent.config.paths import AgentPaths, write_private
from tray_agent.config.policy import PolicySource, read_policy
from tray_agent.config.settings import Settings
from tray_agent.engine.activity import FileActivity
from tray_agent.engine.snapshot import Transition
from tray_agent.i18n import _

LIBRARIES = ("pystray", "Pillow", "msal", "keyring", "httpx", "tomlkit", "websockets", "truststore", "pypac")
ACTIVITY_LINES = 200
DoctorChecks = Callable[[TextIO], None]

_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*"), "<redacted token>"),  # a JWT
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@"), r"\1<redacted>@"),  # user:password@
    (re.compile(r"(https?://[^\s?#\"'<>]*)\?[^\s\"'<>]*"), r"\1?<redacted>"),  # a URL's query
    (
        re.compile(
            r"(?i)\b(code|state|code_verifier|client_secret|password|access_token|refresh_token|id_token|"
            r"token|secret|cookie|session)(\s*[=:]\s*)(\"?)[^\s\"&,;]+"
        ),
        r"\1\2\3<redacted>",
    ),
    (re.compile(r"\b[A-Za-z0-9+/_-]{40,}={0,2}"), "<redacted>"),  # a long key-shaped run
    # a device-code sign-in's instructions: "… and enter the code F7K2QXPLM to authenticate" (Entra's
    # message) or "… and enter F7K2QXPLM" (ours, without one)
    (re.compile(r"\b([Ee]nter(?: the code)?)\s+[A-Z0-9]{6,}\b"), r"\1 <redacted>"),
)


def redact(text: str) -> str:
    """``text`` with anything that may be a secret replaced (defence in depth: nothing secret is read),
    and every value this process was told never to log (a device-code sign-in's user code)."""
    text = logs.mask_never_logged(text)
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def build_diagnostics(
    *,
    paths: AgentPaths,
    policy_source: PolicySource | None = None,
    story: Iterable[Transition] | None = None,
    doctor: DoctorChecks | None = None,
) -> str:
    """The bundle as text. ``story``: the activity (else the user's activity file); ``doctor``: runs
    doctor's checks into the stream it is given (None: left out). Never raises for bad content."""
    out = io.StringIO()
    _versions(out)
    layered = layer_settings(paths.settings_file, read_policy(policy_source))
    _settings(out, layered, paths.settings_file)
    _section(out, _("Doctor"))
    if doctor is None:
        out.write(_("(not run)") + "\n")
    else:
        try:
            doctor(out)
        except Exception as error:  # the rest of the bundle still helps
            out.write(_("doctor could not finish: {error}").format(error=type(error).__name__) + "\n")
    _activity(out, list(story) if story is not None else FileActivity(paths.activity_file).load())
    return redact(out.getvalue())


def _section(out: TextIO, title: str) -> None:
    out.write(f"\n== {title} ==\n")


def _versions(out: TextIO) -> None:
    out.write(_("Teams → Genesys presence agent: diagnostics for the helpdesk") + "\n")
    _section(out, _("Versions"))
    out.write(f"tray-agent {__version__}\nPython {platform.python_version()} ({sys.platform}, {platform.platform()})\n")
    for name in LIBRARIES:
        try:
            out.write(f"{name} {metadata.version(name)}\n")
        except metadata.PackageNotFoundError:
            out.write(f"{name} -\n")
    try:
        import keyring

        backend = type(keyring.get_keyring())
        out.write(_("keyring backend: {name}").format(name=f"{backend.__module__}.{backend.__name__}") + "\n")
    except Exception as error:
        out.write(_("keyring backend: unavailable ({error})").format(error=type(error).__name__) + "\n")


# What the bundle lists: each setting by the name in settings.toml's [agent] table and in policy (the
# names the helpdesk and IT use), with its value in effect. min_poll_interval and fleet_size exist
# only in policy.
SHOWN_SETTINGS: tuple[tuple[str, Callable[[Settings], object]], ...] = (
    ("tenant_id", lambda s: s.tenant_id),
    ("microsoft_client_id", lambda s: s.microsoft_client_id),
    ("microsoft_cloud", lambda s: s.microsoft_cloud),
    ("genesys_region", lambda s: s.genesys_region),
    ("genesys_client_id", lambda s: s.genesys_client_id),
    ("genesys_redirect_port", lambda s: s.genesys_redirect_port),
    ("poll_interval", lambda s: s.timing.poll_interval),
    ("min_poll_interval", lambda s: s.timing.poll_floor),
    ("fleet_size", lambda s: s.timing.fleet_size),
    ("genesys_fallback_poll", lambda s: s.timing.genesys_fallback_poll),
    ("working_hours", lambda s: s.timing.working_hours),
    ("pause_when_away", lambda s: s.timing.pause_when_away),
    ("dwell_seconds", lambda s: s.sync.dwell_seconds),
    ("restore_earlier_status", lambda s: s.sync.restore_earlier),
    ("loop_max_writes", lambda s: s.sync.loop_max_writes),
    ("loop_window_minutes", lambda s: s.sync.loop_window_seconds / 60),
    ("calendar_triggers", lambda s: s.calendar_triggers),
    ("teams_writeback", lambda s: s.teams_writeback),
    ("teams_writeback_media", lambda s: [media.value for media in s.teams_writeback_media]),
    ("teams_busy_while_on_queue", lambda s: s.teams_busy_while_on_queue),
    ("teams_preferred_presence", lambda s: s.teams_preferred_presence),
    ("allow_device_code", lambda s: s.allow_device_code),
    ("allow_insecure_keyring", lambda s: s.allow_insecure_keyring),
    ("allow_different_emails", lambda s: s.allow_different_emails),
    ("start_at_login", lambda s: s.start_at_login),
    ("windows_broker", lambda s: s.windows_broker),
    ("proxy", lambda s: s.proxy),
    ("proxy_bypass", lambda s: s.proxy_bypass),
    ("pac_url", lambda s: s.pac_url),
)


def _settings(out: TextIO, layered: LayeredSettings, path: Path) -> None:
    _section(out, _("Settings in effect"))
    out.write(_("settings file: {path}").format(path=path) + "\n")
    if layered.last_good_in_effect:
        last_good = path.name + ".last-good"
        out.write(_("in effect instead: the last good copy, {name}").format(name=last_good) + "\n")
    locked = {name.lower() for name in layered.locked}

    def source(key: str) -> str:
        if key in locked:
            return _("IT policy")
        return _("your settings file") if key in layered.user_keys else _("default")

    for name, value_of in SHOWN_SETTINGS:
        ignored = _(" (your file's value is overridden)") if name in layered.ignored else ""
        out.write(f"{name} = {value_of(layered.settings)!r}  [{source(name)}{ignored}]\n")
    for teams, target in layered.settings.sync.mapping.entries:
        out.write(f"[mapping] {teams} = {target!r}  [{source(f'mapping.{teams}')}]\n")
    for problem in layered.problems:
        out.write(_("problem: {problem}").format(problem=problem) + "\n")


def _activity(out: TextIO, story: list[Transition]) -> None:
    _section(out, _("Recent activity"))
    if not story:
        out.write(_("(none)") + "\n")
    for transition in story[-ACTIVITY_LINES:]:
        when = datetime.fromtimestamp(transition.at).strftime("%Y-%m-%d %H:%M:%S")
        out.write(f"{when} {transition.kind:<9} {transition.text}\n")


def doctor_checks(timeout: float = 20.0, *, simulator: str | None = None, ca: str | None = None) -> DoctorChecks:
    """Doctor's checks (settings, keyring, both services, both sign-ins) into a stream, at most
    ``timeout`` s; ``simulator``/``ca``: against the embedded simulator, as ``doctor --simulator``."""

    def run(out: TextIO) -> None:
        from tray_agent.auth.session import load_target
        from tray_agent.commands.doctor import Report, diagnose

        report = Report(out)
        args = argparse.Namespace(simulator=simulator, ca=ca)
        try:
            asyncio.run(asyncio.wait_for(diagnose(args, load_target(), report), timeout))
        except TimeoutError:
            out.write(
                _("doctor's checks took longer than {seconds:g} s and were stopped").format(seconds=timeout) + "\n"
            )

    return run


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "diagnostics",
        help=_("print a bundle for the helpdesk (no secrets)"),
        description=_(
            "Prints the versions, the settings in effect with where each comes from, doctor's findings and "
            "the recent activity, for the helpdesk. It never holds a password, a sign-in or a token."
        ),
    )
    from tray_agent.commands.target import add_target_options

    parser.add_argument("--no-doctor", action="store_true", help=_("leave out doctor's checks"))
    add_target_options(parser)
    parser.add_argument("--output", metavar="FILE", type=Path, help=_("write it to FILE (readable by you only)"))
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    paths = AgentPaths.for_user()
    checks = None if args.no_doctor else doctor_checks(simulator=args.simulator, ca=args.ca)
    text = build_diagnostics(paths=paths, doctor=checks)
    if args.output is not None:
        write_private(args.output, text)
        out.write(_("Diagnostics written to {path}").format(path=args.output) + "\n")
    else:
        out.write(text)
    return 0
