"""The figures of single categories: weapons, freedom of movement, civilian harm, repatriation,
and the urgent incidents. Each is a few ``GROUP BY`` queries over the day's verified reports
(urgent ones: all counted reports), their lists cut at ``LIST_LIMIT`` rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from fieldreport.digests.day_range import (
    IS_VERIFIED,
    NO_SECTOR,
    DayRange,
    counted_in,
    int_detail,
    local_time,
    verified_in,
)
from fieldreport.places.finder import Locate
from fieldreport.reports.models import Report

LIST_LIMIT = 100  # rows kept in the figures for lists (restrictions, urgent incidents)
PERSON_FIELDS = ("men", "women", "children", "unknown_persons")


def weapons(session: Session, day: DayRange) -> list[dict[str, Any]]:
    relation = func.coalesce(Report.details["relation"].as_string(), "unknown")
    rows = session.execute(
        select(Report.subcategory, relation, func.count(), int_detail("count"))
        .where(verified_in(day), Report.category == "weapons_forces")
        .group_by(Report.subcategory, relation)
        .order_by(Report.subcategory, relation)
    )
    return [
        {"subcategory": s, "relation": r, "reports": int(n), "items": int(c)} for s, r, n, c in rows
    ]


def _place(locate: Locate, latitude: float, longitude: float) -> list[Any] | None:
    """The nearest named place as [name, km (one decimal), compass point], or None."""
    found = locate(latitude, longitude)
    return [found[0], round(found[1], 1), found[2]] if found else None


def movement(
    session: Session, day: DayRange, codes: dict[int, str], locate: Locate
) -> dict[str, Any]:
    where = and_(verified_in(day), Report.category == "freedom_of_movement")
    total = int(session.scalar(select(func.count()).where(where)) or 0)
    minutes = int(session.scalar(select(int_detail("duration_min")).where(where)) or 0)
    rows = session.execute(
        select(
            Report.occurred_at,
            Report.sector_id,
            Report.subcategory,
            Report.details["checkpoint_party"].as_string(),
            Report.details["duration_min"].as_integer(),
            Report.details["effect"].as_string(),
            Report.team_code,
            Report.latitude,
            Report.longitude,
            Report.id,
        )
        .where(where)
        .order_by(Report.occurred_at, Report.id)
        .limit(LIST_LIMIT)
    )
    items = [
        {
            "time": local_time(day, at),
            "place": _place(locate, lat, lon),
            "sector": codes.get(sector_id, NO_SECTOR) if sector_id else NO_SECTOR,
            "subcategory": sub,
            "checkpoint_party": party or None,
            "duration_min": duration,
            "effect": effect or None,
            "team": team or NO_SECTOR,
        }
        for at, sector_id, sub, party, duration, effect, team, lat, lon, _ in rows
    ]
    return {"count": total, "minutes": minutes, "items": items, "listed": len(items)}


def civilian(session: Session, day: DayRange) -> dict[str, Any]:
    harm = {sub: {"reports": 0, **dict.fromkeys(PERSON_FIELDS, 0)} for sub in ("killed", "injured")}
    rows = session.execute(
        select(Report.subcategory, func.count(), *(int_detail(f) for f in PERSON_FIELDS))
        .where(verified_in(day), Report.category == "civilian_harm")
        .where(Report.subcategory.in_(("killed", "injured")))
        .group_by(Report.subcategory)
    )
    for sub, n, *persons in rows:
        harm[sub] = {"reports": int(n), **dict(zip(PERSON_FIELDS, map(int, persons), strict=True))}
    for cell in harm.values():
        cell["total"] = sum(cell[f] for f in PERSON_FIELDS)
    obj = func.coalesce(Report.details["object_damaged"].as_string(), "")
    damage_rows = session.execute(
        select(Report.subcategory, obj, func.count(), int_detail("objects"))
        .where(verified_in(day), Report.category == "civilian_harm")
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


def repatriation(session: Session, day: DayRange) -> dict[str, Any]:
    where = and_(verified_in(day), Report.category == "repatriation")
    sides = (int_detail("persons_side_a"), int_detail("persons_side_b"))
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


def _verified_split(session: Session, where: ColumnElement[bool]) -> dict[int, int]:
    """{1: verified, 0: unverified} counts of the reports ``where`` selects."""
    rows = session.execute(select(IS_VERIFIED, func.count()).where(where).group_by(IS_VERIFIED))
    return {int(verified): int(n) for verified, n in rows}


def urgent(
    session: Session, day: DayRange, codes: dict[int, str], locate: Locate
) -> dict[str, Any]:
    where = and_(counted_in(day), Report.urgent.is_(True))
    counts = _verified_split(session, where)
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
            Report.latitude,
            Report.longitude,
            Report.id,
        )
        .where(where)
        .order_by(Report.occurred_at, Report.id)
        .limit(LIST_LIMIT)
    )
    items = [
        {
            "time": local_time(day, row.occurred_at),
            "place": _place(locate, row.latitude, row.longitude),
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
