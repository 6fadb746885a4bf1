"""Which icon is on screen: the tray's pixels compared with every state's own rendering.

The tray host scales the 256 px image to its slot; the icon renderer draws each state at that size,
and the closest one (mean absolute difference over the slot) is what the tray shows. The geometry
(size and position in the slot) is found once from a known state.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageChops, ImageStat

from tray_agent.tray.icon import render
from tray_agent.tray.view import IconKey, Look, Tone

from .xdesktop import PANEL_BACKGROUND, Box

CANDIDATES = [
    *(IconKey(Look.SYNCED, tone) for tone in Tone if tone is not Tone.NEUTRAL),
    *(IconKey(Look.HANDS_OFF, tone) for tone in Tone if tone is not Tone.NEUTRAL),
    *(IconKey(look) for look in (Look.PAUSED, Look.CONNECTING, Look.SIGN_IN_NEEDED, Look.OFFLINE, Look.ERROR)),
]
BACKGROUND = ((PANEL_BACKGROUND >> 16) & 255, (PANEL_BACKGROUND >> 8) & 255, PANEL_BACKGROUND & 255)


@dataclass(frozen=True)
class Placement:
    size: int
    x: int
    y: int


def _composite(key: IconKey, slot: tuple[int, int], placement: Placement) -> Image.Image:
    canvas = Image.new("RGB", slot, BACKGROUND)
    image = render(key, placement.size)
    canvas.paste(image, (placement.x, placement.y), image)
    return canvas


def _distance(a: Image.Image, b: Image.Image) -> float:
    return float(sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3)


def find_placement(slot_image: Image.Image, known: IconKey) -> tuple[Placement, float]:
    """Where and how big the host draws the icon, found by matching a known state."""
    width, height = slot_image.size
    best: tuple[float, Placement] | None = None
    # Hosts may draw the icon a little larger than its window (and clip it), or smaller and centred.
    for size in range(max(8, min(width, height) - 8), max(width, height) + 5):
        for x in range(min(0, width - size) - 2, max(0, width - size) + 3):
            for y in range(min(0, height - size) - 2, max(0, height - size) + 3):
                placement = Placement(size, x, y)
                score = _distance(_composite(known, slot_image.size, placement), slot_image)
                if best is None or score < best[0]:
                    best = (score, placement)
    assert best is not None
    return best[1], best[0]


def classify(slot_image: Image.Image, placement: Placement) -> list[tuple[float, IconKey]]:
    """Every candidate state with its distance from what is on screen, closest first."""
    scored = [(_distance(_composite(key, slot_image.size, placement), slot_image), key) for key in CANDIDATES]
    return sorted(scored, key=lambda pair: pair[0])


def slot(shot: Image.Image, box: Box) -> Image.Image:
    return shot.crop((box.x, box.y, box.x + box.width, box.y + box.height))
