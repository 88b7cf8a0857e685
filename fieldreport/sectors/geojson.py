"""Read and check a coordinators' GeoJSON sector file, and write one back.

Pure functions and small value objects — no Flask, no database — so that the web form, the JSON
API, the `fieldreport import-sectors` command and the worker all accept and refuse the same files.
Each feature's geometry is checked by `geojson_geometry`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fieldreport.i18n import N_
from fieldreport.sectors.geojson_geometry import parse_geometry
from fieldreport.sectors.import_limits import (
    DEFAULT_LIMITS,
    ImportLimits,
    feature_count_problem,
    size_problem,
    vertex_problems,
)
from fieldreport.sectors.kinds import SECTOR_KIND_LABELS, parse_kind

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


@dataclass(frozen=True)
class SectorFeature:
    """One imported sector; `geometry` is a normalised GeoJSON Polygon or MultiPolygon."""

    code: str
    name: str
    kind: str
    geometry: dict[str, Any]
    repair: str | None = None  # what was mended (`repair`), shown before the import is saved
    original: dict[str, Any] | None = None  # the outline as given, when repaired (preview)


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


def parse_sector_collection(
    document: str | bytes | Mapping[str, Any], limits: ImportLimits = DEFAULT_LIMITS
) -> list[SectorFeature]:
    """Validate a GeoJSON FeatureCollection of sectors and return them all, or raise.

    All-or-nothing: either every feature is returned, or `SectorImportError` lists every problem
    found (feature index and a plain reason) so the coordinator can fix the file in one go.
    Geometries are never repaired silently: a sector's line may be the subject of an agreement
    between the parties. An outline invalid by a hair comes back mended with its `repair` note
    (the caller shows it before saving); one whose repair changes its area is refused.
    Files over `limits` are refused before any geometry is built (`import_limits`).
    """
    too_large = size_problem(document, limits)
    if too_large:
        raise SectorImportError([FeatureProblem(DOCUMENT, too_large)])
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
        problems.append(
            FeatureProblem(DOCUMENT, N_("not a FeatureCollection: 'features' is no list"))
        )
        raise SectorImportError(problems)
    if not raw_features:
        problems.append(FeatureProblem(DOCUMENT, N_("the FeatureCollection has no features")))
    too_many = feature_count_problem(len(raw_features), limits)
    if too_many:
        raise SectorImportError([*problems, FeatureProblem(DOCUMENT, too_many)])
    too_detailed, too_many_vertices = vertex_problems(raw_features, limits)
    if too_many_vertices:
        problems.append(FeatureProblem(DOCUMENT, too_many_vertices))
        problems.extend(FeatureProblem(index, reason) for index, reason in too_detailed.items())
        raise SectorImportError(problems)

    features = _parse_features(
        raw_features, problems, check_range=crs_problem is None, too_detailed=too_detailed
    )
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


def _load_json(document: str | bytes | Mapping[str, Any], problems: list[FeatureProblem]) -> Any:
    if isinstance(document, Mapping):
        return document
    try:
        text = document.decode("utf-8-sig") if isinstance(document, bytes) else document
        # NaN and Infinity are not JSON, though Python's parser accepts them by default.
        return json.loads(text.lstrip("\ufeff"), parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        reason = N_(
            "not JSON: %(error)s at line %(line)s column %(column)s",
            error=exc.msg,
            line=exc.lineno,
            column=exc.colno,
        )
    except UnicodeDecodeError:
        reason = N_("not JSON: the file is not UTF-8 text")
    except (ValueError, RecursionError) as exc:
        reason = (
            N_("not JSON: %(error)s", error=str(exc))
            if isinstance(exc, ValueError)
            else N_("not JSON: nested too deep")
        )
    problems.append(FeatureProblem(DOCUMENT, reason))
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _not_a_collection(data: Any) -> str:
    if not isinstance(data, Mapping):
        return N_("not a FeatureCollection: the document is a JSON %(type)s", type=_json_type(data))
    kind = data.get("type")
    if kind in ("Feature", "Polygon", "MultiPolygon"):
        return N_(
            "not a FeatureCollection: the document is a single %(kind)s; "
            "wrap it in a FeatureCollection",
            kind=kind,
        )
    return N_("not a FeatureCollection: its type is %(kind)s", kind=repr(kind))


def _crs_problem(crs: Any) -> str | None:
    """Refuse a legacy GeoJSON `crs` member that names anything but WGS 84 lon/lat."""
    if crs is None:
        return None
    name = None
    if isinstance(crs, Mapping) and isinstance(crs.get("properties"), Mapping):
        name = crs["properties"].get("name")
    if isinstance(name, str) and name.strip().lower() in _WGS84_CRS_NAMES:
        return None
    shown = repr(name) if isinstance(name, str) else N_("not a named CRS")
    return N_(
        "crs is %(crs)s, not WGS 84; export the file as GeoJSON in WGS 84 "
        "(EPSG:4326, lon/lat) and import it again",
        crs=shown,
    )


def _parse_features(
    raw_features: list[Any],
    problems: list[FeatureProblem],
    *,
    check_range: bool,
    too_detailed: Mapping[int, str],
) -> list[SectorFeature]:
    """Every feature that passed its own checks; the problems of all others (and duplicates).

    A feature in ``too_detailed`` is not parsed at all: building its geometry is the cost the
    vertex limit avoids.
    """
    features: list[SectorFeature] = []
    first_index_of_code: dict[str, int] = {}
    for index, raw in enumerate(raw_features):
        if index in too_detailed:
            problems.append(FeatureProblem(index, too_detailed[index]))
            continue
        reasons: list[str] = []
        feature = _parse_feature(raw, reasons, check_range=check_range)
        if feature is not None:
            folded = feature.code.casefold()
            if folded in first_index_of_code:
                first = first_index_of_code[folded]
                reasons.append(
                    N_(
                        "duplicate code %(code)s: feature %(first)s already uses it",
                        code=repr(feature.code),
                        first=first,
                    )
                )
            else:
                first_index_of_code[folded] = index
            features.append(feature)
        problems.extend(FeatureProblem(index, reason) for reason in reasons)
    return features


def _parse_feature(raw: Any, reasons: list[str], *, check_range: bool) -> SectorFeature | None:
    if not isinstance(raw, Mapping) or raw.get("type") != "Feature":
        reasons.append(N_("not a Feature (found a %(found)s)", found=_describe(raw)))
        return None
    properties = raw.get("properties")
    if properties is None:
        properties = {}
    if not isinstance(properties, Mapping):
        reasons.append(N_("properties is not an object"))
        properties = {}

    code = _text_property(properties, "code", MAX_CODE_LENGTH, reasons)
    name = _text_property(properties, "name", MAX_NAME_LENGTH, reasons)
    kind = _kind_property(properties, reasons)
    notes: list[str] = []
    geometry = parse_geometry(raw.get("geometry"), reasons, check_range=check_range, notes=notes)
    if code is None or name is None or geometry is None or reasons:
        return None
    if notes:
        original = raw.get("geometry")
        return SectorFeature(code, name, kind, geometry, "; ".join(notes), original)
    return SectorFeature(code=code, name=name, kind=kind, geometry=geometry)


def _kind_property(properties: Mapping[str, Any], reasons: list[str]) -> str:
    """The kind code of a feature: "sector" when absent; unknown kinds add a reason."""
    if properties.get("kind") is None:
        return "sector"
    parsed = parse_kind(properties["kind"])
    if parsed is None:
        choices = ", ".join(f"{c!r} ({label})" for c, label in SECTOR_KIND_LABELS.items())
        reasons.append(
            N_(
                "unknown kind %(kind)s: use one of %(choices)s",
                kind=repr(properties["kind"]),
                choices=choices,
            )
        )
        return "sector"
    return parsed


def _text_property(
    properties: Mapping[str, Any], key: str, max_length: int, reasons: list[str]
) -> str | None:
    value = properties.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # numeric codes from spreadsheet-born attribute tables
    if value is None or (isinstance(value, str) and not value.strip()):
        near = [k for k in properties if isinstance(k, str) and k.strip().lower() == key]
        reasons.append(
            N_(
                "missing %(key)s (found %(found)s: rename it to %(wanted)s)",
                key=key,
                found=repr(near[0]),
                wanted=repr(key),
            )
            if near
            else N_("missing %(key)s", key=key)
        )
        return None
    if not isinstance(value, str):
        reasons.append(
            N_("%(key)s must be text, not a JSON %(type)s", key=key, type=_json_type(value))
        )
        return None
    value = value.strip()
    if len(value) > max_length:
        reasons.append(
            N_(
                "%(key)s is %(n)s characters long; at most %(max)s",
                key=key,
                n=len(value),
                max=max_length,
            )
        )
        return None
    if not value.isprintable():
        reasons.append(N_("%(key)s contains control characters", key=key))
        return None
    return value


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
