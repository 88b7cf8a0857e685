"""Pure rendering pieces of the daily digest: the event map, the trend chart and the PDF.

Nothing here touches the database, Flask or the network. The nightly digest job aggregates
with SQL, hands plain values to these functions and stores the bytes they return. Every
function is deterministic: the same input gives the same bytes, so a rebuilt digest can be
compared with (and signed like) the first one.
"""

from __future__ import annotations

import base64
import functools
import io
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from fieldreport.reports.taxonomy import CATEGORY_COLOURS, category_label

__all__ = [
    "CATEGORY_COLOURS",
    "CATEGORY_LABELS",
    "MapEvent",
    "MapProjection",
    "MapSector",
    "ResourceRefused",
    "category_hex",
    "html_to_pdf",
    "png_data_uri",
    "render_map_png",
    "render_trend_png",
]

CATEGORIES: tuple[str, ...] = tuple(CATEGORY_COLOURS)

# English message ids, translated by the caller through ``labels=``.
CATEGORY_LABELS: dict[str, str] = {code: category_label(code) for code in CATEGORIES}

# Legend and message texts; callers pass `labels=` to translate any of them.
_DEFAULT_LABELS: dict[str, str] = {
    **CATEGORY_LABELS,
    "events": "Events",
    "verified": "Verified",
    "unverified": "Unverified",
    "urgent": "Urgent",
    "areas": "Areas",
    "sector": "Sector",
    "dmz": "Demilitarized zone",
    "crossing_point": "Crossing point",
    "no_data": "No sectors or events",
    "no_days": "No data",
    "average": "7-day avg",
}

_OTHER = CATEGORIES.index("other")


def category_hex(code: str) -> str:
    """The category's colour as ``#rrggbb`` so the web map (Leaflet) matches the PDF map.

    An unknown code gets the colour of ``other``: a taxonomy that grew a category must not
    break the nightly digest or the map page.
    """
    red, green, blue = CATEGORY_COLOURS.get(code, CATEGORY_COLOURS["other"])
    return f"#{red:02x}{green:02x}{blue:02x}"


@dataclass(frozen=True)
class MapSector:
    """A sector as the map needs it: ``geometry`` is GeoJSON (Multi)Polygon in lon/lat."""

    code: str
    kind: str
    geometry: dict[str, Any]


@dataclass(frozen=True, slots=True)
class MapEvent:
    """One report's event position, reduced to what the map shows."""

    longitude: float
    latitude: float
    category: str
    verified: bool
    urgent: bool


_EARTH_RADIUS_M = 6_378_137.0  # the sphere of Web Mercator (EPSG:3857)
_MAX_LAT = 85.05112878  # Web Mercator's limit: the world is square there
_MIN_SPAN_DEG = 0.02  # about 2 km: a single point still gets a readable map with a scale
_FALLBACK_BOUNDS = (-0.01, -0.01, 0.01, 0.01)


def _mercator_y(lat: NDArray[np.float64]) -> NDArray[np.float64]:
    phi = np.radians(np.clip(lat, -_MAX_LAT, _MAX_LAT))
    return np.log(np.tan(np.pi / 4 + phi / 2))


@dataclass(frozen=True)
class _Layout:
    width: int
    height: int
    map_box: tuple[int, int, int, int]  # left, top, right, bottom (exclusive)
    margin: int
    legend_box: tuple[int, int, int, int] | None


