"""OpenAPI description of the reports' list, sync feed and export (``api/report_lists.py``)."""

from __future__ import annotations

from typing import Any

from fieldreport.api.spec import json_answer, message, ref


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _day(name: str, description: str) -> dict[str, Any]:
    return {**_query(name, description, {"type": "string", "format": "date"}), "required": True}


_LINK = {
    "description": 'The next page or the next poll of the feed: `<URL>; rel="next"`',
    "schema": {"type": "string"},
}
_PAGE: dict[str, Any] = {
    "type": "object",
    "required": ["reports", "links"],
    "properties": {
        "reports": {"type": "array", "items": ref("Report")},
        "links": {
            "type": "object",
            "required": ["next"],
            "properties": {
                "next": {
                    "type": ["string", "null"],
                    "description": "Where to go on; null on the last page of a list. With "
                    "since it is always given: poll it for later changes.",
                }
            },
        },
    },
}
_LIST_PARAMETERS = [
    _query(
        "limit",
        "At most this many (1 to 500; none or 0: 50, more than 500: 500)",
        {"type": "integer"},
    ),
    _query(
        "cursor",
        "A page of the list, newest event first: links.next of the previous page",
        {"type": "string"},
    ),
    _query(
        "since",
        "The sync feed: reports changed (created, amended, reviewed, moved to another sector) "
        "after this point, in the order the changes were committed; 0 for the beginning, then "
        "links.next of the previous answer. A report changed again comes again.",
        {"type": "string"},
    ),
]
_RANGE = [
    _day("from", "First day (in the mission's time zone) of the events"),
    _day("to", "Last day, included"),
]


_FEATURES = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {"type": "array", "items": {"type": "object"}},
    },
}


def _export(media_type: str, what: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "get": {
            "summary": f"Every report the caller may see with its event in a range of days, "
            f"as {what}, oldest first, streamed",
            "parameters": _RANGE,
            "responses": {
                "200": {
                    "description": what,
                    "content": {media_type: {"schema": schema}},
                },
                "400": message("A day missing or not YYYY-MM-DD, or to before from"),
            },
        }
    }


LIST_GET: dict[str, Any] = {
    "summary": "The reports the caller may see, newest event first, a page at a time; or, with "
    "since, the reports changed since a point of the sync feed",
    "parameters": _LIST_PARAMETERS,
    "responses": {
        "200": {**json_answer(_PAGE, "A page of reports"), "headers": {"Link": _LINK}},
        "400": message("A cursor or since that this server did not give, or both at once"),
    },
}
PATHS: dict[str, Any] = {
    "/reports/export.csv": _export("text/csv", "CSV", {"type": "string"}),
    "/reports/export.geojson": _export(
        "application/geo+json", "a GeoJSON FeatureCollection", _FEATURES
    ),
}
