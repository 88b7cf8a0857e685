"""Reports of any date range as CSV or GeoJSON, encoded a chunk at a time as they are read.

``lists.reports_between`` reads the rows in batches; these functions turn each into a flat
record and encode it, so the export of a year takes the memory of a batch. Team codes only,
never observers' names; CSV cells a spreadsheet would run as a formula are made text.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from fieldreport.digests.exports import geojson_chunks, spreadsheet_safe
from fieldreport.reports.models import Report

EXPORT_COLUMNS = [
    "id",
    "client_id",
    "status",
    "category",
    "subcategory",
    "occurred_at",
    "occurred_offset_minutes",
    "received_at",
    "latitude",
    "longitude",
    "accuracy_m",
    "sector",
    "basis",
    "attribution_party",
    "attribution_confidence",
    "urgent",
    "team_code",
    "version",
    "narrative",
    "details",
]
CHUNK_ROWS = 500


def export_record(report: Report | Any, sector_code: str | None) -> dict[str, Any]:
    """One report (or a row of its columns) as a flat record (details as JSON text)."""
    return {
        "id": report.id,
        "client_id": report.client_id,
        "status": report.status,
        "category": report.category,
        "subcategory": report.subcategory,
        "occurred_at": report.occurred_at.isoformat(),
        "occurred_offset_minutes": report.occurred_offset_minutes,
        "received_at": report.received_at.isoformat(),
        "latitude": report.latitude,
        "longitude": report.longitude,
        "accuracy_m": report.accuracy_m,
        "sector": sector_code,
        "basis": report.basis,
        "attribution_party": report.attribution_party,
        "attribution_confidence": report.attribution_confidence,
        "urgent": bool(report.urgent),
        "team_code": report.team_code,
        "version": report.version,
        "narrative": report.narrative,
        "details": json.dumps(report.details or {}, ensure_ascii=False, sort_keys=True),
    }


def records(rows: Iterable[tuple[Any, str | None]]) -> Iterator[dict[str, Any]]:
    return (export_record(report, code) for report, code in rows)


def csv_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A header line, then the rows as CSV (RFC 4180 line ends), a chunk per ``CHUNK_ROWS``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for i, row in enumerate(rows, 1):
        writer.writerow({key: spreadsheet_safe(value) for key, value in row.items()})
        if i % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def geojson_feature_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The rows as a GeoJSON FeatureCollection of points, a chunk per feature."""
    return geojson_chunks(iter(rows))
