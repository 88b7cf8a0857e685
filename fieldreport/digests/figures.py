"""The digest's figures: one day in the commission's zone, aggregated by SQL.

Every figure is a ``GROUP BY`` over the day's rows (JSON detail fields are read with
SQLAlchemy's JSON index, which compiles to ``JSON_EXTRACT`` on SQLite and ``->>`` on
PostgreSQL), so the cost grows with the number of reports only inside the database. The
result is plain JSON-ready data, sorted everywhere, so the same rows always give the same
figures (and the same signature). Observers appear by team code only, never by name.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.orm import Session

from fieldreport.accounts.models import User
from fieldreport.digests.projection import MapEvent, MapSector
from fieldreport.reports.models import STATUSES, Report
from fieldreport.reports.taxonomy import CATEGORIES
from fieldreport.sectors.models import Assignment, Sector

TREND_DAYS = 14
AVERAGE_DAYS = 7
LIST_LIMIT = 100  # rows kept in the figures for lists (restrictions, urgent incidents)
NARRATIVE_SHORT = 160
PERSON_FIELDS = ("men", "women", "children", "unknown_persons")
NO_SECTOR = "—"


@dataclass(frozen=True)
class DayRange:
    """Day ``day`` in ``zone`` as the UTC instants [start, end): 23 or 25 hours at DST changes."""

    day: date
    zone: ZoneInfo
    start: datetime
    end: datetime

    @classmethod
    def of(cls, day: date, zone: ZoneInfo) -> DayRange:
        return cls(
            day, zone, _midnight_utc(day, zone), _midnight_utc(day + timedelta(days=1), zone)
        )

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)


def _midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def _in(start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(Report.occurred_at >= start, Report.occurred_at < end)


# Spelled as IN (…), not != 'rejected': an equality on the index's first column lets the
# database read the day's rows from ix_reports_digest_status_day alone.
COUNTED_STATUSES = tuple(status for status in STATUSES if status != "rejected")


def _counted(day: DayRange) -> ColumnElement[bool]:
    """The day's reports that count at all: rejected ones are not counted anywhere."""
    return and_(Report.status.in_(COUNTED_STATUSES), _in(day.start, day.end))


def _verified(day: DayRange) -> ColumnElement[bool]:
    return and_(_in(day.start, day.end), Report.status == "verified")


_IS_VERIFIED = case((Report.status == "verified", 1), else_=0)


def _int_detail(name: str) -> ColumnElement[int]:
    return func.coalesce(func.sum(Report.details[name].as_integer()), 0)


def _sector_codes(session: Session) -> dict[int, str]:
    return {sector_id: code for sector_id, code in session.execute(select(Sector.id, Sector.code))}


def report_counts(session: Session, day: DayRange) -> dict[str, dict[str, dict[str, int]]]:
    """``[category][subcategory] = {"verified": n, "unverified": n}`` over the taxonomy."""
    figures: dict[str, dict[str, dict[str, int]]] = {
        category.code: {
            sub.code: {"verified": 0, "unverified": 0} for sub in category.subcategories
        }
        for category in CATEGORIES
    }
    rows = session.execute(
        select(Report.category, Report.subcategory, _IS_VERIFIED, func.count())
        .where(_counted(day))
        .group_by(Report.category, Report.subcategory, _IS_VERIFIED)
    )
    for category, subcategory, verified, n in rows:
        cell = figures.setdefault(category, {}).setdefault(
            subcategory, {"verified": 0, "unverified": 0}
        )
        cell["verified" if verified else "unverified"] += int(n)
    return figures


def _previous_average(session: Session, day: DayRange) -> dict[tuple[str, str], float]:
    """Verified reports per (category, subcategory) per day over the 7 days before ``day``."""
    start = _midnight_utc(day.day - timedelta(days=AVERAGE_DAYS), day.zone)
    rows = session.execute(
        select(Report.category, Report.subcategory, func.count())
        .where(_in(start, day.start), Report.status == "verified")
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


def _by_sector(session: Session, day: DayRange, codes: dict[int, str]) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Report.sector_id, Report.category, _IS_VERIFIED, func.count())
        .where(_counted(day))
        .group_by(Report.sector_id, Report.category, _IS_VERIFIED)
    )
    table: dict[str, dict[str, Any]] = {}
    for sector_id, category, verified, n in rows:
        code = codes.get(sector_id, NO_SECTOR) if sector_id is not None else NO_SECTOR
        row = table.setdefault(
            code, {"sector": code, "verified": 0, "unverified": 0, "by_category": {}}
        )
        if verified:
            row["verified"] += int(n)
            row["by_category"][category] = row["by_category"].get(category, 0) + int(n)
        else:
            row["unverified"] += int(n)
    for row in table.values():
        row["by_category"] = dict(sorted(row["by_category"].items()))
    # Busiest first; ties by code so that the order never depends on the database.
    return sorted(table.values(), key=lambda r: (-r["verified"], -r["unverified"], r["sector"]))


