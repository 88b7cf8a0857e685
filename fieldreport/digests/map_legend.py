"""The legend panel beside the digest's map: events per category, marker meanings, areas.

The panel is the map's key for a reader with the printed PDF only, so it carries the day's
count per category, in the commission's language (``labels``, translated by the caller).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from fieldreport.digests.map_areas import AREA_STYLES, HATCH_PERIOD
from fieldreport.digests.picture import CATEGORIES, FRAME, INK, URGENT_RING, Font, typeface
from fieldreport.reports.taxonomy import CATEGORY_COLOURS

_PAD = 10


class _Pen:
    """Writes the legend's rows top to bottom: a symbol at ``sx``, its text at ``x + 18``."""

    def __init__(self, draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], size: int):
        self.draw = draw
        self.right = box[2]
        self.font, self.heading = typeface(size), typeface(size, bold=True)
        self.row = size + 8
        self.x, self.y = box[0] + _PAD, box[1] + _PAD
        self.sx = self.x + 7  # symbol centre

    def title(self, text: str) -> None:
        self.draw.text((self.x, self.y), text, font=self.heading, fill=INK)
        self.y += self.row + 2

    def centre(self) -> float:
        """The vertical centre of the current row."""
        return self.y + self.row / 2 - 2

    def text(self, text: str) -> None:
        """The current row's text, then on to the next row."""
        self.draw.text((self.x + 18, self.centre()), text, font=self.font, anchor="lm", fill=INK)
        self.y += self.row


def draw_legend(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    counts: NDArray[np.intp],
    labels: Mapping[str, str],
) -> None:
    """The legend in ``box`` (left, top, right, bottom), with a rule on its left edge."""
    left, top, _, bottom = box
    draw.line([(left, top), (left, bottom)], fill=FRAME, width=1)
    numbers = [f"{int(n):,}" for n in counts]
    pen = _Pen(draw, box, _fitting_size(draw, box, numbers, labels))
    pen.title(labels["events"])
    _category_rows(pen, numbers, labels)
    pen.y += 6
    _marker_rows(pen, labels)
    pen.y += 8
    pen.title(labels["areas"])
    _area_rows(pen, labels)


def _fitting_size(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    numbers: list[str],
    labels: Mapping[str, str],
) -> int:
    """The largest font size at which every category row fits the panel (at least 12).

    The PDF prints the 1,000-pixel map about 186 mm wide: 15 pixels is an 8-point text."""
    inner = box[2] - box[0] - 2 * _PAD - 18
    size = 15
    for size in (15, 14, 13, 12):
        font: Font = typeface(size)
        widest = max(
            draw.textlength(labels[c], font=font) + draw.textlength(n, font=font) + 8
            for c, n in zip(CATEGORIES, numbers, strict=True)
        )
        if widest <= inner:
            break
    return size


def _category_rows(pen: _Pen, numbers: list[str], labels: Mapping[str, str]) -> None:
    sx = pen.sx
    for code, number in zip(CATEGORIES, numbers, strict=True):
        cy = pen.centre()
        pen.draw.ellipse([sx - 5, cy - 5, sx + 5, cy + 5], fill=CATEGORY_COLOURS[code])
        pen.draw.text((pen.x + 18, cy), labels[code], font=pen.font, anchor="lm", fill=INK)
        pen.draw.text((pen.right - _PAD, cy), number, font=pen.font, anchor="rm", fill=INK)
        pen.y += pen.row


def _marker_rows(pen: _Pen, labels: Mapping[str, str]) -> None:
    grey, sx, draw = CATEGORY_COLOURS["other"], pen.sx, pen.draw
    for key in ("verified", "unverified", "urgent"):
        cy = pen.centre()
        if key == "unverified":
            draw.ellipse([sx - 4, cy - 4, sx + 4, cy + 4], outline=grey, width=2)
        else:
            draw.ellipse([sx - 4, cy - 4, sx + 4, cy + 4], fill=grey)
        if key == "urgent":
            draw.ellipse([sx - 7, cy - 7, sx + 7, cy + 7], outline=URGENT_RING, width=2)
        pen.text(labels[key])


def _area_rows(pen: _Pen, labels: Mapping[str, str]) -> None:
    sx, draw = pen.sx, pen.draw
    for kind in ("sector", "dmz", "crossing_point"):
        style = AREA_STYLES[kind]
        cy = int(pen.centre())
        swatch = (sx - 7, cy - 6, sx + 7, cy + 6)
        draw.rectangle(swatch, fill=style.fill)
        if style.hatch is not None:
            yy, xx = np.mgrid[0:13, 0:15]
            lines = Image.fromarray(np.where((xx + yy) % HATCH_PERIOD < 1, 255, 0).astype(np.uint8))
            draw.bitmap((sx - 7, cy - 6), lines, fill=style.hatch)
        draw.rectangle(swatch, outline=style.outline, width=style.outline_width)
        pen.text(labels[kind])
