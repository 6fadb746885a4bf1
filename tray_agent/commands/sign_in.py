"""``tray-agent sign-in microsoft|genesys``: sign in once; the sign-in is saved for the tray app."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from typing import Any

from tray_agent.i18n import _

EXIT_FAILED, EXIT_SETTINGS, EXIT_STORAGE, EXIT_CANCELLED = 1, 2, 3, 130


def register(commands: Any) -> None:
    from tray_agent.commands.target import add_target_options
    from tray_agent.core.service import Service

    parser = commands.add_parser(
        "sign-in",
        help=_("sign in to Microsoft or Genesys Cloud"),
        description=_("Sign in as yourself. The sign-in is kept in your system keyring for the tray app."),
    )
    parser.add_argument("service", choices=[service.value for service in Service])
    parser.add_argument(
        "--device-code",
        action="store_true",
        help=_("Microsoft only: sign in on another device with a code (when no browser can reach this computer)"),
    )
    parser.add_argument(
        "--no-browser", action="store_true", help=_("print the sign-in address instead of opening the browser")
    )
    parser.add_argument("--timeout", type=float, default=300.0, help=_("seconds to wait for the sign-in (default 300)"))
    add_target_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tray_agent import logs
    from tray_agent.auth.keyrings import KeyringRefused
    from tray_agent.auth.session import load_target
    from tray_agent.auth.storage import TokenStorageError, open_token_store
    from tray_agent.commands.target import endpoints_for
    from tray_agent.config.settings import SettingsError
    from tray_agent.core.service import Service

    if args.service == Service.GENESYS and args.device_code:
        print(
            _(
                "Genesys Cloud has no device-code sign-in for this app. Use --no-browser and open the printed "
                "address in a browser on this computer."
            ),
            file=sys.stderr,
        )
        return EXIT_SETTINGS
    if args.timeout <= 0:
        print(_("--timeout must be positive"), file=sys.stderr)
        return EXIT_SETTINGS
    target = load_target()
    logs.configure(target.paths.log_file, verbose=args.verbose)
    if target.settings_problem:  # a damaged file never stops a sign-in: the last good settings (or defaults) apply
        print(_("Settings problem: {problem}").format(problem=target.settings_problem), file=sys.stderr)
    if args.device_code and not target.settings.allow_device_code:
        print(
            _(
                "Your IT department has turned off sign-in with a code on this computer. "
                "Sign in with the browser instead (tray-agent sign-in microsoft)."
            ),
            file=sys.stderr,
        )
        return EXIT_SETTINGS
    try:
        endpoints = endpoints_for(target, args)
        store = open_token_store(target.settings, paths=target.paths)
    except SettingsError as error:
        print(
            _("Settings problem: {problem} (in {path})").format(problem=error, path=target.paths.settings_file),
            file=sys.stderr,
        )
        return EXIT_SETTINGS
    except (KeyringRefused, TokenStorageError) as error:
        print(str(error), file=sys.stderr)
        return EXIT_STORAGE
    try:
        return asyncio.run(_sign_in(args, target, endpoints, store))
    except KeyboardInterrupt:
        print("\n" + _("Sign-in cancelled."), file=sys.stderr)
        return EXIT_CANCELLED


async def _sign_in(args: argparse.Namespace, target: Any, endpoints: Any, store: Any) -> int:
    from tray_agent.auth.loopback import SignInFailed
    from tray_agent.auth.session import build_microsoft, genesys_auth, terminal_browser
    from tray_agent.auth.storage import TokenStorageError
    from tray_agent.auth.tokens import SignInRequired
    from tray_agent.clients.errors import ServiceError
    from tray_agent.config.settings import SettingsError
    from tray_agent.core.service import Service

    browser = terminal_browser(open_browser=not args.no_browser)
    try:
        if args.service == Service.MICROSOFT:
            microsoft = build_microsoft(target, endpoints, store)
            if args.device_code:
                await microsoft.sign_in_with_device_code(_show_device_code, args.timeout)
            else:
                await microsoft.sign_in(browser, args.timeout)
            if microsoft.account_name:
                print(_("Signed in to Microsoft as {account}.").format(account=microsoft.account_name))
            else:
                print(_("Signed in to Microsoft."))
            return 0
        async with genesys_auth(target, endpoints, store) as genesys:
            await genesys.sign_in(browser, args.timeout)
            until = genesys.expires_at
            if until:
                print(
                    _("Signed in to Genesys Cloud until {time}.").format(
                        time=f"{datetime.fromtimestamp(until):%a %H:%M}"
                    )
                )
            else:
                print(_("Signed in to Genesys Cloud."))
            return 0
    except SettingsError as error:
        print(
            _("Settings problem: {problem} (in {path})").format(problem=error, path=target.paths.settings_file),
            file=sys.stderr,
        )
        return EXIT_SETTINGS
    except TokenStorageError as error:
        print(_("Sign-in could not be saved: {error}").format(error=error), file=sys.stderr)
        return EXIT_STORAGE
    except (SignInFailed, SignInRequired, ServiceError) as error:
        print(_("Sign-in failed: {error}").format(error=error), file=sys.stderr)
        return EXIT_FAILED


def _show_device_code(message: str) -> None:
    print(message, flush=True)
