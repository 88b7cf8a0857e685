"""The day's reports by area (sector), against the day before, as the monitoring missions wrote
their daily reports: "in S-ARZ 12 violations (8 the previous day)".

Two ``GROUP BY`` queries: the day's counted reports by sector, category and verification, and
the previous day's verified reports by sector. Sectors are named by code; reports outside any
sector are gathered under ``NO_SECTOR``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldreport.digests.day_range import IS_VERIFIED, NO_SECTOR, DayRange, counted_in, verified_in
from fieldreport.reports.models import Report


def _code(codes: dict[int, str], sector_id: int | None) -> str:
    return codes.get(sector_id, NO_SECTOR) if sector_id is not None else NO_SECTOR


def _previous_verified(session: Session, day: DayRange, codes: dict[int, str]) -> dict[str, int]:
    before = DayRange.of(day.day - timedelta(days=1), day.zone)
    rows = session.execute(
        select(Report.sector_id, func.count()).where(verified_in(before)).group_by(Report.sector_id)
    )
    counts: dict[str, int] = {}
    for sector_id, n in rows:
        code = _code(codes, sector_id)
        counts[code] = counts.get(code, 0) + int(n)
    return counts


def _empty_row(code: str) -> dict[str, Any]:
    return {
        "sector": code,
        "verified": 0,
        "unverified": 0,
        "previous_verified": 0,
        "by_category": {},
    }


def by_area(session: Session, day: DayRange, codes: dict[int, str]) -> list[dict[str, Any]]:
    """Each sector with reports on the day or the day before: verified and unverified counts,
    the previous day's verified count, and the verified count by category; busiest first."""
    rows = session.execute(
        select(Report.sector_id, Report.category, IS_VERIFIED, func.count())
        .where(counted_in(day))
        .group_by(Report.sector_id, Report.category, IS_VERIFIED)
    )
    table: dict[str, dict[str, Any]] = {}
    for sector_id, category, verified, n in rows:
        row = table.setdefault(_code(codes, sector_id), _empty_row(_code(codes, sector_id)))
        if verified:
            row["verified"] += int(n)
            row["by_category"][category] = row["by_category"].get(category, 0) + int(n)
        else:
            row["unverified"] += int(n)
    for code, n in _previous_verified(session, day, codes).items():
        table.setdefault(code, _empty_row(code))["previous_verified"] = n
    for row in table.values():
        row["by_category"] = dict(sorted(row["by_category"].items()))
    # Busiest first; ties by code so that the order never depends on the database.
    return sorted(
        table.values(),
        key=lambda r: (-r["verified"], -r["unverified"], -r["previous_verified"], r["sector"]),
    )
