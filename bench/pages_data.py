"""The mission history of ``bench/pages.py``: the digest benchmark's sectors, teams, categories,
statuses and details (``bench/digest.py``), spread over as many days as the size needs at
``PER_DAY`` reports a day, ending now; weekly assignments; an audit log a tenth as long.

A report's status is drawn without regard to its age, so the review desk's open queue
(submitted, in review, needs information: 3 in 11) grows with the history, some 270 k reports
waiting at 1 M, the oldest 500 days old. A mission whose coordinators keep up has an open queue
bounded by their pace, not by its length; this is the harsher case, kept on purpose: the desk
must stay fast with a backlog too (its figures come from ``review_counts``, not from the queue)."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select

from bench.digest import (
    CELL_LAT,
    CELL_LON,
    COLUMNS,
    ROWS,
    SOUTH,
    STATUSES,
    TEAMS,
    WEIGHTS,
    WEST,
    details_for,
)
from fieldreport.accounts.models import AuditLog, User
from fieldreport.accounts.service import create_user
from fieldreport.db import utcnow
from fieldreport.reports.models import Report
from fieldreport.reports.taxonomy import CATEGORIES
from fieldreport.sectors.days import today_in
from fieldreport.sectors.limits import set_coordinator_sectors
from fieldreport.sectors.models import Assignment, Sector

PER_DAY = 2000
CHUNK = 20_000
PASSWORD = "bench password one"
ACTIONS = ["login.ok", "login.failed", "logout", "report.conflict", "sector.import"]


def _people(session: Any) -> list[int]:
    """The four roles that log in (``limited``: a coordinator of 5 of the 500 sectors) and the
    observer teams (``obs000`` logs in); the observers' ids."""
    for name, role in (("coord", "coordinator"), ("limited", "coordinator")):
        create_user(session, name, role=role, password=PASSWORD)
    create_user(session, "comm", role="commission", password=PASSWORD)
    create_user(session, "admin", role="admin", password=PASSWORD)
    create_user(session, "obs000", role="observer", password=PASSWORD, team_code="T-000")
    session.execute(
        insert(User),
        [
            {
                "username": f"obs{i:03d}",
                "display_name": f"Observer Number {i}",
                "role": "observer",
                "team_code": f"T-{i:03d}",
                "password_hash": "x",
                "active": True,
                "language": "en",
                "session_version": 1,
            }
            for i in range(1, TEAMS)
        ],
    )
    return list(session.scalars(select(User.id).where(User.role == "observer").order_by(User.id)))


def _sectors(session: Any) -> list[int]:
    rows = []
    for i in range(COLUMNS):
        for j in range(ROWS):
            w, s = WEST + i * CELL_LON, SOUTH + j * CELL_LAT
            ring = [[w, s], [w + CELL_LON, s], [w + CELL_LON, s + CELL_LAT], [w, s + CELL_LAT]]
            rows.append(
                {
                    "code": f"S-{i:02d}{j:02d}",
                    "name": f"Sector {i}/{j}",
                    "kind": "sector",
                    "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
                    "active": True,
                }
            )
    session.execute(insert(Sector), rows)
    return list(session.scalars(select(Sector.id).order_by(Sector.id)))


def _assignments(session: Any, runtime: Any, observers: list[int], sectors: list[int], days: int):
    today = today_in(runtime.settings.zone)
    monday = today - timedelta(days=today.weekday())
    rows = [
        {
            "observer_id": uid,
            "sector_id": sectors[(k * 7 + week) % len(sectors)],
            "starts_on": monday - timedelta(weeks=week),
            "ends_on": monday - timedelta(weeks=week) + timedelta(days=6),
            "allow_overlap": False,
        }
        for week in range(days // 7 + 2)
        for k, uid in enumerate(observers)
    ]
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(Assignment), rows[start : start + CHUNK])


def _report_rows(rng, size, first, last, observers, sectors) -> list[dict[str, Any]]:
    """Reports ``first`` to ``last`` (exclusive) of ``size``: the last one happened now."""
    categories = [c for c in CATEGORIES for _ in range(WEIGHTS[c.code])]
    now, step = utcnow(), 86_400 / PER_DAY
    out = []
    for n in range(first, last):
        category = rng.choice(categories)
        sub = rng.choice(category.subcategories).code
        i, j = rng.randrange(COLUMNS), rng.randrange(ROWS)
        uid = rng.choice(observers)
        at = now - timedelta(seconds=(size - n) * step + rng.random() * step)
        out.append(
            {
                "client_id": str(uuid.UUID(int=rng.getrandbits(128))),
                "observer_id": uid,
                "team_code": f"T-{uid - observers[0]:03d}",
                "category": category.code,
                "subcategory": sub,
                "occurred_at": at,
                "occurred_offset_minutes": 60,
                "received_at": at + timedelta(minutes=rng.randrange(1, 240)),
                "latitude": SOUTH + (j + rng.random()) * CELL_LAT,
                "longitude": WEST + (i + rng.random()) * CELL_LON,
                "accuracy_m": 10.0,
                "position_source": "gps",
                "sector_id": None if rng.random() < 0.02 else sectors[i * ROWS + j],
                "basis": "seen",
                "details": details_for(rng, category.code, sub),
                "narrative": "Observed from the patrol route; bursts heard from the north-east.",
                "urgent": rng.random() < 0.001,
                "status": rng.choice(STATUSES),
                "version": 1,
                "content_sha256": "0" * 64,
                "change_seq": n + 1,
            }
        )
    return out


def _audit_rows(rng, count: int) -> list[dict[str, Any]]:
    return [
        {
            "action": rng.choice(ACTIONS),
            "username": f"obs{rng.randrange(TEAMS):03d}",
            "address": f"10.0.{rng.randrange(256)}.{rng.randrange(256)}",
            "detail": {},
        }
        for _ in range(count)
    ]


def populate(runtime: Any, size: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    days = -(-size // PER_DAY)
    with runtime.db.session_scope() as session:
        observers = _people(session)
        sectors = _sectors(session)
        limited = session.scalar(select(User.id).where(User.username == "limited"))
        set_coordinator_sectors(session, limited, sectors[:5], None)
        _assignments(session, runtime, observers, sectors, days)
    for first in range(0, size, CHUNK):
        last = min(size, first + CHUNK)
        with runtime.db.session_scope() as session:
            rows = _report_rows(rng, size, first, last, observers, sectors)
            session.execute(insert(Report), rows)
            session.execute(insert(AuditLog), _audit_rows(rng, (last - first) // 10))
    with runtime.db.engine.connect() as connection:
        if runtime.db.dialect == "sqlite":
            connection.exec_driver_sql("ANALYZE")
        else:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE"
            )
