"""Small factories for the coordinators' tests: square sectors, GeoJSON files, stored reports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fieldreport.db import utcnow
from fieldreport.reports.models import Report
from fieldreport.reports.schemas import validate_report
from fieldreport.reports.service import submit_report
from fieldreport.sectors.shapes import square_polygon
from tests.conftest import report_body

square = square_polygon


def feature(code: str, geometry: dict[str, Any], kind: str = "sector", name: str = "") -> dict:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name or f"Sector {code}", "kind": kind},
        "geometry": geometry,
    }


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


# Two neighbouring sectors sharing the border lon = 11.90 (the east one smaller), a DMZ inside
# the west one.
WEST = feature("W", square(11.85, 43.47, 0.05))
EAST = feature("E", square(11.94, 43.47, 0.04))
DMZ = feature("DMZ-1", square(11.86, 43.47, 0.01), kind="dmz")


def file_report(
    session: Any,
    observer: Any,
    lat: float,
    lon: float,
    *,
    occurred_at: datetime | None = None,
    urgent: bool = False,
    **overrides: Any,
) -> Report:
    """Store a report through the same service the API uses (sector derived on save)."""
    body = report_body(latitude=lat, longitude=lon, urgent=urgent, **overrides)
    if occurred_at is not None:
        body["occurred_at"] = occurred_at.astimezone(UTC).isoformat()
    data = validate_report(body, now=utcnow(), parties=("Party A", "Party B"))
    report = submit_report(session, observer, data).report
    session.flush()
    return report
