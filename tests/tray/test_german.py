"""The tray in German (``i18n.set_language("de")``): view, menu and notifications say it in German,
keep the product names and the org's Genesys status names, and still fit Windows' limits."""

from __future__ import annotations

import math
from types import ModuleType

import pytest

from tray_agent import i18n
from tray_agent.core.rules import SyncStatus
from tray_agent.core.service import Service
from tray_agent.engine.snapshot import Link
from tray_agent.tray.desktop_notifications import ending_notices, notices_for_change
from tray_agent.tray.menu import build_menu
from tray_agent.tray.view import view_of

from .builders import NOW, genesys, in_meeting, snapshot
from .test_menu import RecordingHost, rows


@pytest.fixture(autouse=True)
def german() -> None:
    i18n.set_language("de")  # tests/conftest.py goes back to English after each test


def test_the_view_speaks_german_and_keeps_the_genesys_label() -> None:
    view = view_of(in_meeting(), now=NOW)
    assert view.headline == "Synchron"
    assert view.teams_line == "Teams: In einer Besprechung"
    assert view.genesys_line == "Genesys: Meeting – vom Sync gesetzt"  # "Meeting": the org's own label
    assert view.tooltip == "Teams → Genesys-Anwesenheit: Synchron · Genesys Meeting"


def test_on_queue_stays_on_queue() -> None:
    view = view_of(
        snapshot(status=SyncStatus.ON_QUEUE, genesys=genesys("ON_QUEUE", routing="IDLE"), genesys_label="On Queue")
    )
    assert view.headline == "Sync greift nicht ein: Sie sind On Queue"
    assert view.genesys_line == "Genesys: On Queue – Sync greift nicht ein"


def test_paused_and_signed_out_in_german() -> None:
    view = view_of(snapshot(paused_until=math.inf, microsoft=Link.SIGN_IN_NEEDED, microsoft_account="a@b.c"))
    assert view.headline == "Bei Microsoft anmelden"
    assert view.teams_line == "Teams: nicht angemeldet"  # no account on a signed-out line
    both = view_of(snapshot(microsoft=Link.SIGN_IN_NEEDED, genesys_link=Link.SIGN_IN_NEEDED))
    assert both.headline == "Bei Microsoft und Genesys Cloud anmelden"
    paused = view_of(snapshot(paused_until=NOW + 900), clock_text=lambda _at: "14:05")
    assert paused.headline == "Pausiert bis 14:05 Uhr"


def test_the_menu_speaks_german(pystray_dummy: ModuleType) -> None:
    menu = build_menu(pystray_dummy, RecordingHost(view_of(in_meeting(), now=NOW)))
    texts = rows(menu)
    for expected in (
        "Sync pausieren",
        "Sync fortsetzen",
        "Jetzt synchronisieren",
        "Bei Microsoft anmelden",
        "Von Genesys Cloud abmelden",
        "Bei Microsoft mit einem Code anmelden …",
        "Einstellungen …",
        "Protokollordner öffnen",
        "Genesys-Anrufe in Teams anzeigen",
        "Bei der Anmeldung starten",
        "Beenden",
    ):
        assert expected in texts
    pause = next(item for item in menu if str(item.text) == "Sync pausieren")
    assert [str(item.text) for item in pause.submenu] == ["Für 15 Minuten", "Für 1 Stunde", "Bis ich fortsetze"]


def test_german_notices_fit_windows_limits() -> None:
    """Notice() refuses texts longer than Windows shows: German is longer than English."""
    before = snapshot()
    after = snapshot(
        microsoft=Link.SIGN_IN_NEEDED,
        genesys_link=Link.SIGN_IN_NEEDED,
        status=SyncStatus.LOOP_BREAKER,
        paused_until=NOW + 900,
    )
    notices = notices_for_change(before, after, clock_text=lambda _at: "14:05")
    assert [n.title for n in notices] == [
        "Bei Microsoft und Genesys Cloud anmelden",
        "Anwesenheits-Sync hat sich selbst angehalten",
        "Anwesenheits-Sync pausiert",
    ]
    resumed = notices_for_change(snapshot(paused_until=math.inf), snapshot())
    assert resumed[0].message == "Genesys folgt wieder Ihrem Teams-Status."
    ending = ending_notices(snapshot(genesys_expires_at=NOW + 60), NOW, clock_text=lambda _at: "14:05")
    assert [n.service for n in ending] == [Service.GENESYS]
    assert "Bei Genesys Cloud anmelden" in ending[0].message
