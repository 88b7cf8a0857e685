"""Check the geometry of one feature of a sector file: structure, range, GEOS validity.

Each check appends plain reasons for a coordinator to `reasons` (shared with the feature's other
checks) and returns None on refusal. Geometries are never repaired silently: a sector's line may
be the subject of an agreement between the parties. An outline invalid by a hair is mended
(`repair`) only when the caller passes ``notes``, which then holds what was done, for the
coordinator to see with a preview before anything is saved.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from fieldreport.i18n import N_
from fieldreport.sectors.repair import repair_polygonal

Ring = list[tuple[float, float]]

_GEOS_REASON = re.compile(r"^(?P<what>[^\[]+?)\s*\[(?P<x>\S+) (?P<y>\S+)\]$")
_GEOS_PLAIN = {
    "Self-intersection": N_("the boundary crosses itself"),
    "Ring Self-intersection": N_("a ring touches itself"),
    "Hole lies outside shell": N_("a hole lies outside its outer ring"),
    "Holes are nested": N_("a hole lies inside another hole"),
    "Interior is disconnected": N_("holes cut the polygon into pieces"),
    "Nested shells": N_("one polygon of the MultiPolygon lies inside another"),
    "Duplicate Rings": N_("a ring appears twice"),
    "Too few points in geometry component": N_("a ring has fewer than 3 distinct positions"),
}


def parse_geometry(
    raw: Any, reasons: list[str], *, check_range: bool, notes: list[str] | None = None
) -> dict[str, Any] | None:
    """Check a GeoJSON geometry structurally and with GEOS; return it normalised or None.

    `check_range` is off when the file's CRS was already refused: its numbers are not lon/lat.
    With ``notes``, an invalid outline whose repair keeps its area is repaired (note appended).
    """
    coordinates = _polygonal_coordinates(raw, reasons)
    if coordinates is None:
        return None
    multi = raw.get("type") == "MultiPolygon"
    polygons = _parse_polygons(coordinates if multi else [coordinates], multi, reasons)
    if polygons is None:
        return None
    positions = [pos for rings in polygons for ring in rings for pos in ring]
    if check_range:
        range_problem = _range_problem(positions)
        if range_problem:
            reasons.append(range_problem)
            return None
    geom = _valid_shape(polygons, multi, reasons, notes)
    if geom is None:
        return None
    lons = [lon for lon, _ in positions]
    if check_range and max(lons) - min(lons) > 180:
        reasons.append(
            N_(
                "spans more than 180° of longitude; a polygon across the antimeridian must be "
                "split in two (RFC 7946 §3.1.9)"
            )
        )
        return None
    return _geojson_dict(shapely.orient_polygons(geom))


def _polygonal_coordinates(raw: Any, reasons: list[str]) -> list[Any] | None:
    """The coordinates of a Polygon or MultiPolygon object, or None (and why)."""
    if raw is None:
        reasons.append(N_("has no geometry"))
        return None
    if not isinstance(raw, Mapping):
        reasons.append(N_("geometry is not an object"))
        return None
    geom_type = raw.get("type")
    if geom_type not in ("Polygon", "MultiPolygon"):
        reasons.append(
            N_(
                "not a polygon: the geometry is a %(type)s; a sector must be an area",
                type=geom_type,
            )
            if isinstance(geom_type, str)
            else N_("not a polygon: the geometry is of no known type; a sector must be an area")
        )
        return None
    coordinates = raw.get("coordinates")
    if not isinstance(coordinates, list):
        reasons.append(N_("geometry has no coordinates list"))
        return None
    if not coordinates:
        reasons.append(N_("empty %(type)s: it has no coordinates", type=geom_type))
        return None
    return coordinates


def _parse_polygons(
    raw_polygons: list[Any], multi: bool, reasons: list[str]
) -> list[list[Ring]] | None:
    """Each polygon's rings as (lon, lat) tuples; None if any polygon or ring was refused."""
    polygons: list[list[Ring]] = []
    before = len(reasons)
    for p, raw_rings in enumerate(raw_polygons):
        if not isinstance(raw_rings, list):
            reasons.append(
                N_("polygon %(n)s, malformed coordinates: expected a list of rings", n=p)
                if multi
                else N_("malformed coordinates: expected a list of rings")
            )
            continue
        if not raw_rings:
            reasons.append(
                N_("empty geometry: polygon %(n)s has no rings", n=p)
                if multi
                else N_("empty geometry: the polygon has no rings")
            )
            continue
        rings = []
        for r, raw_ring in enumerate(raw_rings):
            label = (
                N_("polygon %(n)s, %(ring)s", n=p, ring=_ring_name(r)) if multi else _ring_name(r)
            )
            ring = _parse_ring(raw_ring, label, reasons)
            if ring is not None:
                rings.append(ring)
        polygons.append(rings)
    return None if len(reasons) > before else polygons


