"""The map's reports as a compact array (NumPy columns), kept between requests and brought up
to date with only what changed.

A day of 100,000 reports takes about 100 ms of CPU to read (see :func:`_read`: a covering index,
four numbers a row, straight from the driver's cursor into NumPy) and 300 ms or more to group in
SQL (the GROUP BY sorts every row), but 10 ms to cluster in NumPy. So the rows of one query (the
viewer's visible reports of a range, filtered) are read once, then on each request only the
reports added since (ids above the highest seen), those reviewed or edited since (new
``review_events`` and ``report_versions`` rows) are read again; a change of the sectors (which
re-derives the reports' sectors, hence who may see them) reads everything again. Visibility
stays in the caller's SQL query: this module never decides who sees what.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Case, ColumnElement, LargeBinary, Select, case, func, literal, select
from sqlalchemy.orm import Session

from fieldreport.reports.models import STATUSES, Report, ReportVersion
from fieldreport.reports.taxonomy import CATEGORY_COLOURS
from fieldreport.review.models import ReviewEvent
from fieldreport.sectors.locate import sectors_stamp

CATEGORY_CODES: tuple[str, ...] = tuple(CATEGORY_COLOURS)
MAX_ENTRIES = 16  # queries kept (days × filters × viewers' sector sets); least recent dropped
CHUNK = 500  # ids per IN (…) when re-reading changed reports
CATEGORY_SHIFT, STATUS_MASK = 5, 0b1111  # the packed kind: category, then 4 bits of status, urgent
ROW = np.dtype([("id", np.int64), ("lat", np.float64), ("lon", np.float64), ("kind", np.int32)])
assert len(STATUSES) <= STATUS_MASK + 1

_lock = threading.Lock()
_cache: OrderedDict[str, Points] = OrderedDict()


@dataclass
class Points:
    """Column arrays of the same length; ``stamp`` says up to which change they are current."""

    ids: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    category: np.ndarray
    status: np.ndarray
    urgent: np.ndarray
    stamp: tuple[Any, ...] = ()

    def __len__(self) -> int:
        return len(self.ids)


def report_points(session: Session, query: Select[tuple[Report]]) -> Points:
    """The rows of ``query`` (a Select of reports, already limited and filtered) as arrays."""
    key = _key(session, query)
    stamp = _stamp(session)
    with _lock:
        cached = _cache.get(key)
    if cached is not None and cached.stamp == stamp:
        points = cached
    elif cached is not None and cached.stamp[3] == stamp[3]:
        points = _updated(session, query, cached, stamp)
    else:
        points = _read(session, query)
        points.stamp = stamp
    with _lock:
        _cache[key] = points
        _cache.move_to_end(key)
        while len(_cache) > MAX_ENTRIES:
            _cache.popitem(last=False)
    return points


def _key(session: Session, query: Select[tuple[Report]]) -> str:
    compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    return f"{session.get_bind().url}|{compiled}"


def _stamp(session: Session) -> tuple[Any, ...]:
    """(last report id, last review event id, last version id, the sectors' stamp)."""
    return (
        session.scalar(select(func.max(Report.id))) or 0,
        session.scalar(select(func.max(ReviewEvent.id))) or 0,
        session.scalar(select(func.max(ReportVersion.id))) or 0,
        sectors_stamp(session),
    )


def _read(session: Session, query: Select[tuple[Report]]) -> Points:
    """The query's reports as arrays, read from the database straight into NumPy.

    The first request of a day reads 100,000 rows, and Python work per row was most of its
    time (SQLAlchemy rows, then zip and a lookup per text value). So the database sends four
    numbers a row (the category, status and urgency packed into one small integer by SQL), and
    no Python runs per row beyond the driver's own: ``np.fromiter`` fills a record array from
    the raw cursor; on PostgreSQL not even that (:func:`_packed_rows`). The rows come from a
    covering index (``ix_reports_map``): the table itself is not read.
    """
    select_points = points_select(query)
    if session.get_bind().dialect.name == "postgresql":
        rows = _packed_rows(session, select_points)
    else:
        result = session.connection().execute(select_points)
        try:
            rows = np.fromiter(result.cursor, dtype=ROW)
        finally:
            result.close()
    kind = rows["kind"]
    return Points(
        ids=np.ascontiguousarray(rows["id"], dtype=np.int64),
        lat=np.ascontiguousarray(rows["lat"], dtype=np.float64),
        lon=np.ascontiguousarray(rows["lon"], dtype=np.float64),
        category=(kind >> CATEGORY_SHIFT).astype(np.int8),
        status=((kind >> 1) & STATUS_MASK).astype(np.int8),
        urgent=(kind & 1).astype(np.int8),
    )


def _packed_rows(session: Session, select_points: Select[Any]) -> np.ndarray:
    """PostgreSQL: every row's binary numbers in one ``bytea`` (``int8send``, ``float8send``:
    exact, big-endian), read as one value; psycopg's parsing of 100,000 rows took 3–4 times
    the CPU. The rows are still the caller's query's, visibility included."""
    rows = select_points.subquery()
    report_id, latitude, longitude, kind = rows.c
    packed = func.int8send(report_id).op("||")(func.float8send(latitude))
    packed = packed.op("||")(func.float8send(longitude)).op("||")(func.int4send(kind))
    blob = session.scalar(select(func.string_agg(packed, literal(b"", LargeBinary))))
    return np.frombuffer(blob or b"", dtype=ROW.newbyteorder(">"))


def points_select(query: Select[tuple[Report]]) -> Select[tuple[int, float, float, int]]:
    """What :func:`_read` sends: the query's rows as (id, latitude, longitude, packed kind)."""
    return query.order_by(None).with_only_columns(
        Report.id, Report.latitude, Report.longitude, _packed_kind()
    )


def _packed_kind() -> ColumnElement[int]:
    """category index << 5 | status index << 1 | urgent, worked out by the database.

    A category or status not in the taxonomy reads as "other" or the first status, as before.
    """
    category = _position(Report.category, CATEGORY_CODES, CATEGORY_CODES.index("other"))
    status = _position(Report.status, STATUSES, 0)
    urgent = case((Report.urgent, 1), else_=0)
    return category * (1 << CATEGORY_SHIFT) + status * 2 + urgent


def _position(column: ColumnElement[str], codes: tuple[str, ...], unknown: int) -> Case[int]:
    """Each text value's position in ``codes`` (``unknown`` for a code not there)."""
    return case({code: i for i, code in enumerate(codes)}, value=column, else_=unknown)


def _updated(
    session: Session, query: Select[tuple[Report]], old: Points, stamp: tuple[Any, ...]
) -> Points:
    """``old`` with the reports added, reviewed or edited since its stamp read again.

    The added reports are found by primary key first, then read by id like the changed ones:
    asked as "the query's rows with id > n", SQLite would walk the whole day in the map index.
    """
    last_report, last_event, last_version, _sectors = old.stamp
    changed = set(
        session.scalars(select(Report.id).where(Report.id > last_report, Report.id <= stamp[0]))
    )
    changed.update(
        session.scalars(select(ReviewEvent.report_id).where(ReviewEvent.id > last_event))
    )
    changed.update(
        session.scalars(select(ReportVersion.report_id).where(ReportVersion.id > last_version))
    )
    ids = sorted(changed)
    parts = [
        _read(session, query.where(Report.id.in_(ids[start : start + CHUNK])))
        for start in range(0, len(ids), CHUNK)
    ]
    keep = ~np.isin(old.ids, np.array(ids, dtype=np.int64))
    fields = ("ids", "lat", "lon", "category", "status", "urgent")
    merged = {
        name: np.concatenate([getattr(old, name)[keep], *(getattr(p, name) for p in parts)])
        for name in fields
    }
    return Points(**merged, stamp=stamp)


def clear() -> None:
    """Forget every cached query (tests that rebuild a database under the same URL)."""
    with _lock:
        _cache.clear()
