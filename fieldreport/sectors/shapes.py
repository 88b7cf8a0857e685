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
    return kind_priority(kind), _geodesic_area_m2(geom)


def _geodesic_area_m2(geom: BaseGeometry) -> float:
    """Area on the sphere, so "smaller sector" means the same at every latitude.

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
