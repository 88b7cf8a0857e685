"""The day's verified reports as files to download: CSV and GeoJSON.

A build encodes the records of its snapshot (:func:`export_files`); a download of some sectors
encodes records streamed from a database cursor a chunk at a time. ``csv_chunks`` and
``geojson_chunks`` encode rows as dicts (other exports use them too). Team codes only, never
observers' names.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from fieldreport.digests.rows import EXPORT_COLUMNS, ExportRecord

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


# The digest's own exports: records (tuples in EXPORT_COLUMNS order, ``rows.py``) encoded in
# bulk. Same bytes as csv_chunks and geojson_chunks give for the same rows as dicts (a test
# holds them to it), about four times faster: no dict per row, one C call per batch of CSV rows,
# and each GeoJSON feature written from a template with only its strings JSON-encoded.

CHUNK_ROWS = 2000
_json_string = json.encoder.encode_basestring  # what json.dumps(..., ensure_ascii=False) uses


_FORMULA_FIRST = frozenset(_FORMULA_STARTS)


def _csv_cells(record: ExportRecord) -> ExportRecord:
    """The record as CSV cells: as ``spreadsheet_safe`` makes them, spelled out (no call per
    cell). Times are ours (ISO, a digit first); every other text may have been typed."""
    at, local, sector, kind, sub, lat, lon, basis, party, sure, urgent, team, text, place = record
    f = _FORMULA_FIRST
    return (
        at,
        local,
        "'" + sector if sector[:1] in f else sector,
        "'" + kind if kind[:1] in f else kind,
        "'" + sub if sub[:1] in f else sub,
        lat,
        lon,
        "'" + basis if basis[:1] in f else basis,
        "'" + party if party[:1] in f else party,
        "'" + sure if sure[:1] in f else sure,
        urgent,
        "'" + team if team[:1] in f else team,
        "'" + text if text[:1] in f else text,
        "'" + place if place[:1] in f else place,
    )


def record_csv_chunks(records: Iterable[ExportRecord]) -> Iterator[str]:
    """The records as CSV with a header line (CRLF, no cell starts a formula), a chunk per
    ``CHUNK_ROWS`` records."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    batch: list[ExportRecord] = []
    for record in records:
        batch.append(_csv_cells(record))
        if len(batch) == CHUNK_ROWS:
            writer.writerows(batch)
            batch.clear()
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    writer.writerows(batch)
    yield buffer.getvalue()


record_csv_chunks.mimetype = csv_chunks.mimetype  # type: ignore[attr-defined]


def _feature(record: ExportRecord) -> str:
    at, local, sector, kind, sub, lat, lon, basis, party, sure, urgent, team, text, place = record
    j = _json_string
    return (
        '{"type": "Feature", "geometry": {"type": "Point", "coordinates": '
        f'[{lon!r}, {lat!r}]}}, "properties": {{'
        f'"occurred_at_utc": {j(at)}, "local_time": {j(local)}, "sector": {j(sector)}, '
        f'"category": {j(kind)}, "subcategory": {j(sub)}, "basis": {j(basis)}, '
        f'"attribution_party": {j(party)}, "attribution_confidence": {j(sure)}, '
        f'"urgent": {"true" if urgent else "false"}, "team": {j(team)}, '
        f'"narrative": {j(text)}, "place": {j(place)}}}}}'
    )


def record_geojson_chunks(records: Iterable[ExportRecord]) -> Iterator[str]:
    """The records as a GeoJSON FeatureCollection of points, a chunk per ``CHUNK_ROWS``."""
    yield '{"type":"FeatureCollection","features":['
    first = True
    batch: list[str] = []
    for record in records:
        batch.append(_feature(record))
        if len(batch) == CHUNK_ROWS:
            yield ("" if first else ",") + ",".join(batch)
            first = False
            batch.clear()
    if batch:
        yield ("" if first else ",") + ",".join(batch)
    yield "]}"


record_geojson_chunks.mimetype = geojson_chunks.mimetype  # type: ignore[attr-defined]


def export_files(records: Sequence[ExportRecord]) -> dict[str, bytes]:
    """A build's ``reports.csv`` and ``reports.geojson``, from the records of its snapshot."""
    return {
        "reports.csv": "".join(record_csv_chunks(records)).encode(),
        "reports.geojson": "".join(record_geojson_chunks(records)).encode(),
    }
