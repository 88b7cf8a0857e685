"""The digest tests' hand-counted day: sectors, assignments and reports around midnight.

Reports are stored as rows (``helpers.add_report``) with the status a coordinator would have
left, at exact instants around midnight and the daylight-saving change.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from tests.helpers import add_assignment, add_report, add_sector, utc

DAY = date(2026, 11, 24)  # Europe/Rome, CET (UTC+1): 2026-11-23T23:00Z to 2026-11-24T23:00Z


def hand_counted_day(s: Session, users: Any) -> date:
    """A day counted by hand (see tests/test_digest_figures.py); local times in Europe/Rome."""
    obs = users.observer
    s1 = add_sector(s, "S-01", 11.85, 43.47)
    s2 = add_sector(s, "S-02", 11.95, 43.47)
    s3 = add_sector(s, "S-03", 12.05, 43.47)
    add_assignment(s, users.observer, s1, date(2026, 11, 20), date(2026, 11, 30))
    add_assignment(s, users.observer2, s3, DAY, DAY)
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
