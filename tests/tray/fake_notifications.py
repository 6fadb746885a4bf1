"""A tiny ``org.freedesktop.Notifications`` service for the tray tests: records every notification.

Run as ``python fake_notifications.py RECORD_FILE`` on a session bus (``DBUS_SESSION_BUS_ADDRESS``),
with Debian's ``gi`` importable. Each ``Notify`` call appends one JSON line
``{"summary": ..., "body": ..., "app": ..., "replaces": ...}`` to RECORD_FILE; ``CloseNotification``
appends ``{"closed": id}``. It prints ``ready`` once it owns the name.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
INTERFACE = f"""
<node>
  <interface name="{NAME}">
    <method name="Notify">
      <arg type="s" direction="in"/><arg type="u" direction="in"/><arg type="s" direction="in"/>
      <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="as" direction="in"/>
      <arg type="a{{sv}}" direction="in"/><arg type="i" direction="in"/><arg type="u" direction="out"/>
    </method>
    <method name="CloseNotification"><arg type="u" direction="in"/></method>
    <method name="GetCapabilities"><arg type="as" direction="out"/></method>
    <method name="GetServerInformation">
      <arg type="s" direction="out"/><arg type="s" direction="out"/>
      <arg type="s" direction="out"/><arg type="s" direction="out"/>
    </method>
    <signal name="NotificationClosed"><arg type="u"/><arg type="u"/></signal>
  </interface>
</node>
"""


def main(record: Path) -> None:
    counter = iter(range(1, 1_000_000))
    loop = GLib.MainLoop()

    def write(entry: dict[str, Any]) -> None:
        with record.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")

    def on_call(
        _connection: Any,
        _sender: str,
        _path: str,
        _interface: str,
        method: str,
        params: GLib.Variant,
        invocation: Gio.DBusMethodInvocation,
    ) -> None:
        args = params.unpack()
        if method == "Notify":
            app, replaces, _icon, summary, body = args[:5]
            nid = replaces or next(counter)
            write({"app": app, "replaces": replaces, "summary": summary, "body": body, "id": nid})
            invocation.return_value(GLib.Variant("(u)", (nid,)))
        elif method == "CloseNotification":
            write({"closed": args[0]})
            invocation.return_value(None)
        elif method == "GetCapabilities":
            invocation.return_value(GLib.Variant("(as)", (["body"],)))
        else:
            invocation.return_value(GLib.Variant("(ssss)", ("fake-notifications", "tests", "1", "1.2")))

    node = Gio.DBusNodeInfo.new_for_xml(INTERFACE)

    def on_bus(connection: Gio.DBusConnection, _name: str) -> None:
        connection.register_object(PATH, node.interfaces[0], on_call, None, None)

    def on_name(_connection: Gio.DBusConnection, _name: str) -> None:
        print("ready", flush=True)

    def on_lost(_connection: Gio.DBusConnection, _name: str) -> None:
        print("could not own the name", flush=True)
        loop.quit()

    Gio.bus_own_name(Gio.BusType.SESSION, NAME, Gio.BusNameOwnerFlags.NONE, on_bus, on_name, on_lost)
    loop.run()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
