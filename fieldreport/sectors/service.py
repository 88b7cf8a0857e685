"""Sectors: which sector a position falls in, and which sectors a user may see."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from fieldreport.accounts.models import User
from fieldreport.accounts.service import audit
from fieldreport.db import utcnow
from fieldreport.reports.models import Report
from fieldreport.sectors.geometry import (
    SectorFeature,
    SectorImportError,
    parse_sector_collection,
    to_feature_collection,
)
from fieldreport.sectors.models import Assignment, CoordinatorSector, Sector

_cache_lock = threading.Lock()
_locators: dict[str, tuple[Any, Any]] = {}


def _locator(session: Session) -> Any:
    """A spatial index of the active sectors, rebuilt only when the sectors change."""
    from fieldreport.sectors.geometry import SectorLocator

    stamp = session.execute(
        select(func.count(Sector.id), func.max(Sector.updated_at), func.sum(Sector.id)).where(
            Sector.active.is_(True)
        )
    ).one()
    key = str(session.get_bind().url)
    with _cache_lock:
        cached = _locators.get(key)
        if cached is not None and cached[0] == tuple(stamp):
            return cached[1]
    rows = session.execute(
        select(Sector.id, Sector.geometry, Sector.kind).where(Sector.active.is_(True))
    ).all()
    locator = SectorLocator((row.id, row.geometry, row.kind) for row in rows)
    with _cache_lock:
        _locators[key] = (tuple(stamp), locator)
    return locator


def sector_for_position(session: Session, latitude: float, longitude: float) -> int | None:
    """The id of the sector a position falls in, or None when it is outside every sector."""
    return _locator(session).locate(longitude, latitude)


def sectors_for_positions(
    session: Session, positions: list[tuple[float, float]]
) -> list[int | None]:
    """Vectorised :func:`sector_for_position` for many (latitude, longitude) pairs."""
    if not positions:
        return []
    lats, lons = zip(*positions, strict=True)
    return _locator(session).locate_many(list(lons), list(lats))


def visible_sector_ids(session: Session, user: User) -> set[int] | None:
    """The sectors a coordinator is limited to, or None when they may see all of them."""
    if user.role != "coordinator":
        return None
    ids = set(
        session.scalars(
            select(CoordinatorSector.sector_id).where(CoordinatorSector.user_id == user.id)
        )
    )
    return ids or None


class SectorError(ValueError):
    """A sector or assignment change was refused; ``field`` names the form field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class AssignmentOverlap(SectorError):
    """The observer already has assignments in those dates; allowed only when asked for."""

    def __init__(self, overlaps: list[tuple[Assignment, Sector]]) -> None:
        super().__init__("allow_overlap", "the observer already has an assignment in those dates")
        self.overlaps = overlaps


@dataclass(frozen=True)
class ImportOutcome:
    created: list[str]
    updated: list[str]

    @property
    def count(self) -> int:
        return len(self.created) + len(self.updated)


def sectors_stamp(session: Session) -> tuple[Any, ...]:
    """Changes whenever a sector is added, edited or (de)activated: the re-derive job's guard."""
    return tuple(
        session.execute(
            select(func.count(Sector.id), func.max(Sector.updated_at), func.sum(Sector.id)).where(
                Sector.active.is_(True)
            )
        ).one()
    )


def _by_code(session: Session, code: str) -> Sector | None:
    return session.scalar(select(Sector).where(func.lower(Sector.code) == code.casefold()))


def import_sector_collection(
    session: Session, document: str | bytes | Mapping[str, Any], actor: User | None = None
) -> ImportOutcome:
    """Import a GeoJSON FeatureCollection: all features or none (`SectorImportError`).

    A code that exists already is an update of that sector (geometry, name, kind; reactivated),
    so re-importing a corrected file is the way to fix lines drawn elsewhere.
    """
    features = parse_sector_collection(document)
    created: list[str] = []
    updated: list[str] = []
    for feature in features:
        sector = _by_code(session, feature.code)
        if sector is None:
            session.add(
                Sector(
                    code=feature.code,
                    name=feature.name,
                    kind=feature.kind,
                    geometry=feature.geometry,
                    active=True,
                )
            )
            created.append(feature.code)
        else:
            sector.name, sector.kind, sector.geometry = feature.name, feature.kind, feature.geometry
            sector.active = True
            sector.updated_at = utcnow()
            updated.append(sector.code)
    session.flush()
    audit(
        session,
        "sectors.import",
        user=actor,
        detail={"created": created, "updated": updated},
    )
    return ImportOutcome(created=created, updated=updated)