def _by_party(session: Session, day: DayRange) -> list[dict[str, Any]]:
    party = func.coalesce(Report.attribution_party, "")
    confidence = func.coalesce(Report.attribution_confidence, "undetermined")
    rows = session.execute(
        select(party, confidence, Report.category, func.count())
        .where(_verified(day))
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


def _weapons(session: Session, day: DayRange) -> list[dict[str, Any]]:
    relation = func.coalesce(Report.details["relation"].as_string(), "unknown")
    rows = session.execute(
        select(Report.subcategory, relation, func.count(), _int_detail("count"))
        .where(_verified(day), Report.category == "weapons_forces")
        .group_by(Report.subcategory, relation)
        .order_by(Report.subcategory, relation)
    )
    return [
        {"subcategory": s, "relation": r, "reports": int(n), "items": int(c)} for s, r, n, c in rows
    ]


def _local_time(day: DayRange, moment: datetime) -> str:
    return day.local(moment).strftime("%H:%M")


def _movement(session: Session, day: DayRange, codes: dict[int, str]) -> dict[str, Any]:
    where = and_(_verified(day), Report.category == "freedom_of_movement")
    total = int(session.scalar(select(func.count()).where(where)) or 0)
    minutes = int(session.scalar(select(_int_detail("duration_min")).where(where)) or 0)
    rows = session.execute(
        select(
            Report.occurred_at,
            Report.sector_id,
            Report.subcategory,
            Report.details["checkpoint_party"].as_string(),
            Report.details["duration_min"].as_integer(),
            Report.details["effect"].as_string(),
            Report.team_code,
            Report.id,
        )
        .where(where)
        .order_by(Report.occurred_at, Report.id)
        .limit(LIST_LIMIT)
    )
    items = [
        {
            "time": _local_time(day, at),
            "sector": codes.get(sector_id, NO_SECTOR) if sector_id else NO_SECTOR,
            "subcategory": sub,
            "checkpoint_party": party or None,
            "duration_min": duration,
            "effect": effect or None,
            "team": team or NO_SECTOR,
        }
        for at, sector_id, sub, party, duration, effect, team, _ in rows
    ]
    return {"count": total, "minutes": minutes, "items": items, "listed": len(items)}


def _civilian(session: Session, day: DayRange) -> dict[str, Any]:
    harm = {sub: {"reports": 0, **dict.fromkeys(PERSON_FIELDS, 0)} for sub in ("killed", "injured")}
    rows = session.execute(
        select(Report.subcategory, func.count(), *(_int_detail(f) for f in PERSON_FIELDS))
        .where(_verified(day), Report.category == "civilian_harm")
        .where(Report.subcategory.in_(("killed", "injured")))
        .group_by(Report.subcategory)
    )
    for sub, n, *persons in rows:
        harm[sub] = {"reports": int(n), **dict(zip(PERSON_FIELDS, map(int, persons), strict=True))}
    for cell in harm.values():
        cell["total"] = sum(cell[f] for f in PERSON_FIELDS)
    obj = func.coalesce(Report.details["object_damaged"].as_string(), "")
    damage_rows = session.execute(
        select(Report.subcategory, obj, func.count(), _int_detail("objects"))
        .where(_verified(day), Report.category == "civilian_harm")
        .where(Report.subcategory.in_(("damage_homes", "damage_infrastructure")))
        .group_by(Report.subcategory, obj)
    )
    damage = sorted(
        (
            {"subcategory": s, "object": o or None, "reports": int(n), "objects": int(c)}
            for s, o, n, c in damage_rows
        ),
        key=lambda r: (r["subcategory"], -r["reports"], r["object"] or ""),
    )
    return {**harm, "damage": damage[:LIST_LIMIT], "damage_kinds": len(damage)}


def _repatriation(session: Session, day: DayRange) -> dict[str, Any]:
    where = and_(_verified(day), Report.category == "repatriation")
    sides = (_int_detail("persons_side_a"), _int_detail("persons_side_b"))
    by_sub = [
        {"subcategory": s, "reports": int(n), "side_a": int(a), "side_b": int(b)}
        for s, n, a, b in session.execute(
            select(Report.subcategory, func.count(), *sides)
            .where(where)
            .group_by(Report.subcategory)
            .order_by(Report.subcategory)
        )
    ]
    point = func.coalesce(Report.details["crossing_point"].as_string(), "")
    by_point = [
        {"crossing_point": p or None, "reports": int(n), "side_a": int(a), "side_b": int(b)}
        for p, n, a, b in session.execute(
            select(point, func.count(), *sides).where(where).group_by(point).order_by(point)
        )
    ]
    total_a = sum(r["side_a"] for r in by_sub)
    total_b = sum(r["side_b"] for r in by_sub)
    return {
        "by_subcategory": by_sub,
        "by_crossing_point": by_point[:LIST_LIMIT],
        "side_a": total_a,
        "side_b": total_b,
    }


def _urgent(session: Session, day: DayRange, codes: dict[int, str]) -> dict[str, Any]:
    where = and_(_counted(day), Report.urgent.is_(True))
    counts = {
        int(verified): int(n)
        for verified, n in session.execute(
            select(_IS_VERIFIED, func.count()).where(where).group_by(_IS_VERIFIED)
        )
    }
    rows = session.execute(
        select(
            Report.occurred_at,
            Report.sector_id,
            Report.category,
            Report.subcategory,
            Report.status,
            Report.attribution_party,
            Report.attribution_confidence,
            Report.details,
            Report.narrative,
            Report.team_code,
            Report.id,
        )
        .where(where)
        .order_by(Report.occurred_at, Report.id)
        .limit(LIST_LIMIT)
    )
    items = [
        {
            "time": _local_time(day, row.occurred_at),
            "sector": codes.get(row.sector_id, NO_SECTOR) if row.sector_id else NO_SECTOR,
            "category": row.category,
            "subcategory": row.subcategory,
            "verified": row.status == "verified",
            "party": row.attribution_party,
            "confidence": row.attribution_confidence,
            "details": dict(sorted((row.details or {}).items())),
            "narrative": row.narrative or "",
            "team": row.team_code or NO_SECTOR,
        }
        for row in rows
    ]
    return {
        "verified": int(counts.get(1, 0)),
        "unverified": int(counts.get(0, 0)),
        "items": items,
    }


def _coverage(session: Session, day: DayRange) -> dict[str, list[str]]:
    reported = (
        select(Report.sector_id).where(_counted(day), Report.sector_id.is_not(None)).distinct()
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
        .where(Report.status.in_(STATUSES), _in(day.start, day.end))
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
    bounds = [_midnight_utc(d, day.zone) for d in dates] + [day.end]
    bucket = case(
        *((Report.occurred_at < bounds[i + 1], literal(i)) for i in range(len(dates))),
        else_=literal(-1),
    )
    rows = session.execute(
        select(bucket, func.count())
        .where(_in(bounds[0], bounds[-1]), Report.status == "verified")
        .group_by(bucket)
    )
    counts = {int(i): int(n) for i, n in rows}
    return [(d, counts.get(i, 0)) for i, d in enumerate(dates)]


def compute_figures(session: Session, day: date, zone: ZoneInfo) -> dict[str, Any]:
    """All of the day's figures as JSON-ready data (no times of building: deterministic)."""
    span = DayRange.of(day, zone)
    codes = _sector_codes(session)
    reports = report_counts(session, span)
    average = _previous_average(session, span)
    verified = sum(c["verified"] for subs in reports.values() for c in subs.values())
    unverified = sum(c["unverified"] for subs in reports.values() for c in subs.values())
    rejected = int(
        session.scalar(
            select(func.count()).where(_in(span.start, span.end), Report.status == "rejected")
        )
        or 0
    )
    return {
        "day": day.isoformat(),
        "time_zone": zone.key,
        "utc_start": span.start.isoformat(),
        "utc_end": span.end.isoformat(),
        "totals": {"verified": verified, "unverified": unverified, "rejected": rejected},
        "reports": reports,
        "headline": _headline(reports, average),
        "categories": _categories(reports, average),
        "sectors": _by_sector(session, span, codes),
        "parties": _by_party(session, span),
        "weapons": _weapons(session, span),
        "movement": _movement(session, span, codes),
        "civilian": _civilian(session, span),
        "repatriation": _repatriation(session, span),
        "urgent": _urgent(session, span, codes),
        "coverage": _coverage(session, span),
        "trend": [[d.isoformat(), n] for d, n in trend(session, span)],
    }


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
        .where(_verified(span))
        .order_by(Report.occurred_at, Report.id)
        .limit(limit)
    )
    return [
        {
            "time": _local_time(span, at),
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
        ).where(_counted(span))
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
)


def verified_reports(
    session: Session, day: date, zone: ZoneInfo, batch: int = 2000
) -> Iterator[dict[str, Any]]:
    """The day's verified reports for the CSV and GeoJSON exports, streamed in batches."""
    span = DayRange.of(day, zone)
    query = (
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
        .where(_verified(span))
        .order_by(Report.occurred_at, Report.id)
        .execution_options(yield_per=batch)
    )
    for (
        at,
        code,
        category,
        sub,
        lat,
        lon,
        basis,
        party,
        confidence,
        urgent,
        team,
        text,
    ) in session.execute(query):
        yield {
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
