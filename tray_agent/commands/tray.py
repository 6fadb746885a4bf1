"""``tray-agent`` with no command: the tray app (pystray owns the main thread)."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    print("The tray app is not part of this build yet. Try:  tray-agent demo --headless", file=sys.stderr)
    return 2
