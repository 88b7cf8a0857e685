"""Coordinators' pages and sector API: who may open what, import, drawing, assignments, map."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fieldreport.accounts.models import User
from fieldreport.db import utcnow
from fieldreport.reports.models import Report
from fieldreport.sectors import assignments, limits
from fieldreport.sectors import service as sectors
from fieldreport.sectors.models import Assignment, CoordinatorSector, Sector
from fieldreport.web.app import build_app
from tests.helpers import (
    DMZ,
    EAST,
    WEST,
    api_token,
    collection,
    count,
    csrf_from,
    feature,
    file_report,
    login,
    make_settings,
    post_report,
    report_body,
    square,
)

ROLES = ("obs1", "coord", "comm", "admin")


@pytest.fixture
def world(runtime, users):
    """Sectors W, E and a DMZ; one report of obs1 in W; one assignment of obs1 to W today."""
    today = utcnow().astimezone(runtime.settings.zone).date()
    with runtime.db.session_scope() as session:
        sectors.import_sector_collection(session, collection(WEST, EAST, DMZ))
        report = file_report(session, users.observer, 43.47, 11.80)
        west = session.scalar(select(Sector).where(Sector.code == "W"))
        assignment = assignments.create_assignment(
            session,
            observer_id=users.observer.id,
            sector_id=west.id,
            starts_on=today,
            ends_on=today,
            assigned_by=None,
        )
        return {
            "report": report.id,
            "client_id": report.client_id,
            "west": west.id,
            "assignment": assignment.id,
            "today": today,
            # Filed an hour ago: just after midnight, the report's day is yesterday.
            "day": report.occurred_at.astimezone(runtime.settings.zone).date(),
        }


def _get_routes(world):
    return [
        "/sectors",
        "/sectors/new",
        f"/sectors/{world['west']}/edit",
        "/sectors/export.geojson",
        "/assignments",
        "/roster",
        "/coverage",
        "/map",
        "/map/data.json",
        "/review",
    ]


def _post_routes(world):
    """(path, roles allowed, status they get) of the state-changing routes, each posted with a
    valid token and an otherwise empty body: an allowed role gets past the role check to the
    form's own answer (invalid form 400/422, a redirect where an empty form is a valid one)."""
    coordination = {"coord", "admin"}
    return [
        ("/sectors/import", coordination, 422),
        ("/sectors/new", coordination, 422),
        # The edit form starts from the stored sector, so an empty post saves it unchanged.
        (f"/sectors/{world['west']}/edit", coordination, 302),
        ("/sectors/limits", {"admin"}, 400),
        ("/assignments", coordination, 422),
        (f"/assignments/{world['assignment']}/delete", coordination, 302),
        (f"/review/{world['report']}", coordination, 400),
        (f"/reports/{world['report']}/answer", {"obs1"}, 302),
        ("/api/v1/sectors", coordination, 422),
        (f"/api/v1/reports/{world['client_id']}/review", coordination, 422),
    ]


@pytest.mark.parametrize("username", ROLES)
def test_each_role_gets_exactly_its_coordinators_pages_and_actions(client_for, world, username):
    client = client_for(username)
    allowed = username in ("coord", "admin")
    for path in _get_routes(world):
        status = client.get(path).status_code
        assert status == (200 if allowed else 403), (username, path, status)
    assert client.get("/api/v1/sectors").status_code == 200
    token = api_token(client)
    for path, roles, status in _post_routes(world):
        response = client.post(path, data={"csrf_token": token}, headers={"X-CSRFToken": token})
        expected = status if username in roles else 403
        assert response.status_code == expected, (username, path, response.status_code)


def test_anonymous_visitors_are_sent_to_log_in(app, world):
    client = app.test_client()
    for path in _get_routes(world):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    assert client.get("/api/v1/sectors").status_code == 401
    token = api_token(client)
    for path, _roles, _status in _post_routes(world):
        response = client.post(path, data={"csrf_token": token}, headers={"X-CSRFToken": token})
        if path.startswith("/api/"):
            assert response.status_code == 401, path
        else:
            assert response.status_code == 302, (path, response.status_code)
            assert response.headers["Location"].startswith("/login?next="), path


def test_forms_without_csrf_token_are_refused(client_for, runtime, world):
    client = client_for("coord")
    new = {"code": "N", "name": "New", "kind": "sector", "geometry": json.dumps(square(5, 5, 1))}
    assert client.post("/sectors/new", data=new).status_code == 400
    assert (
        client.post("/api/v1/sectors", json=collection(feature("N", square(5, 5, 1)))).status_code
        == 400
    )
    gone = client.post(f"/assignments/{world['assignment']}/delete")
    assert gone.status_code == 400
    with runtime.db.session_scope(write=False) as session:
        assert session.scalar(select(func.count(Sector.id))) == 3
        assert session.get(Assignment, world["assignment"]) is not None


