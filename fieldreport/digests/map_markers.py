"""The events on the digest's map: one marker per event, stamped with numpy.

Events are stamped with numpy, overlaps settled by a z-buffer, rather than one ImageDraw call
each: a day of 100,000 events takes well under 0.3 s, and the same events give the same bytes in
any order. Verified events are filled discs, unverified ones hollow rings, urgent ones get a black
ring around either.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from fieldreport.digests.picture import CATEGORIES, HALO, URGENT_RING, Colour
from fieldreport.digests.projection import EventColumns, MapProjection
from fieldreport.reports.taxonomy import CATEGORY_COLOURS


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


def _packed(colour: Colour) -> np.uint32:
    return np.array([*colour, 255], dtype=np.uint8).view(np.uint32)[0]


def _stamp(
    canvas: NDArray[np.uint32],
    flat: NDArray[np.intp],
    offsets: NDArray[np.intp],
    colour: Colour,
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
    events: EventColumns, counts: NDArray[np.intp], crowded: bool
) -> NDArray[np.uint64]:
    """Which marker shows where markers overlap: never 0, and the same for the same event.

    A hash of the event's own values decides, so the picture does not depend on the order of
    the rows and no category hides another across a crowded map (each shows in proportion to
    its count). On an uncrowded map, rarer categories additionally go above commoner ones, so
    one civilian-harm report is not lost under a cluster of ceasefire violations.
    """
    lon, lat, category = events.lon, events.lat, events.category
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


def _canvas_indices(
    projection: MapProjection, events: EventColumns, shape: tuple[int, ...]
) -> NDArray[np.intp]:
    """Each event's pixel, as an index into the flattened padded canvas of ``shape``."""
    height, width = shape[0] - 2 * _PAD, shape[1] - 2 * _PAD
    x, y = projection.to_pixels(events.lon, events.lat)
    # The fit keeps every event inside the frame; the clip only guards rounding at its edge.
    col = np.clip(np.floor(x), 0, width - 1).astype(np.intp) + _PAD
    row = np.clip(np.floor(y), 0, height - 1).astype(np.intp) + _PAD
    return row * shape[1] + col


def draw_events(
    image: Image.Image,
    projection: MapProjection,
    events: EventColumns,
    counts: NDArray[np.intp],
    map_box: tuple[int, int, int, int],
) -> Image.Image:
    """``image`` with the events' markers on it (``counts``: events per category)."""
    if events.size == 0:
        return image
    width, height = image.size
    rgba = np.asarray(image.convert("RGBA"))
    canvas = np.pad(rgba.view(np.uint32).reshape(height, width), _PAD, mode="edge")
    flat = _canvas_indices(projection, events, canvas.shape)
    left, top, right, bottom = map_box
    crowded = events.size > _CROWDED * (right - left) * (bottom - top)
    markers = _SMALL_MARKERS if crowded else _MARKERS
    priority = _priorities(events, counts, crowded)
    palette = np.array([_packed(CATEGORY_COLOURS[code]) for code in CATEGORIES], np.uint32)
    colour = palette[events.category]
    verified, urgent = events.verified, events.urgent

    # Verified facts above unverified claims; urgent rings above everything.
    claims = ~verified
    if claims.any():
        _paint_layer(canvas, flat[claims], priority[claims], [(markers.ring, colour[claims])])
    if verified.any():
        facts = [(markers.halo, _packed(HALO)), (markers.disc, colour[verified])]
        _paint_layer(canvas, flat[verified], priority[verified], facts)
    if urgent.any():
        _stamp(canvas, np.unique(flat[urgent]), markers.urgent, URGENT_RING)

    inner = np.ascontiguousarray(canvas[_PAD:-_PAD, _PAD:-_PAD])
    return Image.fromarray(inner.view(np.uint8).reshape(height, width, 4)).convert("RGB")
