"""Sector import and point-in-sector, pinned with polygons around the test photos' positions.

Positions (lat, lon): Italy 43.467 N 11.885 E, Madrid 40.447 N -3.725 E, Helsinki 60.147 N
24.907 E. GeoJSON writes them [lon, lat].
"""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest
import shapely
from shapely import affinity

from bench.sectors import naive_locate
from fieldreport.sectors.geojson import (
    DOCUMENT,
    FeatureProblem,
    SectorFeature,
    SectorImportError,
    parse_sector_collection,
    to_feature_collection,
)
from fieldreport.sectors.kinds import SECTOR_KINDS, kind_priority, parse_kind
from fieldreport.sectors.locator import SectorLocator
from fieldreport.sectors.shapes import as_polygonal, overlap_rank, square_polygon

ITALY = (11.885, 43.467)
MADRID = (-3.725, 40.447)
HELSINKI = (24.907, 60.147)


def ring(west: float, south: float, east: float, north: float) -> list[list[float]]:
    """A closed, counter-clockwise rectangle ring."""
    return [[west, south], [east, south], [east, north], [west, north], [west, south]]


def polygon(*rings: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


def feature(
    code: str | None, geometry: dict[str, Any] | None, name: str | None = "", **props: Any
) -> dict[str, Any]:
    properties = {"code": code, "name": f"Sector {code}" if name == "" else name, **props}
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features: dict[str, Any], **members: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features), **members}


def problems_of(document: Any) -> list[FeatureProblem]:
    with pytest.raises(SectorImportError) as caught:
        parse_sector_collection(document)
    return caught.value.problems


def only_problem(document: Any) -> FeatureProblem:
    problems = problems_of(document)
    assert len(problems) == 1, problems
    return problems[0]


AREZZO = polygon(ring(11.80, 43.42, 11.95, 43.51))
MADRID_TWO_PARTS = {
    "type": "MultiPolygon",
    "coordinates": [
        [ring(-3.76, 40.43, -3.70, 40.46)],
        [ring(-3.60, 40.40, -3.55, 40.43)],
    ],
}
HELSINKI_WITH_HOLE = polygon(
    ring(24.85, 60.12, 24.98, 60.18),
    ring(24.90, 60.14, 24.92, 60.155)[::-1],
)


# Import: valid files


def test_kind_codes_are_the_stable_ones_the_api_uses() -> None:
    assert SECTOR_KINDS == ("sector", "dmz", "crossing_point")


def test_polygon_feature_imports_with_default_kind_sector() -> None:
    [sector] = parse_sector_collection(collection(feature("IT-1", AREZZO, name="Arezzo")))

    assert sector == SectorFeature(code="IT-1", name="Arezzo", kind="sector", geometry=AREZZO)


def test_multipolygon_and_polygon_with_hole_import_unchanged() -> None:
    madrid, helsinki = parse_sector_collection(
        collection(feature("ES-1", MADRID_TWO_PARTS), feature("FI-1", HELSINKI_WITH_HOLE))
    )

    assert madrid.geometry == MADRID_TWO_PARTS
    assert helsinki.geometry == HELSINKI_WITH_HOLE
    assert len(helsinki.geometry["coordinates"]) == 2


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("dmz", "dmz"),
        ("DMZ", "dmz"),
        ("demilitarized zone", "dmz"),
        ("crossing_point", "crossing_point"),
        ("crossing-point area", "crossing_point"),
        ("Crossing point", "crossing_point"),
        ("sector", "sector"),
        (None, "sector"),
    ],
)
def test_kind_accepts_codes_and_labels(given: str | None, code: str) -> None:
    [sector] = parse_sector_collection(collection(feature("IT-1", AREZZO, kind=given)))

    assert sector.kind == code


def test_geometry_is_normalised_to_2d_counterclockwise_lon_lat() -> None:
    clockwise_with_altitude = [[x, y, 250.0] for x, y in ring(11.80, 43.42, 11.95, 43.51)[::-1]]
    document = collection(feature("IT-1", polygon(clockwise_with_altitude)))

    [sector] = parse_sector_collection(document)

    assert sector.geometry == AREZZO
    assert shapely.Polygon(sector.geometry["coordinates"][0]).exterior.is_ccw


