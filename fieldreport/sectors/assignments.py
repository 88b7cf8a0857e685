"""Assignments (observer × sector × date range) and the week roster built from them.

A coordinator limited to some sectors creates and removes assignments in those sectors only:
the check is here, so every caller (page, API, script) keeps to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldreport.accounts.models import User
from fieldreport.i18n import N_
from fieldreport.pagination import Page, decode_cursor_of, keyset_page
from fieldreport.sectors.errors import SectorError
from fieldreport.sectors.limits import visible_sector_ids
from fieldreport.sectors.models import Assignment, Sector

PAGE_SIZE = 50


class AssignmentOverlap(SectorError):
    """The observer already has assignments in those dates; allowed only when asked for."""

    def __init__(self, overlaps: list[tuple[Assignment, Sector]]) -> None:
        super().__init__("allow_overlap", "the observer already has an assignment in those dates")
        self.overlaps = overlaps


def observers(session: Session) -> list[User]:
    """The active observers, by team code: who can be assigned."""
    return list(
        session.scalars(
            select(User)
            .where(User.role == "observer", User.active.is_(True))
            .order_by(User.team_code, User.username)
        )
    )


def sector_choices(session: Session, sector_ids: set[int] | None) -> list[tuple[int, str, str]]:
    """Id, code and name of the active sectors one may assign to, by code: the form's list
    (without the geometries, which a select list does not need and are most of a sector row)."""
    query = select(Sector.id, Sector.code, Sector.name).where(Sector.active.is_(True))
    if sector_ids is not None:
        query = query.where(Sector.id.in_(sector_ids))
    return [(row.id, row.code, row.name) for row in session.execute(query.order_by(Sector.code))]


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


def _check_assignment(
    session: Session,
    observer_id: int,
    sector_id: int,
    days: tuple[date, date],
    actor: User | None,
) -> None:
    """Refuse before writing: a non-observer, a sector the actor may not use, days reversed."""
    observer = session.get(User, observer_id)
    if observer is None or observer.role != "observer":
        raise SectorError("observer", N_("choose an observer"))
    sector = session.get(Sector, sector_id)
    if sector is None or not sector.active:
        raise SectorError("sector", N_("choose an active sector"))
    limits = visible_sector_ids(session, actor)
    if limits is not None and sector_id not in limits:
        raise SectorError("sector", N_("choose one of your sectors"))
    if days[1] < days[0]:
        raise SectorError("ends_on", N_("the last day comes before the first day"))


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

    ``assigned_by`` acts within their sector limits (None: a script, no limits). Overlapping
    dates for the same observer raise `AssignmentOverlap` unless ``allow_overlap``: two places
    at once is usually a slip, sometimes a plan (a crossing point inside a sector).
    """
    _check_assignment(session, observer_id, sector_id, (starts_on, ends_on), assigned_by)
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


def delete_assignment(session: Session, assignment_id: int, actor: User | None) -> bool:
    """Remove an assignment; False when there is none the actor may touch (no existence leak)."""
    assignment = session.get(Assignment, assignment_id)
    limits = visible_sector_ids(session, actor)
    if assignment is None or (limits is not None and assignment.sector_id not in limits):
        return False
    session.delete(assignment)
    return True


def upcoming_assignments(
    session: Session,
    since: date,
    sector_ids: set[int] | None = None,
    *,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> Page[tuple[Assignment, Sector, User]]:
    """A page of the assignments that have not ended before ``since`` (in ``sector_ids`` when
    given), by first day, after ``cursor``; three queries whatever the page holds.

    Raises ``BadCursor`` for a cursor this server did not write.
    """
    if cursor:
        decode_cursor_of(cursor, (date, int))
    query = select(Assignment).where(Assignment.ends_on >= since)
    if sector_ids is not None:
        query = query.where(Assignment.sector_id.in_(sector_ids))
    page = keyset_page(
        session,
        query,
        [Assignment.starts_on, Assignment.id],
        lambda a: (a.starts_on, a.id),
        limit=limit,
        cursor=cursor,
        descending=False,
    )
    sectors = _by_id(session, Sector, {a.sector_id for a in page.items})
    people = _by_id(session, User, {a.observer_id for a in page.items})
    rows = [(a, sectors[a.sector_id], people[a.observer_id]) for a in page.items]
    return Page(rows, page.next_cursor)


def _by_id(session: Session, model: Any, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    return {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))}


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
