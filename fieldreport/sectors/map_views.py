"""The coordinators' map: page, clustered reports, sectors with coverage, popups, offline tiles."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from fieldreport.accounts.roles import COORDINATION
from fieldreport.digests.picture import category_hex
from fieldreport.photos import service as photos
from fieldreport.places.service import describe_location, places_in_box
from fieldreport.reports.models import STATUSES, Report
from fieldreport.reports.service import visible_reports
from fieldreport.reports.taxonomy import CATEGORIES, CATEGORY_SHAPES, category_label
from fieldreport.sectors.coverage import coverage
from fieldreport.sectors.days import day_bounds
from fieldreport.sectors.map_features import MAX_ZOOM, MIN_ZOOM, Bbox, MapQuery, map_cells
from fieldreport.sectors.map_tiles import area_tiles_path
from fieldreport.sectors.service import export_sectors
from fieldreport.sectors.view_helpers import day_arg, viewer_limits
from fieldreport.web.auth import roles_required
from fieldreport.web.context import runtime
from fieldreport.web.lookups import visible_report_or_404
from fieldreport.web.transaction import request_session

bp = Blueprint("map", __name__)
MAX_RANGE_DAYS = 31


@bp.get("/map")
@roles_required(*COORDINATION)
def map_page() -> Any:
    day = day_arg()
    return render_template(
        "sectors/map.html",
        day=day,
        until=_until(day),
        category=request.args.get("category", ""),
        status=request.args.get("status", ""),
        categories=CATEGORIES,
        statuses=STATUSES,
        shapes=CATEGORY_SHAPES,
        colours={code: category_hex(code) for code in CATEGORY_SHAPES},
        tile_url=runtime().settings.map_tile_url,
        area_tiles=area_tiles_path(runtime().settings.data_dir).is_file(),
        zoom_limits=(MIN_ZOOM, MAX_ZOOM),
    )


def _until(day: date) -> date:
    """The last day of the range (``?until=``), at most 31 days on; the day itself if none."""
    try:
        until = date.fromisoformat(request.args.get("until", ""))
    except ValueError:
        return day
    return min(max(until, day), day + timedelta(days=MAX_RANGE_DAYS - 1))


def _bbox() -> Bbox | None:
    try:
        west, south, east, north = (float(v) for v in request.args.get("bbox", "").split(","))
    except ValueError:
        return None
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        return None
    return west, south, east, north


@bp.get("/map/data.json")
@roles_required(*COORDINATION)
def map_data() -> Any:
    """Every report of the day (or range) the viewer may see, clustered for ``zoom``."""
    db = request_session()
    day = day_arg()
    zone = runtime().settings.zone
    start, _end = day_bounds(day, zone)
    query = MapQuery(
        start=start,
        end=day_bounds(_until(day), zone)[1],
        zoom=request.args.get("zoom", MIN_ZOOM, type=int) or MIN_ZOOM,
        bbox=_bbox(),
        category=request.args.get("category") or None,
        status=request.args.get("status") or None,
    )
    return jsonify(map_cells(db, visible_reports(db, current_user), query))


@bp.get("/map/sectors.json")
@roles_required(*COORDINATION)
def map_sectors() -> Any:
    """The sectors the viewer may see, each with the day's reports and observers assigned."""
    db = request_session()
    limits = viewer_limits()
    counts = {
        row.sector.code: {"reports": row.reports, "assigned": row.assigned}
        for row in coverage(db, day_arg(), runtime().settings.zone, limits).sectors
    }
    sectors = export_sectors(db, limits)
    for feature in sectors["features"]:
        feature["properties"].update(counts.get(feature["properties"]["code"], {}))
    return jsonify(sectors)


@bp.get("/map/reports/<int:report_id>.json")
@roles_required(*COORDINATION)
def map_report(report_id: int) -> Any:
    """What a report's popup shows: summary, place in words, a thumbnail and where to act."""
    db = request_session()
    report: Report = visible_report_or_404(report_id=report_id)
    done = [p for p in photos.photos_of(db, report) if p.state == "done"]
    return jsonify(
        {
            "id": report.id,
            "title": _(category_label(report.category)),
            "status": _(report.status.replace("_", " ").capitalize()),
            "urgent": report.urgent,
            "occurred_at": report.occurred_at.isoformat(),
            "place": describe_location(db, report.latitude, report.longitude, _),
            "excerpt": report.narrative[:200],
            "photos": len(done),
            "thumbnail": url_for("photos.derivative", photo_id=done[0].id, kind="thumb")
            if done
            else None,
            "url": url_for("reports.detail", report_id=report.id),
            "review_url": url_for("reports.detail", report_id=report.id, _anchor="review"),
        }
    )


@bp.get("/map/places.json")
@roles_required(*COORDINATION)
def map_places() -> Any:
    """Names for the base layer: the largest places of the gazetteer in the box shown."""
    box = _bbox()
    if box is None:
        return jsonify({"places": []})
    found = places_in_box(request_session(), *box)
    return jsonify({"places": [[p.name, p.latitude, p.longitude] for p in found]})


@bp.get("/map/area.pmtiles")
@roles_required(*COORDINATION)
def area_tiles() -> Any:
    """The admin's offline vector-tile extract, read by the map a byte range at a time."""
    path = area_tiles_path(runtime().settings.data_dir)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="application/vnd.pmtiles", conditional=True)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