def test_text_and_bytes_with_byte_order_mark_parse_like_a_dict() -> None:
    document = collection(feature("FI-1", HELSINKI_WITH_HOLE))
    text = json.dumps(document)

    expected = parse_sector_collection(document)

    assert parse_sector_collection(text) == expected
    assert parse_sector_collection(b"\xef\xbb\xbf" + text.encode()) == expected


@pytest.mark.parametrize(
    "name", ["urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:4326", "urn:ogc:def:crs:EPSG::4326"]
)
def test_legacy_crs_member_naming_wgs84_is_accepted(name: str) -> None:
    crs = {"type": "name", "properties": {"name": name}}

    sectors = parse_sector_collection(collection(feature("IT-1", AREZZO), crs=crs))

    assert [s.code for s in sectors] == ["IT-1"]


def test_export_parses_back_to_the_same_sectors() -> None:
    sectors = parse_sector_collection(
        collection(
            feature("ES-1", MADRID_TWO_PARTS, kind="dmz"),
            feature("FI-1", HELSINKI_WITH_HOLE, name="Helsinki harbour"),
        )
    )

    exported = to_feature_collection(sectors)

    assert exported["type"] == "FeatureCollection"
    assert exported["features"][0]["properties"] == {
        "code": "ES-1",
        "name": "Sector ES-1",
        "kind": "dmz",
    }
    assert parse_sector_collection(json.dumps(exported)) == sectors


# Import: each kind of invalid file


def test_text_that_is_not_json_is_refused() -> None:
    problem = only_problem('{"type": "FeatureCollection", "features": [')

    assert problem.feature == DOCUMENT
    assert problem.reason.startswith("not JSON")


def test_nan_coordinates_are_not_json() -> None:
    text = json.dumps(collection(feature("IT-1", AREZZO))).replace("11.8", "NaN", 1)

    assert only_problem(text).reason.startswith("not JSON")


def test_single_feature_is_not_a_feature_collection() -> None:
    problem = only_problem(feature("IT-1", AREZZO))

    assert problem.feature == DOCUMENT
    assert "not a FeatureCollection" in problem.reason


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Point", "coordinates": list(ITALY)},
        {"type": "LineString", "coordinates": [list(ITALY), [11.95, 43.51]]},
        {"type": "GeometryCollection", "geometries": [AREZZO]},
    ],
)
def test_geometry_that_is_not_a_polygon_is_refused(geometry: dict[str, Any]) -> None:
    problem = only_problem(collection(feature("IT-1", AREZZO), feature("IT-2", geometry)))

    assert problem.feature == 1
    assert "not a polygon" in problem.reason
    assert geometry["type"] in problem.reason


def test_unclosed_ring_is_refused() -> None:
    unclosed = ring(11.80, 43.42, 11.95, 43.51)[:-1]

    problem = only_problem(collection(feature("IT-1", polygon(unclosed))))

    assert problem.feature == 0
    assert "not closed" in problem.reason


def test_ring_with_fewer_than_four_positions_is_refused() -> None:
    too_short = [[11.80, 43.42], [11.95, 43.42], [11.80, 43.42]]

    problem = only_problem(collection(feature("IT-1", polygon(too_short))))

    assert "3 positions" in problem.reason
    assert "at least 4" in problem.reason


def test_latitude_beyond_90_is_out_of_range() -> None:
    beyond = [[11.80, 43.42], [11.95, 43.42], [11.95, 93.51], [11.80, 43.42]]

    problem = only_problem(collection(feature("IT-1", polygon(beyond))))

    assert "out of range" in problem.reason
    assert "lat,lon" not in problem.reason


def test_lat_lon_order_gets_a_hint_when_swapping_would_fit() -> None:
    kyoto_lat_lon = [[lat, lon] for lon, lat in ring(135.70, 34.95, 135.80, 35.05)]

    problem = only_problem(collection(feature("JP-1", polygon(kyoto_lat_lon))))

    assert "out of range" in problem.reason
    assert "coordinates look like lat,lon — GeoJSON wants lon,lat" in problem.reason


def test_projected_metres_get_a_hint() -> None:
    utm_33n = ring(687_000, 4_815_000, 700_000, 4_825_000)

    problem = only_problem(collection(feature("IT-1", polygon(utm_33n))))

    assert "out of range" in problem.reason
    assert "projected metres" in problem.reason