def import_sectors(
    session: Session, data: str | bytes | Mapping[str, Any], actor: User | None = None
) -> int:
    """How many sectors a file imported (the command line's view of the import)."""
    return import_sector_collection(session, data, actor).count


def save_sector(
    session: Session,
    *,
    sector_id: int | None,
    code: str,
    name: str,
    kind: str,
    geometry: str | Mapping[str, Any],
    active: bool,
    actor: User | None,
) -> Sector:
    """Create or change one sector drawn on the map; the geometry is checked like an import."""
    try:
        parsed_geometry = json.loads(geometry) if isinstance(geometry, str) else geometry
    except ValueError:
        raise SectorError("geometry", "the drawn shape is not GeoJSON; draw it again") from None
    if isinstance(parsed_geometry, Mapping) and parsed_geometry.get("type") == "Feature":
        parsed_geometry = parsed_geometry.get("geometry")
    document = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": code, "name": name, "kind": kind},
                "geometry": parsed_geometry,
            }
        ],
    }
    try:
        (feature,) = parse_sector_collection(document)
    except SectorImportError as error:
        raise SectorError("geometry", "; ".join(p.reason for p in error.problems)) from None
    same_code = _by_code(session, feature.code)
    if same_code is not None and same_code.id != sector_id:
        raise SectorError("code", f"the code {feature.code} is used by another sector")
    sector = session.get(Sector, sector_id) if sector_id is not None else Sector()
    if sector is None:
        raise SectorError("code", "this sector no longer exists")
    sector.code, sector.name, sector.kind = feature.code, feature.name, feature.kind
    sector.geometry, sector.active = feature.geometry, active
    sector.updated_at = utcnow()
    session.add(sector)
    session.flush()
    audit(session, "sectors.save", user=actor, detail={"code": sector.code, "id": sector.id})
    return sector


def all_sectors(session: Session, *, active_only: bool = False) -> list[Sector]:
    query = select(Sector).order_by(Sector.code)
    if active_only:
        query = query.where(Sector.active.is_(True))
    return list(session.scalars(query))


def export_sectors(session: Session, sector_ids: set[int] | None = None) -> dict[str, Any]:
    """The active sectors as GeoJSON (properties code, name, kind) — re-importable as is."""
    query = select(Sector).where(Sector.active.is_(True)).order_by(Sector.code)
    if sector_ids is not None:
        query = query.where(Sector.id.in_(sector_ids))
    return to_feature_collection(
        SectorFeature(code=s.code, name=s.name, kind=s.kind, geometry=s.geometry)
        for s in session.scalars(query)
    )


def rederive_report_sectors(session: Session, *, batch_size: int = 5000) -> int:
    """Put every report in the sector its position falls in now; return how many moved.

    Runs after sectors change. Reads positions in id-ordered batches, locates a whole batch at
    once, and writes only the reports whose sector changed.
    """
    changed = 0
    last_id = 0
    while True:
        rows = session.execute(
            select(Report.id, Report.latitude, Report.longitude, Report.sector_id)
            .where(Report.id > last_id)
            .order_by(Report.id)
            .limit(batch_size)
        ).all()
        if not rows:
            return changed
        found = sectors_for_positions(session, [(row.latitude, row.longitude) for row in rows])
        moves = [
            {"id": row.id, "sector_id": sector}
            for row, sector in zip(rows, found, strict=True)
            if row.sector_id != sector
        ]
        if moves:
            session.execute(update(Report), moves)
            changed += len(moves)
        last_id = rows[-1].id


def coordinator_limits(session: Session) -> dict[int, list[int]]:
    """Each limited coordinator's sector ids (coordinators without rows see every sector)."""
    limits: dict[int, list[int]] = {}
    for user_id, sector_id in session.execute(
        select(CoordinatorSector.user_id, CoordinatorSector.sector_id).order_by(
            CoordinatorSector.user_id, CoordinatorSector.sector_id
        )
    ):
        limits.setdefault(user_id, []).append(sector_id)
    return limits