def _layout(width: int, height: int) -> _Layout:
    # The legend gets its own panel so that it never hides an event; tiny maps go without.
    legend_width = 0 if width < 420 or height < 260 else min(230, width // 4)
    map_box = (0, 0, width - legend_width, height)
    margin = max(14, round(0.05 * min(map_box[2], height)))
    legend_box = (map_box[2], 0, width, height) if legend_width else None
    return _Layout(width, height, map_box, margin, legend_box)


@dataclass(frozen=True)
class MapProjection:
    """Web Mercator, scaled and shifted so a lon/lat box fits a pixel frame.

    Mercator keeps shapes and north-up, which is what a reader compares against their own
    maps; over a mission area (a few hundred km) its scale varies by well under a few percent,
    so one scale bar taken at the centre is honest. Exposed so tests and callers can find
    where an event lands: ``int(x), int(y)`` of :meth:`to_pixel` is the pixel it is drawn on.
    """

    scale: float  # pixels per radian of longitude
    offset_x: float
    offset_y: float

    @classmethod
    def fit(
        cls, bounds: tuple[float, float, float, float], frame: tuple[int, int, int, int]
    ) -> MapProjection:
        """Fit ``bounds`` (west, south, east, north) centred into ``frame`` (l, t, r, b)."""
        west, south, east, north = bounds
        x0, x1 = math.radians(west), math.radians(east)
        y0, y1 = (float(v) for v in _mercator_y(np.array([south, north], dtype=np.float64)))
        left, top, right, bottom = frame
        span_x, span_y = max(x1 - x0, 1e-12), max(y1 - y0, 1e-12)
        scale = min((right - left) / span_x, (bottom - top) / span_y)
        offset_x = (left + right) / 2 - scale * (x0 + x1) / 2
        offset_y = (top + bottom) / 2 + scale * (y0 + y1) / 2
        return cls(scale=scale, offset_x=offset_x, offset_y=offset_y)

    @classmethod
    def for_map(
        cls,
        sectors: Sequence[MapSector],
        events: Sequence[MapEvent],
        *,
        width: int = 1000,
        height: int = 700,
    ) -> MapProjection:
        """The projection :func:`render_map_png` uses for the same arguments."""
        layout = _layout(width, height)
        polygons = [_polygons(sector) for sector in sectors]
        lon, lat, *_ = _event_arrays(events)
        return _fit_map(layout, polygons, lon, lat)

    def to_pixel(self, lon: float, lat: float) -> tuple[float, float]:
        """Pixel coordinates (x right, y down) of a lon/lat position."""
        x, y = self.to_pixels(np.array([lon], dtype=np.float64), np.array([lat], dtype=np.float64))
        return float(x[0]), float(y[0])

    def to_pixels(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Vectorised :meth:`to_pixel`: 100,000 events project in about a millisecond."""
        x = self.offset_x + self.scale * np.radians(lon)
        y = self.offset_y - self.scale * _mercator_y(lat)
        return x, y

    def latitude_at(self, y: float) -> float:
        """The latitude drawn at pixel row ``y`` (for the scale bar)."""
        merc = (self.offset_y - y) / self.scale
        return math.degrees(2 * math.atan(math.exp(merc)) - math.pi / 2)

    def metres_per_pixel(self, lat: float) -> float:
        """Ground distance of one pixel at ``lat``: Mercator stretches by 1/cos(lat)."""
        return _EARTH_RADIUS_M * math.cos(math.radians(lat)) / self.scale


def _fit_map(
    layout: _Layout,
    polygons: Sequence[list[list[NDArray[np.float64]]]],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
) -> MapProjection:
    bounds = _bounds(polygons, lon, lat)
    left, top, right, bottom = layout.map_box
    m = layout.margin
    return MapProjection.fit(bounds, (left + m, top + m, right - m, bottom - m))


def _bounds(
    polygons: Sequence[list[list[NDArray[np.float64]]]],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
) -> tuple[float, float, float, float]:
    rings = [ring for sector in polygons for polygon in sector for ring in polygon]
    lons = [lon] + [ring[:, 0] for ring in rings]
    lats = [lat] + [ring[:, 1] for ring in rings]
    all_lon, all_lat = np.concatenate(lons), np.clip(np.concatenate(lats), -_MAX_LAT, _MAX_LAT)
    if all_lon.size == 0:
        return _FALLBACK_BOUNDS
    west, east = float(all_lon.min()), float(all_lon.max())
    south, north = float(all_lat.min()), float(all_lat.max())
    # A lone point (or a row of points) still gets an area around it.
    if east - west < _MIN_SPAN_DEG:
        mid = (east + west) / 2
        west, east = mid - _MIN_SPAN_DEG / 2, mid + _MIN_SPAN_DEG / 2
    if north - south < _MIN_SPAN_DEG:
        mid = (north + south) / 2
        south, north = mid - _MIN_SPAN_DEG / 2, mid + _MIN_SPAN_DEG / 2
    return west, south, east, north


def _polygons(sector: MapSector) -> list[list[NDArray[np.float64]]]:
    """The sector's polygons, each a list of rings (exterior first) as (n, 2) lon/lat arrays."""
    kind = sector.geometry.get("type")
    coordinates = sector.geometry.get("coordinates") or []
    if kind == "Polygon":
        parts = [coordinates]
    elif kind == "MultiPolygon":
        parts = coordinates
    else:
        raise ValueError(f"sector {sector.code!r}: geometry must be a Polygon or MultiPolygon")
    polygons = []
    try:
        for part in parts:
            rings = [np.asarray(ring, dtype=np.float64)[:, :2] for ring in part if len(ring) >= 3]
            if rings:
                polygons.append(rings)
    except (TypeError, ValueError, IndexError) as error:
        raise ValueError(f"sector {sector.code!r}: rings must be lists of [lon, lat]") from error
    return polygons


def _event_arrays(
    events: Sequence[MapEvent],
) -> tuple[
    NDArray[np.float64], NDArray[np.float64], NDArray[np.intp], NDArray[np.bool_], NDArray[np.bool_]
]:
    """Columns of the events; positions that are not finite numbers cannot be drawn."""
    index = {code: i for i, code in enumerate(CATEGORIES)}
    count = len(events)
    lon = np.fromiter((e.longitude for e in events), dtype=np.float64, count=count)
    lat = np.fromiter((e.latitude for e in events), dtype=np.float64, count=count)
    category = np.fromiter((index.get(e.category, _OTHER) for e in events), np.intp, count)
    verified = np.fromiter((bool(e.verified) for e in events), dtype=np.bool_, count=count)
    urgent = np.fromiter((bool(e.urgent) for e in events), dtype=np.bool_, count=count)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.all():
        lon, lat, category, verified, urgent = (
            a[ok] for a in (lon, lat, category, verified, urgent)
        )
    return lon, lat, category, verified, urgent


_FONT_FILES = {
    False: ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVuSans.ttf"),
    True: ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "DejaVuSans-Bold.ttf"),
}

_Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@functools.cache
def _font_path(bold: bool) -> str | None:
    # Cached because a bare file name makes Pillow walk the system font directories.
    for candidate in _FONT_FILES[bold]:
        try:
            ImageFont.truetype(candidate, 10)
        except OSError:
            continue
        return candidate
    return None


def _font(size: int, *, bold: bool = False) -> _Font:
    """DejaVu Sans (wide Unicode coverage), or Pillow's built-in font where it is missing."""
    path = _font_path(bold)
    if path is not None:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


_BACKGROUND = (255, 255, 255)
_FRAME = (170, 170, 170)
_INK = (33, 33, 33)
_HALO = (255, 255, 255)
_URGENT_RING = (0, 0, 0)


@dataclass(frozen=True)
class _AreaStyle:
    rank: int  # drawing order: larger ranks on top
    fill: tuple[int, int, int]
    outline: tuple[int, int, int]
    outline_width: int
    hatch: tuple[int, int, int] | None = None


_AREA_STYLES: dict[str, _AreaStyle] = {
    "sector": _AreaStyle(0, (232, 232, 228), (150, 150, 150), 1),
    "dmz": _AreaStyle(1, (246, 246, 246), (110, 110, 110), 1, hatch=(178, 178, 178)),
    "crossing_point": _AreaStyle(2, (255, 255, 255), _INK, 2),
}
_SUPERSAMPLE = 2  # polygons are drawn at 2x and reduced: ImageDraw does not antialias
_HATCH_PERIOD = 7  # px at 1x


def _kind(kind: str) -> str:
    # Keys follow sectors.geometry.SECTOR_KINDS; a kind added there is drawn as a sector.
    return kind if kind in _AREA_STYLES else "sector"


def _ring_offsets(inner: float, outer: float) -> NDArray[np.intp]:
    """(dy, dx) of the pixels whose centre lies in the annulus inner < r <= outer.

    A negative ``inner`` gives the whole disc, centre pixel included.
    """
    k = math.ceil(outer)
    dy, dx = np.mgrid[-k : k + 1, -k : k + 1]
    r = np.hypot(dy, dx)
    keep = (r > inner) & (r <= outer)
    return np.stack([dy[keep], dx[keep]], axis=1)


@dataclass(frozen=True)
class _Markers:
    disc: NDArray[np.intp]  # verified: a filled disc ...
    halo: NDArray[np.intp]  # ... with a white edge that separates neighbours
    ring: NDArray[np.intp]  # unverified: a hollow ring
    urgent: NDArray[np.intp]  # urgent: a black ring around either


# Marker geometry in pixels (1x): a verified disc is 7 px across. Crowded maps get smaller
# markers (5 px), or a day of 100,000 events is one solid blot.
_MARKERS = _Markers(
    _ring_offsets(-1, 3.3), _ring_offsets(3.3, 4.5), _ring_offsets(1.9, 3.3), _ring_offsets(5, 6.6)
)
_SMALL_MARKERS = _Markers(
    _ring_offsets(-1, 2.3),
    _ring_offsets(2.3, 3.2),
    _ring_offsets(1.5, 2.3),
    _ring_offsets(3.5, 4.6),
)
_CROWDED = 1 / 100  # events per pixel of map above which the small markers are used
_PAD = 8  # canvas padding wider than any marker, so stamps need no bounds checks


def _packed(colour: tuple[int, int, int]) -> np.uint32:
    return np.array([*colour, 255], dtype=np.uint8).view(np.uint32)[0]


def _stamp(
    canvas: NDArray[np.uint32],
    flat: NDArray[np.intp],
    offsets: NDArray[np.intp],
    colour: tuple[int, int, int],
) -> None:
    """Paint one marker shape in one colour at many pixels.

    Every write in a call has the same value, so overlapping markers give the same result
    whatever numpy's write order and whatever order the events came in.
    """
    stride = canvas.shape[1]
    value = _packed(colour)
    target = canvas.reshape(-1)
    for dy, dx in offsets:
        target[flat + (dy * stride + dx)] = value


def _priorities(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    category: NDArray[np.intp],
    counts: NDArray[np.intp],
    crowded: bool,
) -> NDArray[np.uint64]:
    """Which marker shows where markers overlap: never 0, and the same for the same event.

    A hash of the event's own values decides, so the picture does not depend on the order of
    the rows and no category hides another across a crowded map (each shows in proportion to
    its count). On an uncrowded map, rarer categories additionally go above commoner ones, so
    one civilian-harm report is not lost under a cluster of ceasefire violations.
    """
    with np.errstate(over="ignore"):  # the hash relies on wrap-around multiplication
        h = lon.view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        h ^= lat.view(np.uint64) * np.uint64(0xBF58476D1CE4E5B9)
        h ^= (category.astype(np.uint64) + np.uint64(1)) * np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
        h *= np.uint64(0xD6E8FEB86659FD93)
        h ^= h >> np.uint64(32)
    h = (h >> np.uint64(8)) | np.uint64(1)
    if crowded:
        return h
    by_count = sorted(range(len(CATEGORIES)), key=lambda i: (-int(counts[i]), i))
    rank = np.empty(len(CATEGORIES), dtype=np.uint64)
    rank[by_count] = np.arange(len(CATEGORIES), dtype=np.uint64)
    return (rank[category] << np.uint64(56)) | h


def _paint_layer(
    canvas: NDArray[np.uint32],
    flat: NDArray[np.intp],
    priority: NDArray[np.uint64],
    parts: Sequence[tuple[NDArray[np.intp], NDArray[np.uint32] | np.uint32]],
) -> None:
    """Paint one layer of markers with a z-buffer: on every pixel the highest priority wins.

    ``parts`` pairs marker offsets with a colour per event (or one for all). Unlike drawing
    marker after marker, the result does not depend on numpy's write order for repeated
    indices (which it leaves undefined) nor on the order of the events.
    """
    # A marker on the same pixel as a higher-priority one is hidden entirely: drop it.
    order = np.lexsort((priority, flat))
    last = np.ones(order.size, dtype=np.bool_)
    last[:-1] = flat[order][1:] != flat[order][:-1]
    keep = order[last]
    flat, priority = flat[keep], priority[keep]
    parts = [(offsets, c[keep] if np.ndim(c) else c) for offsets, c in parts]

    stride = canvas.shape[1]
    target = canvas.reshape(-1)
    zbuffer = np.zeros(target.size, dtype=np.uint64)
    shifts = [[int(dy) * stride + int(dx) for dy, dx in offsets] for offsets, _ in parts]
    for part_shifts in shifts:
        for shift in part_shifts:
            np.maximum.at(zbuffer, flat + shift, priority)
    for part_shifts, (_, colour) in zip(shifts, parts, strict=True):
        for shift in part_shifts:
            pixels = flat + shift
            wins = zbuffer[pixels] == priority
            target[pixels[wins]] = colour[wins] if np.ndim(colour) else colour


def _draw_events(
    image: Image.Image,
    projection: MapProjection,
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    category: NDArray[np.intp],
    verified: NDArray[np.bool_],
    urgent: NDArray[np.bool_],
    counts: NDArray[np.intp],
    map_box: tuple[int, int, int, int],
) -> Image.Image:
    if lon.size == 0:
        return image
    width, height = image.size
    rgba = np.asarray(image.convert("RGBA"))
    canvas = np.pad(rgba.view(np.uint32).reshape(height, width), _PAD, mode="edge")
    stride = canvas.shape[1]
    x, y = projection.to_pixels(lon, lat)
    # The fit keeps every event inside the frame; the clip only guards rounding at its edge.
    col = np.clip(np.floor(x), 0, width - 1).astype(np.intp) + _PAD
    row = np.clip(np.floor(y), 0, height - 1).astype(np.intp) + _PAD
    flat = row * stride + col
    left, top, right, bottom = map_box
    crowded = lon.size > _CROWDED * (right - left) * (bottom - top)
    markers = _SMALL_MARKERS if crowded else _MARKERS
    priority = _priorities(lon, lat, category, counts, crowded)
    palette = np.array([_packed(CATEGORY_COLOURS[code]) for code in CATEGORIES], np.uint32)
    colour = palette[category]

    # Verified facts above unverified claims; urgent rings above everything.
    claims = ~verified
    if claims.any():
        _paint_layer(canvas, flat[claims], priority[claims], [(markers.ring, colour[claims])])
    if verified.any():
        facts = [(markers.halo, _packed(_HALO)), (markers.disc, colour[verified])]
        _paint_layer(canvas, flat[verified], priority[verified], facts)
    if urgent.any():
        _stamp(canvas, np.unique(flat[urgent]), markers.urgent, _URGENT_RING)

    inner = np.ascontiguousarray(canvas[_PAD:-_PAD, _PAD:-_PAD])
    return Image.fromarray(inner.view(np.uint8).reshape(height, width, 4)).convert("RGB")


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
class _ProjectedSector:
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


def _draw_areas(size: tuple[int, int], sectors: Sequence[_ProjectedSector]) -> Image.Image:
    """Sector fills, hatching and outlines, antialiased by drawing at 2x and reducing."""
    s = _SUPERSAMPLE
    base = Image.new("RGB", (size[0] * s, size[1] * s), _BACKGROUND)
    draw = ImageDraw.Draw(base)
    for sector in sectors:
        style = _AREA_STYLES[sector.kind]
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


def _fill_masked(base: Image.Image, rings: list[NDArray[np.float64]], style: _AreaStyle) -> None:
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
        period = _HATCH_PERIOD * _SUPERSAMPLE
        yy, xx = np.mgrid[y0:y1, x0:x1]
        lines = ((xx + yy) % period) < _SUPERSAMPLE * 1.4
        hatch = np.where(lines, np.asarray(mask), 0).astype(np.uint8)
        base.paste(style.hatch, box, Image.fromarray(hatch))


def _draw_labels(
    draw: ImageDraw.ImageDraw,
    sectors: Sequence[_ProjectedSector],
    clip: tuple[int, int, int, int],
    size: tuple[int, int],
) -> None:
    """Sector codes, skipping any that would not fit their sector or would overlap another.

    A crossing point too small to see at the map's scale gets a diamond, labelled beside it.
    """
    font = _font(11)
    taken = np.zeros((size[1], size[0]), dtype=np.bool_)
    left, top, right, bottom = clip
    # Crossing points first: they are small and few, and they matter most to a reader.
    ordered = sorted(sectors, key=lambda s: (-_AREA_STYLES[s.kind].rank, s.code))
    placements = []
    for sector in ordered:
        bx0, by0, bx1, by1 = sector.bbox()
        cx, cy = sector.label_point()
        if sector.kind == "crossing_point" and min(bx1 - bx0, by1 - by0) < 12:
            r = 5
            diamond = [(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)]
            draw.polygon(diamond, fill=_BACKGROUND, outline=_INK, width=2)
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
        draw.text(at, code, font=font, anchor=anchor, fill=_INK, stroke_width=2, stroke_fill=_HALO)


def _nice_distance(limit_m: float) -> float:
    """The largest 1, 2 or 5 x 10^k metres not above ``limit_m``."""
    exponent = math.floor(math.log10(limit_m))
    for step in (5, 2, 1):
        if step * 10**exponent <= limit_m:
            return float(step * 10**exponent)
    return float(10**exponent)


def _draw_scale_and_north(
    draw: ImageDraw.ImageDraw, projection: MapProjection, layout: _Layout
) -> None:
    left, top, right, bottom = layout.map_box
    font = _font(10)
    mid_lat = projection.latitude_at((top + bottom) / 2)
    m_per_px = projection.metres_per_pixel(mid_lat)
    distance = _nice_distance(m_per_px * (right - left) * 0.25)
    length = distance / m_per_px
    x0, y = left + 12, bottom - 10
    x1 = x0 + length
    text = f"{distance / 1000:g} km" if distance >= 1000 else f"{distance:g} m"
    for colour, width in ((_HALO, 5), (_INK, 2)):
        draw.line([(x0, y), (x1, y)], fill=colour, width=width)
        draw.line([(x0, y - 4), (x0, y + 1)], fill=colour, width=width - 1)
        draw.line([(x1, y - 4), (x1, y + 1)], fill=colour, width=width - 1)
    draw.text(
        ((x0 + x1) / 2, y - 5),
        text,
        font=font,
        anchor="md",
        fill=_INK,
        stroke_width=2,
        stroke_fill=_HALO,
    )
    # Mercator keeps north up everywhere on the map.
    nx, ny = right - 16, top + 10
    draw.polygon([(nx, ny), (nx + 6, ny + 16), (nx, ny + 12), (nx - 6, ny + 16)], fill=_INK)
    draw.text((nx, ny + 18), "N", font=_font(11, bold=True), anchor="mt", fill=_INK)


def _draw_legend(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    counts: NDArray[np.intp],
    labels: Mapping[str, str],
) -> None:
    left, top, right, bottom = box
    draw.line([(left, top), (left, bottom)], fill=_FRAME, width=1)
    pad = 10
    inner = right - left - 2 * pad - 18
    numbers = [f"{int(n):,}" for n in counts]
    size = 11
    for size in (11, 10, 9):  # the largest size at which every row fits the panel
        font = _font(size)
        widest = max(
            draw.textlength(labels[c], font=font) + draw.textlength(n, font=font) + 8
            for c, n in zip(CATEGORIES, numbers, strict=True)
        )
        if widest <= inner:
            break
    font, heading = _font(size), _font(size, bold=True)
    row = size + 8
    x, y = left + pad, top + pad
    sx = x + 7  # symbol centre

    draw.text((x, y), labels["events"], font=heading, fill=_INK)
    y += row + 2
    for code, number in zip(CATEGORIES, numbers, strict=True):
        cy = y + row / 2 - 2
        draw.ellipse([sx - 5, cy - 5, sx + 5, cy + 5], fill=CATEGORY_COLOURS[code])
        draw.text((x + 18, cy), labels[code], font=font, anchor="lm", fill=_INK)
        draw.text((right - pad, cy), number, font=font, anchor="rm", fill=_INK)
        y += row
    y += 6
    grey = CATEGORY_COLOURS["other"]
    for key in ("verified", "unverified", "urgent"):
        cy = y + row / 2 - 2
        if key == "verified":
            draw.ellipse([sx - 4, cy - 4, sx + 4, cy + 4], fill=grey)
        elif key == "unverified":
            draw.ellipse([sx - 4, cy - 4, sx + 4, cy + 4], outline=grey, width=2)
        else:
            draw.ellipse([sx - 4, cy - 4, sx + 4, cy + 4], fill=grey)
            draw.ellipse([sx - 7, cy - 7, sx + 7, cy + 7], outline=_URGENT_RING, width=2)
        draw.text((x + 18, cy), labels[key], font=font, anchor="lm", fill=_INK)
        y += row
    y += 8
    draw.text((x, y), labels["areas"], font=heading, fill=_INK)
    y += row + 2
    for kind in ("sector", "dmz", "crossing_point"):
        style = _AREA_STYLES[kind]
        cy = y + row / 2 - 2
        draw.rectangle((sx - 7, int(cy) - 6, sx + 7, int(cy) + 6), fill=style.fill)
        if style.hatch is not None:
            yy, xx = np.mgrid[0:13, 0:15]
            lines = Image.fromarray(
                np.where((xx + yy) % _HATCH_PERIOD < 1, 255, 0).astype(np.uint8)
            )
            draw.bitmap((sx - 7, int(cy) - 6), lines, fill=style.hatch)
        draw.rectangle(
            (sx - 7, int(cy) - 6, sx + 7, int(cy) + 6),
            outline=style.outline,
            width=style.outline_width,
        )
        draw.text((x + 18, cy), labels[kind], font=font, anchor="lm", fill=_INK)
        y += row


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
    no internet access, and a tile server would learn where the mission is looking. Events
    are stamped with numpy, overlaps settled by a z-buffer, rather than one ImageDraw call
    each: a day of 100,000 events takes well under 0.3 s, and the same events give the same
    bytes in any order. The bounds include every event, so one wildly wrong position widens
    the map. ``labels`` translates the legend (keys: category codes,
    ``events``, ``verified``, ``unverified``, ``urgent``, ``areas``, ``sector``, ``dmz``,
    ``crossing_point``, ``no_data``).
    """
    if width < 64 or height < 64:
        raise ValueError("the map must be at least 64 x 64 pixels")
    texts = {**_DEFAULT_LABELS, **(labels or {})}
    layout = _layout(width, height)
    polygons = [_polygons(sector) for sector in sectors]
    lon, lat, category, verified, urgent = _event_arrays(events)
    projection = _fit_map(layout, polygons, lon, lat)
    counts = np.bincount(category, minlength=len(CATEGORIES))

    projected = []
    for sector, sector_polygons in zip(sectors, polygons, strict=True):
        if not sector_polygons:
            continue
        pixel_polygons = [
            [np.column_stack(projection.to_pixels(ring[:, 0], ring[:, 1])) for ring in polygon]
            for polygon in sector_polygons
        ]
        projected.append(_ProjectedSector(sector.code, _kind(sector.kind), pixel_polygons))
    # Sorted so that the picture does not depend on the order the database returned rows in.
    projected.sort(key=lambda s: (_AREA_STYLES[s.kind].rank, s.code))

    image = _draw_areas((width, height), projected)
    image = _draw_events(
        image, projection, lon, lat, category, verified, urgent, counts, layout.map_box
    )
    draw = ImageDraw.Draw(image)
    _draw_labels(draw, projected, layout.map_box, (width, height))
    left, top, right, bottom = layout.map_box
    if projected or lon.size:
        _draw_scale_and_north(draw, projection, layout)
    else:
        draw.text(
            ((left + right) / 2, (top + bottom) / 2),
            texts["no_data"],
            font=_font(14),
            anchor="mm",
            fill=_FRAME,
        )
    draw.rectangle((left, top, right - 1, bottom - 1), outline=_FRAME, width=1)
    if layout.legend_box is not None:
        _draw_legend(draw, layout.legend_box, counts, texts)
    return _png_bytes(image)


def _png_bytes(image: Image.Image) -> bytes:
    # No metadata chunks (times, software): identical input must give identical bytes.
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


_BAR = (175, 175, 175)
_BAR_LAST = CATEGORY_COLOURS["weapons_forces"]  # Okabe-Ito blue: stands out from the grey
_GRID = (225, 225, 225)


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
    series = sorted(days)
    if len({day for day, _ in series}) != len(series):
        raise ValueError("each day may appear only once")
    if any(count < 0 for _, count in series):
        raise ValueError("daily counts cannot be negative")
    texts = {**_DEFAULT_LABELS, **(labels or {})}
    image = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    font, bold = _font(10), _font(10, bold=True)

    top = 6
    if title:
        draw.text((6, top), title, font=_font(12, bold=True), fill=_INK)
        top += 20
    if not series:
        draw.text(
            (width / 2, (top + height) / 2),
            texts["no_days"],
            font=_font(12),
            anchor="mm",
            fill=_FRAME,
        )
        return _png_bytes(image)

    y_max = _nice_ceiling(max(count for _, count in series))
    ticks = [0, y_max // 2, y_max] if y_max % 2 == 0 else [0, y_max]
    axis_width = max(draw.textlength(f"{t:,}", font=font) for t in ticks)
    left, right = 8 + axis_width + 6, width - 8
    plot_top, plot_bottom = top + 14, height - 18  # room for the last value and the dates

    def y_of(value: float) -> float:
        return plot_bottom - (plot_bottom - plot_top) * value / y_max

    for tick in ticks:
        y = round(y_of(tick))
        draw.line([(left, y), (right, y)], fill=_GRID if tick else _FRAME, width=1)
        draw.text((left - 6, y), f"{tick:,}", font=font, anchor="rm", fill=_INK)

    n = len(series)
    slot = (right - left) / n
    bar = max(1.0, slot * 0.7)
    label_width = draw.textlength("00-00", font=font) + 6
    every = max(1, math.ceil(label_width / slot))
    for i, (day, count) in enumerate(series):
        last = i == n - 1
        cx = left + slot * (i + 0.5)
        if count:
            draw.rectangle(
                (round(cx - bar / 2), round(y_of(count)), round(cx + bar / 2) - 1, plot_bottom),
                fill=_BAR_LAST if last else _BAR,
            )
        # ISO month-day: neutral between the mission's languages.
        if last or ((n - 1 - i) % every == 0 and (n - 1 - i) >= every):
            draw.text(
                (cx, plot_bottom + 4),
                day.isoformat()[5:],
                font=bold if last else font,
                anchor="mt",
                fill=_INK,
            )
        if last:
            draw.text((cx, y_of(count) - 3), f"{count:,}", font=bold, anchor="md", fill=_INK)

    previous = [count for _, count in series[-8:-1]]
    if previous:
        average = sum(previous) / len(previous)
        y = round(y_of(average))
        for x0, x1 in _dashes(left, right - slot):
            draw.line([(x0, y), (x1, y)], fill=_INK, width=1)
        draw.text(
            (left + 2, y - 2),
            f"{texts['average']} {average:,.1f}",
            font=font,
            anchor="ld",
            fill=_INK,
            stroke_width=2,
            stroke_fill=_HALO,
        )
    return _png_bytes(image)


class ResourceRefused(ValueError):
    """The digest HTML referred to something outside what the PDF may read."""


# Without a base_url, relative references resolve under this name, which the fetcher refuses:
# WeasyPrint would otherwise skip them with a log line and a PDF without its map.
_NO_BASE = "file:///digest-html-has-no-base-url/"


def _local_root(base_url: str | None) -> Path | None:
    if base_url is None:
        return None
    parts = urlsplit(base_url)
    if parts.scheme not in ("", "file"):
        raise ResourceRefused(f"base_url must be a local directory or file: URL: {base_url!r}")
    path = Path(url2pathname(parts.path) if parts.scheme == "file" else base_url).resolve()
    return path if path.is_dir() else path.parent


def _url_fetcher(root: Path | None) -> Any:
    """A WeasyPrint fetcher that reads data: URIs and files under ``root``, and nothing else.

    The digest carries observers' narratives; even if one slipped past escaping, the PDF
    must not fetch from the network (leaking the build) or embed arbitrary local files.
    """
    from weasyprint.urls import URLFetcher

    class _DigestFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file" and root is not None:
                path = Path(url2pathname(urlsplit(url).path)).resolve()
                if path.is_relative_to(root):
                    return super().fetch(url, headers)
            if scheme == "file" and root is None:
                raise ResourceRefused(f"{url[:80]!r}: files need a base_url to be read from")
            raise ResourceRefused(f"the digest PDF may not load {url[:80]!r}")

    return _DigestFetcher(allowed_protocols={"data", "file"}, fail_on_errors=True)


def html_to_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """Render the digest HTML (the same template as the web page) to PDF bytes.

    Images should be data: URIs (see :func:`png_data_uri`) or files under ``base_url``, a
    local directory. Anything else (the network, files elsewhere, a missing file) stops the
    build with :class:`ResourceRefused` rather than yielding a PDF silently missing its map.
    The options are WeasyPrint's fast defaults, spelled out so nobody turns on a slow one:
    ``optimize_images`` costs ~40 % more time on a map for no visible gain. Layout, not
    options, sets the time: roughly 230 seven-column table rows a second, ~440 with three
    columns (``bench/drawing.py``). Same HTML, same bytes.
    """
    import weasyprint  # heavy (~0.5 s): only the process that renders PDFs pays for it
    from PIL import ImageFile
    from weasyprint.urls import FatalURLFetchingError

    # Importing WeasyPrint turns on Pillow's process-wide "accept truncated images"; uploads in
    # this same process must keep refusing them (imaging.py also resets it before each decode).
    ImageFile.LOAD_TRUNCATED_IMAGES = False

    root = _local_root(base_url)
    document = weasyprint.HTML(
        string=html,
        base_url=root.as_uri() + "/" if root is not None else _NO_BASE,
        url_fetcher=_url_fetcher(root),
    )
    try:
        pdf = document.write_pdf(
            optimize_images=False,
            uncompressed_pdf=False,
            full_fonts=False,
            hinting=False,
            presentational_hints=False,
        )
    except FatalURLFetchingError as error:
        # WeasyPrint raises a BaseException here; give callers an ordinary error.
        cause = error.__cause__
        if isinstance(cause, ResourceRefused):
            raise cause from None
        raise ResourceRefused(f"{error}: {cause}") from cause
    assert pdf is not None
    return bytes(pdf)


def png_data_uri(png: bytes) -> str:
    """A ``data:image/png;base64,…`` URI, so the HTML and PDF carry their images inline."""
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError("not PNG bytes")
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
