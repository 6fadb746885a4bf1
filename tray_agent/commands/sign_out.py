"""``tray-agent sign-out``: forget both sign-ins on this computer and revoke the Genesys token."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from tray_agent.i18n import _


def register(commands: Any) -> None:
    from tray_agent.commands.target import add_target_options
    from tray_agent.core.service import Service

    parser = commands.add_parser(
        "sign-out",
        help=_("sign out of both services (or one) on this computer"),
        description=_("Forget both sign-ins (or one) on this computer and revoke the Genesys token."),
    )
    parser.add_argument(
        "service", nargs="?", choices=[s.value for s in Service], help=_("only this service (default: both)")
    )
    add_target_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tray_agent import logs
    from tray_agent.auth.keyrings import KeyringRefused
    from tray_agent.auth.session import load_target
    from tray_agent.auth.storage import TokenStorageError, open_token_store

    target = load_target()
    logs.configure(target.paths.log_file, verbose=args.verbose)
    try:
        store = open_token_store(target.settings, paths=target.paths)
        return asyncio.run(_sign_out(args, target, store))
    except (KeyringRefused, TokenStorageError) as error:
        print(_("Could not sign out: {error}").format(error=error), file=sys.stderr)
        return 1


async def _sign_out(args: argparse.Namespace, target: Any, store: Any) -> int:
    from tray_agent.commands.target import endpoints_for
    from tray_agent.config.settings import SettingsError
    from tray_agent.core.service import Service

    services = [Service(args.service)] if args.service else list(Service)
    try:
        endpoints = endpoints_for(target, args)
    except SettingsError:
        endpoints = None  # settings incomplete: the saved sign-ins are still removed
    if Service.MICROSOFT in services:
        print(await _sign_out_of_microsoft(target, endpoints, store))
    if Service.GENESYS in services:
        print(await _sign_out_of_genesys(target, endpoints, store))
    return 0


async def _sign_out_of_microsoft(target: Any, endpoints: Any, store: Any) -> str:
    from tray_agent.auth.microsoft import MicrosoftAuth
    from tray_agent.auth.session import build_microsoft
    from tray_agent.config.settings import SettingsError

    try:
        if endpoints is None:
            raise SettingsError("incomplete settings")
        microsoft = build_microsoft(target, endpoints, store)
        was = microsoft.account_name if microsoft.signed_in else None
        await microsoft.sign_out(strict=True)
    except SettingsError:
        if MicrosoftAuth.forget(store):
            return _("Microsoft: signed out; the account and its tokens were removed from this computer.")
        was = None
    if was:
        return _("Microsoft: signed out {account}; the account and its tokens were removed from this computer.").format(
            account=was
        )
    return _("Microsoft: was not signed in.")


async def _sign_out_of_genesys(target: Any, endpoints: Any, store: Any) -> str:
    from tray_agent.auth.genesys_pkce import GenesysAuth
    from tray_agent.auth.session import genesys_auth

    if endpoints is None or not target.settings.genesys_client_id:
        if GenesysAuth.forget(store):
            return _(
                "Genesys Cloud: the saved sign-in was removed (it could not be revoked: the settings are incomplete)."
            )
        return _("Genesys Cloud: was not signed in.")
    async with genesys_auth(target, endpoints, store) as genesys:
        had = genesys.access_expires_at is not None or genesys.signed_in
        revoked = await genesys.revoke_and_forget()
    if not had:
        return _("Genesys Cloud: was not signed in.")
    if revoked:
        return _("Genesys Cloud: signed out; the token was revoked and removed from this computer.")
    return _(
        "Genesys Cloud: the token was removed from this computer, but Genesys could not be reached to "
        "revoke it (it expires by itself)."
    )