def set_coordinator_sectors(
    session: Session, coordinator_id: int, sector_ids: Iterable[int], actor: User | None
) -> None:
    """Limit a coordinator to ``sector_ids``; an empty set lifts the limit (all sectors)."""
    coordinator = session.get(User, coordinator_id)
    if coordinator is None or coordinator.role != "coordinator":
        raise SectorError("coordinator", "choose a coordinator")
    wanted = set(sector_ids)
    known = set(session.scalars(select(Sector.id).where(Sector.id.in_(wanted))))
    if known != wanted:
        raise SectorError("sectors", "unknown sector")
    session.execute(delete(CoordinatorSector).where(CoordinatorSector.user_id == coordinator_id))
    session.add_all(CoordinatorSector(user_id=coordinator_id, sector_id=s) for s in sorted(wanted))
    audit(
        session,
        "sectors.coordinator_limits",
        user=actor,
        detail={"coordinator": coordinator.username, "sectors": sorted(wanted)},
    )


def observers(session: Session) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .where(User.role == "observer", User.active.is_(True))
            .order_by(User.team_code, User.username)
        )
    )


def overlapping_assignments(
    session: Session, observer_id: int, starts_on: date, ends_on: date
) -> list[tuple[Assignment, Sector]]:
    """The observer's assignments that share at least one day with [starts_on, ends_on]."""
    rows = session.execute(
        select(Assignment, Sector)
        .join(Sector, Sector.id == Assignment.sector_id)
        .where(
            Assignment.observer_id == observer_id,
            Assignment.starts_on <= ends_on,
            Assignment.ends_on >= starts_on,
        )
        .order_by(Assignment.starts_on, Sector.code)
    ).all()
    return [(row[0], row[1]) for row in rows]


def create_assignment(
    session: Session,
    *,
    observer_id: int,
    sector_id: int,
    starts_on: date,
    ends_on: date,
    assigned_by: User | None,
    allow_overlap: bool = False,
    note: str | None = None,
) -> Assignment:
    """Assign an observer to a sector for a date range (inclusive).

    Overlapping dates for the same observer raise `AssignmentOverlap` unless ``allow_overlap``:
    two places at once is usually a slip, sometimes a plan (a crossing point inside a sector).
    """
    observer = session.get(User, observer_id)
    if observer is None or observer.role != "observer":
        raise SectorError("observer", "choose an observer")
    sector = session.get(Sector, sector_id)
    if sector is None or not sector.active:
        raise SectorError("sector", "choose an active sector")
    if ends_on < starts_on:
        raise SectorError("ends_on", "the last day comes before the first day")
    overlaps = overlapping_assignments(session, observer_id, starts_on, ends_on)
    if overlaps and not allow_overlap:
        raise AssignmentOverlap(overlaps)
    assignment = Assignment(
        observer_id=observer_id,
        sector_id=sector_id,
        starts_on=starts_on,
        ends_on=ends_on,
        assigned_by_id=assigned_by.id if assigned_by else None,
        allow_overlap=bool(overlaps),
        note=note or None,
    )
    session.add(assignment)
    session.flush()
    return assignment


def delete_assignment(session: Session, assignment_id: int) -> bool:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        return False
    session.delete(assignment)
    return True


def upcoming_assignments(
    session: Session, since: date, sector_ids: set[int] | None = None, limit: int = 200
) -> list[tuple[Assignment, Sector, User]]:
    query = (
        select(Assignment, Sector, User)
        .join(Sector, Sector.id == Assignment.sector_id)
        .join(User, User.id == Assignment.observer_id)
        .where(Assignment.ends_on >= since)
        .order_by(Assignment.starts_on, User.team_code)
        .limit(limit)
    )
    if sector_ids is not None:
        query = query.where(Assignment.sector_id.in_(sector_ids))
    return [(row[0], row[1], row[2]) for row in session.execute(query)]


def assignments_on(
    session: Session, observer_id: int, day: date
) -> list[tuple[Assignment, Sector]]:
    """The observer's assignments on ``day`` (a day in the observer's or mission's zone)."""
    rows = overlapping_assignments(session, observer_id, day, day)
    return sorted(rows, key=lambda row: row[1].code)


@dataclass(frozen=True)
class Roster:
    days: list[date]
    observers: list[User]
    cells: dict[tuple[int, date], list[str]]


