"""Coverage of a day: reports and assignments per sector, and the observers who filed nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from fieldreport.accounts.models import User
from fieldreport.reports.models import Report
from fieldreport.sectors.days import day_bounds
from fieldreport.sectors.models import Assignment, Sector


@dataclass(frozen=True)
class SectorCoverage:
    sector: Sector
    reports: int
    assigned: int


@dataclass(frozen=True)
class Coverage:
    day: date
    sectors: list[SectorCoverage]
    outside_sectors: int
    silent_observers: list[tuple[User, bool]]

    @property
    def assigned_without_report(self) -> list[SectorCoverage]:
        return [row for row in self.sectors if row.assigned and not row.reports]

    @property
    def without_assignment(self) -> list[SectorCoverage]:
        return [row for row in self.sectors if not row.assigned]


def coverage(
    session: Session, day: date, zone: ZoneInfo, sector_ids: set[int] | None = None
) -> Coverage:
    """Who covered what on ``day`` (in ``zone``): reports and assignments per sector, by SQL.

    Counts reports by the event's time (as the digest does). Observers "without a report" are
    the active observers with none that day, flagged when they had an assignment.
    """
    start, end = day_bounds(day, zone)
    in_day = (Report.occurred_at >= start) & (Report.occurred_at < end)
    outside = 0
    if sector_ids is None:
        outside = session.scalar(
            select(func.count(Report.id)).where(in_day, Report.sector_id.is_(None))
        )
    return Coverage(
        day=day,
        sectors=_sector_rows(session, day, in_day, sector_ids),
        outside_sectors=int(outside or 0),
        silent_observers=_silent_observers(session, day, in_day, sector_ids),
    )


def _sector_rows(
    session: Session, day: date, in_day: ColumnElement[bool], sector_ids: set[int] | None
) -> list[SectorCoverage]:
    """Each active sector with its reports of the day and its observers assigned that day."""
    report_counts = (
        select(Report.sector_id.label("sector_id"), func.count(Report.id).label("n"))
        .where(in_day)
        .group_by(Report.sector_id)
        .subquery()
    )
    assigned_counts = (
        select(
            Assignment.sector_id.label("sector_id"),
            func.count(func.distinct(Assignment.observer_id)).label("n"),
        )
        .where(Assignment.starts_on <= day, Assignment.ends_on >= day)
        .group_by(Assignment.sector_id)
        .subquery()
    )
    query = (
        select(
            Sector,
            func.coalesce(report_counts.c.n, 0),
            func.coalesce(assigned_counts.c.n, 0),
        )
        .outerjoin(report_counts, report_counts.c.sector_id == Sector.id)
        .outerjoin(assigned_counts, assigned_counts.c.sector_id == Sector.id)
        .where(Sector.active.is_(True))
        .order_by(Sector.code)
    )
    if sector_ids is not None:
        query = query.where(Sector.id.in_(sector_ids))
    return [SectorCoverage(s, int(n), int(a)) for s, n, a in session.execute(query)]


def _silent_observers(
    session: Session, day: date, in_day: ColumnElement[bool], sector_ids: set[int] | None
) -> list[tuple[User, bool]]:
    """Active observers with no report that day, each flagged when they had an assignment.

    Limited to ``sector_ids``: only the observers assigned in those sectors.
    """
    filed = select(Report.id).where(Report.observer_id == User.id, in_day).exists()
    assigned = select(Assignment.id).where(
        Assignment.observer_id == User.id,
        Assignment.starts_on <= day,
        Assignment.ends_on >= day,
    )
    if sector_ids is not None:
        assigned = assigned.where(Assignment.sector_id.in_(sector_ids))
    query = (
        select(User, assigned.exists())
        .where(User.role == "observer", User.active.is_(True), ~filed)
        .order_by(User.team_code, User.username)
    )
    if sector_ids is not None:
        query = query.where(assigned.exists())
    return [(user, bool(had)) for user, had in session.execute(query)]
