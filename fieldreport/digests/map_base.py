"""The digest map's base layer: land, sea and country borders from Natural Earth.

Without it a day's events float on white and a reader cannot tell the ceasefire line from the
coast. The data ships with the app (``fieldreport/data/natural_earth``, public domain): the
worker that draws the digest may have no internet, and a tile server would learn where the
mission looks. The TopoJSON is decoded once per process; each map projects only the countries
whose outline reaches its frame.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from fieldreport.config import PROJECT_ROOT
from fieldreport.digests.picture import Colour
from fieldreport.digests.projection import MapProjection

COUNTRIES = PROJECT_ROOT / "fieldreport" / "data" / "natural_earth" / "countries-50m.json"
SEA: Colour = (226, 236, 244)
LAND: Colour = (250, 249, 245)
BORDER: Colour = (160, 160, 160)
MAX_LATITUDE = 85.0  # Web Mercator's edge

Ring = NDArray[np.float64]  # (n, 2) lon, lat


def _decode_arcs(topology: dict) -> list[Ring]:
    """TopoJSON arcs are quantized and delta-encoded: a running sum, then scale and shift."""
    scale = np.array(topology["transform"]["scale"], dtype=np.float64)
    shift = np.array(topology["transform"]["translate"], dtype=np.float64)
    return [
        np.cumsum(np.array(arc, dtype=np.float64), axis=0) * scale + shift
        for arc in topology["arcs"]
    ]


def _ring(arcs: list[Ring], indices: list[int]) -> Ring:
    """A ring from arc indices; ``~i`` is arc ``i`` reversed; joints are not repeated."""
    parts = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in indices]
    return np.concatenate([parts[0], *(part[1:] for part in parts[1:])])


def _polygons(geometry: dict, arcs: list[Ring]) -> Iterator[list[Ring]]:
    if geometry.get("type") == "Polygon":
        yield [_ring(arcs, ring) for ring in geometry["arcs"]]
    elif geometry.get("type") == "MultiPolygon":
        for polygon in geometry["arcs"]:
            yield [_ring(arcs, ring) for ring in polygon]


@functools.cache
def country_polygons() -> tuple[tuple[Ring, ...], ...]:
    """Every country's polygons as rings of lon/lat, latitudes clipped to Mercator's edge."""
    topology = json.loads(COUNTRIES.read_text())
    arcs = _decode_arcs(topology)
    polygons = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        for polygon in _polygons(geometry, arcs):
            rings = []
            for ring in polygon:
                clipped = ring.copy()
                clipped[:, 1] = np.clip(clipped[:, 1], -MAX_LATITUDE, MAX_LATITUDE)
                rings.append(clipped)
            polygons.append(tuple(rings))
    return tuple(polygons)


def draw_base(size: tuple[int, int], projection: MapProjection, supersample: int) -> Image.Image:
    """Sea, land and borders at ``supersample`` times ``size``, for the areas to draw over."""
    width, height = size[0] * supersample, size[1] * supersample
    image = Image.new("RGB", (width, height), SEA)
    draw = ImageDraw.Draw(image)
    outlines = []
    for polygon in country_polygons():
        exterior = polygon[0]
        x, y = projection.to_pixels(exterior[:, 0], exterior[:, 1])
        x, y = x * supersample, y * supersample
        if x.max() < 0 or y.max() < 0 or x.min() > width or y.min() > height:
            continue
        points = [tuple(p) for p in np.column_stack((x, y)).tolist()]
        draw.polygon(points, fill=LAND)
        outlines.append(points)
    for points in outlines:
        draw.line([*points, points[0]], fill=BORDER, width=supersample, joint="curve")
    return image
