"""The review desk's lists: the queue with its filters and counts, and the decisions made.

Both are keyset pages (``fieldreport.pagination``): the queue ordered urgent first, then newest
event first; the reviewed list newest decision first. Every figure on a page comes from a fixed
number of queries (the page, one UNION ALL of a GROUP BY per facet over the counts the database
keeps, the photo counts of the page's reports),
never one query per row, and no list is silently cut: a page ends with the next page's cursor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    case,
    cast,
    func,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from fieldreport.accounts.models import User
from fieldreport.accounts.roles import coordinates
from fieldreport.pagination import Page, encode_cursor, keyset_page
from fieldreport.photos.models import Photo
from fieldreport.reports.models import Report
from fieldreport.reports.service import visible_reports
from fieldreport.reports.taxonomy import CATEGORY_BY_CODE
from fieldreport.review.models import OUTSIDE_SECTOR, ReviewCount, ReviewEvent
from fieldreport.review.service import DECISIONS, QUEUE_STATUSES
from fieldreport.sectors.limits import visible_sector_ids

PAGE_SIZE = 50
EXCERPT_CHARS = 160
# What the desk may list: the queue proper, and the questions waiting for the observer.
DESK_STATUSES = (*QUEUE_STATUSES, "needs_info")
FACETS = ("status", "category", "urgency", "sector")


@dataclass(frozen=True)
class Filters:
    """The queue's filters, read from the request's arguments; unknown values are ignored."""

    status: str = ""
    category: str = ""
    urgency: str = ""
    sector: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        status = args.get("status", "")
        category = args.get("category", "")
        urgency = args.get("urgency", "")
        sector = args.get("sector", "") or args.get("scope", "")
        return cls(
            status=status if status in DESK_STATUSES else "",
            category=category if category in CATEGORY_BY_CODE else "",
            urgency=urgency if urgency in ("urgent", "routine") else "",
            sector=sector if sector == "outside" or _sector_id(sector) else "",
        )

    def args(self, **change: str) -> dict[str, str]:
        """The filters as URL arguments (empty ones left out), with ``change`` applied."""
        values = {"status": self.status, "category": self.category, "urgency": self.urgency}
        values |= {"sector": self.sector, **change}
        return {key: value for key, value in values.items() if value}


def _sector_id(text: str) -> bool:
    """A sector id as the database stores them: 1 and up, a 32-bit integer (0 is the counts' key
    for "outside every sector", never a sector)."""
    return text.isdigit() and 0 < int(text) < 2**31


def _conditions(filters: Filters, skip: str = "") -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if skip != "status":
        statuses = (filters.status,) if filters.status else QUEUE_STATUSES
        where.append(Report.status.in_(statuses))
    if filters.category and skip != "category":
        where.append(Report.category == filters.category)
    if filters.urgency and skip != "urgency":
        where.append(Report.urgent.is_(filters.urgency == "urgent"))
    if filters.sector and skip != "sector":
        if filters.sector == "outside":
            where.append(Report.sector_id.is_(None))
        else:
            where.append(Report.sector_id == int(filters.sector))
    return where


def _base(session: Session, reviewer: User) -> Select[tuple[Report]]:
    return visible_reports(session, reviewer).order_by(None)


QUEUE_KEYS = (Report.urgent, Report.occurred_at, Report.id)


def _queue_key(report: Report) -> tuple[Any, ...]:
    return (report.urgent, report.occurred_at, report.id)


def queue_page(
    session: Session, reviewer: User, filters: Filters, cursor: str | None = None
) -> Page[Report]:
    """One page of the queue: urgent first, then the newest event. Raises BadCursor."""
    query = _base(session, reviewer).where(*_conditions(filters))
    return keyset_page(session, query, QUEUE_KEYS, _queue_key, limit=PAGE_SIZE, cursor=cursor)


def next_in_queue(session: Session, reviewer: User, report: Report) -> Report | None:
    """The report after ``report`` in the (unfiltered) queue: where "decide" goes next."""
    query = _base(session, reviewer).where(*_conditions(Filters()))
    page = keyset_page(
        session, query, QUEUE_KEYS, _queue_key, limit=1, cursor=encode_cursor(_queue_key(report))
    )
    return page.items[0] if page.items else None


@dataclass
class Counts:
    """How many reports each filter value would show, the other filters applied."""

    status: dict[str, int] = field(default_factory=dict)
    category: dict[str, int] = field(default_factory=dict)
    urgency: dict[str, int] = field(default_factory=dict)
    sector: dict[str, int] = field(default_factory=dict)
    total: int = 0


def _passes(filters: Filters, facet: str, value: str) -> bool:
    chosen = getattr(filters, facet)
    if facet == "status" and not chosen:
        return value in QUEUE_STATUSES
    return not chosen or value == chosen


def counts(session: Session, reviewer: User, filters: Filters) -> Counts:
    """The figures beside each filter, read from the counts the database keeps per (status,
    category, urgency, sector) (``ReviewCount``), in one query: their cost depends on how many
    such combinations there are, not on how many reports the mission has seen (issue 12).

    Each facet's figures apply the other facets' filters (what choosing that value would show).
    Only the desk's roles have sector-wide figures; anyone else gets :func:`recount`.
    """
    if not coordinates(reviewer):
        return recount(session, reviewer, filters)
    sectors = visible_sector_ids(session, reviewer)
    seen = [] if sectors is None else [ReviewCount.sector_key.in_(sectors)]
    found = Counts(status=dict.fromkeys(DESK_STATUSES, 0), urgency={"urgent": 0, "routine": 0})
    for facet, value, number in session.execute(_counts_query(filters, seen)):
        if facet == "total":
            found.total = int(number or 0)
        else:
            getattr(found, facet)[value] = int(number)
    return found


def _counts_query(filters: Filters, seen: list[ColumnElement[bool]]) -> Any:
    """One UNION ALL: for each facet its figures by value, the other facets' filters applied."""
    kept = ReviewCount.number > 0
    values: dict[str, ColumnElement[Any]] = {
        "status": ReviewCount.status,
        "category": ReviewCount.category,
        "urgency": case((ReviewCount.urgent, "urgent"), else_="routine"),
        "sector": case(
            (ReviewCount.sector_key == OUTSIDE_SECTOR, "outside"),
            else_=cast(ReviewCount.sector_key, String),
        ),
    }
    groups = {"urgency": ReviewCount.urgent, "sector": ReviewCount.sector_key}
    parts = [
        select(literal_column(f"'{facet}'"), value, func.sum(ReviewCount.number))
        .where(kept, *seen, *_count_conditions(filters, skip=facet))
        .group_by(groups.get(facet, value))
        for facet, value in values.items()
    ]
    total = select(literal_column("'total'"), literal_column("''"), func.sum(ReviewCount.number))
    return union_all(*parts, total.where(kept, *seen, *_count_conditions(filters)))


