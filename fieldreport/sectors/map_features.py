"""What the coordinators' map shows: every report of a day or range, clustered by zoom level.

Nothing is left out: the reports (a compact array kept current by `map_points`) are grouped
into a grid of cells about ``GRID_PX`` screen pixels wide at the asked zoom, and the answer is
compact arrays, not one GeoJSON feature per report. A cell with one report is that report's
exact point; from ``EXACT_ZOOM`` the cells are one pixel, so only reports at the same spot stay
together. 100,000 reports of a day come back as a few dozen cells at the widest zoom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import Select
from sqlalchemy.orm import Session

from fieldreport.reports.models import STATUSES, Report
from fieldreport.sectors.map_points import CATEGORY_CODES, Points, report_points

MIN_ZOOM, MAX_ZOOM = 3, 18
GRID_PX = 60  # a cluster marker's width: nearer reports would overlap on screen anyway
EXACT_ZOOM = 15  # from here a cell is one pixel (5 m or less): exact points
SPOT_IDS = 50  # reports listed for one spot at the closest zooms
Bbox = tuple[float, float, float, float]  # west, south, east, north


@dataclass(frozen=True)
class MapQuery:
    """Which reports (event time in [start, end)), at which zoom, in which box of the map."""

    start: datetime
    end: datetime
    zoom: int = MIN_ZOOM
    bbox: Bbox | None = None
    category: str | None = None
    status: str | None = None


def cell_size(zoom: int, latitude: float = 0.0) -> tuple[float, float]:
    """(longitude, latitude) degrees of one grid cell: ``GRID_PX`` pixels of Web Mercator.

    A degree of latitude takes more pixels away from the equator, so the cell is shorter there.
    """
    pixels = 1 if zoom >= EXACT_ZOOM else GRID_PX
    width = 360.0 * pixels / (256 * 2**zoom)
    return width, width * max(math.cos(math.radians(latitude)), 0.05)


def map_cells(session: Session, reports_query: Select[tuple[Report]], q: MapQuery) -> dict:
    """The reports of ``q`` among those the viewer may see, as clusters and exact points.

    ``clusters``: ``[lat, lon, count, urgent, n_category0, …]`` (categories as ``categories``);
    ``points``: ``[id, lat, lon, category index, status index, urgent]``.
    """
    zoom = min(max(q.zoom, MIN_ZOOM), MAX_ZOOM)
    query = reports_query.where(Report.occurred_at >= q.start, Report.occurred_at < q.end)
    if q.category:
        query = query.where(Report.category == q.category)
    if q.status:
        query = query.where(Report.status == q.status)
    points = report_points(session, query)
    clusters, singles = cluster(points, zoom, q.bbox)
    return {
        "zoom": zoom,
        "total": len(points),
        "in_view": sum(c[2] for c in clusters) + len(singles),
        "categories": list(CATEGORY_CODES),
        "statuses": list(STATUSES),
        "clusters": clusters,
        "points": singles,
    }


def cluster(points: Points, zoom: int, bbox: Bbox | None) -> tuple[list[list], list[list]]:
    """Grid clustering: (clusters, single points) of the reports inside ``bbox``.

    From ``EXACT_ZOOM`` a cluster holds reports at one spot; it then lists their ids (the first
    ``SPOT_IDS``) so that the map can offer each of them.
    """
    mask = np.ones(len(points), dtype=bool)
    if bbox:
        west, south, east, north = bbox
        mask = (points.lon >= west) & (points.lon <= east)
        mask &= (points.lat >= south) & (points.lat <= north)
    lat, lon = points.lat[mask], points.lon[mask]
    if not len(lat):
        return [], []
    width, height = cell_size(zoom, (bbox[1] + bbox[3]) / 2 if bbox else 0.0)
    keys = np.floor((lon + 180) / width).astype(np.int64) << 31
    keys |= np.floor((lat + 90) / height).astype(np.int64)
    _cells, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    n, kinds = len(counts), len(CATEGORY_CODES)
    category = points.category[mask].astype(np.int64)
    sums = {
        "lat": np.round(np.bincount(inverse, weights=lat) / counts, 5),
        "lon": np.round(np.bincount(inverse, weights=lon) / counts, 5),
        "urgent": np.bincount(inverse, weights=points.urgent[mask], minlength=n).astype(int),
        "kinds": np.bincount(inverse * kinds + category, minlength=n * kinds).reshape(n, kinds),
    }
    members = np.split(np.argsort(inverse, kind="stable"), np.cumsum(counts)[:-1])
    ids, statuses = points.ids[mask], points.status[mask]
    clusters, singles = [], []
    for c, group in enumerate(members):
        if counts[c] == 1:
            i, urgent = group[0], int(sums["urgent"][c])
            singles.append([int(ids[i]), float(lat[i]), float(lon[i]), int(category[i])])
            singles[-1] += [int(statuses[i]), urgent]
            continue
        row = [float(sums["lat"][c]), float(sums["lon"][c]), int(counts[c])]
        row += [int(sums["urgent"][c]), *sums["kinds"][c].tolist()]
        if zoom >= EXACT_ZOOM:
            row.append(ids[group[:SPOT_IDS]].tolist())
        clusters.append(row)
    return clusters, singles
