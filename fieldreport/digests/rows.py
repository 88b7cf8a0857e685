"""The day's reports one by one (not aggregated): the annex, the map's events, the exports.

The annex and the map are part of a build's snapshot; the exports stream every verified report
of the day in batches (``exports.py`` encodes them). Team codes only, never observers' names.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldreport.digests.day_range import NO_SECTOR, DayRange, counted_in, local_time, verified_in
from fieldreport.digests.projection import MapEvent, MapSector
from fieldreport.reports.models import Report
from fieldreport.sectors.models import Sector

NARRATIVE_SHORT = 160


def annex_rows(session: Session, day: date, zone: ZoneInfo, limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` verified reports of the day, in time order, for the annex."""
    span = DayRange.of(day, zone)
    rows = session.execute(
        select(
            Report.occurred_at,
            Sector.code,
            Report.category,
            Report.subcategory,
            func.substr(Report.narrative, 1, NARRATIVE_SHORT + 1),
            Report.team_code,
        )
        .outerjoin(Sector, Sector.id == Report.sector_id)
        .where(verified_in(span))
        .order_by(Report.occurred_at, Report.id)
        .limit(limit)
    )
    return [
        {
            "time": local_time(span, at),
            "sector": code or NO_SECTOR,
            "category": category,
            "subcategory": sub,
            "narrative": _short(narrative or ""),
            "team": team or NO_SECTOR,
        }
        for at, code, category, sub, narrative, team in rows
    ]


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= NARRATIVE_SHORT else text[: NARRATIVE_SHORT - 1].rstrip() + "…"


def map_inputs(
    session: Session, day: date, zone: ZoneInfo
) -> tuple[list[MapSector], list[MapEvent]]:
    """Active sectors and the day's counted events, as the map drawing wants them."""
    span = DayRange.of(day, zone)
    sectors = [
        MapSector(code, kind, geometry)
        for code, kind, geometry in session.execute(
            select(Sector.code, Sector.kind, Sector.geometry)
            .where(Sector.active.is_(True))
            .order_by(Sector.code)
        )
    ]
    rows = session.execute(
        select(
            Report.longitude, Report.latitude, Report.category, Report.status, Report.urgent
        ).where(counted_in(span))
    )
    events = [
        MapEvent(lon, lat, category, status == "verified", bool(urgent))
        for lon, lat, category, status, urgent in rows
    ]
    return sectors, events


EXPORT_COLUMNS = (
    "occurred_at_utc",
    "local_time",
    "sector",
    "category",
    "subcategory",
    "latitude",
    "longitude",
    "basis",
    "attribution_party",
    "attribution_confidence",
    "urgent",
    "team",
    "narrative",
    "place",  # "4 km north-east of Arezzo": added by exports.with_places from the gazetteer
)


_EXPORT_QUERY = (
    select(
        Report.occurred_at,
        Sector.code,
        Report.category,
        Report.subcategory,
        Report.latitude,
        Report.longitude,
        Report.basis,
        Report.attribution_party,
        Report.attribution_confidence,
        Report.urgent,
        Report.team_code,
        Report.narrative,
    )
    .outerjoin(Sector, Sector.id == Report.sector_id)
    .order_by(Report.occurred_at, Report.id)
)


def verified_reports(
    session: Session,
    day: date,
    zone: ZoneInfo,
    batch: int = 2000,
    sector_ids: set[int] | None = None,
) -> Iterator[dict[str, Any]]:
    """The day's verified reports for the CSV and GeoJSON exports, streamed in batches.

    ``sector_ids``: only the reports in those sectors (a limited coordinator's); None: all.
    """
    span = DayRange.of(day, zone)
    query = _EXPORT_QUERY.where(verified_in(span))
    if sector_ids is not None:
        query = query.where(Report.sector_id.in_(sector_ids))
    query = query.execution_options(yield_per=batch)
    for row in session.execute(query):
        yield _export_row(span, row)


def _export_row(span: DayRange, row: Any) -> dict[str, Any]:
    at, code, category, sub, lat, lon, basis, party, confidence, urgent, team, text = row
    return {
        "occurred_at_utc": at.isoformat(),
        "local_time": span.local(at).isoformat(),
        "sector": code or "",
        "category": category,
        "subcategory": sub,
        "latitude": lat,
        "longitude": lon,
        "basis": basis,
        "attribution_party": party or "",
        "attribution_confidence": confidence or "",
        "urgent": bool(urgent),
        "team": team or "",
        "narrative": text or "",
    }
