"""Command line entry point: ``tray-agent [command]``. Commands live in :mod:`tray_agent.commands`."""

from __future__ import annotations

import argparse

from tray_agent import __version__
from tray_agent.commands import demo, diagnostics, doctor, run, sign_in, sign_out, simulator, tray
from tray_agent.i18n import _

COMMANDS = (demo, run, simulator, sign_in, sign_out, doctor, diagnostics)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tray-agent", description=_("Mirror your Microsoft Teams presence into Genesys Cloud.")
    )
    parser.add_argument("--version", action="version", version=f"tray-agent {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help=_("log engine details to stderr"))
    parser.add_argument(
        "--at-login",
        action="store_true",
        help=_("how the start-at-login entry starts the tray: go on only if IT policy and your choice allow it"),
    )
    parser.set_defaults(handler=tray.run)
    subparsers = parser.add_subparsers(dest="command", metavar="command", title=_("commands"))
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def entry() -> None:
    """The process's entry (``tray-agent``, ``python -m tray_agent``): :func:`main`, then out."""
    from tray_agent.clients.threads import exit_code_or_leave_now

    raise SystemExit(exit_code_or_leave_now(main()))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from tray_agent import logs

    logs.configure(None, verbose=args.verbose)
    return int(args.handler(args))
