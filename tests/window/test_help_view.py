"""The window's Help: "Copy diagnostics" shows the bundle (escaped) to copy, and offers it as a file."""

from __future__ import annotations

from tray_agent.window.pages import WindowModel


def test_copy_diagnostics_shows_the_bundle_to_copy_and_offers_it_as_a_file() -> None:
    asked: list[int] = []

    def bundle() -> str:
        asked.append(1)
        return "tray-agent 0.1.0\n<b>not markup</b>"

    model = WindowModel(diagnostics=bundle)
    first = model.get("/help", {}, "csrf")
    assert first is not None and "Copy diagnostics" in first.body and not asked  # made only when asked for
    shown = model.get("/help", {"diagnostics": "show"}, "csrf")
    assert shown is not None and "<textarea id='diagnostics' readonly" in shown.body
    assert "&lt;b&gt;not markup&lt;/b&gt;" in shown.body and "<b>not markup" not in shown.body
    download = model.get("/diagnostics.txt", {}, "csrf")
    assert download is not None and download.download == "tray-agent-diagnostics.txt"
    assert download.content_type.startswith("text/plain") and download.body.startswith("tray-agent 0.1.0")


def test_a_bundle_that_cannot_be_made_is_said_so_in_the_page() -> None:
    def broken() -> str:
        raise OSError("disk")

    shown = WindowModel(diagnostics=broken).get("/help", {"diagnostics": "show"}, "csrf")
    assert shown is not None and "The diagnostics could not be made: OSError" in shown.body
