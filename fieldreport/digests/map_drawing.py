"""The digest's event map as PNG bytes: areas, events, sector codes, a scale bar and a legend.

Nothing here touches the database, Flask or the network: the digest build hands plain values in
(``rows.map_sectors``, ``rows.day_reports``) and stores the bytes. Same input, same bytes, so a
rebuilt digest can be compared with (and signed like) the first one. The pieces:
``projection.py`` (where a position lands), ``map_areas.py`` (sectors), ``map_markers.py``
(events), ``picture.py`` (shared look).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from PIL import ImageDraw

from fieldreport.digests.map_areas import (
    AREA_STYLES,
    SUPERSAMPLE,
    ProjectedSector,
    draw_areas,
    project_sectors,
)
from fieldreport.digests.map_base import draw_base
from fieldreport.digests.map_legend import draw_legend
from fieldreport.digests.map_markers import draw_events
from fieldreport.digests.picture import (
    BACKGROUND,
    CATEGORIES,
    DEFAULT_LABELS,
    FRAME,
    HALO,
    INK,
    png_bytes,
    typeface,
)
from fieldreport.digests.projection import (
    Layout,
    MapEvent,
    MapProjection,
    MapSector,
    event_columns,
    fit_map,
    layout,
    sector_polygons,
)


def render_map_png(
    sectors: Sequence[MapSector],
    events: Sequence[MapEvent],
    *,
    width: int = 1000,
    height: int = 700,
    labels: Mapping[str, str] | None = None,
) -> bytes:
    """The digest's map as PNG bytes: sectors, the day's events, a legend and a scale bar.

    Drawn from the data alone (no web tiles): the digest is built on a worker that may have
    no internet access, and a tile server would learn where the mission is looking. The
    bounds include every event, so one wildly wrong position widens the map. ``labels``
    translates the legend (keys: category codes, ``events``, ``verified``, ``unverified``,
    ``urgent``, ``areas``, ``sector``, ``dmz``, ``crossing_point``, ``no_data``; see
    ``picture.translated_labels``).
    """
    if width < 64 or height < 64:
        raise ValueError("the map must be at least 64 x 64 pixels")
    texts = {**DEFAULT_LABELS, **(labels or {})}
    frame = layout(width, height)
    polygons = [sector_polygons(sector) for sector in sectors]
    columns = event_columns(events)
    projection = fit_map(frame, polygons, columns)
    counts = np.bincount(columns.category, minlength=len(CATEGORIES))
    projected = project_sectors(sectors, polygons, projection)

    base = draw_base((width, height), projection, SUPERSAMPLE)
    image = draw_areas((width, height), projected, base)
    image = draw_events(image, projection, columns, counts, frame.map_box)
    draw = ImageDraw.Draw(image)
    _draw_labels(draw, projected, frame.map_box, (width, height))
    if projected or columns.size:
        _draw_scale_and_north(draw, projection, frame)
    else:
        _draw_no_data(draw, frame.map_box, texts["no_data"])
    left, top, right, bottom = frame.map_box
    draw.rectangle((left, top, right - 1, bottom - 1), outline=FRAME, width=1)
    if frame.legend_box is not None:
        draw.rectangle(frame.legend_box, fill=BACKGROUND)
        draw_legend(draw, frame.legend_box, counts, texts)
    return png_bytes(image)


def _draw_no_data(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], text: str) -> None:
    left, top, right, bottom = box
    draw.text(
        ((left + right) / 2, (top + bottom) / 2),
        text,
        font=typeface(14),
        anchor="mm",
        fill=FRAME,
    )


def _draw_labels(
    draw: ImageDraw.ImageDraw,
    sectors: Sequence[ProjectedSector],
    clip: tuple[int, int, int, int],
    size: tuple[int, int],
) -> None:
    """Sector codes, skipping any that would not fit their sector or would overlap another.

    A crossing point too small to see at the map's scale gets a diamond, labelled beside it.
    """
    font = typeface(14)
    taken = np.zeros((size[1], size[0]), dtype=np.bool_)
    left, top, right, bottom = clip
    # Crossing points first: they are small and few, and they matter most to a reader.
    ordered = sorted(sectors, key=lambda s: (-AREA_STYLES[s.kind].rank, s.code))
    placements = []
    for sector in ordered:
        bx0, by0, bx1, by1 = sector.bbox()
        cx, cy = sector.label_point()
        if sector.kind == "crossing_point" and min(bx1 - bx0, by1 - by0) < 12:
            r = 5
            diamond = [(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)]
            draw.polygon(diamond, fill=BACKGROUND, outline=INK, width=2)
            taken[
                max(0, math.floor(cy - r)) : math.ceil(cy + r) + 1,
                max(0, math.floor(cx - r)) : math.ceil(cx + r) + 1,
            ] = True
            placements.append((sector.code, "lm", (cx + r + 3, cy), None))
        else:
            placements.append((sector.code, "mm", (cx, cy), (bx1 - bx0, by1 - by0)))
    for code, anchor, at, room in placements:
        if not code:
            continue
        lx0, ly0, lx1, ly1 = draw.textbbox(at, code, font=font, anchor=anchor)
        if room is not None and (lx1 - lx0 > room[0] or ly1 - ly0 > room[1]):
            continue
        x0, y0 = math.floor(lx0) - 2, math.floor(ly0) - 2
        x1, y1 = math.ceil(lx1) + 2, math.ceil(ly1) + 2
        if x0 < left or y0 < top or x1 > right or y1 > bottom or taken[y0:y1, x0:x1].any():
            continue
        taken[y0:y1, x0:x1] = True
        draw.text(at, code, font=font, anchor=anchor, fill=INK, stroke_width=2, stroke_fill=HALO)


def _nice_distance(limit_m: float) -> float:
    """The largest 1, 2 or 5 x 10^k metres not above ``limit_m``."""
    exponent = math.floor(math.log10(limit_m))
    for step in (5, 2, 1):
        if step * 10**exponent <= limit_m:
            return float(step * 10**exponent)
    return float(10**exponent)


def _draw_scale_and_north(
    draw: ImageDraw.ImageDraw, projection: MapProjection, frame: Layout
) -> None:
    left, top, right, bottom = frame.map_box
    font = typeface(13)
    mid_lat = projection.latitude_at((top + bottom) / 2)
    m_per_px = projection.metres_per_pixel(mid_lat)
    distance = _nice_distance(m_per_px * (right - left) * 0.25)
    length = distance / m_per_px
    x0, y = left + 12, bottom - 10
    x1 = x0 + length
    text = f"{distance / 1000:g} km" if distance >= 1000 else f"{distance:g} m"
    for colour, width in ((HALO, 5), (INK, 2)):
        draw.line([(x0, y), (x1, y)], fill=colour, width=width)
        draw.line([(x0, y - 4), (x0, y + 1)], fill=colour, width=width - 1)
        draw.line([(x1, y - 4), (x1, y + 1)], fill=colour, width=width - 1)
    draw.text(
        ((x0 + x1) / 2, y - 5),
        text,
        font=font,
        anchor="md",
        fill=INK,
        stroke_width=2,
        stroke_fill=HALO,
    )
    # Mercator keeps north up everywhere on the map.
    nx, ny = right - 16, top + 10
    draw.polygon([(nx, ny), (nx + 6, ny + 16), (nx, ny + 12), (nx - 6, ny + 16)], fill=INK)
    draw.text((nx, ny + 18), "N", font=typeface(11, bold=True), anchor="mt", fill=INK)
