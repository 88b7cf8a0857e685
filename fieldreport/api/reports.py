"""The reports API: what the offline outbox and other clients speak (described in spec.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user
from sqlalchemy import select

from fieldreport.accounts.roles import ALL_ROLES, OBSERVER
from fieldreport.api.serializers import photo_json, report_json, report_response
from fieldreport.photos import service as photos
from fieldreport.photos.forms import received_upload, refusal_status
from fieldreport.reports import service
from fieldreport.reports.schemas import ReportInvalid
from fieldreport.sectors.models import Sector
from fieldreport.web.auth import roles_required
from fieldreport.web.context import runtime
from fieldreport.web.lookups import visible_report_or_404
from fieldreport.web.transaction import request_session

bp = Blueprint("api_reports", __name__, url_prefix="/api/v1")


@bp.post("/reports")
@roles_required(OBSERVER)
def create_report() -> Any:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify({"errors": {"body": ["Send a JSON object."]}}), 422
    rt = runtime()
    db = request_session()
    try:
        outcome = service.submit_report_with_photos(
            db, rt.storage, rt.queue, current_user, body, (), rt.settings
        )
    except ReportInvalid as invalid:
        return jsonify({"errors": invalid.errors}), 422
    except service.ReportConflict as conflict:
        # Answered normally, so the conflict's audit row is committed (web/transaction.py).
        return jsonify({"error": "conflict", "message": str(conflict)}), 409
    return report_response(outcome.report, 201 if outcome.created else 200)


@bp.post("/reports/<client_id>/photos")
@roles_required(OBSERVER)
def add_photo(client_id: str) -> Any:
    report = visible_report_or_404(client_id=client_id)
    file = request.files.get("photo")
    if file is None:
        return jsonify({"errors": {"photo": ["Attach the photo in the field 'photo'."]}}), 422
    rt = runtime()
    try:
        outcome = photos.attach_photo(
            request_session(),
            rt.storage,
            rt.queue,
            report,
            current_user,
            received_upload(file, rt.settings.max_photo_bytes),
            photos.PhotoLimits.from_settings(rt.settings),
        )
    except photos.PhotoRejected as rejected:
        body = {"error": "photo refused", "message": rejected.message}
        return jsonify(body), refusal_status(rejected)
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
