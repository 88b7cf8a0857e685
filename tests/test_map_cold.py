"""The map's first request of a day: the cold read of ``map_points`` (a covering index, four
numbers a row straight from the driver's cursor into NumPy) gives every row exactly as stored,
the same array as the one kept current request after request, only what the viewer may see (the
visibility stays in SQL), in a constant number of statements, from the index alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select, text, update

from fieldreport.accounts.models import User
from fieldreport.reports.models import STATUSES, Report
from fieldreport.reports.service import visible_reports
from fieldreport.review.models import ReviewEvent
from fieldreport.sectors import map_points
from fieldreport.sectors.limits import set_coordinator_sectors
from fieldreport.sectors.map_features import EXACT_ZOOM
from fieldreport.sectors.map_points import CATEGORY_CODES, points_select, report_points
from fieldreport.sectors.models import Sector
from tests.helpers import add_report, add_sector, make_user

EVENT = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
DAY_START, DAY_END = EVENT - timedelta(hours=10), EVENT + timedelta(hours=13)
# Positions with every digit a float64 keeps: the cold read must not round them.
WEST_SPOTS = [(43.470123456789012 + 0.0011 * i, 11.850987654321098 + 0.0013 * i) for i in range(6)]
EAST_SPOTS = [(43.471 + 0.0012 * i, 11.951 + 0.0014 * i) for i in range(5)]


@pytest.fixture(autouse=True)
def cold_cache():
    """Every test starts, and ends, with nothing kept: its first read is a cold one."""
    map_points.clear()
    yield
    map_points.clear()


@pytest.fixture
def mission(runtime, users):
    """Sectors W and E with reports of every category, status and urgency in both; one report
    the day before; ``limited``: a coordinator limited to W."""
    with runtime.db.session_scope() as session:
        west = add_sector(session, "W", 11.85, 43.47)
        east = add_sector(session, "E", 11.95, 43.47)
        limited = make_user(session, "limited", "coordinator")
        set_coordinator_sectors(session, limited.id, [west.id], None)
        ids: dict[str, list[int]] = {"W": [], "E": []}
        for code, sector, spots in (("W", west, WEST_SPOTS), ("E", east, EAST_SPOTS)):
            for i, (lat, lon) in enumerate(spots):
                report = add_report(
                    session,
                    users.observer,
                    EVENT + timedelta(minutes=i),
                    category=CATEGORY_CODES[i % len(CATEGORY_CODES)],
                    status=STATUSES[i % len(STATUSES)],
                    urgent=i % 2 == 0,
                    sector=sector,
                    lat=lat,
                    lon=lon,
                )
                ids[code].append(report.id)
        add_report(session, users.observer, EVENT - timedelta(days=1), sector=west)
    return {"ids": ids, "day": EVENT.astimezone(runtime.settings.zone).date().isoformat()}


def _points(runtime, username: str = "coord") -> map_points.Points:
    with runtime.db.session_scope(write=False) as session:
        user = session.scalar(select(User).where(User.username == username))
        query = visible_reports(session, user).where(
            Report.occurred_at >= DAY_START, Report.occurred_at < DAY_END
        )
        return report_points(session, query)


def _by_id(points: map_points.Points) -> dict[int, tuple]:
    columns = (points.lat, points.lon, points.category, points.status, points.urgent)
    return {
        int(report_id): tuple(column[i].item() for column in columns)
        for i, report_id in enumerate(points.ids)
    }


def _stored(runtime) -> dict[int, tuple]:
    """The day's rows as the ORM reads them, in the array's terms (positions of the codes)."""
    with runtime.db.session_scope(write=False) as session:
        reports = session.scalars(
            select(Report).where(Report.occurred_at >= DAY_START, Report.occurred_at < DAY_END)
        )
        return {
            r.id: (
                r.latitude,
                r.longitude,
                CATEGORY_CODES.index(r.category if r.category in CATEGORY_CODES else "other"),
                STATUSES.index(r.status) if r.status in STATUSES else 0,
                int(r.urgent),
            )
            for r in reports
        }


def test_a_cold_read_gives_every_row_of_the_day_exactly_as_stored(runtime, mission):
    with runtime.db.session_scope() as session:
        # Codes the taxonomy no longer knows read as "other" and the first status.
        session.execute(
            update(Report)
            .where(Report.id == mission["ids"]["E"][0])
            .values(category="retired_code", status="archived")
        )
    points = _points(runtime)
    expected = _stored(runtime)
    assert len(expected) == len(WEST_SPOTS) + len(EAST_SPOTS)  # not the day before
    assert _by_id(points) == expected  # floats compared exactly: nothing rounded
    assert expected[mission["ids"]["E"][0]][2:4] == (CATEGORY_CODES.index("other"), 0)
    assert {row[2] for row in expected.values()} == set(range(len(CATEGORY_CODES)))
    assert {row[3] for row in expected.values()} == set(range(len(STATUSES)))
    assert points.ids.dtype == np.int64 and points.lat.dtype == np.float64


def test_a_cold_read_equals_the_array_kept_current_after_changes(
    runtime, users, mission, statements
):
    _points(runtime)  # kept; the changes below are then read on their own
    with runtime.db.session_scope() as session:
        new = add_report(session, users.observer, EVENT, category="civilian_harm", urgent=True)
        decided = session.get(Report, mission["ids"]["W"][0])
        decided.status = "rejected"
        session.add(
            ReviewEvent(report_id=decided.id, actor_id=users.coordinator.id, to_status="rejected")
        )
    statements.clear()
    kept = _by_id(_points(runtime))
    # Only the changed and the new reports are read again, by id (not "the day, id > n").
    (reread,) = [s for s in statements if "latitude" in s]
    assert " IN (" in reread and "reports.id >" not in reread, reread
    map_points.clear()
    cold = _by_id(_points(runtime))
    assert cold == kept == _stored(runtime)
    assert cold[new.id][2:] == (
        CATEGORY_CODES.index("civilian_harm"),
        STATUSES.index("verified"),
        1,
    )
    assert cold[mission["ids"]["W"][0]][3] == STATUSES.index("rejected")


def _shown_ids(data: dict) -> list[int]:
    """Every report id the map answer carries (exact points, and the spots' lists)."""
    ids = [row[0] for row in data["points"]]
    for row in data["clusters"]:
        ids += row[-1]
    return ids


def test_a_limited_coordinator_never_sees_another_sectors_reports_on_a_cold_read(
    runtime, client_for, mission
):
    url = f"/map/data.json?day={mission['day']}&zoom={EXACT_ZOOM}"
    everyone = client_for("coord").get(url).get_json()  # the unlimited query is kept warm
    assert sorted(_shown_ids(everyone)) == sorted(mission["ids"]["W"] + mission["ids"]["E"])
    limited = client_for("limited")
    for _ in range(2):  # the first read of their own query, and again from nothing kept
        map_points.clear()
        data = limited.get(url).get_json()
        assert sorted(_shown_ids(data)) == sorted(mission["ids"]["W"])
        assert data["total"] == len(mission["ids"]["W"])
    widest = limited.get(f"/map/data.json?day={mission['day']}&zoom=3").get_json()
    assert widest["total"] == sum(row[2] for row in widest["clusters"]) + len(widest["points"])
    assert widest["total"] == len(mission["ids"]["W"])


def _query(session, username: str):
    user = session.scalar(select(User).where(User.username == username))
    return visible_reports(session, user).where(
        Report.occurred_at >= DAY_START, Report.occurred_at < DAY_END
    )


def test_a_cold_read_is_a_constant_number_of_statements(runtime, users, mission, statements):
    """Four small look-ups (what changed last) and one read of the day, however many rows."""
    counts = []
    for more in (0, 40):
        with runtime.db.session_scope() as session:
            west = session.scalar(select(Sector).where(Sector.code == "W"))
            for i in range(more):
                add_report(session, users.observer, EVENT + timedelta(seconds=i), sector=west)
        map_points.clear()
        with runtime.db.session_scope(write=False) as session:
            query = _query(session, "limited")
            statements.clear()
            points = report_points(session, query)
        counts.append(len(statements))
        reads = [s for s in statements if "latitude" in s and "occurred_at" in s]
        assert len(reads) == 1, statements  # the day's rows: one statement, however many
    assert len(points) == len(WEST_SPOTS) + 40
    assert counts == [5, 5], statements


def _plan(session, sql: str) -> str:
    if session.get_bind().dialect.name == "sqlite":
        return " ".join(row[-1] for row in session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    # A test table is tiny: make the planner show what it would do with a real day's rows.
    session.execute(text("SET LOCAL enable_seqscan = off"))
    session.execute(text("SET LOCAL enable_bitmapscan = off"))
    return " ".join(row[0] for row in session.execute(text(f"EXPLAIN {sql}")))


def test_the_day_is_read_through_an_index_the_whole_mission_from_the_map_index_alone(
    runtime, mission
):
    with runtime.db.session_scope(write=False) as session:
        bind = session.get_bind()
        plans = {}
        for username in ("coord", "limited"):
            select_points = points_select(_query(session, username))
            sql = str(select_points.compile(bind, compile_kwargs={"literal_binds": True}))
            plans[username] = _plan(session, sql)
    if bind.dialect.name == "sqlite":
        assert "SEARCH reports USING COVERING INDEX ix_reports_map" in plans["coord"], plans
        # Limited to some sectors: the map index, or (few rows) the sectors' event-time index.
        assert plans["limited"].startswith("SEARCH reports USING"), plans
        assert "occurred_at>? AND occurred_at<?" in plans["limited"], plans
    else:
        assert "Index Only Scan using ix_reports_map" in plans["coord"], plans
        assert "Index" in plans["limited"] and "Seq Scan" not in plans["limited"], plans
