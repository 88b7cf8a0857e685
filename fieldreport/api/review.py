"""The review API: a coordinator's decision on a report (the same use case as the review page)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_babel import gettext
from flask_login import current_user

from fieldreport.accounts.roles import COORDINATION
from fieldreport.api.serializers import report_response
from fieldreport.api.spec import answer, message, path_parameter
from fieldreport.review import service as review
from fieldreport.web.auth import roles_required
from fieldreport.web.lookups import visible_report_or_404
from fieldreport.web.transaction import request_session
from fieldreport.web.words import words

bp = Blueprint("api_review", __name__, url_prefix="/api/v1")
_CLIENT_ID = path_parameter("client_id")

PATHS: dict[str, Any] = {
    "/reports/{client_id}/review": {
        "post": {
            "summary": "Change a report's status (coordinator); every change is recorded",
            "parameters": [_CLIENT_ID],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["status"],
                            "properties": {
                                "status": {"enum": ["in_review", *review.DECISIONS]},
                                "comment": {"type": ["string", "null"]},
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": answer("The report", {"$ref": "#/components/schemas/Report"}),
                "403": message("Only coordinators and admins review"),
                "404": message("Not there, or outside the coordinator's sectors"),
                "409": message("The lifecycle does not allow this change"),
                "422": answer(
                    "Unknown status, or needs_info without the question",
                    {"$ref": "#/components/schemas/Errors"},
                ),
            },
        }
    },
}


@bp.post("/reports/<client_id>/review")
@roles_required(*COORDINATION)
def review_report(client_id: str) -> Any:
    db = request_session()
    report = visible_report_or_404(client_id=client_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("status"), str):
        return jsonify({"errors": {"status": [gettext("Send a JSON object with a status.")]}}), 422
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        return jsonify({"errors": {"comment": [gettext("The comment is text.")]}}), 422
    try:
        review.review_report(db, report, current_user, body["status"], comment)
    except review.TransitionRefused as refused:
        return jsonify({"error": "conflict", "message": words(refused)}), 409
    except review.ReviewInvalid as invalid:
        return jsonify({"errors": {invalid.field: [words(invalid)]}}), 422
    return report_response(report, 200)
