"""The day's verified reports as files to download: CSV and GeoJSON, streamed.

Rows come straight from a database cursor in batches and are encoded a chunk at a time, so a
day of 100,000 reports is never held in memory. Team codes only, never observers' names.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

from fieldreport.digests.rows import EXPORT_COLUMNS

# A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV Injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula, prefixed with ``'`` (shown as text).

    Narratives and other text cells are typed by observers; the commission opens the CSV in a
    spreadsheet. Numbers stay numbers (a negative longitude is not text).
    """
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_chunks(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    """The rows as CSV with a header line, a chunk per 500 rows; no cell starts a formula."""
    buffer = io.StringIO()
    # CRLF as RFC 4180 has it; with "\n" alone, a text's bare "\r" went out unquoted and broke
    # the row for every reader.
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for i, row in enumerate(rows, 1):
        writer.writerow({key: spreadsheet_safe(value) for key, value in row.items()})
        if i % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


csv_chunks.mimetype = "text/csv; charset=utf-8"  # type: ignore[attr-defined]


def geojson_chunks(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    """The rows as a GeoJSON FeatureCollection of points, a chunk per feature."""
    yield '{"type":"FeatureCollection","features":['
    for i, row in enumerate(rows):
        properties = {k: v for k, v in row.items() if k not in ("latitude", "longitude")}
        feature = {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [row["longitude"], row["latitude"]]},
            "properties": properties,
        }
        yield ("," if i else "") + json.dumps(feature, ensure_ascii=False)
    yield "]}"


geojson_chunks.mimetype = "application/geo+json"  # type: ignore[attr-defined]


def with_places(
    rows: Iterator[dict[str, Any]], describe: Callable[[float, float], str]
) -> Iterator[dict[str, Any]]:
    """Each row with its ``place`` in words, from the gazetteer (`places.finder.place_finder`)."""
    for row in rows:
        row["place"] = describe(row["latitude"], row["longitude"])
        yield row
