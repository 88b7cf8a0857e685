"""Sector geometry: check coordinators' GeoJSON and find the sector of a position.

Pure functions and small value objects — no Flask, no database — so that the web form, the JSON
API, the `fieldreport import-sectors` command and the worker all accept and refuse the same files
and put a report in the same sector.

Coordinates are WGS 84 longitude/latitude as GeoJSON (RFC 7946) orders them: ``[lon, lat]``.
A point exactly on a sector's border counts as inside it (Shapely ``covers`` semantics). Where
several sectors contain a point, :class:`SectorLocator` explains which one wins.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

SECTOR_KINDS = ("sector", "dmz", "crossing_point")
SECTOR_KIND_LABELS = {
    "sector": "sector",
    "dmz": "demilitarized zone",
    "crossing_point": "crossing-point area",
}
# The more specific kind wins an overlap: a crossing point lies inside a DMZ lies inside a sector.
_KIND_PRIORITY = {"crossing_point": 0, "dmz": 1, "sector": 2}
_KIND_ALIASES = {
    "sector": "sector",
    "dmz": "dmz",
    "demilitarized zone": "dmz",
    "demilitarised zone": "dmz",
    "crossing point": "crossing_point",
    "crossing point area": "crossing_point",
}

DOCUMENT = -1
"""`FeatureProblem.feature` for a problem with the whole file rather than one feature."""

MAX_CODE_LENGTH = 32
MAX_NAME_LENGTH = 200

# Names under which GeoJSON files in the wild declare WGS 84 lon/lat. EPSG:4326 is formally
# lat,lon, but GeoJSON writers (GDAL, QGIS) that name it still write lon,lat.
_WGS84_CRS_NAMES = {
    "urn:ogc:def:crs:ogc:1.3:crs84",
    "urn:ogc:def:crs:ogc::crs84",
    "http://www.opengis.net/def/crs/ogc/1.3/crs84",
    "https://www.opengis.net/def/crs/ogc/1.3/crs84",
    "crs84",
    "ogc:crs84",
    "epsg:4326",
    "urn:ogc:def:crs:epsg::4326",
    "urn:ogc:def:crs:epsg:4326",
    "urn:ogc:def:crs:epsg:6.6:4326",
    "http://www.opengis.net/def/crs/epsg/0/4326",
    "https://www.opengis.net/def/crs/epsg/0/4326",
}

_EARTH_RADIUS_M = 6_378_137.0
_GEOS_REASON = re.compile(r"^(?P<what>[^\[]+?)\s*\[(?P<x>\S+) (?P<y>\S+)\]$")
_GEOS_PLAIN = {
    "Self-intersection": "the boundary crosses itself",
    "Ring Self-intersection": "a ring touches itself",
    "Hole lies outside shell": "a hole lies outside its outer ring",
    "Holes are nested": "a hole lies inside another hole",
    "Interior is disconnected": "holes cut the polygon into pieces",
    "Nested shells": "one polygon of the MultiPolygon lies inside another",
    "Duplicate Rings": "a ring appears twice",
    "Too few points in geometry component": "a ring has fewer than 3 distinct positions",
}

K = TypeVar("K")
GeometryLike = Mapping[str, Any] | BaseGeometry


@dataclass(frozen=True)
class SectorFeature:
    """One imported sector; `geometry` is a normalised GeoJSON Polygon or MultiPolygon."""

    code: str
    name: str
    kind: str
    geometry: dict[str, Any]


@dataclass(frozen=True)
class FeatureProblem:
    """Why one feature (0-based index, or `DOCUMENT`) of an import was refused."""

    feature: int
    reason: str


class SectorImportError(ValueError):
    """A sector file was refused; `problems` lists every reason, so one round of fixes suffices."""

    def __init__(self, problems: Sequence[FeatureProblem]) -> None:
        self.problems: list[FeatureProblem] = list(problems)
        summary = "; ".join(
            f"{'file' if p.feature == DOCUMENT else f'feature {p.feature}'}: {p.reason}"
            for p in self.problems[:5]
        )
        more = len(self.problems) - 5
        super().__init__(summary + (f"; and {more} more" if more > 0 else ""))


def parse_kind(value: object) -> str | None:
    """Return the kind code for a code or a label ("DMZ", "demilitarized zone"), else None.

    Why: coordinators type labels into GIS attribute tables; the database keeps codes.
    """
    if not isinstance(value, str):
        return None
    words = " ".join(value.replace("_", " ").replace("-", " ").lower().split())
    return _KIND_ALIASES.get(words)


def parse_sector_collection(document: str | bytes | Mapping[str, Any]) -> list[SectorFeature]:
    """Validate a GeoJSON FeatureCollection of sectors and return them all, or raise.

    All-or-nothing: either every feature is returned, or `SectorImportError` lists every problem
    found (feature index and a plain reason) so the coordinator can fix the file in one go.
    Geometries are never repaired silently: a sector's line may be the subject of an agreement
    between the parties, so a self-intersecting polygon is refused and must be fixed at source.
    """
    problems: list[FeatureProblem] = []
    data = _load_json(document, problems)
    if data is None:
        raise SectorImportError(problems)

    if not isinstance(data, Mapping) or data.get("type") != "FeatureCollection":
        raise SectorImportError([FeatureProblem(DOCUMENT, _not_a_collection(data))])

    crs_problem = _crs_problem(data.get("crs"))
    if crs_problem:
        problems.append(FeatureProblem(DOCUMENT, crs_problem))
    raw_features = data.get("features")
    if not isinstance(raw_features, list):
        problems.append(FeatureProblem(DOCUMENT, "not a FeatureCollection: 'features' is no list"))
        raise SectorImportError(problems)
    if not raw_features:
        problems.append(FeatureProblem(DOCUMENT, "the FeatureCollection has no features"))

    features: list[SectorFeature] = []
    first_index_of_code: dict[str, int] = {}
    for index, raw in enumerate(raw_features):
        reasons: list[str] = []
        feature = _parse_feature(raw, reasons, check_range=crs_problem is None)
        if feature is not None:
            folded = feature.code.casefold()
            if folded in first_index_of_code:
                first = first_index_of_code[folded]
                reasons.append(f"duplicate code {feature.code!r}: feature {first} already uses it")
            else:
                first_index_of_code[folded] = index
            features.append(feature)
        problems.extend(FeatureProblem(index, reason) for reason in reasons)

    if problems:
        raise SectorImportError(problems)
    return features


def to_feature_collection(features: Iterable[SectorFeature]) -> dict[str, Any]:
    """Export sectors as a GeoJSON FeatureCollection (properties code, name, kind).

    The output parses back with `parse_sector_collection` to the same features, so an export is
    also a backup that can be re-imported.
    """
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": f.code, "name": f.name, "kind": f.kind},
                "geometry": json.loads(json.dumps(f.geometry)),
            }
            for f in features
        ],
    }


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


def _load_json(document: str | bytes | Mapping[str, Any], problems: list[FeatureProblem]) -> Any:
    if isinstance(document, Mapping):
        return document
    try:
        text = document.decode("utf-8-sig") if isinstance(document, bytes) else document
        # NaN and Infinity are not JSON, though Python's parser accepts them by default.
        return json.loads(text.lstrip("\ufeff"), parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        reason = f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    except UnicodeDecodeError:
        reason = "not JSON: the file is not UTF-8 text"
    except (ValueError, RecursionError) as exc:
        reason = f"not JSON: {exc}" if isinstance(exc, ValueError) else "not JSON: nested too deep"
    problems.append(FeatureProblem(DOCUMENT, reason))
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _not_a_collection(data: Any) -> str:
    if not isinstance(data, Mapping):
        return f"not a FeatureCollection: the document is a JSON {_json_type(data)}"
    kind = data.get("type")
    if kind in ("Feature", "Polygon", "MultiPolygon"):
        return (
            f"not a FeatureCollection: the document is a single {kind}; "
            "wrap it in a FeatureCollection"
        )
    return f"not a FeatureCollection: its type is {kind!r}"


def _crs_problem(crs: Any) -> str | None:
    """Refuse a legacy GeoJSON `crs` member that names anything but WGS 84 lon/lat."""
    if crs is None:
        return None
    name = None
    if isinstance(crs, Mapping) and isinstance(crs.get("properties"), Mapping):
        name = crs["properties"].get("name")
    if isinstance(name, str) and name.strip().lower() in _WGS84_CRS_NAMES:
        return None
    shown = repr(name) if isinstance(name, str) else "not a named CRS"
    return (
        f"crs is {shown}, not WGS 84; export the file as GeoJSON in WGS 84 "
        "(EPSG:4326, lon/lat) and import it again"
    )


def _parse_feature(raw: Any, reasons: list[str], *, check_range: bool) -> SectorFeature | None:
    if not isinstance(raw, Mapping) or raw.get("type") != "Feature":
        reasons.append(f"not a Feature (found a {_describe(raw)})")
        return None
    properties = raw.get("properties")
    if properties is None:
        properties = {}
    if not isinstance(properties, Mapping):
        reasons.append("properties is not an object")
        properties = {}

    code = _text_property(properties, "code", MAX_CODE_LENGTH, reasons)
    name = _text_property(properties, "name", MAX_NAME_LENGTH, reasons)
    kind = "sector"
    if properties.get("kind") is not None:
        parsed = parse_kind(properties["kind"])
        if parsed is None:
            choices = ", ".join(f"{c!r} ({label})" for c, label in SECTOR_KIND_LABELS.items())
            reasons.append(f"unknown kind {properties['kind']!r}: use one of {choices}")
        else:
            kind = parsed

    geometry = _parse_geometry(raw.get("geometry"), reasons, check_range=check_range)
    if code is None or name is None or geometry is None or reasons:
        return None
    return SectorFeature(code=code, name=name, kind=kind, geometry=geometry)


def _text_property(
    properties: Mapping[str, Any], key: str, max_length: int, reasons: list[str]
) -> str | None:
    value = properties.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # numeric codes from spreadsheet-born attribute tables
    if value is None or (isinstance(value, str) and not value.strip()):
        near = [k for k in properties if isinstance(k, str) and k.strip().lower() == key]
        hint = f" (found {near[0]!r}: rename it to {key!r})" if near else ""
        reasons.append(f"missing {key}{hint}")
        return None
    if not isinstance(value, str):
        reasons.append(f"{key} must be text, not a JSON {_json_type(value)}")
        return None
    value = value.strip()
    if len(value) > max_length:
        reasons.append(f"{key} is {len(value)} characters long; at most {max_length}")
        return None
    if not value.isprintable():
        reasons.append(f"{key} contains control characters")
        return None
    return value


def _parse_geometry(raw: Any, reasons: list[str], *, check_range: bool) -> dict[str, Any] | None:
    """Check a GeoJSON geometry structurally and with GEOS; return it normalised or None."""
    if raw is None:
        reasons.append("has no geometry")
        return None
    if not isinstance(raw, Mapping):
        reasons.append("geometry is not an object")
        return None
    geom_type = raw.get("type")
    if geom_type not in ("Polygon", "MultiPolygon"):
        shown = f"a {geom_type}" if isinstance(geom_type, str) else "of no known type"
        reasons.append(f"not a polygon: the geometry is {shown}; a sector must be an area")
        return None
    coordinates = raw.get("coordinates")
    if not isinstance(coordinates, list):
        reasons.append("geometry has no coordinates list")
        return None
    if not coordinates:
        reasons.append(f"empty {geom_type}: it has no coordinates")
        return None

    multi = geom_type == "MultiPolygon"
    raw_polygons = coordinates if multi else [coordinates]
    polygons: list[list[list[tuple[float, float]]]] = []
    before = len(reasons)
    for p, raw_rings in enumerate(raw_polygons):
        where = f"polygon {p}, " if multi else ""
        if not isinstance(raw_rings, list):
            reasons.append(f"{where}malformed coordinates: expected a list of rings")
            continue
        if not raw_rings:
            reasons.append(
                f"empty geometry: {f'polygon {p}' if multi else 'the polygon'} has no rings"
            )
            continue
        rings = []
        for r, raw_ring in enumerate(raw_rings):
            ring = _parse_ring(raw_ring, f"{where}{_ring_name(r)}", reasons)
            if ring is not None:
                rings.append(ring)
        polygons.append(rings)
    if len(reasons) > before:
        return None

    positions = [pos for rings in polygons for ring in rings for pos in ring]
    if check_range:
        range_problem = _range_problem(positions)
        if range_problem:
            reasons.append(range_problem)
            return None

    geom = shapely.MultiPolygon([(rings[0], rings[1:]) for rings in polygons])
    if not multi:
        geom = geom.geoms[0]
    validity = shapely.is_valid_reason(geom)
    if validity != "Valid Geometry":
        reasons.append(_plain_validity(validity, multi))
        return None
    if geom.is_empty or geom.area == 0:
        reasons.append("empty: the polygon encloses no area")
        return None
    lons = [lon for lon, _ in positions]
    if check_range and max(lons) - min(lons) > 180:
        reasons.append(
            "spans more than 180° of longitude; a polygon across the antimeridian must be "
            "split in two (RFC 7946 §3.1.9)"
        )
        return None
    return _geojson_dict(shapely.orient_polygons(geom))


def _parse_ring(raw: Any, label: str, reasons: list[str]) -> list[tuple[float, float]] | None:
    if not isinstance(raw, list):
        reasons.append(f"{label}: malformed coordinates: expected a list of positions")
        return None
    ring: list[tuple[float, float]] = []
    for i, position in enumerate(raw):
        if (
            not isinstance(position, list)
            or len(position) < 2
            or not all(_is_number(v) for v in position)
        ):
            reasons.append(
                f"{label}: position {i} is not [longitude, latitude] numbers: {position!r:.60}"
            )
            return None
        # An altitude (third number) is allowed by GeoJSON and dropped: sectors are 2D.
        ring.append((float(position[0]), float(position[1])))
    if len(ring) < 4:
        reasons.append(
            f"{label} has {len(ring)} positions; a ring needs at least 4 "
            "(3 corners and the first repeated at the end)"
        )
        return None
    if ring[0] != ring[-1]:
        reasons.append(
            f"{label} is not closed (unclosed ring): the last position {list(ring[-1])} "
            f"must repeat the first {list(ring[0])}"
        )
        return None
    return ring


def _ring_name(index: int) -> str:
    return "outer ring" if index == 0 else f"hole {index}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _range_problem(positions: list[tuple[float, float]]) -> str | None:
    bad = [(x, y) for x, y in positions if not (-180 <= x <= 180 and -90 <= y <= 90)]
    if not bad:
        return None
    lon, lat = bad[0]
    reason = (
        f"coordinates out of range: [{lon:g}, {lat:g}] — longitude must be within ±180 "
        "and latitude within ±90"
    )
    if len(bad) > 1:
        reason += f" ({len(bad) - 1} more positions too)"
    # A lat,lon file is wrong at (nearly) every position; one stray latitude is a typo.
    swapped_fits = all(-90 <= x <= 90 and -180 <= y <= 180 for x, y in positions)
    if swapped_fits and 2 * len(bad) >= len(positions):
        reason += "; coordinates look like lat,lon — GeoJSON wants lon,lat"
    elif any(abs(x) > 1000 or abs(y) > 1000 for x, y in bad):
        reason += (
            "; they look like projected metres (UTM, Web Mercator…) — export in WGS 84 "
            "(EPSG:4326) lon/lat"
        )
    return reason


def _plain_validity(reason: str, multi: bool) -> str:
    """Turn a GEOS reason ("Self-intersection[11.9 43.5]") into a sentence for a coordinator."""
    match = _GEOS_REASON.match(reason)
    if not match:
        return f"invalid polygon: {reason}"
    what = match["what"]
    plain = _GEOS_PLAIN.get(what, "")
    if what == "Self-intersection" and multi:
        plain = "the boundary crosses itself, or two of its polygons overlap"
    prefix = "self-intersecting" if "intersection" in what.lower() else "invalid polygon"
    detail = f" ({plain})" if plain else ""
    return (
        f"{prefix}: {what} at or near point {match['x']} {match['y']} (lon lat){detail}; "
        "fix it in the GIS (e.g. QGIS 'Fix geometries', then check the result) and import again"
    )


def _geojson_dict(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON dict with plain lists, so that it compares and serialises like parsed JSON."""

    def rings(polygon: shapely.Polygon) -> list[list[list[float]]]:
        return [[[x, y] for x, y in ring.coords] for ring in (polygon.exterior, *polygon.interiors)]

    if isinstance(geom, shapely.Polygon):
        return {"type": "Polygon", "coordinates": rings(geom)}
    return {"type": "MultiPolygon", "coordinates": [rings(p) for p in geom.geoms]}


def overlap_rank(kind: str, geom: BaseGeometry) -> tuple[int, float]:
    """Where several sectors contain a position, the lowest rank wins (kind, then area).

    Public so that the benchmark's reference loop applies the very rule of `SectorLocator`.
    """
    return _kind_priority(kind), _geodesic_area_m2(geom)


def as_polygonal(geometry: GeometryLike) -> BaseGeometry:
    """A sector's shape as Shapely (Polygon or MultiPolygon); anything else is a ValueError."""
    geom = geometry if isinstance(geometry, BaseGeometry) else shape(geometry)
    if not isinstance(geom, (shapely.Polygon, shapely.MultiPolygon)):
        raise ValueError(f"a sector must be a Polygon or MultiPolygon, not {geom.geom_type}")
    return geom


def _kind_priority(kind: str) -> int:
    code = parse_kind(kind)
    if code is None:
        raise ValueError(f"unknown sector kind {kind!r}; expected one of {SECTOR_KINDS}")
    return _KIND_PRIORITY[code]


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


def _json_type(value: Any) -> str:
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def _describe(value: Any) -> str:
    if isinstance(value, Mapping) and isinstance(value.get("type"), str):
        return repr(value["type"])
    return f"JSON {_json_type(value)}"


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
