"""The API's lists of reports: pages (``limit``, ``cursor``), the sync feed (``since``) and the
streamed export of a date range. Every answer that stops says where to go on (``links.next`` and
a ``Link`` header); a cursor this server did not write is a 400, never a 500. Routes are added
to the reports blueprint by ``api/reports.py``; ``PATHS`` describes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from flask import Response, jsonify, request, stream_with_context, url_for
from flask_login import current_user

from fieldreport.api.report_list_spec import PATHS
from fieldreport.api.serializers import report_json
from fieldreport.reports import export, lists
from fieldreport.sectors.days import day_bounds
from fieldreport.web.context import runtime
from fieldreport.web.transaction import request_session

__all__ = ["PATHS", "export_csv", "export_geojson", "list_reports"]


def _refused(message: str) -> Any:
    return jsonify({"error": "Bad request", "message": message}), 400


def _limit() -> int:
    return min(max(request.args.get("limit", lists.PAGE_SIZE, type=int) or 1, 1), lists.MAX_PAGE)


def _page(limit: int) -> tuple[lists.Page[Any], str]:
    """The page asked for and the name of the parameter that continues it."""
    db = request_session()
    since = request.args.get("since")
    if since is not None:
        return lists.changes_page(db, current_user, since=since, limit=limit), "since"
    cursor = request.args.get("cursor") or None
    return lists.report_page(db, current_user, cursor=cursor, limit=limit), "cursor"


def list_reports() -> Any:
    if "since" in request.args and "cursor" in request.args:
        return _refused("Give either since (changes) or cursor (a page), not both.")
    limit = _limit()
    try:
        page, key = _page(limit)
    except lists.BadCursor:
        return _refused("The cursor cannot be read: use links.next of an earlier answer.")
    codes = lists.sector_codes(request_session(), page.items)
    next_url = None
    if page.next_cursor is not None:
        arguments = {"limit": limit, key: page.next_cursor}
        next_url = url_for("api_reports.list_reports", _external=True, **arguments)
    response = jsonify(
        {
            "reports": [
                report_json(report, current_user, sector_code=codes.get(report.sector_id))
                for report in page.items
            ],
            "links": {"next": next_url},
        }
    )
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response


def _day(name: str) -> date:
    text = request.args.get(name, "")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"Give {name} as a day, YYYY-MM-DD.") from None


def _range() -> tuple[datetime, datetime]:
    """``from`` and ``to`` (days in the mission's zone, both included) as UTC instants."""
    first, last = _day("from"), _day("to")
    if last < first:
        raise ValueError("to is before from.")
    zone = runtime().settings.zone
    return day_bounds(first, zone)[0], day_bounds(last, zone)[1]


def _export(encode: Any, content_type: str, suffix: str) -> Any:
    try:
        start, end = _range()
    except (ValueError, OverflowError) as error:
        return _refused(str(error))
    database, user = runtime().db, current_user._get_current_object()

    def generate() -> Iterator[str]:
        # Its own read transaction, open while the answer streams; rows come in batches.
        with database.session_scope(write=False) as session:
            yield from encode(export.records(lists.reports_between(session, user, start, end)))

    response = Response(stream_with_context(generate()), content_type=content_type)
    name = f"reports-{request.args['from']}-{request.args['to']}.{suffix}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def export_csv() -> Any:
    return _export(export.csv_chunks, "text/csv; charset=utf-8", "csv")


def export_geojson() -> Any:
    return _export(export.geojson_feature_chunks, "application/geo+json", "geojson")
