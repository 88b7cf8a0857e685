"""Assignments, the week roster and a day's coverage, as coordinators see them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from fieldreport.accounts.models import User
from fieldreport.sectors import assignments, limits
from fieldreport.sectors.coverage import coverage
from fieldreport.sectors.days import day_bounds
from fieldreport.sectors.errors import SectorError
from fieldreport.sectors.models import Assignment, Sector
from fieldreport.sectors.service import import_sector_collection
from tests.helpers import DMZ, EAST, WEST, collection, file_report

ROME = ZoneInfo("Europe/Rome")


def _sector_id(session, code):
    return session.scalar(select(Sector.id).where(Sector.code == code))


def _assign(session, observer, sector_id, start, end, **extra):
    return assignments.create_assignment(
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
        import_sector_collection(session, collection(WEST, EAST))
        west, east = _sector_id(session, "W"), _sector_id(session, "E")
        _assign(session, users.observer, west, date(2026, 11, 20), date(2026, 11, 26))
        with pytest.raises(assignments.AssignmentOverlap) as overlap:
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
        with pytest.raises(SectorError) as backwards:
            _assign(session, users.observer2, west, date(2026, 12, 5), date(2026, 12, 1))
        assert backwards.value.field == "ends_on"
        on_day = assignments.assignments_on(session, users.observer.id, date(2026, 11, 26))
        assert [s.code for _a, s in on_day] == ["E", "W"]


def test_a_limited_coordinator_assigns_and_removes_only_in_their_sectors(runtime, users):
    with runtime.db.session_scope() as session:
        import_sector_collection(session, collection(WEST, EAST))
        west, east = _sector_id(session, "W"), _sector_id(session, "E")
        limits.set_coordinator_sectors(session, users.coordinator.id, [west], None)
        coordinator = session.get(User, users.coordinator.id)
        day = date(2026, 11, 24)
        with pytest.raises(SectorError) as elsewhere:
            assignments.create_assignment(
                session,
                observer_id=users.observer.id,
                sector_id=east,
                starts_on=day,
                ends_on=day,
                assigned_by=coordinator,
            )
        assert elsewhere.value.field == "sector"
        theirs = assignments.create_assignment(
            session,
            observer_id=users.observer.id,
            sector_id=west,
            starts_on=day,
            ends_on=day,
            assigned_by=coordinator,
        )
        other = _assign(session, users.observer2, east, day, day)
        assert not assignments.delete_assignment(session, other.id, coordinator)
        assert not assignments.delete_assignment(session, 10_000, coordinator)
        assert assignments.delete_assignment(session, theirs.id, coordinator)
        session.flush()
        left = session.scalars(select(Assignment.id)).all()
    assert left == [other.id]


def test_roster_shows_each_observers_sectors_per_day(runtime, users):
    with runtime.db.session_scope() as session:
        import_sector_collection(session, collection(WEST, EAST))
        west = _sector_id(session, "W")
        _assign(session, users.observer, west, date(2026, 11, 22), date(2026, 11, 24))
        grid = assignments.roster(session, date(2026, 11, 23))
    assert grid.days[0] == date(2026, 11, 23) and len(grid.days) == 7
    assert grid.cells[(users.observer.id, date(2026, 11, 23))] == ["W"]
    assert grid.cells[(users.observer.id, date(2026, 11, 24))] == ["W"]
    assert (users.observer.id, date(2026, 11, 25)) not in grid.cells
    assert [o.team_code for o in grid.observers] == ["T-01", "T-02"]


def test_coverage_counts_a_day_in_the_mission_zone(runtime, users):
    day = date(2026, 11, 24)
    with runtime.db.session_scope() as session:
        import_sector_collection(session, collection(WEST, EAST, DMZ))
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
        report = coverage(session, day, ROME)
    counts = {row.sector.code: (row.assigned, row.reports) for row in report.sectors}
    assert counts == {"W": (1, 2), "E": (1, 0), "DMZ-1": (0, 0)}
    assert report.outside_sectors == 1
    assert [row.sector.code for row in report.assigned_without_report] == ["E"]
    assert [row.sector.code for row in report.without_assignment] == ["DMZ-1"]
    assert [(u.team_code, had) for u, had in report.silent_observers] == [("T-02", True)]


def test_coverage_of_a_limited_coordinator_shows_only_their_sectors(runtime, users):
    day = date(2026, 11, 24)
    with runtime.db.session_scope() as session:
        import_sector_collection(session, collection(WEST, EAST))
        west = _sector_id(session, "W")
        _assign(session, users.observer2, west, day, day)
        report = coverage(session, day, ROME, {west})
    assert [row.sector.code for row in report.sectors] == ["W"]
    assert report.outside_sectors == 0
    assert [u.team_code for u, _had in report.silent_observers] == ["T-02"]


def test_day_bounds_follow_daylight_saving(runtime):
    start, end = day_bounds(date(2026, 10, 25), ROME)
    assert end - start == timedelta(hours=25)
