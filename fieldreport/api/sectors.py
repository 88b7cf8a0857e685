"""The sectors API: the sector lines as GeoJSON for every user, import for coordinators."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user

from fieldreport.accounts.roles import ALL_ROLES, COORDINATION
from fieldreport.api.spec import answer
from fieldreport.sectors import service as sectors
from fieldreport.sectors.errors import SectorAuthorityError
from fieldreport.sectors.geojson import SectorImportError
from fieldreport.sectors.import_limits import ImportLimits
from fieldreport.sectors.limits import visible_sector_ids
from fieldreport.web.auth import roles_required
from fieldreport.web.context import client_address, runtime
from fieldreport.web.transaction import request_session
from fieldreport.web.words import words

bp = Blueprint("api_sectors", __name__, url_prefix="/api/v1")
_GEOJSON = {
    "type": "object",
    "required": ["type", "features"],
    "description": "GeoJSON FeatureCollection; each feature's properties: code, name, kind",
    "properties": {"type": {"const": "FeatureCollection"}, "features": {"type": "array"}},
}
_IMPORTED = {
    "type": "object",
    "required": ["imported", "created", "updated"],
    "properties": {
        "imported": {"type": "integer"},
        "created": {"type": "array", "items": {"type": "string"}},
        "updated": {"type": "array", "items": {"type": "string"}},
    },
}
_PROBLEMS = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"feature": {"type": "integer"}, "reason": {"type": "string"}},
            },
        }
    },
}

PATHS: dict[str, Any] = {
    "/sectors": {
        "get": {
            "summary": "The active sectors (a limited coordinator: theirs), simplified to ~10 m",
            "responses": {
                "200": {
                    "description": "FeatureCollection",
                    "content": {"application/geo+json": {"schema": _GEOJSON}},
                }
            },
        },
        "post": {
            "summary": "Import sectors; an existing code updates that sector (coordinator "
            "not limited to some sectors, admin)",
            "requestBody": {
                "required": True,
                "content": {
                    "application/geo+json": {"schema": _GEOJSON},
                    "application/json": {"schema": _GEOJSON},
                },
            },
            "responses": {
                "201": answer("Imported", _IMPORTED),
                "403": answer("Only admins and coordinators of every sector import sectors"),
                "422": answer(
                    "Refused, nothing imported: the features' problems (feature -1: the "
                    "document), also over the size, feature or vertex limits "
                    "(FIELDREPORT_MAX_SECTOR_*); or values no table can store, by field",
                    {"anyOf": [_PROBLEMS, {"$ref": "#/components/schemas/Errors"}]},
                ),
            },
        },
    },
}


@bp.get("/sectors")
@roles_required(*ALL_ROLES)
def list_sectors() -> Any:
    """Sector lines are shared with everyone who may log in (the digest map shows them too)."""
    db = request_session()
    limits = visible_sector_ids(db, current_user)
    body = sectors.export_sectors(db, limits)
    return jsonify(body), 200, {"Content-Type": "application/geo+json"}


@bp.post("/sectors")
@roles_required(*COORDINATION)
def import_sectors() -> Any:
    """The raw body goes to the service, which checks its size before parsing it."""
    try:
        outcome = sectors.import_sector_collection(
            request_session(),
            request.get_data(),
            current_user,
            runtime().queue,
            address=client_address(),
            limits=ImportLimits.of(runtime().settings),
        )
    except SectorAuthorityError as error:
        return jsonify({"error": "Forbidden", "message": words(error)}), 403
    except SectorImportError as error:
        problems = [{"feature": p.feature, "reason": words(p.reason)} for p in error.problems]
        return jsonify({"errors": problems}), 422
    return jsonify(
        {"imported": outcome.count, "created": outcome.created, "updated": outcome.updated}
    ), 201
