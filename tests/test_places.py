"""Where a report is in words: the gazetteer is loaded from GeoNames files, and a position is
described from the nearest real place ("4 km north-east of Arezzo"), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from fieldreport.accounts.models import AuditLog
from fieldreport.demo import DEMO_PLACES
from fieldreport.digests import tasks as digest_tasks
from fieldreport.places.finder import place_finder
from fieldreport.places.gazetteer import parse_places
from fieldreport.places.service import (
    compass_point,
    describe_location,
    haversine_km,
    load_places,
    nearest_place,
    place_count,
)
from tests.digest_factories import hand_counted_day
from tests.helpers import csrf_from, file_report

SAMPLE = Path(__file__).parent / "corpus" / "places" / "geonames-sample.txt"
AREZZO = (43.44708, 11.86867)
KM_PER_DEGREE_LAT = 111.2


@pytest.fixture
def loaded(runtime):
    with runtime.db.session_scope() as session:
        load_places(session, parse_places(DEMO_PLACES.read_text(encoding="utf-8")).rows)
    return runtime


def test_the_demo_extract_loads_every_place():
    parsed = parse_places(DEMO_PLACES.read_text(encoding="utf-8"))
    assert len(parsed.rows) == 1853 and parsed.refused == 0
    assert {r.country for r in parsed.rows} == {"UA", "IT", "ES"}


def test_a_geonames_dump_keeps_populated_places_and_names_the_bad_line():
    parsed = parse_places(SAMPLE.read_text(encoding="utf-8"))
    assert [r.name for r in parsed.rows] == [
        "Subbiano",
        "Quarata",
        "Arezzo",
        "Kramators'k",
        "Horlivka",
    ]
    assert parsed.refused == 1
    assert parsed.problems == ["line 7: 3 columns, a GeoNames row has 19"]


def test_a_csv_row_out_of_range_is_refused_with_its_line():
    parsed = parse_places("latitude,longitude,name\n43.4,11.8,Somewhere\n95,11.8,Nowhere\n")
    assert [r.name for r in parsed.rows] == ["Somewhere"]
    assert parsed.problems == ["line 3: position out of range: 95, 11.8"]


def test_compass_points_and_distances_are_those_of_the_sphere():
    assert compass_point(0, 0, 1, 1) == "NE"
    assert compass_point(0, 0, -1, 0) == "S"
    assert compass_point(0, 0, 0, -1) == "W"
    assert compass_point(0, 0, 1, -1) == "NW"
    # Kyiv to Kharkiv: about 409 km by great circle.
    assert haversine_km(50.4501, 30.5234, 49.9935, 36.2304) == pytest.approx(409, abs=3)


def test_a_position_north_east_of_horlivka_is_described_from_it(loaded):
    # 4 km along the north-east diagonal of Horlivka's centre (48.33576 N, 38.05325 E).
    lat = 48.33576 + 4 / KM_PER_DEGREE_LAT / 2**0.5
    lon = 38.05325 + 4 / (KM_PER_DEGREE_LAT * 0.6647) / 2**0.5
    with loaded.db.session_scope(write=False) as session:
        assert describe_location(session, lat, lon) == "4 km north-east of Horlivka"


def test_a_position_in_the_centre_of_arezzo_is_in_arezzo(loaded):
    with loaded.db.session_scope(write=False) as session:
        assert describe_location(session, AREZZO[0] + 0.003, AREZZO[1]) == "in Arezzo"


def test_the_nearest_place_is_the_nearest_of_the_whole_gazetteer(loaded):
    rows = list(csv.DictReader(DEMO_PLACES.open(encoding="utf-8")))
    positions = [(43.52, 11.95), (43.30, 11.60), (48.0, 37.8), (40.50, -3.90), (49.1, 33.4)]
    with loaded.db.session_scope(write=False) as session:
        for lat, lon in positions:
            found = nearest_place(session, lat, lon)
            expected = min(
                rows,
                key=lambda r: haversine_km(float(r["latitude"]), float(r["longitude"]), lat, lon),
            )
            assert found is not None and found[0].name == expected["name"]


def test_the_finder_for_exports_agrees_with_the_database_search(loaded):
    positions = [(43.52, 11.95), (43.30, 11.60), (48.0, 37.8), (40.50, -3.90), (48.40, 38.10)]
    with loaded.db.session_scope(write=False) as session:
        describe = place_finder(session)
        for lat, lon in positions:
            assert describe(lat, lon) == describe_location(session, lat, lon)


def test_far_from_every_place_there_is_no_description(loaded):
    with loaded.db.session_scope(write=False) as session:
        assert describe_location(session, 0.0, -30.0) is None
        assert place_finder(session)(0.0, -30.0) == ""


def test_loading_a_gazetteer_replaces_the_previous_one(loaded):
    with loaded.db.session_scope() as session:
        assert place_count(session) == 1853
        load_places(session, parse_places(SAMPLE.read_text(encoding="utf-8")).rows)
    with loaded.db.session_scope(write=False) as session:
        assert place_count(session) == 5


def test_directions_are_translated_as_whole_sentences(loaded):
    catalogue = {
        "%(distance)s km north-east of %(place)s": "%(distance)s km au nord-est de %(place)s"
    }
    lat = 48.33576 + 4 / KM_PER_DEGREE_LAT / 2**0.5
    lon = 38.05325 + 4 / (KM_PER_DEGREE_LAT * 0.6647) / 2**0.5
    with loaded.db.session_scope(write=False) as session:
        text = describe_location(session, lat, lon, lambda m: catalogue.get(m, m))
    assert text == "4 km au nord-est de Horlivka"


def test_an_admin_loads_a_geonames_file_from_the_map_data_page(client_for, runtime):
    admin = client_for("admin")
    page = admin.get("/admin/places").get_data(as_text=True)
    response = admin.post(
        "/admin/places",
        data={"csrf_token": csrf_from(page), "file": (SAMPLE.open("rb"), "UA.txt")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "5 places loaded; 1 lines refused." in text and "line 7: 3 columns" in text
    with runtime.db.session_scope(write=False) as session:
        assert place_count(session) == 5
        assert session.scalar(select(AuditLog.detail).where(AuditLog.action == "places.load")) == {
            "places": 5,
            "refused": 1,
        }


def test_a_file_with_no_place_is_refused_and_the_gazetteer_kept(client_for, loaded):
    admin = client_for("admin")
    token = csrf_from(admin.get("/admin/places").get_data(as_text=True))
    response = admin.post(
        "/admin/places",
        data={"csrf_token": token, "file": (io.BytesIO(b"\xff\xfe binary"), "x.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "not UTF-8" in response.get_data(as_text=True)
    with loaded.db.session_scope(write=False) as session:
        assert place_count(session) == 1853


def test_the_report_page_says_where_the_report_is(client_for, loaded, users):
    with loaded.db.session_scope() as session:
        report = file_report(session, users.observer, AREZZO[0] + 0.02, AREZZO[1])
    page = client_for("coord").get(f"/reports/{report.id}").get_data(as_text=True)
    assert '<dd class="place">2 km north of Arezzo</dd>' in page


def test_the_exports_say_where_each_report_is(client_for, loaded, users):
    with loaded.db.session_scope() as session:
        day = hand_counted_day(session, users)
    digest_tasks.request_build(loaded.queue, day)
    loaded.queue.drain()
    client = client_for("comm")
    csv_text = client.get(f"/digests/{day.isoformat()}/reports.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    features = client.get(f"/digests/{day.isoformat()}/reports.geojson").get_json()["features"]
    with loaded.db.session_scope(write=False) as session:
        for row in rows:
            expected = describe_location(session, float(row["latitude"]), float(row["longitude"]))
            assert row["place"] == expected and expected
    assert [f["properties"]["place"] for f in features] == [row["place"] for row in rows]