def test_api_import_answers_201_and_exports_the_sectors(client_for, runtime, users):
    client = client_for("coord")
    response = client.post(
        "/api/v1/sectors", json=collection(WEST, EAST), headers={"X-CSRFToken": api_token(client)}
    )
    assert response.status_code == 201
    assert response.get_json()["imported"] == 2
    exported = client.get("/api/v1/sectors").get_json()
    assert exported["type"] == "FeatureCollection"
    assert {tuple(sorted(f["properties"])) for f in exported["features"]} == {
        ("code", "kind", "name")
    }
    assert sorted(f["properties"]["code"] for f in exported["features"]) == ["E", "W"]


@pytest.mark.parametrize(
    ("document", "feature_index", "words"),
    [
        (collection(WEST, feature("X", square(200, 43, 1))), 1, "out of range"),
        (
            collection(
                WEST,
                feature(
                    "X", {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}
                ),
            ),
            1,
            "not closed",
        ),
        (
            collection(
                feature(
                    "X",
                    {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
                ),
                WEST,
            ),
            0,
            "self-intersecting",
        ),
        (collection(WEST, feature("W", square(1, 1, 0.5))), 1, "duplicate code"),
        (collection(WEST, feature("X", square(1, 1, 0.5), kind="castle")), 1, "unknown kind"),
        (collection(WEST, feature("X", {"type": "Point", "coordinates": [1, 1]})), 1, "Point"),
        (
            {"type": "Feature", "geometry": square(1, 1, 1), "properties": {}},
            -1,
            "FeatureCollection",
        ),
    ],
)
def test_api_import_of_an_invalid_file_is_422_and_imports_nothing(
    client_for, runtime, users, document, feature_index, words
):
    client = client_for("admin")
    response = client.post(
        "/api/v1/sectors", json=document, headers={"X-CSRFToken": api_token(client)}
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert errors[0]["feature"] == feature_index
    assert words in errors[0]["reason"]
    with runtime.db.session_scope(write=False) as session:
        assert session.scalar(select(func.count(Sector.id))) == 0


def test_api_import_of_bytes_that_are_not_json_is_422(client_for, runtime, users):
    client = client_for("coord")
    response = client.post(
        "/api/v1/sectors",
        data=b"{broken",
        content_type="application/geo+json",
        headers={"X-CSRFToken": api_token(client)},
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["feature"] == -1


def test_import_page_takes_a_file_and_says_which_codes_were_updated(client_for, runtime, world):
    client = client_for("coord")
    page = client.get("/sectors").get_data(as_text=True)
    moved = feature("E", square(12.5, 44.0, 0.1), name="East moved")
    upload = io.BytesIO(json.dumps(collection(moved, feature("N", square(5, 5, 1)))).encode())
    response = client.post(
        "/sectors/import",
        data={"csrf_token": csrf_from(page), "file": (upload, "sectors.geojson")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "1 new, 1 updated (E)" in text
    with runtime.db.session_scope(write=False) as session:
        assert session.scalar(select(Sector.name).where(Sector.code == "E")) == "East moved"


def test_import_page_lists_the_problems_and_imports_nothing(client_for, runtime, world):
    client = client_for("coord")
    page = client.get("/sectors").get_data(as_text=True)
    bad = collection(feature("N", square(5, 5, 1)), feature("Q", square(5, 5, 1), kind="castle"))
    response = client.post(
        "/sectors/import", data={"csrf_token": csrf_from(page), "text": json.dumps(bad)}
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'id="import-problems"' in text and "Feature 1" in text and "unknown kind" in text
    with runtime.db.session_scope(write=False) as session:
        assert session.scalar(select(func.count(Sector.id))) == 3


def test_api_import_rederives_existing_reports(client_for, runtime, users):
    observer = client_for("obs1")
    created = post_report(observer, report_body(latitude=10.0, longitude=10.0)).get_json()
    assert created["sector"] is None
    client = client_for("coord")
    place = feature("TEN", square(10.0, 10.0, 0.5))
    response = client.post(
        "/api/v1/sectors", json=collection(place), headers={"X-CSRFToken": api_token(client)}
    )
    assert response.status_code == 201
    runtime.queue.drain()
    assert observer.get(f"/api/v1/reports/{created['client_id']}").get_json()["sector"] == "TEN"


def test_sector_drawn_on_the_map_is_saved_and_can_be_edited(client_for, runtime, users):
    client = client_for("coord")
    page = client.get("/sectors/new").get_data(as_text=True)
    assert 'id="draw-map"' in page and "js/draw.js" in page
    token = csrf_from(page)
    drawn = {
        "csrf_token": token,
        "code": "CP-1",
        "name": "Bridge crossing",
        "kind": "crossing_point",
        "geometry": json.dumps(square(11.88, 43.47, 0.005)),
        "active": "y",
    }
    assert client.post("/sectors/new", data=drawn).status_code == 302
    with runtime.db.session_scope(write=False) as session:
        sector = session.scalar(select(Sector).where(Sector.code == "CP-1"))
        assert (sector.kind, sector.active) == ("crossing_point", True)
    edit_page = client.get(f"/sectors/{sector.id}/edit").get_data(as_text=True)
    assert "Bridge crossing" in edit_page and "11.875" in edit_page
    changed = {**drawn, "name": "Old bridge", "geometry": json.dumps(square(11.9, 43.5, 0.01))}
    assert client.post(f"/sectors/{sector.id}/edit", data=changed).status_code == 302
    with runtime.db.session_scope(write=False) as session:
        sector = session.get(Sector, sector.id)
        assert sector.name == "Old bridge"
        assert sector.geometry["coordinates"][0][0] == [11.89, 43.49]


def test_a_crossing_drawn_shape_is_refused_with_a_reason(client_for, runtime, users):
    client = client_for("coord")
    token = csrf_from(client.get("/sectors/new").get_data(as_text=True))
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    response = client.post(
        "/sectors/new",
        data={
            "csrf_token": token,
            "code": "B",
            "name": "Bow",
            "kind": "sector",
            "geometry": json.dumps(bowtie),
        },
    )
    assert response.status_code == 422
    assert "self-intersecting" in response.get_data(as_text=True)
    with runtime.db.session_scope(write=False) as session:
        assert session.scalar(select(func.count(Sector.id))) == 0


def test_export_link_downloads_the_sectors(client_for, world):
    response = client_for("coord").get("/sectors/export.geojson")
    assert "attachment" in response.headers["Content-Disposition"]
    assert len(json.loads(response.get_data())["features"]) == 3


def _assignment_data(token, observer_id, sector_id, start, end, **extra):
    return {
        "csrf_token": token,
        "observer": str(observer_id),
        "sector": str(sector_id),
        "starts_on": start.isoformat(),
        "ends_on": end.isoformat(),
        **extra,
    }


def test_overlapping_assignment_is_warned_and_saved_only_when_allowed(
    client_for, runtime, users, world
):
    client = client_for("coord")
    token = csrf_from(client.get("/assignments").get_data(as_text=True))
    with runtime.db.session_scope(write=False) as session:
        east = session.scalar(select(Sector.id).where(Sector.code == "E"))
    data = _assignment_data(
        token, users.observer.id, east, world["today"], world["today"] + timedelta(days=2)
    )
    refused = client.post("/assignments", data=data)
    assert refused.status_code == 409
    assert 'id="overlap-warning"' in refused.get_data(as_text=True)
    allowed = client.post("/assignments", data={**data, "allow_overlap": "y"})
    assert allowed.status_code == 302
    plain = _assignment_data(token, users.observer2.id, east, world["today"], world["today"])
    assert client.post("/assignments", data=plain).status_code == 302
    with runtime.db.session_scope(write=False) as session:
        assert session.scalar(select(func.count(Assignment.id))) == 3


def test_observer_home_shows_todays_assignment_in_their_own_zone(client_for, runtime, users, world):
    # Far east of the mission's zone, "today" is often the mission's tomorrow.
    zone = "Pacific/Kiritimati"
    from zoneinfo import ZoneInfo

    their_today = utcnow().astimezone(ZoneInfo(zone)).date()
    with runtime.db.session_scope() as session:
        session.get(User, users.observer2.id).time_zone = zone
        east = session.scalar(select(Sector.id).where(Sector.code == "E"))
        assignments.create_assignment(
            session,
            observer_id=users.observer2.id,
            sector_id=east,
            starts_on=their_today,
            ends_on=their_today,
            assigned_by=None,
            note="Check the ridge road",
        )
    home = client_for("obs2").get("/home").get_data(as_text=True)
    assert "Sector E" in home and "Check the ridge road" in home
    assert "Sector W" in client_for("obs1").get("/home").get_data(as_text=True)


def test_roster_grid_shows_the_week_with_previous_and_next(client_for, world):
    page = (
        client_for("coord").get(f"/roster?week={world['today'].isoformat()}").get_data(as_text=True)
    )
    assert ">W</td>" in page
    monday = world["today"] - timedelta(days=world["today"].weekday())
    assert f"week={(monday - timedelta(days=7)).isoformat()}" in page
    assert f"week={(monday + timedelta(days=7)).isoformat()}" in page


def test_coverage_page_shows_gaps(client_for, runtime, users, world):
    page = (
        client_for("coord")
        .get(f"/coverage?day={world['today'].isoformat()}")
        .get_data(as_text=True)
    )
    # W is assigned and has obs1's report (filed an hour ago, so today unless it is just after
    # midnight); E and the DMZ have no assignment; obs2 filed nothing.
    assert "without-assignment" in page and "E · Sector E" in page
    assert "T-02 · Oscar Other" in page


def test_map_data_holds_the_days_reports_with_colours_and_filters(
    client_for, runtime, users, world
):
    with runtime.db.session_scope() as session:
        file_report(
            session,
            users.observer2,
            43.47,
            11.95,
            category="civilian_harm",
            subcategory="injured",
            details={},
        )
    client = client_for("coord")
    day = world["day"].isoformat()
    assert len(client.get(f"/map/sectors.json?day={day}").get_json()["features"]) == 3
    data = client.get(f"/map/data.json?day={day}&zoom=15").get_json()
    assert len(data["points"]) == 2
    only = client.get(f"/map/data.json?day={day}&zoom=15&category=civilian_harm").get_json()
    assert [only["categories"][p[3]] for p in only["points"]] == ["civilian_harm"]
    other_day = (world["day"] - timedelta(days=3)).isoformat()
    assert client.get(f"/map/data.json?day={other_day}").get_json()["total"] == 0


def test_map_page_uses_vendored_leaflet_and_no_tiles_by_default(client_for, world):
    page = client_for("coord").get("/map").get_data(as_text=True)
    assert "vendor/leaflet-1.9.4/leaflet.js" in page and 'data-tiles=""' in page


def test_csp_allows_the_tile_host_only_when_configured(tmp_path, database_url, runtime, world):
    default = build_app(runtime.settings, runtime).test_client().get("/login")
    assert "img-src 'self' data: blob:;" in default.headers["Content-Security-Policy"]
    settings = make_settings(
        tmp_path, database_url, map_tile_url="https://{s}.tiles.example.org/{z}/{x}/{y}.png"
    )
    app = build_app(settings)
    client = app.test_client()
    policy = client.get("/login").headers["Content-Security-Policy"]
    assert "img-src 'self' https://*.tiles.example.org data: blob:" in policy
    assert login(client, "coord").status_code == 302
    assert "tiles.example.org" in client.get("/map").get_data(as_text=True)


def test_admin_limits_a_coordinator_who_then_sees_only_those_sectors(
    client_for, runtime, users, world
):
    admin = client_for("admin")
    token = csrf_from(admin.get("/sectors").get_data(as_text=True))
    response = admin.post(
        "/sectors/limits",
        data={
            "csrf_token": token,
            "coordinator": str(users.coordinator.id),
            "sectors": [str(world["west"])],
        },
    )
    assert response.status_code == 302
    with runtime.db.session_scope(write=False) as session:
        assert list(session.scalars(select(CoordinatorSector.sector_id))) == [world["west"]]
    coord = client_for("coord")
    assert [
        f["properties"]["code"] for f in coord.get("/api/v1/sectors").get_json()["features"]
    ] == ["W"]
    assert coord.get("/sectors/new").status_code == 403
    with runtime.db.session_scope(write=False) as session:
        east = session.scalar(select(Sector.id).where(Sector.code == "E"))
    assert coord.get(f"/sectors/{east}/edit").status_code == 404
    with runtime.db.session_scope() as session:
        file_report(session, users.observer2, 43.47, 11.95)
    data = coord.get(f"/map/data.json?day={world['day'].isoformat()}&zoom=15").get_json()
    assert [p[0] for p in data["points"]] == [world["report"]]
    assert len(coord.get("/map/sectors.json").get_json()["features"]) == 1


@pytest.fixture
def limited_to_east(runtime, users, world):
    """The coordinator is limited to sector E; the world's report and assignment are in W."""
    with runtime.db.session_scope() as session:
        east = session.scalar(select(Sector.id).where(Sector.code == "E"))
        limits.set_coordinator_sectors(session, users.coordinator.id, [east], None)
    return east


def test_a_limited_coordinator_cannot_delete_an_assignment_in_another_sector(
    client_for, runtime, world, limited_to_east
):
    client = client_for("coord")
    token = csrf_from(client.get("/assignments").get_data(as_text=True))
    response = client.post(f"/assignments/{world['assignment']}/delete", data={"csrf_token": token})
    assert response.status_code == 404
    assert count(runtime, Assignment, Assignment.id == world["assignment"]) == 1
    # The same request from an admin (no limits) deletes it: the 404 was the limit's.
    admin = client_for("admin")
    token = csrf_from(admin.get("/assignments").get_data(as_text=True))
    deleted = admin.post(f"/assignments/{world['assignment']}/delete", data={"csrf_token": token})
    assert deleted.status_code == 302
    assert count(runtime, Assignment, Assignment.id == world["assignment"]) == 0


def test_a_limited_coordinator_cannot_assign_to_another_sector(
    client_for, runtime, users, world, limited_to_east
):
    client = client_for("coord")
    page = client.get("/assignments").get_data(as_text=True)
    sector_choices = page.split('name="sector"', 1)[1].split("</select>", 1)[0]
    assert "Sector W" not in sector_choices and "Sector E" in sector_choices
    data = _assignment_data(
        csrf_from(page), users.observer2.id, world["west"], world["today"], world["today"]
    )
    assert client.post("/assignments", data=data).status_code == 422
    assert count(runtime, Assignment) == 1


def test_a_limited_coordinator_sees_and_edits_only_their_sectors(
    client_for, runtime, users, world, limited_to_east
):
    client = client_for("coord")
    assert client.get(f"/sectors/{world['west']}/edit").status_code == 404
    token = csrf_from(client.get("/sectors").get_data(as_text=True))
    edit = {
        "csrf_token": token,
        "code": "W",
        "name": "Taken over",
        "kind": "sector",
        "geometry": json.dumps(square(11.85, 43.47, 0.05)),
        "active": "y",
    }
    assert client.post(f"/sectors/{world['west']}/edit", data=edit).status_code == 404
    with runtime.db.session_scope(write=False) as session:
        assert session.get(Sector, world["west"]).name == "Sector W"
    for path in ("/sectors/new", "/sectors/import", "/api/v1/sectors"):
        assert (
            client.post(
                path, data={"csrf_token": token}, headers={"X-CSRFToken": token}
            ).status_code
            == 403
        ), path
    exported = json.loads(client.get("/sectors/export.geojson").get_data())
    assert [f["properties"]["code"] for f in exported["features"]] == ["E"]
    assert "Sector W" not in client.get("/sectors").get_data(as_text=True)
    roster = client.get(f"/roster?week={world['today'].isoformat()}").get_data(as_text=True)
    assert ">W</td>" not in roster
    coverage = client.get(f"/coverage?day={world['today'].isoformat()}").get_data(as_text=True)
    assert "W · Sector W" not in coverage and "E · Sector E" in coverage
    remove_west = f"/assignments/{world['assignment']}/delete"
    assert remove_west not in client.get("/assignments").get_data(as_text=True)
    assert remove_west in client_for("admin").get("/assignments").get_data(as_text=True)


def test_a_limited_coordinator_cannot_see_or_review_reports_of_another_sector(
    client_for, runtime, world, limited_to_east
):
    client = client_for("coord")
    assert client.get(f"/reports/{world['report']}").status_code == 404
    assert client.get(f"/api/v1/reports/{world['client_id']}").status_code == 404
    assert client.get("/api/v1/reports").get_json()["reports"] == []
    token = csrf_from(client.get("/review").get_data(as_text=True))
    decided = client.post(
        f"/review/{world['report']}", data={"csrf_token": token, "status": "verified"}
    )
    assert decided.status_code == 404
    assert world["client_id"] not in client.get("/review").get_data(as_text=True)
    data = client.get(f"/map/data.json?day={world['day'].isoformat()}").get_json()
    assert data["total"] == 0
    with runtime.db.session_scope(write=False) as session:
        assert session.get(Report, world["report"]).status == "submitted"


def test_observers_never_get_other_observers_reports_through_these_routes(client_for, world):
    other = client_for("obs2")
    assert other.get(f"/reports/{world['report']}").status_code == 404
    assert other.get("/map/data.json").status_code == 403
    assert other.get("/review").status_code == 403


def test_nav_links_show_for_coordinators_only(client_for, world):
    assert 'href="/review"' in client_for("coord").get("/reports").get_data(as_text=True)
    assert 'href="/review"' not in client_for("comm").get("/reports").get_data(as_text=True)
    assert 'href="/map"' not in client_for("obs1").get("/reports").get_data(as_text=True)


def test_openapi_describes_the_sector_and_review_routes(app):
    paths = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    assert {"post"} <= set(paths["/reports/{client_id}/review"])
    assert {"get", "post"} <= set(paths["/sectors"])
