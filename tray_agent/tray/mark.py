"""The base mark: a white contact-centre headset on a dark rounded tile, drawn with Pillow.

``assets/make_tray_mark.py`` writes it once to ``assets/tray-mark.png`` (the committed master the
icon is drawn from); :func:`draw_mark` is also the fallback when the package runs without the
repository's ``assets/`` folder next to it. The right-hand corner is left for the state badge.

The tile works on light and dark taskbars alike; the headset stays readable at 16×16 because every
stroke is at least 1/10 of the size.
"""

from __future__ import annotations

from PIL import Image, ImageDraw

TILE = (34, 50, 82, 255)  # dark navy: distinct on light and on dark taskbars
GLYPH = (255, 255, 255, 255)
SUPERSAMPLE = 4


def draw_mark(size: int = 256) -> Image.Image:
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)

    def px(value: float) -> int:
        return round(value * big)

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
        return (px(x0), px(y0), px(x1), px(y1))

    draw.rounded_rectangle(box(0.02, 0.02, 0.98, 0.98), radius=px(0.22), fill=TILE)
    # Headband: the upper half of a ring.
    draw.arc(box(0.17, 0.14, 0.75, 0.72), start=180, end=360, fill=GLYPH, width=px(0.1))
    # Ear cups.
    draw.rounded_rectangle(box(0.12, 0.40, 0.30, 0.66), radius=px(0.06), fill=GLYPH)
    draw.rounded_rectangle(box(0.62, 0.40, 0.80, 0.66), radius=px(0.06), fill=GLYPH)
    # Microphone boom from the left cup towards the mouth, ending in a capsule.
    draw.arc(box(0.16, 0.30, 0.56, 0.82), start=95, end=175, fill=GLYPH, width=px(0.065))
    draw.ellipse(box(0.30, 0.72, 0.44, 0.86), fill=GLYPH)
    return image.resize((size, size), Image.Resampling.LANCZOS)