def test_self_intersecting_polygon_names_the_point() -> None:
    bow_tie = [[11.80, 43.42], [11.95, 43.51], [11.95, 43.42], [11.80, 43.51], [11.80, 43.42]]

    problem = only_problem(collection(feature("IT-1", AREZZO), feature("IT-2", polygon(bow_tie))))

    assert problem.feature == 1
    assert "Self-intersection at or near point 11.875 43.465" in problem.reason


def test_overlapping_parts_of_a_multipolygon_are_refused() -> None:
    overlapping = {
        "type": "MultiPolygon",
        "coordinates": [[ring(-3.76, 40.43, -3.70, 40.46)], [ring(-3.72, 40.44, -3.65, 40.47)]],
    }

    problem = only_problem(collection(feature("ES-1", overlapping)))

    assert "Self-intersection" in problem.reason


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Polygon", "coordinates": []},
        {"type": "MultiPolygon", "coordinates": []},
        {"type": "MultiPolygon", "coordinates": [[ring(-3.76, 40.43, -3.70, 40.46)], []]},
    ],
)
def test_empty_geometry_is_refused(geometry: dict[str, Any]) -> None:
    problem = only_problem(collection(feature("ES-1", geometry)))

    assert "empty" in problem.reason


def test_feature_without_geometry_is_refused() -> None:
    assert "no geometry" in only_problem(collection(feature("ES-1", None))).reason


def test_missing_code_and_name_are_both_reported() -> None:
    problems = problems_of(collection(feature(None, AREZZO, name=None)))

    assert [p.feature for p in problems] == [0, 0]
    assert "missing code" in problems[0].reason
    assert "missing name" in problems[1].reason


def test_upper_case_code_property_gets_a_hint() -> None:
    properties = {"CODE": "IT-1", "name": "Arezzo"}
    document = collection({"type": "Feature", "properties": properties, "geometry": AREZZO})

    assert "rename it to 'code'" in only_problem(document).reason


def test_duplicate_code_is_reported_on_the_later_feature() -> None:
    document = collection(
        feature("IT-1", AREZZO), feature("ES-1", MADRID_TWO_PARTS), feature("it-1 ", AREZZO)
    )

    problem = only_problem(document)

    assert problem.feature == 2
    assert "duplicate code" in problem.reason
    assert "feature 0" in problem.reason


def test_overlong_code_is_refused() -> None:
    assert "at most 32" in only_problem(collection(feature("X" * 33, AREZZO))).reason


def test_unknown_kind_is_refused_with_the_choices() -> None:
    problem = only_problem(collection(feature("IT-1", AREZZO, kind="buffer zone")))

    assert "unknown kind 'buffer zone'" in problem.reason
    assert "demilitarized zone" in problem.reason


def test_crs_other_than_wgs84_is_refused() -> None:
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    web_mercator = ring(1_323_000, 5_380_000, 1_330_000, 5_390_000)

    problem = only_problem(collection(feature("IT-1", polygon(web_mercator)), crs=crs))

    assert problem.feature == DOCUMENT
    assert "not WGS 84" in problem.reason
    assert "3857" in problem.reason


def test_every_bad_feature_is_reported_and_nothing_is_returned() -> None:
    point = {"type": "Point", "coordinates": list(MADRID)}
    unclosed = polygon(ring(24.85, 60.12, 24.98, 60.18)[:-1])
    document = collection(
        feature("IT-1", AREZZO),
        feature("ES-1", point),
        feature("FI-1", unclosed),
        feature("FI-2", HELSINKI_WITH_HOLE, kind="no man's land"),
        feature("IT-1", AREZZO),
    )

    problems = problems_of(document)

    assert [p.feature for p in problems] == [1, 2, 3, 4]
    assert ["not a polygon" in problems[0].reason, "not closed" in problems[1].reason] == [1, 1]
    assert "unknown kind" in problems[2].reason
    assert "duplicate code" in problems[3].reason


def test_import_error_message_summarises_the_problems() -> None:
    with pytest.raises(SectorImportError, match=r"feature 0: missing code"):
        parse_sector_collection(collection(feature(None, AREZZO)))


# Locating positions

