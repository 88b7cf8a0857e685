"""The map's data: every report counted at every zoom (no silent limit), exact points when zoomed
in, the compact array kept current as reports arrive and are decided, popups with the place in
words, sectors with the day's coverage, and the offline tile extract served by byte ranges.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from fieldreport.db import utcnow
from fieldreport.demo import DEMO_PLACES
from fieldreport.places.gazetteer import parse_places
from fieldreport.places.service import load_places
from fieldreport.reports.models import Report
from fieldreport.review.models import ReviewEvent
from fieldreport.sectors import assignments
from fieldreport.sectors import service as sectors
from fieldreport.sectors.map_features import EXACT_ZOOM, MAX_ZOOM, MIN_ZOOM, cell_size
from fieldreport.sectors.map_tiles import PMTILES_MAGIC, area_tiles_path, store_area_tiles
from fieldreport.sectors.models import Sector
from tests.helpers import DMZ, EAST, WEST, collection, file_report

# Around Arezzo (the test sectors W and E lie at 43.47 N, 11.85–11.94 E).
SPOTS = [(43.47 + 0.004 * (i % 6), 11.86 + 0.006 * (i // 6)) for i in range(24)]


@pytest.fixture
def world(runtime, users):
    """Sectors W, E and a DMZ; one report of obs1; obs1 assigned to W today."""
    today = utcnow().astimezone(runtime.settings.zone).date()
    with runtime.db.session_scope() as session:
        sectors.import_sector_collection(session, collection(WEST, EAST, DMZ))
        report = file_report(session, users.observer, 43.47, 11.80)
        west = session.scalar(select(Sector).where(Sector.code == "W"))
        assignments.create_assignment(
            session,
            observer_id=users.observer.id,
            sector_id=west.id,
            starts_on=today,
            ends_on=today,
            assigned_by=None,
        )
        # Filed an hour ago: just after midnight, the report's day is yesterday.
        return {"day": report.occurred_at.astimezone(runtime.settings.zone).date()}


def _data(client, day, **args) -> dict:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    response = client.get(f"/map/data.json?day={day}&{query}")
    assert response.status_code == 200
    return response.get_json()


def _counted(data: dict) -> int:
    return sum(c[2] for c in data["clusters"]) + len(data["points"])


@pytest.fixture
def spread(runtime, users, world):
    """24 reports at distinct spots, 3 of them urgent, plus 3 at one and the same spot."""
    with runtime.db.session_scope() as session:
        ids = [
            file_report(session, users.observer, lat, lon, urgent=i % 8 == 0).id
            for i, (lat, lon) in enumerate(SPOTS)
        ]
        ids += [file_report(session, users.observer, 43.4801, 11.9001).id for _ in range(3)]
    return ids


def test_every_report_is_counted_at_every_zoom(client_for, world, spread):
    client = client_for("coord")
    day = world["day"].isoformat()
    for zoom in range(MIN_ZOOM, MAX_ZOOM + 1):
        data = _data(client, day, zoom=zoom)
        assert data["total"] == len(spread) + 1  # and the world's own report
        assert _counted(data) == data["total"], zoom
    widest = _data(client, day, zoom=MIN_ZOOM)
    assert len(widest["clusters"]) == 1 and widest["points"] == []
    assert widest["clusters"][0][3] == 3  # urgent reports in the group


def test_zoomed_in_reports_are_exact_points_and_one_spot_lists_its_reports(
    client_for, runtime, world, spread
):
    data = _data(client_for("coord"), world["day"].isoformat(), zoom=EXACT_ZOOM)
    with runtime.db.session_scope(write=False) as session:
        exact = {r.id: (r.latitude, r.longitude) for r in session.scalars(select(Report))}
    for report_id, lat, lon, *_rest in data["points"]:
        assert (lat, lon) == pytest.approx(exact[report_id], abs=1e-5)
    (spot,) = data["clusters"]
    assert spot[2] == 3 and sorted(spot[-1]) == sorted(spread[-3:])


def test_a_cluster_is_where_its_reports_are_and_counts_them_by_category(client_for, world, spread):
    data = _data(client_for("coord"), world["day"].isoformat(), zoom=9)
    kinds = len(data["categories"])
    for row in data["clusters"]:
        assert sum(row[4 : 4 + kinds]) == row[2]
        assert 43.4 < row[0] < 43.6 and 11.8 < row[1] < 12.0
    # A cell is about 60 screen pixels: at zoom 9 that is 0.16° of longitude.
    assert cell_size(9)[0] == pytest.approx(360 * 60 / (256 * 512))


def test_the_box_shown_limits_the_groups_but_not_the_total(client_for, world, spread):
    data = _data(
        client_for("coord"), world["day"].isoformat(), zoom=12, bbox="11.85,43.46,11.87,43.50"
    )
    assert data["total"] == len(spread) + 1
    assert 0 < data["in_view"] < data["total"]


def test_new_and_decided_reports_show_at_once(client_for, runtime, users, world, spread):
    client = client_for("coord")
    day = world["day"].isoformat()
    assert _data(client, day, status="verified")["total"] == 0
    first = _data(client, day, zoom=EXACT_ZOOM)
    assert first["total"] == len(spread) + 1
    with runtime.db.session_scope() as session:
        new_id = file_report(session, users.observer, 43.49, 11.93, urgent=True).id
        report = session.get(Report, spread[0])
        report.status = "verified"
        session.add(
            ReviewEvent(report_id=report.id, actor_id=users.coordinator.id, to_status="verified")
        )
    after = _data(client, day, zoom=EXACT_ZOOM)
    assert after["total"] == len(spread) + 2
    statuses = {row[0]: after["statuses"][row[4]] for row in after["points"]}
    assert statuses[spread[0]] == "verified" and new_id in statuses
    assert [row[0] for row in _data(client, day, zoom=EXACT_ZOOM, status="verified")["points"]] == [
        spread[0]
    ]


def test_a_range_of_days_shows_them_all(client_for, runtime, users, world):
    earlier = world["day"] - timedelta(days=2)
    client = client_for("coord")
    one_day = _data(client, world["day"].isoformat())["total"]
    both = _data(client, earlier.isoformat(), until=world["day"].isoformat())["total"]
    assert both == one_day >= 1
    assert _data(client, earlier.isoformat())["total"] == 0


def test_a_popup_says_where_the_report_is_in_words(client_for, runtime, world, spread):
    with runtime.db.session_scope() as session:
        load_places(session, parse_places(DEMO_PLACES.read_text(encoding="utf-8")).rows)
    popup = client_for("coord").get(f"/map/reports/{spread[0]}.json").get_json()
    assert popup["place"] == "3 km north of Arezzo"
    assert popup["url"] == f"/reports/{spread[0]}" and popup["review_url"].endswith("#review")
    assert popup["thumbnail"] is None and popup["photos"] == 0


def test_a_popup_of_a_report_out_of_the_viewers_sight_is_not_found(client_for, world, spread):
    assert client_for("comm").get(f"/map/reports/{spread[0]}.json").status_code == 403
    assert client_for("coord").get("/map/reports/999999.json").status_code == 404


def test_sectors_carry_the_days_reports_and_assignments(client_for, world, spread):
    sectors = client_for("coord").get(f"/map/sectors.json?day={world['day']}").get_json()
    by_code = {f["properties"]["code"]: f["properties"] for f in sectors["features"]}
    assert by_code["W"]["assigned"] == 1
    assert by_code["E"]["assigned"] == 0 and by_code["E"]["reports"] >= 3  # the shared spot
    # Every spot lies in one of the three areas (the DMZ overlaps W and wins there).
    assert sum(p["reports"] for p in by_code.values()) >= len(spread)


def test_place_names_of_the_box_shown(client_for, runtime, world):
    with runtime.db.session_scope() as session:
        load_places(session, parse_places(DEMO_PLACES.read_text(encoding="utf-8")).rows)
    names = client_for("coord").get("/map/places.json?bbox=11.80,43.40,11.95,43.50").get_json()
    assert "Arezzo" in [name for name, _lat, _lon in names["places"]]


def test_the_offline_extract_is_served_a_byte_range_at_a_time(client_for, runtime, world):
    client = client_for("coord")
    assert client.get("/map/area.pmtiles").status_code == 404
    body = PMTILES_MAGIC + bytes(range(256)) * 40
    store_area_tiles(runtime.settings.data_dir, io.BytesIO(body))
    assert area_tiles_path(runtime.settings.data_dir).read_bytes() == body
    part = client.get("/map/area.pmtiles", headers={"Range": "bytes=100-227"})
    assert part.status_code == 206 and part.data == body[100:228]
    assert part.headers["Content-Range"] == f"bytes 100-227/{len(body)}"
    assert 'data-area="/map/area.pmtiles"' in client.get("/map").get_data(as_text=True)


def test_a_file_that_is_not_pmtiles_is_refused(runtime):
    from fieldreport.sectors.map_tiles import NotPMTiles

    with pytest.raises(NotPMTiles):
        store_area_tiles(runtime.settings.data_dir, io.BytesIO(b"SQLite format 3\x00" + bytes(200)))
    assert not area_tiles_path(runtime.settings.data_dir).exists()
