"""The tray icon: the base mark plus a state badge, drawn with Pillow and cached per :class:`IconKey`.

The badge sits in the lower right corner, cut out of the mark by a thin transparent gap (like a
presence dot). Shape says what the sync is doing, colour says the Genesys status:

================  =====================================================
synced            solid disc in the Genesys status colour
hands off         ring in the Genesys status colour, white centre
paused            white disc, dark pause bars
connecting        white disc, three dark dots
sign-in needed    indigo disc, white person
offline           grey disc, white cross
error             red triangle, white exclamation mark
================  =====================================================

Images are rendered once per (key, size) and cached, so an unchanged state costs nothing.
:func:`tray_image` returns a 256 px image that also carries hand-rendered 16/20/24/32/40/48/64 px
frames: pystray's Windows backend saves the image as ``.ico``, and those frames make it crisp there.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from PIL import Image, ImageChops, ImageDraw

from tray_agent.tray.mark import SUPERSAMPLE, draw_mark
from tray_agent.tray.view import IconKey, Look, Tone

if TYPE_CHECKING:
    from _typeshed import StrOrBytesPath

log = logging.getLogger(__name__)

MARK_FILE = Path(__file__).resolve().parents[2] / "assets" / "tray-mark.png"
ICO_SIZES = (16, 20, 24, 32, 40, 48, 64, 256)
TRAY_SIZE = 256

RGBA = tuple[int, int, int, int]
WHITE: RGBA = (255, 255, 255, 255)
INK: RGBA = (51, 65, 85, 255)  # dark slate, for glyphs on white

TONE_COLOURS: dict[Tone, RGBA] = {
    Tone.AVAILABLE: (22, 163, 74, 255),
    Tone.BUSY: (220, 38, 38, 255),
    Tone.AWAY: (245, 158, 11, 255),
    Tone.ON_QUEUE: (8, 145, 178, 255),
    Tone.OUT_OF_OFFICE: (147, 51, 234, 255),
    Tone.OFFLINE: (156, 163, 175, 255),
    Tone.NEUTRAL: (156, 163, 175, 255),
}
SIGN_IN_COLOUR: RGBA = (79, 70, 229, 255)
OFFLINE_COLOUR: RGBA = (107, 114, 128, 255)
ERROR_COLOUR: RGBA = (220, 38, 38, 255)

# Badge geometry, as fractions of the icon size.
BADGE_CENTRE = 0.72
BADGE_RADIUS = 0.28
GAP = 0.07


@functools.cache
def base_mark() -> Image.Image:
    """The master mark from ``assets/``, or the same drawing when the assets folder is not shipped."""
    try:
        with Image.open(MARK_FILE) as image:
            return image.convert("RGBA")
    except OSError:
        log.debug("no %s; drawing the mark", MARK_FILE)
        return draw_mark(TRAY_SIZE)


def _badge(key: IconKey, big: int) -> tuple[Image.Image, Image.Image]:
    """(badge layer, cut-out mask) at ``big`` pixels: supersampled, downscaled by the caller."""
    layer = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    cut = Image.new("L", (big, big), 0)
    draw, cut_draw = ImageDraw.Draw(layer), ImageDraw.Draw(cut)
    c, r = BADGE_CENTRE * big, BADGE_RADIUS * big
    g = GAP * big

    def disc(radius: float, fill: RGBA) -> None:
        draw.ellipse((c - radius, c - radius, c + radius, c + radius), fill=fill)

    def bar(x0: float, y0: float, x1: float, y1: float, fill: RGBA) -> None:
        draw.rounded_rectangle((c + x0 * r, c + y0 * r, c + x1 * r, c + y1 * r), radius=0.12 * r, fill=fill)

    look = key.look
    if look is Look.ERROR:
        top, left, right, bottom = c - 1.05 * r, c - 1.1 * r, c + 1.1 * r, c + 0.85 * r
        cut_draw.polygon([(c, top - 1.6 * g), (left - 1.4 * g, bottom + g), (right + 1.4 * g, bottom + g)], fill=255)
        draw.polygon([(c, top), (left, bottom), (right, bottom)], fill=ERROR_COLOUR)
        bar(-0.13, -0.45, 0.13, 0.22, WHITE)
        disc_y = c + 0.5 * r
        draw.ellipse((c - 0.15 * r, disc_y - 0.15 * r, c + 0.15 * r, disc_y + 0.15 * r), fill=WHITE)
        return layer, cut

    cut_draw.ellipse((c - r - g, c - r - g, c + r + g, c + r + g), fill=255)
    tone = TONE_COLOURS[key.tone]
    if look is Look.SYNCED:
        disc(r, tone)
    elif look is Look.HANDS_OFF:
        disc(r, tone)
        disc(0.45 * r, WHITE)
    elif look is Look.PAUSED:
        disc(r, INK)
        disc(0.82 * r, WHITE)
        bar(-0.42, -0.45, -0.12, 0.45, INK)
        bar(0.12, -0.45, 0.42, 0.45, INK)
    elif look is Look.CONNECTING:
        disc(r, INK)
        disc(0.82 * r, WHITE)
        for dx in (-0.45, 0.0, 0.45):
            x = c + dx * r
            draw.ellipse((x - 0.15 * r, c - 0.15 * r, x + 0.15 * r, c + 0.15 * r), fill=INK)
    elif look is Look.SIGN_IN_NEEDED:
        disc(r, SIGN_IN_COLOUR)
        head = 0.24 * r
        draw.ellipse((c - head, c - 0.62 * r, c + head, c - 0.62 * r + 2 * head), fill=WHITE)
        draw.pieslice((c - 0.52 * r, c - 0.02 * r, c + 0.52 * r, c + 0.98 * r), start=180, end=360, fill=WHITE)
    elif look is Look.OFFLINE:
        disc(r, OFFLINE_COLOUR)
        w = 0.2 * r
        a = 0.42 * r
        draw.line((c - a, c - a, c + a, c + a), fill=WHITE, width=round(w))
        draw.line((c - a, c + a, c + a, c - a), fill=WHITE, width=round(w))
    return layer, cut


@functools.cache
def render(key: IconKey, size: int) -> Image.Image:
    """The icon for ``key`` at ``size`` × ``size`` pixels (RGBA)."""
    mark = base_mark().resize((size, size), Image.Resampling.LANCZOS)
    big = size * SUPERSAMPLE
    layer, cut = _badge(key, big)
    layer = layer.resize((size, size), Image.Resampling.LANCZOS)
    cut = cut.resize((size, size), Image.Resampling.LANCZOS)
    alpha = ImageChops.multiply(mark.getchannel("A"), ImageChops.invert(cut))
    mark.putalpha(alpha)
    mark.alpha_composite(layer)
    return mark


class MultiSizeImage(Image.Image):
    """An image that saves as a multi-size ``.ico`` made of its own hand-rendered frames."""

    frames: tuple[Image.Image, ...] = ()

    @classmethod
    def of(cls, image: Image.Image, frames: tuple[Image.Image, ...]) -> MultiSizeImage:
        copy = cls.__new__(cls)
        copy.__dict__.update(image.copy().__dict__)
        copy.frames = frames
        return copy

    def save(self, fp: StrOrBytesPath | IO[bytes], format: str | None = None, **params: Any) -> None:
        if (format or "").upper() == "ICO" and "append_images" not in params:
            params = {
                **params,
                "sizes": [self.size, *(f.size for f in self.frames)],
                "append_images": list(self.frames),
            }
        super().save(fp, format, **params)


@functools.cache
def tray_image(key: IconKey) -> MultiSizeImage:
    """What the tray is given: 256 px, with every Windows icon size rendered on its own."""
    return MultiSizeImage.of(render(key, TRAY_SIZE), tuple(render(key, s) for s in ICO_SIZES if s != TRAY_SIZE))
