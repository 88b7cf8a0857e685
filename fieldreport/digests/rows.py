"""The day's reports one by one (not aggregated): the annex, the map's events, the exports.

A build reads the day's counted reports once (:func:`day_reports`), in its snapshot, for both the
map and the exports; a limited coordinator's download streams their verified reports in batches
(:func:`verified_records`). Rows are plain tuples from one Core query, sector codes and places
come from dicts loaded once: at 100,000 reports a per-row object or lookup costs seconds.
``exports.py`` encodes the records. Team codes only, never observers' names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldreport.digests.day_range import (
    NO_SECTOR,
    DayRange,
    counted_in,
    local_time,
    sector_codes,
    verified_in,
)
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


def map_sectors(session: Session) -> list[MapSector]:
    """The active sectors, as the map drawing wants them."""
    return [
        MapSector(code, kind, geometry)
        for code, kind, geometry in session.execute(
            select(Sector.code, Sector.kind, Sector.geometry)
            .where(Sector.active.is_(True))
            .order_by(Sector.code)
        )
    ]


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
    "place",  # "4 km north-east of Arezzo", from the gazetteer (``places.finder.place_finder``)
)
ExportRecord = tuple[Any, ...]  # one verified report, its values in EXPORT_COLUMNS order
Describe = Callable[[float, float], str]

# One lean Core query (plain tuples, no ORM objects, no join: sector codes come from a dict).
_REPORT_COLUMNS = (
    Report.occurred_at,
    Report.sector_id,
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
    Report.status,
)


@dataclass(frozen=True)
class DayReports:
    """The day's counted reports read once: the map's events and the exports' records."""

    events: list[MapEvent]  # every counted report (verified or not)
    records: list[ExportRecord]  # the verified ones, in time order


def day_reports(
    session: Session, day: date, zone: ZoneInfo, codes: dict[int, str], describe: Describe
) -> DayReports:
    """One pass over the day's counted reports, in time order, for the map and the exports.

    Read in the build's snapshot, so the exports hold exactly the verified reports the figures
    count; the map gets every counted report. ``codes``: sector id → code; ``describe``: the
    gazetteer's words for a position (both loaded once per build).
    """
    span = DayRange.of(day, zone)
    query = select(*_REPORT_COLUMNS).where(counted_in(span)).order_by(Report.occurred_at, Report.id)
    events: list[MapEvent] = []
    records: list[ExportRecord] = []
    # Core, not the ORM's result machinery: these are plain columns, and there are 100,000.
    for row in session.connection().execute(query).all():
        verified = row[12] == "verified"
        events.append(MapEvent(row[5], row[4], row[2], verified, bool(row[9])))
        if verified:
            records.append(_export_record(span, codes, describe, row))
    return DayReports(events, records)


def verified_records(
    session: Session,
    day: date,
    zone: ZoneInfo,
    describe: Describe,
    sector_ids: set[int] | None = None,
    batch: int = 2000,
) -> Iterator[ExportRecord]:
    """The day's verified reports as export records, streamed in batches (the download of a
    coordinator limited to some sectors: ``sector_ids``; None: all)."""
    span = DayRange.of(day, zone)
    codes = sector_codes(session)
    query = select(*_REPORT_COLUMNS).where(verified_in(span))
    if sector_ids is not None:
        query = query.where(Report.sector_id.in_(sector_ids))
    query = query.order_by(Report.occurred_at, Report.id).execution_options(yield_per=batch)
    for row in session.connection().execute(query):
        yield _export_record(span, codes, describe, row)


def _export_record(
    span: DayRange, codes: dict[int, str], describe: Describe, row: tuple[Any, ...]
) -> ExportRecord:
    at, sector_id, category, sub, lat, lon, basis, party, confidence, urgent, team, text, _ = row
    return (
        at.isoformat(),
        span.local(at).isoformat(),
        codes.get(sector_id, "") if sector_id is not None else "",
        category,
        sub,
        lat,
        lon,
        basis,
        party or "",
        confidence or "",
        bool(urgent),
        team or "",
        text or "",
        describe(lat, lon),
    )
