"""Reading the audit log: the filtered query, a page of it (newest first, keyset-paginated),
and the whole filtered list for export. Read-only; no Flask (docs/architecture.md, "Layers")."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select, text
from sqlalchemy.orm import Session

from fieldreport.accounts.models import AuditLog

PAGE_SIZE = 50
EXPORT_BATCH = 1000


@dataclass(frozen=True)
class AuditFilter:
    """What an admin asked for; empty fields do not filter. Days are in ``zone``."""

    zone: ZoneInfo
    actor: str | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None
    address: str | None = None


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditLog]
    older_than: int | None  # the cursor of the next (older) page; None on the last page


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def _like_prefix(text: str) -> str:
    """``text%`` with LIKE's wildcards taken literally (escape character: backslash)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def filtered(wanted: AuditFilter) -> Select[tuple[AuditLog]]:
    """The audit rows ``wanted`` asks for, newest first (ids grow with time)."""
    query = select(AuditLog).order_by(AuditLog.id.desc())
    if wanted.actor:
        query = query.where(AuditLog.username == wanted.actor)
    if wanted.action:
        query = query.where(AuditLog.action == wanted.action)
    if wanted.since:
        query = query.where(AuditLog.at >= _start_of(wanted.since, wanted.zone))
    if wanted.until:
        next_day = wanted.until + timedelta(days=1)
        query = query.where(AuditLog.at < _start_of(next_day, wanted.zone))
    if wanted.address:
        query = query.where(AuditLog.address.like(_like_prefix(wanted.address), escape="\\"))
    return query


def audit_page(
    session: Session, wanted: AuditFilter, older_than: int | None = None, size: int = PAGE_SIZE
) -> AuditPage:
    """One page of ``wanted``: rows older than the cursor ``older_than`` (an id), newest first.

    A keyset (not an offset), so a page stays right while new events are written above it.
    """
    query = filtered(wanted)
    if older_than is not None:
        query = query.where(AuditLog.id < older_than)
    rows = list(session.scalars(query.limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    return AuditPage(rows=rows, older_than=rows[-1].id if more else None)


def all_rows(session: Session, wanted: AuditFilter) -> Iterator[AuditLog]:
    """Every row of ``wanted``, newest first, fetched in batches (for the export)."""
    result = session.scalars(filtered(wanted).execution_options(yield_per=EXPORT_BATCH))
    yield from result


# A "loose index scan": from the smallest value, jump to the next greater one through the
# column's index. A plain DISTINCT reads the whole log (1 M rows: most of a second); this reads
# one index entry per distinct value, on SQLite and PostgreSQL alike.
_DISTINCT = """
WITH RECURSIVE found(value) AS (
    SELECT min({column}) FROM audit_log
    UNION ALL
    SELECT (SELECT min({column}) FROM audit_log WHERE {column} > found.value)
    FROM found WHERE found.value IS NOT NULL
)
SELECT value FROM found WHERE value IS NOT NULL
"""


_DISTINCT_OF = {column: text(_DISTINCT.format(column=column)) for column in ("username", "action")}


def _distinct(session: Session, column: str) -> list[str]:
    return sorted(value for value in session.scalars(_DISTINCT_OF[column]) if value)


def known_actors(session: Session) -> list[str]:
    """The names that appear in the log, for the filter's list."""
    return _distinct(session, "username")


def known_actions(session: Session) -> list[str]:
    """The action codes that appear in the log."""
    return _distinct(session, "action")
