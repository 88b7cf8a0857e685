"""Factories for the digest tests: sectors, assignments and reports stored as rows.

Reports are inserted directly (status set as a coordinator would have left it) so that a test
can place them at exact instants around midnight and daylight-saving changes; each gets a
ledger entry through the reports service, as a filed report does.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from fieldreport.reports.models import Report
from fieldreport.reports.service import append_version
from fieldreport.sectors.models import Assignment, Sector
from fieldreport.sectors.shapes import square_polygon


def square(lon: float, lat: float, half: float = 0.05) -> dict[str, Any]:
    return square_polygon(lon, lat, half)


def add_sector(session: Session, code: str, lon: float, lat: float, kind: str = "sector") -> Sector:
    sector = Sector(code=code, name=f"Sector {code}", kind=kind, geometry=square(lon, lat))
    session.add(sector)
    session.flush()
    return sector


def assign(session: Session, observer: Any, sector: Sector, first: date, last: date) -> None:
    session.add(
        Assignment(observer_id=observer.id, sector_id=sector.id, starts_on=first, ends_on=last)
    )


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def add_report(
    session: Session,
    observer: Any,
    occurred_at: datetime,
    *,
    category: str = "ceasefire_violation",
    subcategory: str = "small_arms_fire",
    status: str = "verified",
    sector: Sector | None = None,
    details: dict[str, Any] | None = None,
    urgent: bool = False,
    party: str | None = None,
    confidence: str | None = None,
    narrative: str = "Bursts of fire from the ridge.",
    lon: float = 11.85,
    lat: float = 43.47,
) -> Report:
    report = Report(
        client_id=str(uuid.uuid4()),
        observer_id=observer.id,
        team_code=observer.team_code,
        category=category,
        subcategory=subcategory,
        occurred_at=occurred_at,
        occurred_offset_minutes=60,
        latitude=lat,
        longitude=lon,
        accuracy_m=10,
        sector_id=sector.id if sector else None,
        basis="seen",
        attribution_party=party,
        attribution_confidence=confidence,
        details=details or {},
        narrative=narrative,
        urgent=urgent,
        status=status,
        version=1,
        content_sha256="0" * 64,
    )
    session.add(report)
    session.flush()
    append_version(session, report, {"client_id": report.client_id, "narrative": narrative}, None)
    session.flush()
    return report


DAY = date(2026, 11, 24)  # Europe/Rome, CET (UTC+1): 2026-11-23T23:00Z to 2026-11-24T23:00Z


def hand_counted_day(s: Session, users: Any) -> date:
    """A day counted by hand (see tests/test_digest_figures.py); local times in Europe/Rome."""
    obs = users.observer
    s1 = add_sector(s, "S-01", 11.85, 43.47)
    s2 = add_sector(s, "S-02", 11.95, 43.47)
    s3 = add_sector(s, "S-03", 12.05, 43.47)
    assign(s, users.observer, s1, date(2026, 11, 20), date(2026, 11, 30))
    assign(s, users.observer2, s3, DAY, DAY)
    # 00:30 on the day: counted, though it is still the 23rd in UTC.
    add_report(s, obs, utc("2026-11-23T23:30"), sector=s1, party="Party A", confidence="likely")
    # 23:30 the day before: not the day's, but in the 7-day average.
    add_report(s, obs, utc("2026-11-23T22:30"), sector=s1)
    # 23:59 on the day, outside every sector.
    add_report(
        s,
        obs,
        utc("2026-11-24T22:59"),
        subcategory="explosion",
        party="Party B",
        confidence="confirmed",
    )
    # 00:00 the next day: not counted.
    add_report(s, obs, utc("2026-11-24T23:00"), subcategory="explosion")
    add_report(s, obs, utc("2026-11-24T10:00"), status="disputed", sector=s1)
    add_report(s, obs, utc("2026-11-24T10:05"), status="rejected", sector=s1)
    add_report(s, obs, utc("2026-11-24T10:10"), status="in_review", sector=s2)
    # 00:10 seven days before: in the average; eight days before: not.
    add_report(s, obs, utc("2026-11-16T23:10"), sector=s1)
    add_report(s, obs, utc("2026-11-15T23:10"), sector=s1)
    add_report(
        s,
        obs,
        utc("2026-11-24T08:00"),
        category="civilian_harm",
        subcategory="killed",
        status="submitted",
        urgent=True,
        details={"men": 1, "women": 2},
        sector=s1,
    )
    add_report(
        s,
        obs,
        utc("2026-11-24T09:00"),
        category="civilian_harm",
        subcategory="killed",
        urgent=True,
        details={"men": 2, "children": 1},
        sector=s1,
        narrative="Two men and a child killed by shelling.",
    )
    add_report(
        s,
        obs,
        utc("2026-11-24T09:30"),
        category="civilian_harm",
        subcategory="injured",
        details={"unknown_persons": 4},
        sector=s1,
    )
    add_report(
        s,
        obs,
        utc("2026-11-24T09:40"),
        category="civilian_harm",
        subcategory="damage_homes",
        details={"object_damaged": "house", "objects": 3},
        sector=s1,
    )
    add_report(
        s,
        obs,
        utc("2026-11-24T11:00"),
        category="repatriation",
        subcategory="prisoner_exchange",
        details={"persons_side_a": 10, "persons_side_b": 12, "crossing_point": "CP North"},
        sector=s2,
    )
    add_report(
        s,
        obs,
        utc("2026-11-24T12:00"),
        category="freedom_of_movement",
        subcategory="denied_access",
        details={
            "checkpoint_party": "Party B",
            "duration_min": 45,
            "effect": "patrol_cancelled",
        },
        sector=s2,
    )
    add_report(
        s,
        obs,
        utc("2026-11-24T13:00"),
        category="weapons_forces",
        subcategory="heavy_weapons_restricted_area",
        details={"weapon_or_unit": "tank", "count": 3, "relation": "inside_restricted_area"},
        sector=s1,
    )
    return DAY
    return DAY