def roster(session: Session, week_start: date, sector_ids: set[int] | None = None) -> Roster:
    """Observer × day grid of sector codes for the seven days from ``week_start``."""
    days = [week_start + timedelta(days=i) for i in range(7)]
    query = (
        select(Assignment.observer_id, Assignment.starts_on, Assignment.ends_on, Sector.code)
        .join(Sector, Sector.id == Assignment.sector_id)
        .where(Assignment.starts_on <= days[-1], Assignment.ends_on >= days[0])
        .order_by(Sector.code)
    )
    if sector_ids is not None:
        query = query.where(Assignment.sector_id.in_(sector_ids))
    cells: dict[tuple[int, date], list[str]] = {}
    for observer_id, starts_on, ends_on, code in session.execute(query):
        for day in days:
            if starts_on <= day <= ends_on:
                cells.setdefault((observer_id, day), []).append(code)
    return Roster(days=days, observers=observers(session), cells=cells)


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where ``day`` in ``zone`` begins and the next day begins."""
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


@dataclass(frozen=True)
class SectorCoverage:
    sector: Sector
    reports: int
    assigned: int


@dataclass(frozen=True)
class Coverage:
    day: date
    sectors: list[SectorCoverage]
    outside_sectors: int
    silent_observers: list[tuple[User, bool]]

    @property
    def assigned_without_report(self) -> list[SectorCoverage]:
        return [row for row in self.sectors if row.assigned and not row.reports]

    @property
    def without_assignment(self) -> list[SectorCoverage]:
        return [row for row in self.sectors if not row.assigned]


def coverage(
    session: Session, day: date, zone: ZoneInfo, sector_ids: set[int] | None = None
) -> Coverage:
    """Who covered what on ``day`` (in ``zone``): reports and assignments per sector, by SQL.

    Counts reports by the event's time (as the digest does). Observers "without a report" are
    the active observers with none that day, flagged when they had an assignment.
    """
    start, end = day_bounds(day, zone)
    in_day = (Report.occurred_at >= start) & (Report.occurred_at < end)
    report_counts = (
        select(Report.sector_id.label("sector_id"), func.count(Report.id).label("n"))
        .where(in_day)
        .group_by(Report.sector_id)
        .subquery()
    )
    assigned_counts = (
        select(
            Assignment.sector_id.label("sector_id"),
            func.count(func.distinct(Assignment.observer_id)).label("n"),
        )
        .where(Assignment.starts_on <= day, Assignment.ends_on >= day)
        .group_by(Assignment.sector_id)
        .subquery()
    )
    query = (
        select(
            Sector,
            func.coalesce(report_counts.c.n, 0),
            func.coalesce(assigned_counts.c.n, 0),
        )
        .outerjoin(report_counts, report_counts.c.sector_id == Sector.id)
        .outerjoin(assigned_counts, assigned_counts.c.sector_id == Sector.id)
        .where(Sector.active.is_(True))
        .order_by(Sector.code)
    )
    if sector_ids is not None:
        query = query.where(Sector.id.in_(sector_ids))
    rows = [SectorCoverage(s, int(n), int(a)) for s, n, a in session.execute(query)]
    outside = 0
    if sector_ids is None:
        outside = session.scalar(
            select(func.count(Report.id)).where(in_day, Report.sector_id.is_(None))
        )
    filed = select(Report.id).where(Report.observer_id == User.id, in_day).exists()
    assigned = select(Assignment.id).where(
        Assignment.observer_id == User.id,
        Assignment.starts_on <= day,
        Assignment.ends_on >= day,
    )
    if sector_ids is not None:
        assigned = assigned.where(Assignment.sector_id.in_(sector_ids))
    silent_query = (
        select(User, assigned.exists())
        .where(User.role == "observer", User.active.is_(True), ~filed)
        .order_by(User.team_code, User.username)
    )
    if sector_ids is not None:
        silent_query = silent_query.where(assigned.exists())
    silent = [(user, bool(had)) for user, had in session.execute(silent_query)]
    return Coverage(
        day=day, sectors=rows, outside_sectors=int(outside or 0), silent_observers=silent
    )


def map_features(
    session: Session,
    reports_query: Select[tuple[Report]],
    *,
    day: date,
    zone: ZoneInfo,
    category: str | None = None,
    status: str | None = None,
) -> list[Report]:
    """The reports of ``day`` (event time in ``zone``) among those the viewer may see."""
    start, end = day_bounds(day, zone)
    query = reports_query.where(Report.occurred_at >= start, Report.occurred_at < end)
    if category:
        query = query.where(Report.category == category)
    if status:
        query = query.where(Report.status == status)
    return list(session.scalars(query.limit(5000)))


def coordinators(session: Session) -> list[User]:
    return list(
        session.scalars(select(User).where(User.role == "coordinator").order_by(User.username))
    )
