"""The JSON API (DESIGN.md §8): what the offline outbox and other clients speak."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from fieldreport.api.openapi import OPENAPI
from fieldreport.api.serializers import photo_json, report_json
from fieldreport.db import utcnow
from fieldreport.photos import service as photos
from fieldreport.reports import service
from fieldreport.reports.schemas import ReportInvalid, validate_report
from fieldreport.sectors.models import Sector
from fieldreport.web.auth import roles_required, runtime, visible_report_or_404
from fieldreport.web.transaction import request_session

bp = Blueprint("api", __name__, url_prefix="/api/v1")
ALL_ROLES = ("observer", "coordinator", "commission", "admin")


def _report_response(report: Any, status: int) -> Any:
    db = request_session()
    sector = db.get(Sector, report.sector_id) if report.sector_id else None
    # A report created by this very request has no photos yet: spare the query.
    attached = [] if status == 201 else photos.photos_of(db, report)
    body = report_json(report, current_user, sector=sector, photos=attached)
    return jsonify(body), status


@bp.get("/csrf")
def csrf_token() -> Any:
    return jsonify({"csrf_token": generate_csrf()})


@bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(OPENAPI)


@bp.post("/reports")
@roles_required("observer")
def create_report() -> Any:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify({"errors": {"body": ["Send a JSON object."]}}), 422
    try:
        data = validate_report(body, now=utcnow(), parties=runtime().settings.parties)
    except ReportInvalid as invalid:
        return jsonify({"errors": invalid.errors}), 422
    db = request_session()
    try:
        outcome = service.submit_report(db, current_user, data)
    except service.ReportConflict as conflict:
        db.commit()
        return jsonify({"error": "conflict", "message": str(conflict)}), 409
    db.commit()
    return _report_response(outcome.report, 201 if outcome.created else 200)


@bp.post("/reports/<client_id>/photos")
@roles_required("observer")
def add_photo(client_id: str) -> Any:
    db = request_session()
    report = visible_report_or_404(client_id=client_id)
    upload = request.files.get("photo")
    if upload is None:
        return jsonify({"errors": {"photo": ["Attach the photo in the field 'photo'."]}}), 422
    settings = runtime().settings
    try:
        outcome = photos.add_photo(
            db,
            runtime().storage,
            report,
            current_user,
            upload.read(settings.max_photo_bytes + 1),
            original_name=upload.filename,
            max_bytes=settings.max_photo_bytes,
            max_pixels=settings.max_photo_pixels,
        )
    except photos.PhotoRejected as rejected:
        db.rollback()
        status = 413 if rejected.too_large else 422
        return jsonify({"error": "photo refused", "message": rejected.message}), status
    db.commit()
    photos.enqueue_processing(runtime().queue, [outcome.photo])
    return jsonify(photo_json(outcome.photo, current_user)), 201 if outcome.created else 200


@bp.get("/reports/<client_id>")
@roles_required(*ALL_ROLES)
def get_report(client_id: str) -> Any:
    return _report_response(visible_report_or_404(client_id=client_id), 200)


@bp.get("/reports")
@roles_required(*ALL_ROLES)
def list_reports() -> Any:
    db = request_session()
    limit = min(max(request.args.get("limit", 50, type=int) or 50, 1), 500)
    reports = service.list_reports(db, current_user, limit=limit)
    sectors = {sector.id: sector for sector in db.scalars(select(Sector))} if reports else {}
    return jsonify(
        {
            "reports": [
                report_json(report, current_user, sector=sectors.get(report.sector_id))
                for report in reports
            ]
        }
    )


from fieldreport.api import coordination as _coordination  # noqa: E402, F401 (routes)
from fieldreport.api import digests as _digests  # noqa: E402, F401 (routes)
