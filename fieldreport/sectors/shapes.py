"""Sector shapes as Shapely polygons: conversion, geodesic area and the overlap rank.

Coordinates are WGS 84 longitude/latitude as GeoJSON (RFC 7946) orders them: ``[lon, lat]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from fieldreport.sectors.kinds import kind_priority

_EARTH_RADIUS_M = 6_378_137.0
_METRES_PER_DEGREE = 111_320.0  # of latitude; a degree of longitude is never longer
DISPLAY_TOLERANCE_M = 10.0
DISPLAY_DECIMALS = 6  # 0.1 m: finer digits only weigh on a phone's download

GeometryLike = Mapping[str, Any] | BaseGeometry


def as_polygonal(geometry: GeometryLike) -> BaseGeometry:
    """A sector's shape as Shapely (Polygon or MultiPolygon); anything else is a ValueError."""
    geom = geometry if isinstance(geometry, BaseGeometry) else shape(geometry)
    if not isinstance(geom, (shapely.Polygon, shapely.MultiPolygon)):
        raise ValueError(f"a sector must be a Polygon or MultiPolygon, not {geom.geom_type}")
    return geom


def overlap_rank(kind: str, geom: BaseGeometry) -> tuple[int, float]:
    """Where several sectors contain a position, the lowest rank wins (kind, then area).

    Public so that the benchmark's reference loop applies the very rule of `SectorLocator`.
    """
    return kind_priority(kind), geodesic_area_m2(geom)


def geodesic_area_m2(geom: BaseGeometry) -> float:
    """Area on the sphere, so "smaller sector" means the same at every latitude.

    Each ring's area is its shoelace sum, as drawn: on an invalid ring that crosses itself the
    lobes of opposite turn cancel (a bow-tie encloses no area), which `repair` relies on.

    Planar area in square degrees would favour northern sectors (a degree of longitude shrinks
    with latitude). Spherical-excess formula as in Chamberlain & Duquette (JPL, 2007).
    """
    total = 0.0
    for polygon in shapely.get_parts(geom):
        total += _ring_area_m2(polygon.exterior)
        total -= sum(_ring_area_m2(hole) for hole in polygon.interiors)
    return total


def _ring_area_m2(ring: shapely.LinearRing) -> float:
    coords = np.radians(np.asarray(ring.coords)[:-1, :2])
    if len(coords) < 3:
        return 0.0
    lon, lat = coords[:, 0], coords[:, 1]
    twice = np.sum((np.roll(lon, -1) - np.roll(lon, 1)) * np.sin(lat))
    return abs(float(twice)) * _EARTH_RADIUS_M**2 / 2


def square_polygon(longitude: float, latitude: float, half: float) -> dict[str, Any]:
    """A GeoJSON Polygon: the square of side 2·half degrees centred on a position.

    For demo data and tests, where a sector only needs to contain a known point.
    """
    ring = [
        [longitude - half, latitude - half],
        [longitude + half, latitude - half],
        [longitude + half, latitude + half],
        [longitude - half, latitude + half],
        [longitude - half, latitude - half],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def display_geometry(
    geometry: GeometryLike, tolerance_m: float = DISPLAY_TOLERANCE_M
) -> dict[str, Any]:
    """A sector's shape for maps and phones: simplified to ``tolerance_m``, rounded to 0.1 m.

    The tolerance in degrees is the metres over the length of a degree of latitude, so it is at
    most ``tolerance_m`` in any direction. Topology is preserved (no ring crosses itself). Only
    for drawing: which sector a position is in is decided on the exact stored geometry.
    """
    tolerance = tolerance_m / _METRES_PER_DEGREE
    simplified = as_polygonal(geometry).simplify(tolerance, preserve_topology=True)

    def rings(polygon: shapely.Polygon) -> list[list[list[float]]]:
        return [
            [[round(x, DISPLAY_DECIMALS), round(y, DISPLAY_DECIMALS)] for x, y, *_ in ring.coords]
            for ring in (polygon.exterior, *polygon.interiors)
        ]

    if isinstance(simplified, shapely.Polygon):
        return {"type": "Polygon", "coordinates": rings(simplified)}
    return {"type": "MultiPolygon", "coordinates": [rings(p) for p in simplified.geoms]}