def _count_conditions(filters: Filters, skip: str = "") -> list[ColumnElement[bool]]:
    """:func:`_conditions` on the kept counts; the status facet lists every desk status."""
    where: list[ColumnElement[bool]] = []
    if skip == "status":
        where.append(ReviewCount.status.in_(DESK_STATUSES))
    else:
        where.append(
            ReviewCount.status.in_((filters.status,) if filters.status else QUEUE_STATUSES)
        )
    if filters.category and skip != "category":
        where.append(ReviewCount.category == filters.category)
    if filters.urgency and skip != "urgency":
        where.append(ReviewCount.urgent == (filters.urgency == "urgent"))
    if filters.sector and skip != "sector":
        outside = filters.sector == "outside"
        where.append(ReviewCount.sector_key == (OUTSIDE_SECTOR if outside else int(filters.sector)))
    return where


def recount(session: Session, reviewer: User, filters: Filters) -> Counts:
    """The same figures counted from the reports themselves (one GROUP BY over the four facets):
    what :func:`counts` must always equal; its cost grows with the open queue."""
    columns = (Report.status, Report.category, Report.urgent, Report.sector_id)
    query = _base(session, reviewer).where(Report.status.in_(DESK_STATUSES))
    query = query.with_only_columns(*columns, func.count(), maintain_column_froms=True)
    found = Counts(status=dict.fromkeys(DESK_STATUSES, 0), urgency={"urgent": 0, "routine": 0})
    for status, category, urgent, sector_id, number in session.execute(query.group_by(*columns)):
        values = {
            "status": status,
            "category": category,
            "urgency": "urgent" if urgent else "routine",
            "sector": "outside" if sector_id is None else str(sector_id),
        }
        passes = {facet: _passes(filters, facet, values[facet]) for facet in FACETS}
        for facet in FACETS:
            if all(passes[other] for other in FACETS if other != facet):
                figures = getattr(found, facet)
                figures[values[facet]] = figures.get(values[facet], 0) + number
        found.total += number if all(passes.values()) else 0
    return found


def photo_counts(session: Session, report_ids: list[int]) -> dict[int, int]:
    """Photos per report, for a page of reports, in one query."""
    if not report_ids:
        return {}
    query = (
        select(Photo.report_id, func.count())
        .where(Photo.report_id.in_(report_ids))
        .group_by(Photo.report_id)
    )
    return {report_id: number for report_id, number in session.execute(query)}


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The narrative's first words, cut at a word and marked when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


@dataclass(frozen=True)
class Decision:
    """One line of the reviewed list: which report, what was decided, by whom, when."""

    event_id: int
    report_id: int
    category: str
    subcategory: str
    sector_id: int | None
    kind: str
    to_status: str | None
    comment: str | None
    actor: str
    at: datetime


REVIEWED_KEYS = (ReviewEvent.at, ReviewEvent.id)


def reviewed_page(session: Session, reviewer: User, cursor: str | None = None) -> Page[Decision]:
    """The decisions on reports ``reviewer`` may see, newest first (reopenings included)."""
    visible = _base(session, reviewer).with_only_columns(Report.id)
    decided = ReviewEvent.to_status.in_(DECISIONS) | (ReviewEvent.kind == "reopen")
    query = select(ReviewEvent).where(
        decided, ReviewEvent.kind != "answer", ReviewEvent.report_id.in_(visible)
    )
    page = keyset_page(
        session, query, REVIEWED_KEYS, lambda e: (e.at, e.id), limit=PAGE_SIZE, cursor=cursor
    )
    return Page(_decisions(session, page.items), page.next_cursor)


def _decisions(session: Session, events: list[ReviewEvent]) -> list[Decision]:
    report_ids = {e.report_id for e in events}
    actor_ids = {e.actor_id for e in events}
    reports = {r.id: r for r in session.scalars(select(Report).where(Report.id.in_(report_ids)))}
    actors = {u.id: u for u in session.scalars(select(User).where(User.id.in_(actor_ids)))}
    return [
        Decision(
            e.id,
            e.report_id,
            reports[e.report_id].category,
            reports[e.report_id].subcategory,
            reports[e.report_id].sector_id,
            e.kind,
            e.to_status,
            e.comment,
            actors[e.actor_id].display_name,
            e.at,
        )
        for e in events
    ]
