"""Find the sector of positions: an STRtree over every sector, queried in bulk.

Coordinates are WGS 84 longitude/latitude as GeoJSON (RFC 7946) orders them: ``[lon, lat]``.
A point exactly on a sector's border counts as inside it (Shapely ``covers`` semantics). Where
several sectors contain a point, :class:`SectorLocator` explains which one wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Generic, TypeVar

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from fieldreport.sectors.shapes import GeometryLike, as_polygonal, overlap_rank

K = TypeVar("K")


class SectorLocator(Generic[K]):
    """Find the sector of positions, fast: built once from all sectors, then queried in bulk.

    Border rule: a position exactly on a border belongs to the polygon (``covers``), so a
    report on a shared border is never left without a sector.

    Overlap rule (a product decision — the same rule decides every report, so that the figures
    by sector add up): when several polygons contain a position, the winner is
      1. the more specific kind: crossing_point, then dmz, then sector — a report at a crossing
         point inside a DMZ inside a sector is counted at the crossing point;
      2. then the smaller area (geodesic, m²) — a sector nested in a larger one is more specific;
      3. then the lower key (code or id), then the earlier input — so the answer never depends
         on the order in which the index returns candidates.
    A position on the shared border of two sectors of one kind therefore goes to the smaller one.

    Keys are opaque to the locator (codes or database ids) but must be mutually orderable.
    """

    def __init__(self, sectors: Iterable[tuple[K, GeometryLike, str]]) -> None:
        keys: list[K] = []
        geometries: list[BaseGeometry] = []
        orders: list[tuple[int, float]] = []
        for key, geometry, kind in sectors:
            geom = as_polygonal(geometry)
            keys.append(key)
            geometries.append(geom)
            orders.append(overlap_rank(kind, geom))

        count = len(keys)
        by_rule = sorted(range(count), key=lambda i: (*orders[i], keys[i], i))
        rank = np.empty(count, dtype=np.int64)
        rank[by_rule] = np.arange(count)
        # Rank `count` stands for "no sector", so a plain array lookup maps ranks to answers.
        self._key_by_rank = np.empty(count + 1, dtype=object)
        for position, i in enumerate(by_rule):
            self._key_by_rank[position] = keys[i]
        self._key_by_rank[count] = None

        # Index each part of a MultiPolygon on its own: widely spaced parts would otherwise give
        # one huge bounding box that every query has to test.
        parts, owner = shapely.get_parts(np.array(geometries, dtype=object), return_index=True)
        shapely.prepare(parts)
        self._parts = parts
        self._part_rank = rank[owner]
        self._tree = shapely.STRtree(parts)
        self._count = count

    def __len__(self) -> int:
        return self._count

    def locate(self, longitude: float, latitude: float) -> K | None:
        """Return the key of the sector containing (longitude, latitude), or None."""
        return self.locate_many([longitude], [latitude])[0]

    def locate_many(self, lons: Sequence[float], lats: Sequence[float]) -> list[K | None]:
        """Return the sector key (or None) for each position, in input order.

        Non-finite coordinates (NaN) match no sector rather than raising: one bad stored
        position must not stop a batch.
        """
        x = np.asarray(lons, dtype=float)
        y = np.asarray(lats, dtype=float)
        if x.ndim != 1 or x.shape != y.shape:
            raise ValueError("lons and lats must be flat sequences of the same length")
        best = np.full(x.shape[0], self._count, dtype=np.int64)
        if self._count and x.shape[0]:
            points = shapely.points(x, y, handle_nan="skip")
            # Bounding boxes from the tree, then the exact test on the prepared polygons:
            # query(points, predicate="intersects") gives the same pairs but does not use the
            # prepared polygons, and measured 3x slower. `intersects` keeps border points in.
            point_index, part_index = self._tree.query(points)
            inside = shapely.intersects_xy(self._parts[part_index], x[point_index], y[point_index])
            np.minimum.at(best, point_index[inside], self._part_rank[part_index[inside]])
        return self._key_by_rank[best].tolist()
