"""Demo data: a mission with sectors around the test photos' GPS positions, accounts, reports.

Passwords are random; they are printed once, when the demo is made, and kept (mode 0600) in the
data directory so that the person who started the demo can find them again (later runs only
name the file: a terminal log is no place for passwords). Never used outside a demo.
"""

from __future__ import annotations

import os
import secrets
import uuid
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldreport.accounts.models import User
from fieldreport.accounts.service import create_user
from fieldreport.db import utcnow
from fieldreport.places.gazetteer import parse_places
from fieldreport.places.service import load_places
from fieldreport.reports.schemas import validate_report
from fieldreport.reports.service import submit_report
from fieldreport.sectors.assignments import create_assignment
from fieldreport.sectors.models import Sector
from fieldreport.sectors.shapes import square_polygon

CREDENTIALS_FILE = "demo-accounts.txt"

DEMO_ACCOUNTS = (
    ("observer1", "observer", "T-01", "Observer One"),
    ("observer2", "observer", "T-02", "Observer Two"),
    ("coordinator", "coordinator", None, "Field Coordinator"),
    ("commission", "commission", None, "Commission Member"),
    ("admin", "admin", None, "Administrator"),
)


# Around the GPS positions of the test photos (tests/corpus/photos/MANIFEST.tsv).
DEMO_SECTORS = (
    ("S-ARZ", "Arezzo hills", "sector", square_polygon(11.8830, 43.4675, 0.03)),
    ("DMZ-ARZ", "Arezzo demilitarized strip", "dmz", square_polygon(11.8830, 43.4905, 0.006)),
    ("S-FLR", "Florence", "sector", square_polygon(11.2346, 43.7856, 0.04)),
    ("S-MAD", "Madrid west", "sector", square_polygon(-3.7248, 40.4470, 0.03)),
    ("CP-HEL", "Helsinki crossing point", "crossing_point", square_polygon(24.9068, 60.1467, 0.01)),
)

DEMO_REPORTS = (
    (
        "observer1",
        "ceasefire_violation",
        "small_arms_fire",
        43.4674,
        11.8851,
        3,
        {"count": 12, "direction": "NE", "assessment": "incoming"},
        "Bursts of small-arms fire from the ridge north-east of the observation post.",
    ),
    (
        "observer1",
        "freedom_of_movement",
        "denied_access",
        43.4716,
        11.8854,
        5,
        {"checkpoint_party": "Party B", "duration_min": 45, "effect": "patrol_rerouted"},
        "Patrol stopped at the bridge checkpoint and sent back.",
    ),
    (
        "observer2",
        "repatriation",
        "prisoner_exchange",
        60.1467,
        24.9068,
        20,
        {"persons_side_a": 14, "persons_side_b": 12, "crossing_point": "Helsinki CP"},
        "Exchange completed under ICRC supervision.",
    ),
    (
        "observer2",
        "civilian_harm",
        "damage_homes",
        40.4470,
        -3.7248,
        26,
        {"object_damaged": "Two-storey house", "objects": 1},
        "Roof hit by a mortar round.",
    ),
)


# Who is on duty where: from yesterday for two weeks (so "today" holds in every time zone).
DEMO_ASSIGNMENTS = (("observer1", "S-ARZ"), ("observer2", "S-MAD"))


def _assign_for_two_weeks(session: Session, users: dict[str, User], today: date) -> None:
    sectors = {s.code: s for s in session.scalars(select(Sector))}
    for username, code in DEMO_ASSIGNMENTS:
        create_assignment(
            session,
            observer_id=users[username].id,
            sector_id=sectors[code].id,
            starts_on=today - timedelta(days=1),
            ends_on=today + timedelta(days=13),
            assigned_by=None,
            note="Demo assignment",
        )


def _password() -> str:
    return secrets.token_urlsafe(12)


def _write_credentials(path: Path, lines: list[str]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")


# GeoNames (CC BY 4.0) extract: Ukraine, Tuscany, Madrid (fieldreport/data/places/README.md).
DEMO_PLACES = Path(__file__).resolve().parent / "data" / "places" / "places-geonames.csv"


def has_users(session: Session) -> bool:
    return bool(session.scalar(select(func.count(User.id))))


def create_demo(session: Session, data_dir: Path, parties: tuple[str, ...]) -> list[str]:
    """Create the demo mission; returns the lines to print (username, role, password)."""
    lines = []
    users = {}
    for username, role, team, name in DEMO_ACCOUNTS:
        password = _password()
        users[username] = create_user(
            session, username, role=role, password=password, display_name=name, team_code=team
        )
        lines.append(f"  {username:<12} {role:<12} {password}")
    for code, name, kind, geometry in DEMO_SECTORS:
        session.add(Sector(code=code, name=name, kind=kind, geometry=geometry))
    session.flush()
    load_places(session, parse_places(DEMO_PLACES.read_text(encoding="utf-8")).rows)
    now = utcnow()
    _assign_for_two_weeks(session, users, now.date())
    for observer, category, sub, lat, lon, hours_ago, details, narrative in DEMO_REPORTS:
        values = {
            "client_id": str(uuid.uuid4()),
            "category": category,
            "subcategory": sub,
            "occurred_at": (now - timedelta(hours=hours_ago)).isoformat(),
            "latitude": lat,
            "longitude": lon,
            "accuracy_m": 15,
            "position_source": "gps",
            "basis": "seen",
            "narrative": narrative,
            "details": details,
        }
        submit_report(session, users[observer], validate_report(values, now=now, parties=parties))
    _write_credentials(data_dir / CREDENTIALS_FILE, lines)
    return lines