WEST = polygon(ring(11.78, 43.40, 11.885, 43.50))  # larger than EAST; they share lon 11.885
EAST = polygon(ring(11.885, 43.40, 11.97, 43.50), ring(11.92, 43.47, 11.94, 43.49)[::-1])
DMZ = polygon(ring(11.78, 43.44, 11.97, 43.45))  # a strip across both sectors
CROSSING = polygon(ring(11.88, 43.443, 11.89, 43.447))  # on the strip, on the sectors' border
ENCLAVE = polygon(ring(24.90, 60.14, 24.92, 60.155))  # fills the Helsinki hole exactly

LAYOUT: list[tuple[str, dict[str, Any], str]] = [
    ("IT-W", WEST, "sector"),
    ("IT-E", EAST, "sector"),
    ("DMZ-1", DMZ, "dmz"),
    ("CP-1", CROSSING, "crossing_point"),
    ("ES-1", MADRID_TWO_PARTS, "sector"),
    ("FI-1", HELSINKI_WITH_HOLE, "sector"),
]


@pytest.fixture(scope="module")
def locator() -> SectorLocator[str]:
    return SectorLocator(LAYOUT)


def test_position_inside_a_sector_is_located(locator: SectorLocator[str]) -> None:
    assert locator.locate(11.83, 43.48) == "IT-W"
    assert locator.locate(11.95, 43.42) == "IT-E"


def test_position_outside_every_sector_is_none(locator: SectorLocator[str]) -> None:
    assert locator.locate(12.50, 43.467) is None
    assert locator.locate(*HELSINKI[::-1]) is None  # lat,lon by mistake lands nowhere


def test_position_on_an_outer_border_counts_as_inside(locator: SectorLocator[str]) -> None:
    assert locator.locate(11.78, 43.48) == "IT-W"  # west edge
    assert locator.locate(11.97, 43.50) == "IT-E"  # north-east corner


def test_position_on_a_shared_border_goes_to_the_smaller_sector(
    locator: SectorLocator[str],
) -> None:
    assert locator.locate(*ITALY) == "IT-E"  # the Italian photo lies on lon 11.885


def test_position_in_a_hole_is_not_in_the_sector(locator: SectorLocator[str]) -> None:
    assert locator.locate(11.93, 43.48) is None
    assert locator.locate(*HELSINKI) is None


def test_enclave_filling_a_hole_wins_inside_and_on_its_border() -> None:
    locator = SectorLocator([*LAYOUT, ("FI-2", ENCLAVE, "sector")])

    assert locator.locate(*HELSINKI) == "FI-2"
    assert locator.locate(24.90, 60.147) == "FI-2"  # on the hole's edge: both cover it
    assert locator.locate(24.88, 60.147) == "FI-1"


def test_dmz_wins_over_the_sector_under_it(locator: SectorLocator[str]) -> None:
    assert locator.locate(11.80, 43.445) == "DMZ-1"
    assert locator.locate(11.80, 43.44) == "DMZ-1"  # on the strip's edge


def test_crossing_point_wins_over_dmz_and_sectors(locator: SectorLocator[str]) -> None:
    assert locator.locate(11.885, 43.445) == "CP-1"


def test_smaller_sector_wins_an_overlap_of_equal_kind() -> None:
    nested = polygon(ring(11.82, 43.45, 11.86, 43.49))
    locator = SectorLocator([("IT-W", WEST, "sector"), ("IT-N", nested, "sector")])

    assert locator.locate(11.84, 43.47) == "IT-N"


def test_identical_polygons_go_to_the_lower_code_whatever_the_input_order() -> None:
    twins = [("B-2", AREZZO, "sector"), ("B-1", AREZZO, "sector")]

    assert SectorLocator(twins).locate(*ITALY) == "B-1"
    assert SectorLocator(twins[::-1]).locate(*ITALY) == "B-1"
    assert naive_locate(twins, *ITALY) == "B-1"


def test_a_sectors_kind_outranks_its_area() -> None:
    huge_dmz = polygon(ring(11.0, 43.0, 13.0, 44.0))
    locator = SectorLocator([("IT-1", AREZZO, "sector"), ("DMZ-9", huge_dmz, "demilitarized zone")])

    assert locator.locate(*ITALY) == "DMZ-9"


def test_every_part_of_a_multipolygon_belongs_to_the_sector(locator: SectorLocator[str]) -> None:
    assert locator.locate(*MADRID) == "ES-1"
    assert locator.locate(-3.57, 40.41) == "ES-1"
    assert locator.locate(-3.65, 40.44) is None  # between the parts


