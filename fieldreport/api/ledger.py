"""The evidence log in the JSON API: the mission's public keys, and a report's evidence package."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from fieldreport.accounts.roles import COORDINATION, OBSERVER
from fieldreport.accounts.service import audit
from fieldreport.api.spec import ERRORS, json_answer, message, path_parameter
from fieldreport.ledger import devices, keys, package
from fieldreport.ledger.views import zip_response
from fieldreport.web.auth import roles_required
from fieldreport.web.context import runtime
from fieldreport.web.lookups import visible_report_or_404
from fieldreport.web.transaction import request_session

bp = Blueprint("api_ledger", __name__, url_prefix="/api/v1")
_ZIP = {"application/zip": {"schema": {"type": "string", "format": "binary"}}}
PATHS: dict[str, Any] = {
    "/ledger/keys": {
        "get": {
            "summary": "Every public key of the mission (Ed25519), by fingerprint, oldest first",
            "security": [],
            "responses": {
                "200": {
                    "description": "keys [{fingerprint, fingerprint_grouped, pem, announcement}]",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
    "/devices": {
        "post": {
            "summary": "Register this phone's public key (observers): its reports can be signed",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["algorithm", "public_key_spki"],
                            "additionalProperties": False,
                            "properties": {
                                "algorithm": {"enum": list(devices.ALGORITHMS)},
                                "public_key_spki": {"type": "string", "maxLength": 400},
                            },
                        }
                    }
                },
            },
            "responses": {
                "201": json_answer({"type": "object"}, "Registered: {key_id}"),
                "200": json_answer({"type": "object"}, "Already registered: {key_id}"),
                "403": message("Only observers register phones"),
                "422": json_answer(ERRORS, "Not a key of the algorithm named"),
            },
        }
    },
    "/reports/{client_id}/evidence": {
        "get": {
            "summary": "A report's evidence package (ZIP), coordinators and admins",
            "parameters": [path_parameter("client_id")],
            "responses": {
                "200": {"description": "The package", "content": _ZIP},
                "403": message("Only coordinators and admins"),
                "404": message("Not there, or not one the caller may see"),
            },
        }
    },
}


@bp.get("/ledger/keys")
def mission_keys() -> Any:
    found = keys.public_keys(runtime().settings.data_dir)
    return jsonify(
        {
            "keys": [
                {
                    "fingerprint": fp,
                    "fingerprint_grouped": keys.grouped(fp),
                    "pem": key.pem,
                    "announcement": key.announcement,
                }
                for fp, key in found.items()
            ]
        }
    )


@bp.get("/reports/<client_id>/evidence")
@roles_required(*COORDINATION)
def report_evidence(client_id: str) -> Any:
    report = visible_report_or_404(client_id=client_id)
    name, data = package.for_report(
        request_session(), runtime().storage, runtime().settings.data_dir, report
    )
    return zip_response(name, data)


@bp.post("/devices")
@roles_required(OBSERVER)
def register_device() -> Any:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify({"errors": {"body": ["Send a JSON object."]}}), 422
    session = request_session()
    try:
        key, created = devices.register_key(
            session, current_user, body.get("algorithm"), body.get("public_key_spki")
        )
    except devices.DeviceKeyInvalid as invalid:
        return jsonify({"errors": {"public_key_spki": [_(invalid.message)]}}), 422
    if created:
        audit(session, "device_key.register", user=current_user, detail={"key_id": key.key_id})
    return jsonify({"key_id": key.key_id}), 201 if created else 200
