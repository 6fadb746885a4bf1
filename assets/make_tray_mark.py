"""Writes the tray's committed artwork (run from the repository root after changing the drawing):

    .venv/bin/python assets/make_tray_mark.py      # or: .venv/bin/python -m tests.regenerate icons

- ``assets/tray-mark.png``: the 256 px base mark the tray icon is drawn from (tray_agent/tray/icon.py);
- ``assets/tray-agent.ico``: the bare mark at every Windows icon size, for the installers and the exe;
- ``assets/tray-states.png``: every icon state at 32 and 16 px, for the README and docs/tray.md.

tests/tray/test_icon.py checks that the committed mark is what ``draw_mark`` draws.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw, ImageFont  # noqa: E402

from tray_agent.tray.icon import ICO_SIZES, render  # noqa: E402
from tray_agent.tray.mark import draw_mark  # noqa: E402
from tray_agent.tray.view import IconKey, Look, Tone  # noqa: E402

LEGEND = (
    ("In sync: Available", IconKey(Look.SYNCED, Tone.AVAILABLE)),
    ("In sync: Busy / Meeting", IconKey(Look.SYNCED, Tone.BUSY)),
    ("In sync: Away / Break / Meal", IconKey(Look.SYNCED, Tone.AWAY)),
    ("Hands off: On Queue", IconKey(Look.HANDS_OFF, Tone.ON_QUEUE)),
    ("Hands off: Out of Office", IconKey(Look.HANDS_OFF, Tone.OUT_OF_OFFICE)),
    ("Hands off: set by you (Break)", IconKey(Look.HANDS_OFF, Tone.AWAY)),
    ("Paused", IconKey(Look.PAUSED)),
    ("Connecting / signing in", IconKey(Look.CONNECTING)),
    ("Sign-in needed", IconKey(Look.SIGN_IN_NEEDED)),
    ("Offline (retrying)", IconKey(Look.OFFLINE)),
    ("Stopped (loop breaker, not set up)", IconKey(Look.ERROR)),
)


def legend() -> Image.Image:
    row, width = 40, 360
    sheet = Image.new("RGBA", (width, row * len(LEGEND) + 8), (255, 255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    try:
        font: ImageFont.FreeTypeFont | ImageFont.ImageFont = ImageFont.truetype("DejaVuSans.ttf", 14)
    except OSError:
        font = ImageFont.load_default()
    for index, (text, key) in enumerate(LEGEND):
        y = 4 + index * row
        sheet.alpha_composite(render(key, 32), (8, y + 2))
        sheet.alpha_composite(render(key, 16), (48, y + 10))
        draw.text((76, y + 9), text, fill=(30, 30, 30, 255), font=font)
    return sheet


def main() -> None:
    assets = ROOT / "assets"
    mark = draw_mark(256)
    mark.save(assets / "tray-mark.png", optimize=True)
    mark.save(
        assets / "tray-agent.ico", sizes=[(s, s) for s in ICO_SIZES], append_images=[draw_mark(s) for s in ICO_SIZES]
    )
    legend().save(assets / "tray-states.png", optimize=True)
    print("wrote assets/tray-mark.png, assets/tray-agent.ico, assets/tray-states.png")


if __name__ == "__main__":
    main()
