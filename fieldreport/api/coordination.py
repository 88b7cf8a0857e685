"""Coordinators' JSON API (DESIGN §8): sectors as GeoJSON, and reviewing a report.

Registered on the ``api`` blueprint of :mod:`fieldreport.api.views`, and described in the same
OpenAPI document (its paths are added here, next to the routes they describe).
"""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, request
from flask_login import current_user

from fieldreport.api.openapi import OPENAPI
from fieldreport.api.views import ALL_ROLES, _report_response, bp
from fieldreport.review import service as review
from fieldreport.sectors import service as sectors
from fieldreport.sectors.geometry import SectorImportError
from fieldreport.sectors.views import enqueue_rederive, problems_json
from fieldreport.web.auth import roles_required, visible_report_or_404
from fieldreport.web.transaction import request_session

_GEOJSON = {"type": "object", "description": "GeoJSON FeatureCollection (code, name, kind)"}
_CLIENT_ID = {"name": "client_id", "in": "path", "required": True, "schema": {"type": "string"}}


def _answer(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema or {"type": "object"}}},
    }


OPENAPI["paths"].update(
    {
        "/sectors": {
            "get": {
                "summary": "The active sectors (a limited coordinator: theirs)",
                "responses": {"200": _answer("FeatureCollection", _GEOJSON)},
            },
            "post": {
                "summary": "Import sectors; an existing code updates that sector (coordinator)",
                "requestBody": {
                    "required": True,
                    "content": {"application/geo+json": {"schema": _GEOJSON}},
                },
                "responses": {
                    "201": _answer("Imported: {imported, created, updated}"),
                    "422": _answer("Refused, nothing imported: {errors: [{feature, reason}]}"),
                },
            },
        },
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
                    "200": _answer("The report", {"$ref": "#/components/schemas/Report"}),
                    "404": _answer("Not there, or outside the coordinator's sectors"),
                    "409": _answer("The lifecycle does not allow this change"),
                    "422": _answer("Unknown status, or needs_info without the question"),
                },
            }
        },
    }
)


@bp.get("/sectors")
@roles_required(*ALL_ROLES)
def list_sectors() -> Any:
    """Sector lines are shared with everyone who may log in (the digest map shows them too)."""
    db = request_session()
    limits = sectors.visible_sector_ids(db, current_user)
    body = sectors.export_sectors(db, limits)
    return jsonify(body), 200, {"Content-Type": "application/geo+json"}


@bp.post("/sectors")
@roles_required("coordinator", "admin")
def import_sectors() -> Any:
    db = request_session()
    if sectors.visible_sector_ids(db, current_user) is not None:
        abort(403)
    body = request.get_json(silent=True)
    if body is None:
        body = request.get_data()
    try:
        outcome = sectors.import_sector_collection(db, body, current_user)
    except SectorImportError as error:
        db.rollback()
        return jsonify({"errors": problems_json(error)}), 422
    db.commit()
    enqueue_rederive()
    return jsonify(
        {"imported": outcome.count, "created": outcome.created, "updated": outcome.updated}
    ), 201


@bp.post("/reports/<client_id>/review")
@roles_required(*review.REVIEWER_ROLES)
def review_report(client_id: str) -> Any:
    db = request_session()
    report = visible_report_or_404(client_id=client_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("status"), str):
        return jsonify({"errors": {"status": ["Send a JSON object with a status."]}}), 422
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        return jsonify({"errors": {"comment": ["The comment is text."]}}), 422
    try:
        review.review_report(db, report, current_user, body["status"], comment)
    except review.TransitionRefused as refused:
        db.rollback()
        return jsonify({"error": "conflict", "message": str(refused)}), 409
    except review.ReviewInvalid as invalid:
        db.rollback()
        return jsonify({"errors": {invalid.field: [invalid.message]}}), 422
    db.commit()
    return _report_response(report, 200)
