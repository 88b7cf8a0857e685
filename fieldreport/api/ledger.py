"""The evidence log in the JSON API: the mission's public keys, and a report's evidence package."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from fieldreport.accounts.roles import COORDINATION
from fieldreport.api.spec import message, path_parameter
from fieldreport.ledger import keys, package
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
