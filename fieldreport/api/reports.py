"""The reports API: what the offline outbox and other clients speak (described in ``PATHS``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_babel import gettext
from flask_login import current_user

from fieldreport.accounts.roles import ALL_ROLES, OBSERVER
from fieldreport.api import report_list_spec, report_lists
from fieldreport.api.serializers import photo_json, report_response
from fieldreport.api.spec import ERRORS, json_answer, message, path_parameter, ref
from fieldreport.photos import service as photos
from fieldreport.photos.forms import received_upload, refusal_status
from fieldreport.reports import service
from fieldreport.reports.phone_clock import record_phone_time
from fieldreport.reports.schemas import ReportInvalid
from fieldreport.web.auth import roles_required
from fieldreport.web.context import runtime
from fieldreport.web.lookups import visible_report_or_404
from fieldreport.web.transaction import request_session
from fieldreport.web.words import words, words_by_field

bp = Blueprint("api_reports", __name__, url_prefix="/api/v1")
_CLIENT_ID = path_parameter("client_id")
PATHS: dict[str, Any] = {
    "/reports": {
        "get": report_list_spec.LIST_GET,
        "post": {
            "summary": "File a report, observers only (idempotent on client_id)",
            "parameters": [
                {
                    "name": "X-Phone-Sent-At",
                    "in": "header",
                    "required": False,
                    "description": "The phone's clock when it sent (ISO 8601 with offset): kept "
                    "beside the receipt time; a clock off by more than 5 minutes is flagged",
                    "schema": {"type": "string"},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ref("ReportInput")}},
            },
            "responses": {
                "201": json_answer(ref("Report"), "Stored"),
                "200": json_answer(ref("Report"), "Already stored: the same client_id and body"),
                "403": message("Only observers file reports"),
                "409": message("client_id used for a different body"),
                "422": json_answer(ref("Errors"), "Invalid, with messages by field"),
            },
        },
    },
    "/reports/{client_id}": {
        "get": {
            "summary": "One report with its photos",
            "parameters": [_CLIENT_ID],
            "responses": {
                "200": json_answer(ref("Report"), "The report"),
                "404": message("Not there, or not one the caller may see"),
            },
        }
    },
    "/reports/{client_id}/photos": {
        "post": {
            "summary": "Attach a photo to one's own report (idempotent on its SHA-256)",
            "parameters": [_CLIENT_ID],
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["photo"],
                            "properties": {"photo": {"type": "string", "format": "binary"}},
                        }
                    }
                },
            },
            "responses": {
                "201": json_answer(ref("Photo"), "Stored"),
                "200": json_answer(ref("Photo"), "The same bytes were already stored"),
                "403": message("Only observers attach photos"),
                "404": message("No such report of the caller's"),
                "413": message("Too large"),
                "422": json_answer(
                    {"anyOf": [ref("Message"), ERRORS]},
                    "Not a photo we accept, or no file in the field 'photo'",
                ),
            },
        }
    },
}


@bp.post("/reports")
@roles_required(OBSERVER)
def create_report() -> Any:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify({"errors": {"body": [gettext("Send a JSON object.")]}}), 422
    rt = runtime()
    db = request_session()
    try:
        outcome = service.submit_report_with_photos(
            db, rt.storage, rt.queue, current_user, body, (), rt.settings
        )
    except ReportInvalid as invalid:
        return jsonify({"errors": words_by_field(invalid.errors)}), 422
    except service.ReportConflict as conflict:
        # Answered normally, so the conflict's audit row is committed (web/transaction.py).
        return jsonify({"error": "conflict", "message": str(conflict)}), 409
    if outcome.created:
        record_phone_time(outcome.report, request.headers.get("X-Phone-Sent-At"))
    return report_response(outcome.report, 201 if outcome.created else 200)


@bp.post("/reports/<client_id>/photos")
@roles_required(OBSERVER)
def add_photo(client_id: str) -> Any:
    report = visible_report_or_404(client_id=client_id)
    file = request.files.get("photo")
    if file is None:
        return jsonify(
            {"errors": {"photo": [gettext("Attach the photo in the field 'photo'.")]}}
        ), 422
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
        body = {"error": "photo refused", "message": words(rejected)}
        return jsonify(body), refusal_status(rejected)
    return jsonify(photo_json(outcome.photo, current_user)), 201 if outcome.created else 200


@bp.get("/reports/<client_id>")
@roles_required(*ALL_ROLES)
def get_report(client_id: str) -> Any:
    return report_response(visible_report_or_404(client_id=client_id), 200)


# The lists, the sync feed and the export live in report_lists.py (their PATHS beside them).
for _rule, _view in (
    ("/reports", report_lists.list_reports),
    ("/reports/export.csv", report_lists.export_csv),
    ("/reports/export.geojson", report_lists.export_geojson),
):
    bp.add_url_rule(_rule, view_func=roles_required(*ALL_ROLES)(_view), methods=["GET"])
PATHS.update(report_list_spec.PATHS)