def _parse_ring(raw: Any, label: str, reasons: list[str]) -> Ring | None:
    if not isinstance(raw, list):
        reasons.append(
            N_("%(ring)s: malformed coordinates: expected a list of positions", ring=label)
        )
        return None
    ring: Ring = []
    for i, position in enumerate(raw):
        if (
            not isinstance(position, list)
            or len(position) < 2
            or not all(_is_number(v) for v in position)
        ):
            reasons.append(
                N_(
                    "%(ring)s: position %(i)s is not [longitude, latitude] numbers: %(value)s",
                    ring=label,
                    i=i,
                    value=f"{position!r:.60}",
                )
            )
            return None
        # An altitude (third number) is allowed by GeoJSON and dropped: sectors are 2D.
        ring.append((float(position[0]), float(position[1])))
    problem = _ring_shape_problem(ring, label)
    if problem:
        reasons.append(problem)
        return None
    return ring


def _ring_shape_problem(ring: Ring, label: str) -> str | None:
    """Why parsed positions are no ring: too few, or not closed."""
    if len(ring) < 4:
        return N_(
            "%(ring)s has %(n)s positions; a ring needs at least 4 "
            "(3 corners and the first repeated at the end)",
            ring=label,
            n=len(ring),
        )
    if ring[0] != ring[-1]:
        return N_(
            "%(ring)s is not closed (unclosed ring): the last position %(last)s "
            "must repeat the first %(first)s",
            ring=label,
            last=str(list(ring[-1])),
            first=str(list(ring[0])),
        )
    return None


def _ring_name(index: int) -> str:
    return N_("outer ring") if index == 0 else N_("hole %(n)s", n=index)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _range_problem(positions: Ring) -> str | None:
    bad = [(x, y) for x, y in positions if not (-180 <= x <= 180 and -90 <= y <= 90)]
    if not bad:
        return None
    lon, lat = bad[0]
    reason = N_(
        "coordinates out of range: [%(lon)s, %(lat)s] — longitude must be within ±180 "
        "and latitude within ±90",
        lon=f"{lon:g}",
        lat=f"{lat:g}",
    )
    if len(bad) > 1:
        reason = N_("%(reason)s (%(n)s more positions too)", reason=reason, n=len(bad) - 1)
    # A lat,lon file is wrong at (nearly) every position; one stray latitude is a typo.
    swapped_fits = all(-90 <= x <= 90 and -180 <= y <= 180 for x, y in positions)
    if swapped_fits and 2 * len(bad) >= len(positions):
        reason = N_(
            "%(reason)s; coordinates look like lat,lon — GeoJSON wants lon,lat", reason=reason
        )
    elif any(abs(x) > 1000 or abs(y) > 1000 for x, y in bad):
        reason = N_(
            "%(reason)s; they look like projected metres (UTM, Web Mercator…) — export in "
            "WGS 84 (EPSG:4326) lon/lat",
            reason=reason,
        )
    return reason


def _valid_shape(
    polygons: list[list[Ring]], multi: bool, reasons: list[str], notes: list[str] | None
) -> BaseGeometry | None:
    """The Shapely shape of the rings if GEOS finds it valid (or it was mended) with an area."""
    geom = shapely.MultiPolygon([(rings[0], rings[1:]) for rings in polygons])
    if not multi:
        geom = geom.geoms[0]
    validity = shapely.is_valid_reason(geom)
    if validity != "Valid Geometry" and notes is None:
        reasons.append(_plain_validity(validity, multi))
        return None
    if validity != "Valid Geometry":
        repair = repair_polygonal(geom, _plain_problem(validity, multi))
        if repair.geometry is None:
            reasons.append(repair.note + _FIX_IN_GIS)
            return None
        notes.append(repair.note)
        geom = repair.geometry
    if geom.is_empty or geom.area == 0:
        reasons.append(N_("empty: the polygon encloses no area"))
        return None
    return geom


_FIX_IN_GIS = (
    "; fix it in the GIS (e.g. QGIS 'Fix geometries', then check the result) and import again"
)


def _plain_validity(reason: str, multi: bool) -> str:
    """Turn a GEOS reason ("Self-intersection[11.9 43.5]") into a sentence for a coordinator."""
    return _plain_problem(reason, multi) + _FIX_IN_GIS


def _plain_problem(reason: str, multi: bool) -> str:
    """What GEOS found, and where, in words (without the advice)."""
    match = _GEOS_REASON.match(reason)
    if not match:
        return N_("invalid polygon: %(reason)s", reason=reason)
    what = match["what"]
    plain = _GEOS_PLAIN.get(what, "")
    if what == "Self-intersection" and multi:
        plain = N_("the boundary crosses itself, or two of its polygons overlap")
    prefix = N_("self-intersecting") if "intersection" in what.lower() else N_("invalid polygon")
    detail = N_(" (%(plain)s)", plain=plain) if plain else ""
    return N_(
        "%(prefix)s: %(what)s at or near point %(x)s %(y)s (lon lat)%(detail)s; "
        "fix it in the GIS (e.g. QGIS 'Fix geometries', then check the result) and import again",
        prefix=prefix,
        what=what,
        x=match["x"],
        y=match["y"],
        detail=detail,
    )


def _geojson_dict(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON dict with plain lists, so that it compares and serialises like parsed JSON."""

    def rings(polygon: shapely.Polygon) -> list[list[list[float]]]:
        return [[[x, y] for x, y in ring.coords] for ring in (polygon.exterior, *polygon.interiors)]

    if isinstance(geom, shapely.Polygon):
        return {"type": "Polygon", "coordinates": rings(geom)}
    return {"type": "MultiPolygon", "coordinates": [rings(p) for p in geom.geoms]}
