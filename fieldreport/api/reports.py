"""The reports API: what the offline outbox and other clients speak (described in spec.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user
from sqlalchemy import select

from fieldreport.accounts.roles import ALL_ROLES
from fieldreport.api.serializers import photo_json, report_json, report_response
from fieldreport.db import utcnow
from fieldreport.photos import service as photos
from fieldreport.reports import service
from fieldreport.reports.schemas import ReportInvalid, validate_report
from fieldreport.sectors.models import Sector
from fieldreport.web.auth import roles_required
from fieldreport.web.context import runtime
from fieldreport.web.lookups import visible_report_or_404
from fieldreport.web.transaction import request_session

bp = Blueprint("api_reports", __name__, url_prefix="/api/v1")


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
    return report_response(outcome.report, 201 if outcome.created else 200)


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
    return report_response(visible_report_or_404(client_id=client_id), 200)


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
