"""The pages of one day: coverage (who covered which sector) and the map of the reports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from fieldreport.accounts.roles import COORDINATION
from fieldreport.digests.picture import category_hex
from fieldreport.reports.models import STATUSES, Report
from fieldreport.reports.service import visible_reports
from fieldreport.reports.taxonomy import CATEGORIES, category_label, subcategory_label
from fieldreport.sectors.coverage import coverage as day_coverage
from fieldreport.sectors.map_features import map_features
from fieldreport.sectors.service import export_sectors
from fieldreport.sectors.view_helpers import day_arg, viewer_limits
from fieldreport.web.auth import roles_required
from fieldreport.web.context import runtime
from fieldreport.web.transaction import request_session

bp = Blueprint("day", __name__)


@bp.get("/coverage")
@roles_required(*COORDINATION)
def coverage() -> Any:
    day = day_arg()
    report = day_coverage(request_session(), day, runtime().settings.zone, viewer_limits())
    return render_template(
        "sectors/coverage.html",
        coverage=report,
        previous=day - timedelta(days=1),
        next=day + timedelta(days=1),
    )


@bp.get("/map")
@roles_required(*COORDINATION)
def map_page() -> Any:
    return render_template(
        "sectors/map.html",
        day=day_arg(),
        category=request.args.get("category", ""),
        status=request.args.get("status", ""),
        categories=CATEGORIES,
        statuses=STATUSES,
        tile_url=runtime().settings.map_tile_url,
    )


@bp.get("/map/data.json")
@roles_required(*COORDINATION)
def map_data() -> Any:
    db = request_session()
    reports = map_features(
        db,
        visible_reports(db, current_user),
        day=day_arg(),
        zone=runtime().settings.zone,
        category=request.args.get("category") or None,
        status=request.args.get("status") or None,
    )
    return jsonify(
        {
            "sectors": export_sectors(db, viewer_limits()),
            "reports": map_report_collection(reports),
        }
    )


def _label(report: Report) -> str:
    """ "Category · subcategory" in the viewer's language (the taxonomy gives message ids)."""
    category = _(category_label(report.category))
    return f"{category} · {_(subcategory_label(report.category, report.subcategory))}"


def map_report_collection(reports: list[Report]) -> dict[str, Any]:
    """Reports as GeoJSON points with what the map shows: colour, label, link."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [r.longitude, r.latitude]},
                "properties": {
                    "id": r.id,
                    "url": url_for("reports.detail", report_id=r.id),
                    "category": r.category,
                    "status": r.status,
                    "urgent": r.urgent,
                    "colour": category_hex(r.category),
                    "label": _label(r),
                    "team_code": r.team_code,
                },
            }
            for r in reports
        ],
    }
