"""The review desk's figures come from counts the database keeps (``review_counts``, triggers on
reports); they must always equal a recount of the reports, whoever wrote the reports and how:
a filing, a decision, a question and its answer, an admin's reopening, an amendment that moves a
report to another category, urgency and sector, the sector repair's bulk UPDATE, a deletion."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from fieldreport.accounts.models import User
from fieldreport.db import Base, Database, utcnow
from fieldreport.reports.models import Report, ReportVersion
from fieldreport.reports.schemas import validate_report
from fieldreport.reports.service import amend_report, submit_report
from fieldreport.review import desk
from fieldreport.review.models import COUNT_TRIGGERS, OUTSIDE_SECTOR, ReviewCount
from fieldreport.review.service import answer_question, reopen_decision, review_report
from fieldreport.sectors.limits import set_coordinator_sectors
from fieldreport.sectors.locate import rederive_report_sectors
from fieldreport.sectors.models import Sector
from fieldreport.sectors.service import import_sector_collection
from tests.helpers import EAST, WEST, add_report, collection, make_user, report_body

MIGRATION = Path(__file__).parents[1] / "migrations/versions/0013_review_counts.py"


def _kept(session: Any) -> dict[tuple, int]:
    rows = session.execute(
        select(
            ReviewCount.status,
            ReviewCount.category,
            ReviewCount.urgent,
            ReviewCount.sector_key,
            ReviewCount.number,
        ).where(ReviewCount.number != 0)
    )
    return {tuple(row[:4]): row[4] for row in rows}


def _recounted(session: Any) -> dict[tuple, int]:
    key = func.coalesce(Report.sector_id, OUTSIDE_SECTOR)
    columns = (Report.status, Report.category, Report.urgent, key)
    rows = session.execute(select(*columns, func.count()).group_by(*columns))
    return {tuple(row[:4]): row[4] for row in rows}


def _filters(session: Any) -> list[desk.Filters]:
    west = session.scalar(select(Sector.id).where(Sector.code == "W"))
    return [
        desk.Filters(),
        desk.Filters(status="needs_info"),
        desk.Filters(status="in_review", urgency="routine"),
        desk.Filters(category="civilian_harm"),
        desk.Filters(urgency="urgent", sector=str(west)),
        desk.Filters(sector="outside"),
        desk.Filters(status="submitted", category="ceasefire_violation", sector=str(west)),
    ]


def assert_counts_exact(runtime: Any) -> None:
    """The kept counts equal a recount, and so does every figure the desk shows, for each
    desk role (all sectors, and a coordinator limited to W) under several filters."""
    with runtime.db.session_scope(write=False) as session:
        assert _kept(session) == _recounted(session)
        for name in ("coord", "admin", "limited"):
            viewer = session.scalar(select(User).where(User.username == name))
            for filters in _filters(session):
                assert desk.counts(session, viewer, filters) == desk.recount(
                    session, viewer, filters
                ), (name, filters)


def _input(**overrides: Any) -> Any:
    return validate_report(report_body(**overrides), now=datetime.now(UTC), parties=("A", "B"))


@pytest.fixture
def mission(runtime: Any, users: Any) -> dict[str, int]:
    """Sectors W and E, a coordinator limited to W, and reports of several kinds: filed through
    the service (sector derived), stored directly, one outside every sector."""
    now = utcnow()
    with runtime.db.session_scope() as session:
        import_sector_collection(session, collection(WEST, EAST))
        west = session.scalar(select(Sector).where(Sector.code == "W"))
        east = session.scalar(select(Sector).where(Sector.code == "E"))
        limited = make_user(session, "limited", "coordinator")
        set_coordinator_sectors(session, limited.id, [west.id], None)
        observer = session.get(User, users.observer.id)
        filed = submit_report(session, observer, _input()).report
        ids = {"filed": filed.id, "client": filed.client_id}
        for i, status in enumerate(("submitted", "in_review", "needs_info", "verified")):
            ids[status] = add_report(
                session, observer, now - timedelta(hours=i + 1), status=status, sector=west
            ).id
        ids["east"] = add_report(
            session,
            observer,
            now,
            status="submitted",
            sector=east,
            urgent=True,
            category="civilian_harm",
            subcategory="injured",
            lon=11.94,
        ).id
        ids["outside"] = add_report(session, observer, now, status="submitted", lon=12.5).id
    return ids


def test_kept_counts_equal_a_recount_through_every_kind_of_change(runtime, users, mission):
    assert_counts_exact(runtime)
    with runtime.db.session_scope() as session:
        coord, admin = session.get(User, users.coordinator.id), session.get(User, users.admin.id)
        observer = session.get(User, users.observer.id)
        review_report(session, session.get(Report, mission["submitted"]), coord, "in_review", None)
        review_report(session, session.get(Report, mission["in_review"]), coord, "verified", None)
        review_report(session, session.get(Report, mission["filed"]), coord, "needs_info", "Who?")
    assert_counts_exact(runtime)
    with runtime.db.session_scope() as session:
        observer = session.get(User, users.observer.id)
        answer_question(session, session.get(Report, mission["needs_info"]), observer, "Us.")
        reopen_decision(session, session.get(Report, mission["verified"]), admin, "Wrong place")
    assert_counts_exact(runtime)
    with runtime.db.session_scope() as session:  # another category, urgency and sector (W → E)
        observer = session.get(User, users.observer.id)
        fixed = _input(
            client_id=mission["client"],
            category="civilian_harm",
            subcategory="injured",
            details={},
            urgent=True,
            longitude=11.94,
        )
        report = amend_report(
            session, session.get(Report, mission["filed"]), observer, fixed, queue=runtime.queue
        )
        assert (report.category, report.urgent) == ("civilian_harm", True)
        assert report.sector_id == session.scalar(select(Sector.id).where(Sector.code == "E"))
    assert_counts_exact(runtime)


def test_kept_counts_follow_the_sector_repair_and_a_deletion(runtime, users, mission):
    with runtime.db.session_scope() as session:  # stored without a sector, though inside W
        observer = session.get(User, users.observer.id)
        for minute in range(3):
            add_report(session, observer, utcnow() - timedelta(minutes=minute), status="submitted")
    assert_counts_exact(runtime)
    with runtime.db.session_scope() as session:
        assert rederive_report_sectors(session) == 3  # one bulk UPDATE of the three
    assert_counts_exact(runtime)
    with runtime.db.session_scope() as session:
        gone = mission["outside"]  # the app never deletes a report; the database still may
        session.execute(delete(ReportVersion).where(ReportVersion.report_id == gone))
        session.execute(delete(Report).where(Report.id == gone))
    assert_counts_exact(runtime)


def test_the_desk_reads_its_figures_in_one_query_whatever_the_filters(
    runtime, users, mission, statements
):
    """One query of the kept counts (after the coordinator's sectors), none of the reports."""
    with runtime.db.session_scope(write=False) as session:
        for name in ("coord", "limited"):
            viewer = session.scalar(select(User).where(User.username == name))
            for filters in _filters(session):
                statements.clear()
                desk.counts(session, viewer, filters)
                assert [s for s in statements if "review_counts" in s] == statements[-1:]
                assert len(statements) == 2, statements
                assert not [s for s in statements if "FROM reports" in s], statements


def test_a_sector_filter_that_names_no_sector_is_ignored():
    """0 is the kept counts' key for "outside every sector", never a sector id; a number too big
    for the database would be an error, not a filter."""
    for given in ("0", "00", str(2**31), "9" * 30, "-1", "1.5"):
        assert desk.Filters.from_args({"sector": given}) == desk.Filters(), given
    assert desk.Filters.from_args({"sector": "7"}).sector == "7"


def test_the_migration_and_the_models_make_the_same_triggers():
    spec = importlib.util.spec_from_file_location("review_counts_migration", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.TRIGGERS == COUNT_TRIGGERS


def test_a_schema_made_by_create_all_keeps_the_counts_too(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'made.db'}")
    Base.metadata.create_all(database.engine)
    with database.session_scope() as session:
        observer = make_user(session, "obs9", team_code="T-09")
        add_report(session, observer, utcnow(), status="submitted")
        add_report(session, observer, utcnow(), status="submitted", urgent=True)
    with database.session_scope(write=False) as session:
        assert _kept(session) == _recounted(session)
        assert sum(_kept(session).values()) == 2
    database.dispose()


def _review_statements(client: Any, statements: list[str], url: str) -> list[str]:
    """The statements of one answer (``BEGIN``, sent as a statement on SQLite only, left out)."""
    assert client.get(url).status_code == 200  # warm: the session's own bookkeeping settles
    statements.clear()
    answer = client.get(url)
    assert answer.status_code == 200
    answer.get_data()
    return [s for s in statements if s != "BEGIN"]


def test_the_review_page_sends_a_fixed_number_of_queries(
    client_for, runtime, users, mission, statements
):
    """/review: the session and the user, one page of reports, the sectors, one query of the kept
    counts, the layout's digest (6); a coordinator's sectors, asked by the page, the sector list
    and the counts (3, none for an admin); the photo counts of the page's reports when it has
    any: the same however many reports wait."""
    urls = ["/review", "/review?status=submitted&urgency=routine", "/review?sector=outside"]
    clients = {name: client_for(name) for name in ("coord", "limited", "admin")}
    first: dict[tuple[str, str], int] = {}
    for more in (0, 60):
        with runtime.db.session_scope() as session:
            observer = session.get(User, users.observer.id)
            for minute in range(more):
                add_report(
                    session, observer, utcnow() - timedelta(minutes=minute), status="submitted"
                )
        for name, client in clients.items():
            for url in urls:
                sent = _review_statements(client, statements, url)
                photos = len([s for s in sent if "FROM photos" in s])
                limits = len([s for s in sent if "FROM coordinator_sectors" in s])
                assert photos <= 1 and limits == (0 if name == "admin" else 3), sent
                assert len(sent) == 6 + limits + photos, (more, name, url, sent)
                assert len([s for s in sent if "FROM reports" in s]) == 1, sent
                assert len([s for s in sent if "FROM review_counts" in s]) == 1, sent
                assert first.setdefault((name, url), len(sent)) == len(sent), (name, url)
