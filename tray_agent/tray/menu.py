"""The tray menu: a fixed layout whose texts, enabled flags and checkbox are pystray callables.

Every callable reads the host's current :class:`~tray_agent.tray.view.TrayView` (a pure function of
the latest snapshot), so ``icon.update_menu()`` after a snapshot is all it takes to refresh it.
Actions only forward to the host, which turns them into engine commands or desktop actions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from tray_agent import __version__
from tray_agent.core.service import Service
from tray_agent.i18n import N_, _
from tray_agent.tray.view import SERVICE_NAMES, TrayView

DETAIL_LIMIT = 80
PAUSES: tuple[tuple[str, float | None], ...] = (
    (N_("For 15 minutes"), 15 * 60.0),
    (N_("For 1 hour"), 60 * 60.0),
    (N_("Until I resume"), None),
)


class MenuHost(Protocol):
    """What the menu needs from the app (the real one, or a recording fake in the unit tests)."""

    @property
    def view(self) -> TrayView: ...

    def pause(self, seconds: float | None) -> None: ...

    def resume(self) -> None: ...

    def sync_now(self) -> None: ...

    def sign_in(self, service: Service) -> None: ...

    def sign_in_with_code(self) -> None: ...

    def sign_out(self, service: Service) -> None: ...

    def open_settings(self) -> None: ...

    def window_available(self) -> bool: ...

    def open_window(self, view: str = "/activity") -> None: ...

    def open_log_folder(self) -> None: ...

    def start_at_login(self) -> bool: ...

    def start_at_login_locked(self) -> bool:
        """IT policy decides start at login: the checkbox shows it but cannot change it."""
        ...

    def device_code_allowed(self) -> bool: ...

    def toggle_start_at_login(self) -> None: ...

    def teams_writeback_locked(self) -> bool:
        """IT policy decides whether Genesys interactions show in Teams."""
        ...

    def toggle_teams_writeback(self) -> None: ...

    def about(self) -> None: ...

    def quit(self) -> None: ...


def _short(text: str, limit: int = DETAIL_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def build_menu(pystray: Any, host: MenuHost) -> Any:
    """A ``pystray.Menu`` for ``host``; ``pystray`` is the (lazily imported) module.

    The texts are in the language current when it is built (the app builds it once, at start)."""
    Menu = pystray.Menu
    return Menu(
        *_status_lines(pystray, host),
        Menu.SEPARATOR,
        *_sync_items(pystray, host),
        Menu.SEPARATOR,
        *_account_items(pystray, host),
        Menu.SEPARATOR,
        *_app_items(pystray, host),
        Menu.SEPARATOR,
        pystray.MenuItem(_("Quit"), lambda: host.quit()),
    )


def _when(host: MenuHost, flag: Callable[[TrayView], bool]) -> Callable[[Any], bool]:
    """A pystray ``enabled``/``visible`` callable asking ``flag`` of the host's current view."""
    return lambda _item: flag(host.view)


def _status_lines(pystray: Any, host: MenuHost) -> list[Any]:
    """The disabled lines at the top: Teams, Genesys, the sync state and (when there is one) why."""

    def info(text: Callable[[TrayView], str], visible: Callable[[TrayView], bool] | None = None) -> Any:
        return pystray.MenuItem(
            lambda _item: text(host.view), None, enabled=False, visible=_when(host, visible) if visible else True
        )

    return [
        info(lambda v: v.teams_line),
        info(lambda v: v.genesys_line),
        info(lambda v: v.headline),
        info(lambda v: _short(v.detail), visible=lambda v: bool(v.detail)),
        info(lambda v: _short(v.writeback_problem), visible=lambda v: bool(v.writeback_problem)),
    ]


def _sync_items(pystray: Any, host: MenuHost) -> list[Any]:
    Item, Menu = pystray.MenuItem, pystray.Menu

    def pause_action(seconds: float | None) -> Callable[[], None]:
        return lambda: host.pause(seconds)

    return [
        Item(
            _("Pause sync"),
            Menu(*(Item(_(text), pause_action(seconds)) for text, seconds in PAUSES)),
            enabled=_when(host, lambda v: v.can_pause),
        ),
        Item(_("Resume sync"), lambda: host.resume(), enabled=_when(host, lambda v: v.can_resume)),
        Item(_("Sync now"), lambda: host.sync_now(), enabled=_when(host, lambda v: v.can_sync_now)),
    ]


def _account_items(pystray: Any, host: MenuHost) -> list[Any]:
    """Sign in to / out of each service (and to Microsoft with a code)."""
    Item = pystray.MenuItem

    def sign_in_and_out(service: Service) -> list[Any]:
        name = SERVICE_NAMES[service]
        return [
            Item(
                _("Sign in to {service}").format(service=name),
                lambda: host.sign_in(service),
                enabled=_when(host, lambda v: v.sign_in_possible(service)),
            ),
            Item(
                _("Sign out of {service}").format(service=name),
                lambda: host.sign_out(service),
                enabled=_when(host, lambda v: v.sign_out_possible(service)),
            ),
        ]

    return [
        *sign_in_and_out(Service.MICROSOFT),
        Item(
            _("Sign in to Microsoft with a code…"),
            lambda: host.sign_in_with_code(),
            enabled=_when(host, lambda v: v.sign_in_possible(Service.MICROSOFT) and host.device_code_allowed()),
        ),
        *sign_in_and_out(Service.GENESYS),
    ]


def _app_items(pystray: Any, host: MenuHost) -> list[Any]:
    Item = pystray.MenuItem
    return [
        Item(_("Activity…"), lambda: host.open_window(), enabled=lambda _item: host.window_available()),
        Item(_("Settings…"), lambda: host.open_settings()),
        Item(_("Open log folder"), lambda: host.open_log_folder()),
        Item(
            _("Show Genesys calls in Teams"),
            lambda: host.toggle_teams_writeback(),
            checked=lambda _item: host.view.writeback_on,
            enabled=lambda _item: not host.teams_writeback_locked(),
        ),
        Item(
            _("Start at login"),
            lambda: host.toggle_start_at_login(),
            checked=lambda _item: host.start_at_login(),
            enabled=lambda _item: not host.start_at_login_locked(),
        ),
        Item(_("About (version {version})").format(version=__version__), lambda: host.about()),
    ]
