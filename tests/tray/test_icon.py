"""Specification of the tray icon's pixels: base mark plus a state badge, readable from 16 to 256 px."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from tray_agent.tray import icon as icon_module
from tray_agent.tray.icon import (
    BADGE_CENTRE,
    BADGE_RADIUS,
    ICO_SIZES,
    INK,
    OFFLINE_COLOUR,
    SIGN_IN_COLOUR,
    TONE_COLOURS,
    WHITE,
    MultiSizeImage,
    render,
    tray_image,
)
from tray_agent.tray.mark import draw_mark
from tray_agent.tray.view import IconKey, Look, Tone

ALL_KEYS = (
    [IconKey(Look.SYNCED, tone) for tone in Tone]
    + [IconKey(Look.HANDS_OFF, tone) for tone in (Tone.ON_QUEUE, Tone.OUT_OF_OFFICE, Tone.AWAY, Tone.OFFLINE)]
    + [IconKey(look) for look in (Look.PAUSED, Look.CONNECTING, Look.SIGN_IN_NEEDED, Look.OFFLINE, Look.ERROR)]
)
DISTINCT = [k for k in ALL_KEYS if k != IconKey(Look.SYNCED, Tone.NEUTRAL)]  # NEUTRAL = OFFLINE grey


def badge_pixel(image: Image.Image, dx: float = 0.0, dy: float = 0.0) -> tuple[int, ...]:
    """The colour at the badge centre, offset by (dx, dy) badge radii."""
    size = image.width
    x = (BADGE_CENTRE + dx * BADGE_RADIUS) * size
    y = (BADGE_CENTRE + dy * BADGE_RADIUS) * size
    return tuple(image.getpixel((int(x), int(y))))  # type: ignore[arg-type]


def close(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual[:3], expected[:3], strict=True))


@pytest.mark.parametrize("size", [16, 20, 24, 32, 48, 64, 256])
def test_every_state_renders_as_a_square_rgba_image(size: int) -> None:
    for key in ALL_KEYS:
        image = render(key, size)
        assert (image.mode, image.size) == ("RGBA", (size, size))


@pytest.mark.parametrize("size", [16, 32, 48, 256])
@pytest.mark.parametrize("tone", [Tone.AVAILABLE, Tone.BUSY, Tone.AWAY, Tone.ON_QUEUE])
def test_in_sync_the_badge_is_the_genesys_status_colour_at_every_size(size: int, tone: Tone) -> None:
    assert close(badge_pixel(render(IconKey(Look.SYNCED, tone), size)), TONE_COLOURS[tone])


@pytest.mark.parametrize("size", [32, 48, 256])
def test_hands_off_is_a_ring_in_the_status_colour_around_white(size: int) -> None:
    image = render(IconKey(Look.HANDS_OFF, Tone.ON_QUEUE), size)
    assert close(badge_pixel(image), WHITE)
    assert close(badge_pixel(image, dx=0.75), TONE_COLOURS[Tone.ON_QUEUE])


@pytest.mark.parametrize("size", [32, 48, 256])
def test_each_attention_state_has_its_own_colour(size: int) -> None:
    assert close(badge_pixel(render(IconKey(Look.PAUSED), size), dx=0.27), INK, 60)
    assert close(badge_pixel(render(IconKey(Look.PAUSED), size)), WHITE)
    assert close(badge_pixel(render(IconKey(Look.SIGN_IN_NEEDED), size), dx=0.75), SIGN_IN_COLOUR)
    assert close(badge_pixel(render(IconKey(Look.OFFLINE), size), dy=-0.7), OFFLINE_COLOUR)


def test_at_16_pixels_every_state_still_looks_different() -> None:
    """Readable at 16×16: any two states differ clearly in the badge corner."""

    def corner(key: IconKey) -> Image.Image:
        return render(key, 16).crop((7, 7, 16, 16)).convert("RGB")

    for a, b in itertools.combinations(DISTINCT, 2):
        difference = ImageStat.Stat(ImageChops.difference(corner(a), corner(b))).mean
        assert max(difference) > 12, f"{a} and {b} look alike at 16 px"


def test_the_badge_is_cut_out_of_the_mark_by_a_transparent_gap() -> None:
    image = render(IconKey(Look.SYNCED, Tone.AVAILABLE), 256)
    gap_radius = BADGE_RADIUS + 0.035  # between the badge's edge and the end of the cut-out
    assert badge_pixel(image, dx=-gap_radius / BADGE_RADIUS)[3] == 0
    assert image.getpixel((40, 40))[3] == 255  # type: ignore[index]  # the tile itself is opaque


def test_images_are_rendered_once_per_state_and_size() -> None:
    key = IconKey(Look.SYNCED, Tone.BUSY)
    assert render(key, 32) is render(key, 32)
    assert tray_image(key) is tray_image(key)


def test_as_a_windows_icon_every_size_is_its_own_rendering_not_a_downscale() -> None:
    key = IconKey(Look.HANDS_OFF, Tone.AWAY)
    image = tray_image(key)
    assert isinstance(image, MultiSizeImage)
    buffer = io.BytesIO()
    image.save(buffer, format="ICO")  # what pystray's win32 backend does with it
    buffer.seek(0)
    ico = Image.open(buffer)
    assert ico.info["sizes"] == {(s, s) for s in ICO_SIZES}
    for size in (16, 32, 48):
        ico.size = (size, size)
        ico.load()
        frame = ico.convert("RGBA")
        assert ImageChops.difference(frame, render(key, size)).getbbox() is None


def test_saving_as_png_is_unaffected() -> None:
    buffer = io.BytesIO()
    tray_image(IconKey(Look.PAUSED)).save(buffer, format="PNG")  # what the gtk and appindicator backends do
    buffer.seek(0)
    assert Image.open(buffer).size == (256, 256)


def test_the_committed_base_mark_is_what_draw_mark_draws() -> None:
    committed = Image.open(icon_module.MARK_FILE).convert("RGBA")
    assert committed.size == (256, 256)
    drawn = draw_mark(256)
    difference = ImageChops.difference(committed, drawn)
    assert max(ImageStat.Stat(difference).mean) < 1.0, "re-run assets/make_tray_mark.py"


def test_without_the_assets_folder_the_mark_is_drawn(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(icon_module, "MARK_FILE", tmp_path / "missing.png")
    icon_module.base_mark.cache_clear()
    try:
        assert icon_module.base_mark().size == (256, 256)
    finally:
        icon_module.base_mark.cache_clear()
