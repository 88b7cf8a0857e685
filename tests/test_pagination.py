"""Keyset pagination walks a list once, in order, with no row twice or missed, on both databases."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from fieldreport.pagination import BadCursor, decode_cursor, encode_cursor, keyset_page
from fieldreport.reports.models import Report
from tests.helpers import add_report


def _walk(session, limit, descending=True):
    seen, cursor, pages = [], None, 0
    while True:
        page = keyset_page(
            session,
            select(Report),
            [Report.occurred_at, Report.id],
            lambda r: (r.occurred_at, r.id),
            limit=limit,
            cursor=cursor,
            descending=descending,
        )
        seen.extend(page.items)
        pages += 1
        if not page.has_more:
            return seen, pages
        cursor = page.next_cursor


def test_pages_cover_every_row_once_in_order_with_ties_on_the_time(runtime, users):
    start = datetime(2026, 5, 1, 8, tzinfo=UTC)
    with runtime.db.session_scope() as session:
        # 23 reports on 9 distinct instants: ties are broken by id.
        for i in range(23):
            add_report(session, users.observer, start + timedelta(minutes=i % 9))
    with runtime.db.session_scope() as session:
        expected = sorted(
            session.scalars(select(Report)), key=lambda r: (r.occurred_at, r.id), reverse=True
        )
        seen, pages = _walk(session, limit=5)
        assert [r.id for r in seen] == [r.id for r in expected]
        assert pages == 5
        ascending, _ = _walk(session, limit=7, descending=False)
        assert [r.id for r in ascending] == [r.id for r in reversed(expected)]


def test_an_exact_last_page_has_no_next_cursor(runtime, users):
    with runtime.db.session_scope() as session:
        for i in range(4):
            add_report(session, users.observer, datetime(2026, 5, 1, 8, i, tzinfo=UTC))
    with runtime.db.session_scope() as session:
        seen, pages = _walk(session, limit=4)
        assert len(seen) == 4 and pages == 1


def test_a_cursor_round_trips_times_and_ids():
    when = datetime(2026, 5, 1, 8, 30, 15, 123456, tzinfo=UTC)
    assert decode_cursor(encode_cursor([when, 42]), 2) == (when, 42)


def _raw(text):
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "%%%",
        "x" * 600,
        encode_cursor([1]),
        _raw('[{"t": "yesterday"}, 1]'),
        _raw("[[1], 2]"),
        _raw("null"),
    ],
)
def test_a_cursor_this_server_did_not_write_is_refused(cursor):
    with pytest.raises(BadCursor):
        decode_cursor(cursor, 2)
