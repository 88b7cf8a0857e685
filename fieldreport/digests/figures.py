"""The digest's figures: one day in the commission's zone, aggregated by SQL.

Every figure is a ``GROUP BY`` over the day's rows (JSON detail fields are read with
SQLAlchemy's JSON index, which compiles to ``JSON_EXTRACT`` on SQLite and ``->>`` on
PostgreSQL), so the cost grows with the number of reports only inside the database. The
result is plain JSON-ready data, sorted everywhere, so the same rows always give the same
figures (and the same signature). Observers appear by team code only, never by name.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from fieldreport.accounts.models import User
from fieldreport.digests import area_figures, category_figures
from fieldreport.digests.day_range import (
    IS_VERIFIED,
    NO_SECTOR,
    DayRange,
    counted_in,
    midnight_utc,
    occurred_in,
    sector_codes,
    verified_in,
)
from fieldreport.places.finder import Locate, place_locator
from fieldreport.reports.models import STATUSES, Report
from fieldreport.reports.taxonomy import CATEGORIES
from fieldreport.sectors.models import Assignment, Sector

TREND_DAYS = 14
AVERAGE_DAYS = 7


def report_counts(session: Session, day: DayRange) -> dict[str, dict[str, dict[str, int]]]:
    """``[category][subcategory] = {"verified": n, "unverified": n}`` over the taxonomy."""
    figures: dict[str, dict[str, dict[str, int]]] = {
        category.code: {
            sub.code: {"verified": 0, "unverified": 0} for sub in category.subcategories
        }
        for category in CATEGORIES
    }
    rows = session.execute(
        select(Report.category, Report.subcategory, IS_VERIFIED, func.count())
        .where(counted_in(day))
        .group_by(Report.category, Report.subcategory, IS_VERIFIED)
    )
    for category, subcategory, verified, n in rows:
        cell = figures.setdefault(category, {}).setdefault(
            subcategory, {"verified": 0, "unverified": 0}
        )
        cell["verified" if verified else "unverified"] += int(n)
    return figures


def _previous_average(session: Session, day: DayRange) -> dict[tuple[str, str], float]:
    """Verified reports per (category, subcategory) per day over the 7 days before ``day``."""
    start = midnight_utc(day.day - timedelta(days=AVERAGE_DAYS), day.zone)
    rows = session.execute(
        select(Report.category, Report.subcategory, func.count())
        .where(occurred_in(start, day.start), Report.status == "verified")
        .group_by(Report.category, Report.subcategory)
    )
    return {(c, s): round(int(n) / AVERAGE_DAYS, 1) for c, s, n in rows}


def _headline(
    reports: dict[str, dict[str, dict[str, int]]], average: dict[tuple[str, str], float]
) -> list[dict[str, Any]]:
    rows = []
    for sub in CATEGORIES[0].subcategories:  # ceasefire violations, in taxonomy order
        cell = reports["ceasefire_violation"][sub.code]
        rows.append(
            {
                "subcategory": sub.code,
                "verified": cell["verified"],
                "unverified": cell["unverified"],
                "average_7d": average.get(("ceasefire_violation", sub.code), 0.0),
            }
        )
    return rows


def _categories(
    reports: dict[str, dict[str, dict[str, int]]], average: dict[tuple[str, str], float]
) -> list[dict[str, Any]]:
    rows = []
    for code, subs in reports.items():
        rows.append(
            {
                "category": code,
                "verified": sum(cell["verified"] for cell in subs.values()),
                "unverified": sum(cell["unverified"] for cell in subs.values()),
                "average_7d": round(sum(v for (c, _), v in average.items() if c == code), 1),
            }
        )
    return rows


def _by_party(session: Session, day: DayRange) -> list[dict[str, Any]]:
    party = func.coalesce(Report.attribution_party, "")
    confidence = func.coalesce(Report.attribution_confidence, "undetermined")
    rows = session.execute(
        select(party, confidence, Report.category, func.count())
        .where(verified_in(day))
        .group_by(party, confidence, Report.category)
    )
    table: dict[str, dict[str, Any]] = {}
    for name, sure, category, n in rows:
        row = table.setdefault(
            name, {"party": name or None, "total": 0, "by_confidence": {}, "by_category": {}}
        )
        row["total"] += int(n)
        row["by_confidence"][sure] = row["by_confidence"].get(sure, 0) + int(n)
        row["by_category"][category] = row["by_category"].get(category, 0) + int(n)
    for row in table.values():
        row["by_confidence"] = dict(sorted(row["by_confidence"].items()))
        row["by_category"] = dict(sorted(row["by_category"].items()))
    # Named parties alphabetically, then what nobody was named for.
    return sorted(table.values(), key=lambda r: (r["party"] is None, r["party"] or ""))


def _coverage(session: Session, day: DayRange) -> dict[str, list[str]]:
    reported = (
        select(Report.sector_id).where(counted_in(day), Report.sector_id.is_not(None)).distinct()
    )
    assigned = select(Assignment.sector_id).where(
        Assignment.starts_on <= day.day, Assignment.ends_on >= day.day
    )
    active = select(Sector.code).where(Sector.active.is_(True)).order_by(Sector.code)
    without_reports = session.scalars(active.where(Sector.id.not_in(reported))).all()
    without_assignments = session.scalars(active.where(Sector.id.not_in(assigned))).all()
    assigned_without_reports = session.scalars(
        active.where(Sector.id.not_in(reported), Sector.id.in_(assigned))
    ).all()
    filed = (
        select(Report.observer_id)
        .where(Report.status.in_(STATUSES), occurred_in(day.start, day.end))
        .distinct()
    )
    on_duty = select(Assignment.observer_id).where(
        Assignment.starts_on <= day.day, Assignment.ends_on >= day.day
    )
    silent = session.scalars(
        select(User.team_code)
        .where(User.role == "observer", User.active.is_(True))
        .where(User.id.in_(on_duty), User.id.not_in(filed))
        .distinct()
    ).all()
    return {
        "sectors_without_reports": list(without_reports),
        "assigned_sectors_without_reports": list(assigned_without_reports),
        "sectors_without_assignments": list(without_assignments),
        "observers_without_reports": sorted({team or NO_SECTOR for team in silent}),
    }


def trend(session: Session, day: DayRange, days: int = TREND_DAYS) -> list[tuple[date, int]]:
    """Verified reports on each of the ``days`` days ending with ``day``, in one query."""
    dates = [day.day - timedelta(days=i) for i in range(days - 1, -1, -1)]
    bounds = [midnight_utc(d, day.zone) for d in dates] + [day.end]
    bucket = case(
        *((Report.occurred_at < bounds[i + 1], literal(i)) for i in range(len(dates))),
        else_=literal(-1),
    )
    rows = session.execute(
        select(bucket, func.count())
        .where(occurred_in(bounds[0], bounds[-1]), Report.status == "verified")
        .group_by(bucket)
    )
    counts = {int(i): int(n) for i, n in rows}
    return [(d, counts.get(i, 0)) for i, d in enumerate(dates)]


def _rejected(session: Session, day: DayRange) -> int:
    where = (occurred_in(day.start, day.end), Report.status == "rejected")
    return int(session.scalar(select(func.count()).where(*where)) or 0)


def compute_figures(
    session: Session,
    day: date,
    zone: ZoneInfo,
    locate: Locate | None = None,
    codes: dict[int, str] | None = None,
) -> dict[str, Any]:
    """All of the day's figures as JSON-ready data (no times of building: deterministic).

    ``locate`` and ``codes`` (sector id → code): the build's, read once in its snapshot for
    figures and exports alike (else read here)."""
    span = DayRange.of(day, zone)
    codes = sector_codes(session) if codes is None else codes
    reports = report_counts(session, span)
    average = _previous_average(session, span)
    verified = sum(c["verified"] for subs in reports.values() for c in subs.values())
    unverified = sum(c["unverified"] for subs in reports.values() for c in subs.values())
    rejected = _rejected(session, span)
    locate = locate or place_locator(session)
    return {
        "day": day.isoformat(),
        "time_zone": zone.key,
        "utc_start": span.start.isoformat(),
        "utc_end": span.end.isoformat(),
        "totals": {"verified": verified, "unverified": unverified, "rejected": rejected},
        "reports": reports,
        "headline": _headline(reports, average),
        "categories": _categories(reports, average),
        "sectors": area_figures.by_area(session, span, codes),
        "parties": _by_party(session, span),
        "weapons": category_figures.weapons(session, span),
        "movement": category_figures.movement(session, span, codes, locate),
        "civilian": category_figures.civilian(session, span),
        "repatriation": category_figures.repatriation(session, span),
        "urgent": category_figures.urgent(session, span, codes, locate),
        "coverage": _coverage(session, span),
        "trend": [[d.isoformat(), n] for d, n in trend(session, span)],
    }
