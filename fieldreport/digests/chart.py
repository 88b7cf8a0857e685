"""The digest's trend chart: verified reports per day, the last day highlighted, as PNG bytes.

Deterministic like the map (same days, same bytes); its words come from the caller's ``labels``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from PIL import Image, ImageDraw

from fieldreport.digests.picture import (
    BACKGROUND,
    DEFAULT_LABELS,
    FRAME,
    HALO,
    INK,
    Font,
    png_bytes,
    typeface,
)
from fieldreport.reports.taxonomy import CATEGORY_COLOURS

_BAR = (175, 175, 175)
_BAR_LAST = CATEGORY_COLOURS["weapons_forces"]  # Okabe-Ito blue: stands out from the grey
_GRID = (225, 225, 225)


def render_trend_png(
    days: Sequence[tuple[date, int]],
    *,
    width: int = 600,
    height: int = 180,
    title: str = "",
    labels: Mapping[str, str] | None = None,
) -> bytes:
    """A bar chart of daily counts with the last day highlighted, as PNG bytes.

    The digest sets one day against the ones before it, so the last bar is drawn in colour
    with its value, and the average of up to 7 preceding days is a dashed line. Days are
    drawn in date order as given; a day missing from ``days`` is not invented as zero.
    """
    if width < 120 or height < 80:
        raise ValueError("the chart must be at least 120 x 80 pixels")
    series = _checked(days)
    texts = {**DEFAULT_LABELS, **(labels or {})}
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    top = 6
    if title:
        draw.text((6, top), title, font=typeface(12, bold=True), fill=INK)
        top += 20
    if not series:
        centre = (width / 2, (top + height) / 2)
        draw.text(centre, texts["no_days"], font=typeface(12), anchor="mm", fill=FRAME)
        return png_bytes(image)
    plot = _Plot.laid_out(draw, series, width, height, top)
    plot.axis(draw)
    plot.bars(draw, series)
    plot.average(draw, series, texts["average"])
    return png_bytes(image)


def _checked(days: Sequence[tuple[date, int]]) -> list[tuple[date, int]]:
    series = sorted(days)
    if len({day for day, _ in series}) != len(series):
        raise ValueError("each day may appear only once")
    if any(count < 0 for _, count in series):
        raise ValueError("daily counts cannot be negative")
    return series


@dataclass(frozen=True)
class _Plot:
    """The plot area and its y scale; ``slot`` is the width each day gets."""

    left: float
    right: float
    top: float
    bottom: float
    y_max: int
    ticks: list[int]
    slot: float
    font: Font
    bold: Font

    @classmethod
    def laid_out(
        cls, draw: ImageDraw.ImageDraw, series: list[tuple[date, int]], w: int, h: int, top: int
    ) -> _Plot:
        font = typeface(10)
        y_max = _nice_ceiling(max(count for _, count in series))
        ticks = [0, y_max // 2, y_max] if y_max % 2 == 0 else [0, y_max]
        axis_width = max(draw.textlength(f"{t:,}", font=font) for t in ticks)
        left, right = 8 + axis_width + 6, w - 8
        # Room above for the last value, below for the dates.
        slot = (right - left) / len(series)
        bold = typeface(10, bold=True)
        return cls(left, right, top + 14, h - 18, y_max, ticks, slot, font, bold)

    def y_of(self, value: float) -> float:
        return self.bottom - (self.bottom - self.top) * value / self.y_max

    def axis(self, draw: ImageDraw.ImageDraw) -> None:
        for tick in self.ticks:
            y = round(self.y_of(tick))
            draw.line([(self.left, y), (self.right, y)], fill=_GRID if tick else FRAME, width=1)
            draw.text((self.left - 6, y), f"{tick:,}", font=self.font, anchor="rm", fill=INK)

    def bars(self, draw: ImageDraw.ImageDraw, series: list[tuple[date, int]]) -> None:
        n, slot, bottom = len(series), self.slot, self.bottom
        bar = max(1.0, slot * 0.7)
        label_width = draw.textlength("00-00", font=self.font) + 6
        every = max(1, math.ceil(label_width / slot))
        for i, (day, count) in enumerate(series):
            last = i == n - 1
            cx = self.left + slot * (i + 0.5)
            if count:
                box = (
                    round(cx - bar / 2),
                    round(self.y_of(count)),
                    round(cx + bar / 2) - 1,
                    bottom,
                )
                draw.rectangle(box, fill=_BAR_LAST if last else _BAR)
            # ISO month-day: neutral between the mission's languages.
            if last or ((n - 1 - i) % every == 0 and (n - 1 - i) >= every):
                font = self.bold if last else self.font
                draw.text((cx, bottom + 4), day.isoformat()[5:], font=font, anchor="mt", fill=INK)
            if last:
                at = (cx, self.y_of(count) - 3)
                draw.text(at, f"{count:,}", font=self.bold, anchor="md", fill=INK)

    def average(self, draw: ImageDraw.ImageDraw, series: list[tuple[date, int]], word: str) -> None:
        """The average of up to 7 days before the last, dashed, with its value."""
        previous = [count for _, count in series[-8:-1]]
        if not previous:
            return
        average = sum(previous) / len(previous)
        y = round(self.y_of(average))
        for x0, x1 in _dashes(self.left, self.right - self.slot):
            draw.line([(x0, y), (x1, y)], fill=INK, width=1)
        draw.text(
            (self.left + 2, y - 2),
            f"{word} {average:,.1f}",
            font=self.font,
            anchor="ld",
            fill=INK,
            stroke_width=2,
            stroke_fill=HALO,
        )


def _nice_ceiling(value: int) -> int:
    """The smallest 1, 2, 5 x 10^k not below ``value`` (at least 1), for the y axis."""
    if value <= 1:
        return 1
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * 10**exponent >= value:
            return step * 10**exponent
    return 10 ** (exponent + 1)  # pragma: no cover - the loop always returns


def _dashes(x0: float, x1: float, dash: float = 5, gap: float = 4) -> Iterator[tuple[float, float]]:
    x = x0
    while x < x1:
        yield x, min(x + dash, x1)
        x += dash + gap
