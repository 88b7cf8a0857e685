"""Sectors as a coordinator changes them: import, drawing, derivation, assignments, coverage."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from fieldreport.reports.models import Report
from fieldreport.runtime import activated
from fieldreport.sectors import service
from fieldreport.sectors.geometry import DOCUMENT, SectorImportError, parse_sector_collection
from fieldreport.sectors.models import Sector
from tests.helpers import DMZ, EAST, WEST, collection, feature, file_report, square

ROME = ZoneInfo("Europe/Rome")


def _sector_id(session, code):
    return session.scalar(select(Sector.id).where(Sector.code == code))


def test_import_creates_sectors_and_the_export_reimports_to_the_same(runtime):
    with runtime.db.session_scope() as session:
        outcome = service.import_sector_collection(session, collection(WEST, EAST, DMZ))
        assert (sorted(outcome.created), outcome.updated) == (["DMZ-1", "E", "W"], [])
    with runtime.db.session_scope(write=False) as session:
        exported = service.export_sectors(session)
    assert {f["properties"]["code"] for f in exported["features"]} == {"W", "E", "DMZ-1"}
    assert {f["properties"]["kind"] for f in exported["features"]} == {"sector", "dmz"}
    again = parse_sector_collection(exported)
    assert [f.code for f in again] == ["DMZ-1", "E", "W"]


def test_importing_an_existing_code_updates_that_sector(runtime):
    with runtime.db.session_scope() as session:
        service.import_sector_collection(session, collection(WEST))
    moved = feature("w", square(12.5, 44.0, 0.1), kind="dmz", name="Renamed")
    with runtime.db.session_scope() as session:
        outcome = service.import_sector_collection(session, collection(moved))
        assert (outcome.created, outcome.updated) == ([], ["W"])
    with runtime.db.session_scope(write=False) as session:
        (sector,) = session.scalars(select(Sector))
        assert (sector.code, sector.name, sector.kind) == ("W", "Renamed", "dmz")
        assert sector.geometry["coordinates"][0][0] == [12.4, 43.9]


def test_a_file_with_one_bad_feature_imports_nothing(runtime):
    bad = feature("X", {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 1]]]})
    with runtime.db.session_scope() as session, pytest.raises(SectorImportError) as error:
        service.import_sector_collection(session, collection(WEST, bad))
    assert [p.feature for p in error.value.problems] == [1]
    with runtime.db.session_scope(write=False) as session:
        assert session.scalar(select(func.count(Sector.id))) == 0


def test_a_file_that_is_not_json_is_a_document_problem(runtime):
    with runtime.db.session_scope() as session, pytest.raises(SectorImportError) as error:
        service.import_sectors(session, b"{not json")
    assert error.value.problems[0].feature == DOCUMENT


def test_saving_a_drawn_sector_checks_its_shape_and_code(runtime, users):
    with runtime.db.session_scope() as session:
        service.save_sector(
            session,
            sector_id=None,
            code="N1",
            name="North",
            kind="sector",
            geometry='{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1],[0,0]]]}',
            active=True,
            actor=users.coordinator,
        )
    with runtime.db.session_scope() as session:
        with pytest.raises(service.SectorError) as taken:
            service.save_sector(
                session,
                sector_id=None,
                code="n1",
                name="Again",
                kind="sector",
                geometry=square(5, 5, 1),
                active=True,
                actor=None,
            )
        assert taken.value.field == "code"
        bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
        with pytest.raises(service.SectorError) as crossed:
            service.save_sector(
                session,
                sector_id=None,
                code="B",
                name="Bow",
                kind="sector",
                geometry=bowtie,
                active=True,
                actor=None,
            )
        assert crossed.value.field == "geometry"
        assert "self-intersecting" in crossed.value.message


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [
        (43.47, 11.95, "E"),  # inside
        (43.47, 11.90, "E"),  # on the shared border: the smaller sector wins
        (43.47, 12.50, None),  # outside every sector
        (43.47, 11.86, "DMZ-1"),  # the DMZ wins over the sector around it
    ],
)
def test_a_report_gets_its_sector_on_save(runtime, users, lat, lon, expected):
    with runtime.db.session_scope() as session:
        service.import_sector_collection(session, collection(WEST, EAST, DMZ))
    with runtime.db.session_scope() as session:
        report = file_report(session, users.observer, lat, lon)
        assert report.sector_id == (_sector_id(session, expected) if expected else None)


def test_reports_are_rederived_after_the_sectors_change(runtime, users):
    with runtime.db.session_scope() as session:
        service.import_sector_collection(session, collection(WEST))
        outside = file_report(session, users.observer, 43.47, 11.95)
        inside = file_report(session, users.observer, 43.47, 11.86)
        assert outside.sector_id is None
    with runtime.db.session_scope() as session:
        service.import_sector_collection(session, collection(EAST, DMZ))
    from worker.sector_jobs import rederive_sectors

    with activated(runtime):
        moved = rederive_sectors()
    assert moved == 2
    with runtime.db.session_scope(write=False) as session:
        by_id = {r.id: r.sector_id for r in session.scalars(select(Report))}
        assert by_id[outside.id] == _sector_id(session, "E")
        assert by_id[inside.id] == _sector_id(session, "DMZ-1")


def test_rederiving_in_small_batches_moves_every_report_once(runtime, users):
    with runtime.db.session_scope() as session:
        for i in range(5):
            file_report(session, users.observer, 43.47, 11.91 + i * 0.01)
    with runtime.db.session_scope() as session:
        service.import_sector_collection(session, collection(EAST))
    with runtime.db.session_scope() as session:
        assert service.rederive_report_sectors(session, batch_size=2) == 5
    with runtime.db.session_scope() as session:
        assert service.rederive_report_sectors(session, batch_size=2) == 0
        assert session.scalar(select(func.count()).where(Report.sector_id.is_(None))) == 0


def test_deactivating_a_sector_takes_its_reports_out_on_rederive(runtime, users):
    with runtime.db.session_scope() as session:
        service.import_sector_collection(session, collection(EAST))
        report = file_report(session, users.observer, 43.47, 11.95)
        east = session.get(Sector, report.sector_id)
        service.save_sector(
            session,
            sector_id=east.id,
            code="E",
            name=east.name,
            kind="sector",
            geometry=east.geometry,
            active=False,
            actor=None,
        )
    with runtime.db.session_scope() as session:
        assert service.rederive_report_sectors(session) == 1
        assert session.get(Report, report.id).sector_id is None


def _assign(session, observer, sector_id, start, end, **extra):
    return service.create_assignment(
        session,
        observer_id=observer.id,
        sector_id=sector_id,
        starts_on=start,
        ends_on=end,
        assigned_by=None,
        **extra,
    )


def test_overlapping_assignments_are_refused_unless_allowed(runtime, users):
    with runtime.db.session_scope() as session:
        service.import_sector_collection(session, collection(WEST, EAST))
        west, east = _sector_id(session, "W"), _sector_id(session, "E")
        _assign(session, users.observer, west, date(2026, 11, 20), date(2026, 11, 26))
        with pytest.raises(service.AssignmentOverlap) as overlap:
            _assign(session, users.observer, east, date(2026, 11, 26), date(2026, 11, 28))
        assert [s.code for _a, s in overlap.value.overlaps] == ["W"]
        allowed = _assign(
            session,
            users.observer,
            east,
            date(2026, 11, 26),
            date(2026, 11, 28),
            allow_overlap=True,
        )
        assert allowed.allow_overlap
        # Touching ranges of another observer, or the next day, are no overlap.
        _assign(session, users.observer2, east, date(2026, 11, 20), date(2026, 11, 26))
        _assign(session, users.observer, west, date(2026, 11, 29), date(2026, 11, 30))
        with pytest.raises(service.SectorError) as backwards:
            _assign(session, users.observer2, west, date(2026, 12, 5), date(2026, 12, 1))
        assert backwards.value.field == "ends_on"
        on_day = service.assignments_on(session, users.observer.id, date(2026, 11, 26))
        assert [s.code for _a, s in on_day] == ["E", "W"]


def test_roster_shows_each_observers_sectors_per_day(runtime, users):
    with runtime.db.session_scope() as session:
        service.import_sector_collection(session, collection(WEST, EAST))
        west = _sector_id(session, "W")
        _assign(session, users.observer, west, date(2026, 11, 22), date(2026, 11, 24))
        grid = service.roster(session, date(2026, 11, 23))
    assert grid.days[0] == date(2026, 11, 23) and len(grid.days) == 7
    assert grid.cells[(users.observer.id, date(2026, 11, 23))] == ["W"]
    assert grid.cells[(users.observer.id, date(2026, 11, 24))] == ["W"]
    assert (users.observer.id, date(2026, 11, 25)) not in grid.cells
    assert [o.team_code for o in grid.observers] == ["T-01", "T-02"]


def test_coverage_counts_a_day_in_the_mission_zone(runtime, users):
    day = date(2026, 11, 24)
    with runtime.db.session_scope() as session:
        service.import_sector_collection(session, collection(WEST, EAST, DMZ))
        west, east = _sector_id(session, "W"), _sector_id(session, "E")
        _assign(session, users.observer, west, day, day)
        _assign(session, users.observer2, east, day, day)
        # 00:30 in Rome on the 24th is still the 23rd in UTC: it counts for the 24th.
        file_report(
            session,
            users.observer,
            43.47,
            11.83,
            occurred_at=datetime(2026, 11, 23, 23, 30, tzinfo=UTC),
        )
        file_report(
            session, users.observer, 43.47, 11.84, occurred_at=datetime(2026, 11, 24, 9, tzinfo=UTC)
        )
        # The 25th in Rome: not this day.
        file_report(
            session,
            users.observer2,
            43.47,
            11.95,
            occurred_at=datetime(2026, 11, 24, 23, 30, tzinfo=UTC),
        )
        file_report(
            session, users.observer, 43.47, 14.0, occurred_at=datetime(2026, 11, 24, 10, tzinfo=UTC)
        )
        report = service.coverage(session, day, ROME)
    counts = {row.sector.code: (row.assigned, row.reports) for row in report.sectors}
    assert counts == {"W": (1, 2), "E": (1, 0), "DMZ-1": (0, 0)}
    assert report.outside_sectors == 1
    assert [row.sector.code for row in report.assigned_without_report] == ["E"]
    assert [row.sector.code for row in report.without_assignment] == ["DMZ-1"]
    assert [(u.team_code, had) for u, had in report.silent_observers] == [("T-02", True)]


def test_coverage_of_a_limited_coordinator_shows_only_their_sectors(runtime, users):
    day = date(2026, 11, 24)
    with runtime.db.session_scope() as session:
        service.import_sector_collection(session, collection(WEST, EAST))
        west = _sector_id(session, "W")
        _assign(session, users.observer2, west, day, day)
        report = service.coverage(session, day, ROME, {west})
    assert [row.sector.code for row in report.sectors] == ["W"]
    assert report.outside_sectors == 0
    assert [u.team_code for u, _had in report.silent_observers] == ["T-02"]


def test_day_bounds_follow_daylight_saving(runtime):
    start, end = service.day_bounds(date(2026, 10, 25), ROME)
    assert end - start == timedelta(hours=25)


def test_import_sectors_command_imports_and_names_file_problems(tmp_path, sqlite_url):
    import json

    from click.testing import CliRunner

    from fieldreport.cli import main
    from fieldreport.runtime import set_process_default

    env = {
        "FIELDREPORT_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": sqlite_url,
        "FIELDREPORT_TIME_ZONE": "Europe/Rome",
    }
    good = tmp_path / "sectors.geojson"
    good.write_text(json.dumps(collection(WEST, EAST)))
    bad = tmp_path / "broken.geojson"
    bad.write_text("{not json")
    runner = CliRunner()
    try:
        imported = runner.invoke(main, ["import-sectors", str(good)], env=env)
        refused = runner.invoke(main, ["import-sectors", str(bad)], env=env)
    finally:
        set_process_default(None)
    assert imported.exit_code == 0, imported.output
    assert "Imported 2 sectors" in imported.output
    assert refused.exit_code == 1
    assert "file: not JSON" in refused.output


def test_sector_change_enqueues_the_rederive_job_on_rq(tmp_path, sqlite_url, users_rq):
    from redis import Redis
    from rq import Queue, SimpleWorker
    from rq.job import Job

    from fieldreport.jobs import rq_job_id
    from fieldreport.runtime import set_process_default
    from tests.helpers import api_token, login

    app, runtime, report_id = users_rq
    client = app.test_client()
    assert login(client, "coord").status_code == 302
    response = client.post(
        "/api/v1/sectors", json=collection(EAST), headers={"X-CSRFToken": api_token(client)}
    )
    assert response.status_code == 201
    connection = Redis.from_url(runtime.settings.redis_url)
    job = Job.fetch(rq_job_id("sectors:rederive"), connection=connection)
    assert job.func_name == ("worker.sector_jobs.rederive_sectors")
    set_process_default(runtime)
    try:
        SimpleWorker([Queue("default", connection=connection)], connection=connection).work(
            burst=True
        )
    finally:
        set_process_default(None)
    with runtime.db.session_scope(write=False) as session:
        report = session.get(Report, report_id)
        assert report.sector_id == _sector_id(session, "E")


@pytest.fixture
def users_rq(tmp_path, sqlite_url, redis_url):
    """An app in RQ mode (real Redis), a coordinator, and a report outside every sector."""
    from fieldreport.accounts.service import create_user
    from fieldreport.runtime import build_runtime
    from fieldreport.web.app import build_app
    from tests.helpers import PASSWORD, make_settings

    runtime = build_runtime(make_settings(tmp_path, sqlite_url, redis_url=redis_url))
    with runtime.db.session_scope() as session:
        observer = create_user(
            session, "obs1", role="observer", password=PASSWORD, team_code="T-01"
        )
        create_user(session, "coord", role="coordinator", password=PASSWORD)
        report_id = file_report(session, observer, 43.47, 11.95).id
    yield build_app(runtime.settings, runtime), runtime, report_id
    runtime.db.dispose()
