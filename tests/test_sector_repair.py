"""Boundaries from real sources import: Ukraine's outline from Natural Earth (world-atlas
``countries-10m``, vendored under static/vendor), self-intersecting once converted to GeoJSON,
is mended with its change in area stated and a preview; a bow-tie is refused with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import select

from fieldreport.sectors import service as sectors
from fieldreport.sectors.errors import SectorError
from fieldreport.sectors.geojson import SectorImportError, parse_sector_collection
from fieldreport.sectors.models import Sector
from fieldreport.sectors.repair import MAX_AREA_CHANGE, repair_polygonal
from fieldreport.sectors.shapes import geodesic_area_m2
from tests.helpers import csrf_from

WORLD_ATLAS = Path(__file__).resolve().parents[1] / "static/vendor/world-atlas-2.0.2"
UKRAINE_ID = "804"  # ISO 3166-1 numeric, as world-atlas names its countries
BOW_TIE = {
    "type": "Polygon",
    "coordinates": [
        [[11.80, 43.40], [11.90, 43.50], [11.90, 43.40], [11.80, 43.50], [11.80, 43.40]]
    ],
}


def topojson_geometry(path: Path, object_name: str, geometry_id: str) -> dict[str, Any]:
    """One geometry of a TopoJSON file as GeoJSON (quantised, delta-encoded arcs decoded),
    converted the way topojson-client's ``feature`` does it."""
    topology = json.loads(path.read_text())
    scale, translate = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append([x * scale[0] + translate[0], y * scale[1] + translate[1]])
        arcs.append(points)

    def ring(indexes: list[int]) -> list[list[float]]:
        points: list[list[float]] = []
        for index in indexes:
            arc = arcs[index] if index >= 0 else arcs[~index][::-1]
            points.extend(arc[1:] if points else arc)  # arcs share their end points
        return points

    (found,) = [
        g for g in topology["objects"][object_name]["geometries"] if g.get("id") == geometry_id
    ]
    if found["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": [ring(r) for r in found["arcs"]]}
    return {"type": "MultiPolygon", "coordinates": [[ring(r) for r in p] for p in found["arcs"]]}


def collection(code: str, name: str, geometry: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"code": code, "name": name}, "geometry": geometry}
        ],
    }


@pytest.fixture(scope="module")
def ukraine() -> dict[str, Any]:
    return topojson_geometry(WORLD_ATLAS / "countries-10m.json", "countries", UKRAINE_ID)


def test_ukraine_as_converted_from_natural_earth_crosses_itself(ukraine):
    vertices = sum(len(r) for p in ukraine["coordinates"] for r in p)
    assert vertices == 2638
    assert shapely.is_valid_reason(shape(ukraine)).startswith("Self-intersection")


def test_ukraine_is_repaired_with_its_area_change_stated(ukraine):
    (feature,) = parse_sector_collection(collection("UA", "Ukraine", ukraine))
    assert feature.repair.startswith("repaired: self-intersecting: Self-intersection at or near")
    assert "the repaired outline's area differs by" in feature.repair
    repaired = shape(feature.geometry)
    assert repaired.is_valid
    before, after = geodesic_area_m2(shape(ukraine)), geodesic_area_m2(repaired)
    assert abs(after - before) / before < 1e-6  # less than a millionth
    # Ukraine's official 603,500 km² counts waters too; this 1:10m outline on the sphere
    # (areas as the sector locator ranks them) encloses 571,000 km².
    assert after == pytest.approx(571_000e6, rel=0.01)
    assert feature.original == ukraine


def test_a_bow_tie_is_refused_because_its_repair_would_invent_an_area():
    with pytest.raises(SectorImportError) as refused:
        parse_sector_collection(collection("BT", "Bow-tie", BOW_TIE))
    (problem,) = refused.value.problems
    assert "Self-intersection at or near point 11.85 43.45" in problem.reason
    assert "not repaired" in problem.reason and "a bow-tie" in problem.reason
    assert "Fix geometries" in problem.reason


def test_a_repair_that_changes_the_area_by_more_than_a_thousandth_is_refused():
    # A ring that folds back over a strip of itself: the fold's area counts twice as drawn.
    folded = shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4), (0, 1), (3, 1), (3, 3), (0, 3)])
    assert not folded.is_valid
    repair = repair_polygonal(folded, "self-intersecting")
    assert repair.geometry is None and repair.area_change > MAX_AREA_CHANGE
    assert "repairing it would change its area by" in repair.note


def test_nothing_is_saved_until_the_repair_is_accepted(runtime, users, ukraine):
    document = collection("UA", "Ukraine", ukraine)
    with runtime.db.session_scope() as session:
        with pytest.raises(sectors.RepairNeeded) as needed:
            sectors.import_sector_collection(session, document, users.admin)
        assert "accept the repair" in needed.value.problems[0].reason
    with runtime.db.session_scope() as session:
        assert session.scalar(select(Sector)) is None
        sectors.import_sector_collection(session, document, users.admin, accept_repairs=True)
    with runtime.db.session_scope(write=False) as session:
        stored = session.scalar(select(Sector).where(Sector.code == "UA"))
        assert shape(stored.geometry).is_valid


def test_a_drawn_shape_that_crosses_itself_is_refused_not_mended(runtime, users):
    square_with_a_kink = {
        "type": "Polygon",
        "coordinates": [
            [
                [11.8, 43.4],
                [11.9, 43.4],
                [11.9, 43.5],
                [11.85, 43.5],
                [11.85, 43.39],
                [11.84, 43.5],
                [11.8, 43.5],
                [11.8, 43.4],
            ]
        ],
    }
    with runtime.db.session_scope() as session, pytest.raises(SectorError) as refused:
        sectors.save_sector(
            session,
            sector_id=None,
            code="K",
            name="Kink",
            kind="sector",
            geometry=square_with_a_kink,
            active=True,
            actor=users.admin,
        )
    assert "crosses itself" in str(refused.value.message)


def test_the_import_page_previews_the_repair_then_imports_it(client_for, runtime, users, ukraine):
    coordinator = client_for("coord")
    token = csrf_from(coordinator.get("/sectors").get_data(as_text=True))
    text = json.dumps(collection("UA", "Ukraine", ukraine))
    preview = coordinator.post("/sectors/import", data={"csrf_token": token, "text": text})
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Some outlines were repaired" in page
    assert "the repaired outline&#39;s area differs by" in page and 'id="repair-shapes"' in page
    with runtime.db.session_scope(write=False) as session:
        assert session.scalar(select(Sector)) is None
    accepted = coordinator.post(
        "/sectors/import",
        data={"csrf_token": csrf_from(page), "text": text, "accept_repairs": "y"},
    )
    assert accepted.status_code == 302
    with runtime.db.session_scope(write=False) as session:
        assert session.scalar(select(Sector.code)) == "UA"