def test_locate_many_keeps_input_order_and_accepts_any_keys() -> None:
    locator = SectorLocator([(7, AREZZO, "sector"), (3, MADRID_TWO_PARTS, "sector")])

    lons, lats = zip(MADRID, (0.0, 0.0), ITALY, (math.nan, math.nan), strict=True)

    assert locator.locate_many(lons, lats) == [3, None, 7, None]
    assert locator.locate_many([], []) == []


def test_locator_without_sectors_locates_nothing() -> None:
    assert SectorLocator([]).locate_many([ITALY[0]], [ITALY[1]]) == [None]


def test_locate_many_refuses_lists_of_different_lengths(locator: SectorLocator[str]) -> None:
    with pytest.raises(ValueError, match="same length"):
        locator.locate_many([11.8, 11.9], [43.4])


def test_locator_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown sector kind"):
        SectorLocator([("IT-1", AREZZO, "zone")])


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("DMZ", "dmz"),
        ("Demilitarised-Zone", "dmz"),
        ("crossing_point", "crossing_point"),
        ("  Crossing  point area ", "crossing_point"),
        ("Sector", "sector"),
        ("zone", None),
        (3, None),
    ],
)
def test_parse_kind_reads_codes_and_labels(typed: object, code: str | None) -> None:
    assert parse_kind(typed) == code


def test_the_more_specific_kind_has_the_lower_priority() -> None:
    priorities = [kind_priority(kind) for kind in ("crossing point area", "DMZ", "sector")]

    assert priorities == sorted(priorities) and len(set(priorities)) == 3


def test_overlap_rank_measures_area_on_the_sphere() -> None:
    south = overlap_rank("sector", as_polygonal(square_polygon(11.0, 10.0, 0.1)))
    north = overlap_rank("sector", as_polygonal(square_polygon(11.0, 60.0, 0.1)))

    assert south[0] == north[0]
    assert north[1] < south[1] * 0.6  # a degree of longitude shrinks with latitude
    assert south[1] == pytest.approx(22_000**2, rel=0.02)


def test_as_polygonal_refuses_what_is_not_an_area() -> None:
    with pytest.raises(ValueError, match="must be a Polygon or MultiPolygon, not Point"):
        as_polygonal({"type": "Point", "coordinates": [11.0, 43.0]})


def test_square_polygon_contains_its_centre() -> None:
    assert SectorLocator([("SQ", square_polygon(*ITALY, 0.01), "sector")]).locate(*ITALY) == "SQ"


def random_sectors(rng: random.Random, count: int) -> list[tuple[str, dict[str, Any], str]]:
    """Irregular, often overlapping polygons of every kind around the three photo positions."""
    sectors = []
    for i in range(count):
        lon, lat = rng.choice([ITALY, MADRID, HELSINKI])
        centre = shapely.Point(lon + rng.uniform(-0.3, 0.3), lat + rng.uniform(-0.2, 0.2))
        blob = centre.buffer(rng.uniform(0.02, 0.15), quad_segs=rng.randint(2, 6))
        blob = affinity.scale(blob, rng.uniform(0.5, 2), rng.uniform(0.5, 2))
        kind = rng.choice(["sector", "sector", "sector", "dmz", "crossing_point"])
        sectors.append((f"R-{i:03d}", shapely.geometry.mapping(blob), kind))
    return sectors


def test_locate_many_equals_the_naive_loop_on_random_positions() -> None:
    rng = random.Random(1124)
    sectors = [*LAYOUT, ("FI-2", ENCLAVE, "sector"), *random_sectors(rng, 120)]
    positions = []
    for _ in range(3000):
        lon, lat = rng.choice([ITALY, MADRID, HELSINKI])
        positions.append((lon + rng.uniform(-0.45, 0.45), lat + rng.uniform(-0.3, 0.3)))
    vertices = [tuple(p) for _, g, _ in LAYOUT[:4] for p in g["coordinates"][0]]
    positions += [*rng.sample(vertices, 10), ITALY, MADRID, HELSINKI]

    lons, lats = zip(*positions, strict=True)
    located = SectorLocator(sectors).locate_many(lons, lats)

    reference = [(code, shapely.geometry.shape(g), kind) for code, g, kind in sectors]
    assert located == [naive_locate(reference, lon, lat) for lon, lat in positions]
    assert sum(code is not None for code in located) > 1000
    assert len(set(located)) > 50
