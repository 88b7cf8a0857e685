"""Sectors as a coordinator changes them: import, drawing, export, and reports put in sectors."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from fieldreport.reports.models import Report
from fieldreport.runtime import activated
from fieldreport.sectors import service
from fieldreport.sectors.errors import SectorError
from fieldreport.sectors.geojson import DOCUMENT, SectorImportError, parse_sector_collection
from fieldreport.sectors.locate import rederive_report_sectors
from fieldreport.sectors.models import Sector
from tests.helpers import DMZ, EAST, WEST, collection, feature, file_report, square


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
        service.import_sector_collection(session, b"{not json")
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
        with pytest.raises(SectorError) as taken:
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
        with pytest.raises(SectorError) as crossed:
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
    from fieldreport.sectors.tasks import rederive_sectors

    with activated(runtime):
        moved = rederive_sectors()
    assert moved == 2
    with runtime.db.session_scope(write=False) as session:
        by_id = {r.id: r.sector_id for r in session.scalars(select(Report))}
        assert by_id[outside.id] == _sector_id(session, "E")
        assert by_id[inside.id] == _sector_id(session, "DMZ-1")


class _Refused(Exception):
    """Raised inside a session scope to roll it back."""


def test_an_import_asks_for_the_rederive_only_once_committed(runtime, users):
    with runtime.db.session_scope() as session:
        stale = file_report(session, users.observer, 43.47, 11.95).id
        service.import_sector_collection(session, collection(EAST))  # no queue: not re-derived
    with pytest.raises(_Refused), runtime.db.session_scope() as session:
        service.import_sector_collection(session, collection(WEST), queue=runtime.queue)
        raise _Refused
    runtime.queue.drain()
    with runtime.db.session_scope(write=False) as session:
        assert session.get(Report, stale).sector_id is None
        assert _sector_id(session, "W") is None
    with runtime.db.session_scope() as session:
        service.import_sector_collection(session, collection(WEST), queue=runtime.queue)
    runtime.queue.drain()
    with runtime.db.session_scope(write=False) as session:
        assert session.get(Report, stale).sector_id == _sector_id(session, "E")


def test_saving_a_drawn_sector_rederives_the_reports_once_committed(runtime, users):
    with runtime.db.session_scope() as session:
        report = file_report(session, users.observer, 43.47, 11.95).id
    with runtime.db.session_scope() as session:
        saved = service.save_sector(
            session,
            sector_id=None,
            code="E",
            name="East",
            kind="sector",
            geometry=EAST["geometry"],
            active=True,
            actor=users.coordinator,
            queue=runtime.queue,
        )
        saved_id = saved.id
    runtime.queue.drain()
    with runtime.db.session_scope(write=False) as session:
        assert session.get(Report, report).sector_id == saved_id


def test_rederiving_in_small_batches_moves_every_report_once(runtime, users):
    with runtime.db.session_scope() as session:
        for i in range(5):
            file_report(session, users.observer, 43.47, 11.91 + i * 0.01)
    with runtime.db.session_scope() as session:
        service.import_sector_collection(session, collection(EAST))
    with runtime.db.session_scope() as session:
        assert rederive_report_sectors(session, batch_size=2) == 5
    with runtime.db.session_scope() as session:
        assert rederive_report_sectors(session, batch_size=2) == 0
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
        assert rederive_report_sectors(session) == 1
        assert session.get(Report, report.id).sector_id is None


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
    assert job.func_name == "fieldreport.sectors.tasks.rederive_sectors"
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


def test_served_sector_lines_follow_every_change_of_the_sectors(runtime):
    """The simplified lines are kept between requests, and made again after any change."""

    def served(session) -> dict[str, list]:
        document = service.export_sectors(session)
        return {f["properties"]["code"]: f["geometry"]["coordinates"] for f in document["features"]}

    with runtime.db.session_scope() as session:
        service.import_sector_collection(session, collection(WEST, EAST))
    with runtime.db.session_scope(write=False) as session:
        first = served(session)
        assert served(session) == first
    moved = feature("W", square(12.50, 44.00, 0.05), name="West, moved")
    with runtime.db.session_scope() as session:
        service.import_sector_collection(session, collection(moved))
    with runtime.db.session_scope(write=False) as session:
        after = served(session)
    assert after["E"] == first["E"]
    assert after["W"] != first["W"]
    assert abs(after["W"][0][0][0] - 12.45) < 0.001
    with runtime.db.session_scope() as session:
        session.scalar(select(Sector).where(Sector.code == "E")).active = False
    with runtime.db.session_scope(write=False) as session:
        assert set(served(session)) == {"W"}
