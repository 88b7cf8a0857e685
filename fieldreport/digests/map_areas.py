"""The areas on the digest's map: sectors, demilitarized zones and crossing points.

Polygons are drawn at twice the size and reduced, because ImageDraw does not antialias. Their
order is fixed (kind, then code) so the picture does not depend on the order of the rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from fieldreport.digests.picture import BACKGROUND, INK, Colour
from fieldreport.digests.projection import MapProjection, MapSector, Polygons


@dataclass(frozen=True)
class AreaStyle:
    """How one kind of area is filled and outlined."""

    rank: int  # drawing order: larger ranks on top
    fill: Colour
    outline: Colour
    outline_width: int
    hatch: Colour | None = None


AREA_STYLES: dict[str, AreaStyle] = {
    "sector": AreaStyle(0, (232, 232, 228), (150, 150, 150), 1),
    "dmz": AreaStyle(1, (246, 246, 246), (110, 110, 110), 1, hatch=(178, 178, 178)),
    "crossing_point": AreaStyle(2, (255, 255, 255), INK, 2),
}
SUPERSAMPLE = 2  # polygons are drawn at 2x and reduced: ImageDraw does not antialias
HATCH_PERIOD = 7  # px at 1x


def area_kind(kind: str) -> str:
    # Keys follow sectors.kinds.SECTOR_KINDS; a kind added there is drawn as a sector.
    return kind if kind in AREA_STYLES else "sector"


def _ring_area(ring: NDArray[np.float64]) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)) / 2


def _label_point(rings_px: list[NDArray[np.float64]]) -> tuple[float, float]:
    """Area centroid of a ring (pixel space), or its vertex mean when degenerate."""
    ring = rings_px[0]
    area = _ring_area(ring)
    if abs(area) < 1e-6:
        return float(ring[:, 0].mean()), float(ring[:, 1].mean())
    x, y = ring[:, 0], ring[:, 1]
    xn, yn = np.roll(x, -1), np.roll(y, -1)
    cross = x * yn - xn * y
    cx = float(((x + xn) * cross).sum()) / (6 * area)
    cy = float(((y + yn) * cross).sum()) / (6 * area)
    return cx, cy


@dataclass
class ProjectedSector:
    """A sector in pixel coordinates, ready to draw and label."""

    code: str
    kind: str
    polygons: list[list[NDArray[np.float64]]]  # pixel coordinates at 1x

    def bbox(self) -> tuple[float, float, float, float]:
        points = np.concatenate([polygon[0] for polygon in self.polygons])
        return (
            float(points[:, 0].min()),
            float(points[:, 1].min()),
            float(points[:, 0].max()),
            float(points[:, 1].max()),
        )

    def label_point(self) -> tuple[float, float]:
        largest = max(self.polygons, key=lambda polygon: abs(_ring_area(polygon[0])))
        return _label_point(largest)


def draw_areas(
    size: tuple[int, int],
    sectors: Sequence[ProjectedSector],
    base: Image.Image | None = None,
) -> Image.Image:
    """Sector fills, hatching and outlines, antialiased by drawing at 2x and reducing.

    ``base`` is the background at ``SUPERSAMPLE`` times ``size`` (the map's base layer).
    """
    s = SUPERSAMPLE
    if base is None:
        base = Image.new("RGB", (size[0] * s, size[1] * s), BACKGROUND)
    draw = ImageDraw.Draw(base)
    for sector in sectors:
        style = AREA_STYLES[sector.kind]
        for polygon in sector.polygons:
            rings = [ring * s for ring in polygon]
            if len(rings) == 1 and style.hatch is None:
                draw.polygon([tuple(p) for p in rings[0].tolist()], fill=style.fill)
            else:
                _fill_masked(base, rings, style)
        for polygon in sector.polygons:
            for ring in polygon:
                points = [tuple(p) for p in (ring * s).tolist()]
                draw.line(
                    [*points, points[0]],
                    fill=style.outline,
                    width=style.outline_width * s,
                    joint="curve",
                )
    return base.reduce(s)


def _fill_masked(base: Image.Image, rings: list[NDArray[np.float64]], style: AreaStyle) -> None:
    """Fill a polygon with holes (and hatching) through a mask the size of its bounding box."""
    exterior = rings[0]
    x0 = max(0, math.floor(exterior[:, 0].min()))
    y0 = max(0, math.floor(exterior[:, 1].min()))
    x1 = min(base.width, math.ceil(exterior[:, 0].max()) + 1)
    y1 = min(base.height, math.ceil(exterior[:, 1].max()) + 1)
    if x1 <= x0 or y1 <= y0:
        return
    mask = Image.new("L", (x1 - x0, y1 - y0), 0)
    draw = ImageDraw.Draw(mask)
    shift = np.array([x0, y0], dtype=np.float64)
    for i, ring in enumerate(rings):
        draw.polygon([tuple(p) for p in (ring - shift).tolist()], fill=0 if i else 255)
    box = (x0, y0, x1, y1)
    base.paste(style.fill, box, mask)
    if style.hatch is not None:
        period = HATCH_PERIOD * SUPERSAMPLE
        yy, xx = np.mgrid[y0:y1, x0:x1]
        lines = ((xx + yy) % period) < SUPERSAMPLE * 1.4
        hatch = np.where(lines, np.asarray(mask), 0).astype(np.uint8)
        base.paste(style.hatch, box, Image.fromarray(hatch))


def project_sectors(
    sectors: Sequence[MapSector], polygons: Sequence[Polygons], projection: MapProjection
) -> list[ProjectedSector]:
    """The sectors in pixels, in drawing order (kind, then code), empty ones left out."""
    projected = []
    for sector, sector_polygons in zip(sectors, polygons, strict=True):
        if not sector_polygons:
            continue
        pixel_polygons = [
            [np.column_stack(projection.to_pixels(ring[:, 0], ring[:, 1])) for ring in polygon]
            for polygon in sector_polygons
        ]
        projected.append(ProjectedSector(sector.code, area_kind(sector.kind), pixel_polygons))
    # Sorted so that the picture does not depend on the order the database returned rows in.
    projected.sort(key=lambda s: (AREA_STYLES[s.kind].rank, s.code))
    return projected
