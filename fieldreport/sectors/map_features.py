"""What the coordinators' map shows: the reports of one day, filtered."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import Select
from sqlalchemy.orm import Session

from fieldreport.reports.models import Report
from fieldreport.sectors.days import day_bounds

MAX_MAP_REPORTS = 5000  # a day's map stays readable, and the answer small enough for a phone


def map_features(
    session: Session,
    reports_query: Select[tuple[Report]],
    *,
    day: date,
    zone: ZoneInfo,
    category: str | None = None,
    status: str | None = None,
) -> list[Report]:
    """The reports of ``day`` (event time in ``zone``) among those the viewer may see."""
    start, end = day_bounds(day, zone)
    query = reports_query.where(Report.occurred_at >= start, Report.occurred_at < end)
    if category:
        query = query.where(Report.category == category)
    if status:
        query = query.where(Report.status == status)
    return list(session.scalars(query.limit(MAX_MAP_REPORTS)))
