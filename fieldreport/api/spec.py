"""Pieces of the OpenAPI 3.1 description: shared schemas, the base document and the answers
every operation shares. Each route module declares its own ``PATHS`` beside its routes;
``openapi.py`` puts them together. ``tests/test_api_schemathesis.py`` holds the server to it.
"""

from __future__ import annotations

from typing import Any

from fieldreport.reports.schemas import POSITION_SOURCES
from fieldreport.reports.taxonomy import BASIS_CODES, CATEGORIES, CONFIDENCE_CODES

ERRORS: dict[str, Any] = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "object",
            "description": "Messages by field (a path such as details.count or features[0].name)",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        }
    },
}
MESSAGE: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def answer(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """A JSON response of ``schema`` (any object when not given)."""
    return json_answer(schema or {"type": "object"}, description)


def json_answer(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def message(description: str) -> dict[str, Any]:
    """An error answered as ``{error, message}``."""
    return json_answer(ref("Message"), description)


def path_parameter(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"}}


def _subcategory_rules() -> list[dict[str, Any]]:
    """One if-then per category: its subcategory is one of that category's own codes."""
    return [
        {
            "if": {"properties": {"category": {"const": category.code}}},
            "then": {
                "properties": {
                    "subcategory": {"enum": [sub.code for sub in category.subcategories]}
                }
            },
        }
        for category in CATEGORIES
    ]


ALL_SUBCATEGORIES = sorted({sub.code for c in CATEGORIES for sub in c.subcategories})
REPORT_INPUT: dict[str, Any] = {
    "type": "object",
    "required": [
        "client_id",
        "category",
        "subcategory",
        "occurred_at",
        "latitude",
        "longitude",
        "basis",
    ],
    "additionalProperties": False,
    "properties": {
        "client_id": {"type": "string", "format": "uuid", "description": "Made on the phone."},
        "category": {"type": "string", "enum": [c.code for c in CATEGORIES]},
        "subcategory": {
            "type": "string",
            "enum": ALL_SUBCATEGORIES,
            "description": "A subcategory of the category (the if-then rules below).",
        },
        "occurred_at": {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601 with offset; a time without one is refused.",
        },
        "latitude": {"type": "number", "minimum": -90, "maximum": 90},
        "longitude": {"type": "number", "minimum": -180, "maximum": 180},
        "accuracy_m": {"type": ["number", "null"], "minimum": 0, "maximum": 100_000},
        "position_source": {"type": "string", "enum": list(POSITION_SOURCES)},
        "basis": {"type": "string", "enum": list(BASIS_CODES)},
        "attribution_party": {"type": ["string", "null"]},
        # Issue 11: the phone's signature over signed_body (all three, or none).
        "device_key_id": {"type": "string", "maxLength": 64},
        "device_signature": {"type": "string", "maxLength": 200},
        "signed_body": {"type": "string", "maxLength": 200_000},
        "attribution_confidence": {"type": ["string", "null"], "enum": [*CONFIDENCE_CODES, None]},
        "narrative": {"type": "string", "maxLength": 10000},
        "urgent": {"type": "boolean"},
        "details": {"type": "object", "description": "The subcategory's own fields."},
    },
    "allOf": _subcategory_rules(),
}
PHOTO: dict[str, Any] = {
    "type": "object",
    "required": ["id", "sha256", "state", "urls"],
    "properties": {
        "id": {"type": "integer"},
        "sha256": {"type": "string"},
        "state": {"type": "string", "enum": ["pending", "processing", "done", "failed"]},
        "flags": {"type": "array", "items": {}},
        "urls": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
REPORT: dict[str, Any] = {
    "type": "object",
    "required": ["id", "client_id", "status", "category", "subcategory", "team_code"],
    "properties": {
        "id": {"type": "integer"},
        "client_id": {"type": "string"},
        "status": {
            "enum": ["submitted", "in_review", "verified", "disputed", "rejected", "needs_info"]
        },
        "category": {"type": "string"},
        "subcategory": {"type": "string"},
        "sector": {"type": ["string", "null"]},
        "team_code": {"type": ["string", "null"]},
        "photos": {"type": "array", "items": ref("Photo")},
    },
    "additionalProperties": True,
}
_UNAUTHORIZED = message("Not logged in (no session cookie, or the session has ended)")
_BAD_BODY = message(
    "The CSRF token is missing or expired, or the body is not a JSON object (or is nested too deep)"
)
_TOO_LARGE = message("The body is larger than the server accepts")


def with_shared_answers(paths: dict[str, Any]) -> dict[str, Any]:
    """Add the answers every operation may give: 401 unless it is public, and for those with a
    body 400 (CSRF, not a JSON object) and 413; ``paths`` is changed and returned."""
    for operations in paths.values():
        for operation in operations.values():
            responses = operation["responses"]
            if operation.get("security") != []:
                responses.setdefault("401", _UNAUTHORIZED)
            if "requestBody" in operation:
                responses.setdefault("400", _BAD_BODY)
                responses.setdefault("413", _TOO_LARGE)
    return paths


BASE: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "fieldreport API", "version": "1"},
    "servers": [{"url": "/api/v1"}],
    "components": {
        "securitySchemes": {
            "session": {"type": "apiKey", "in": "cookie", "name": "fieldreport_session"},
            "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
        },
        "schemas": {
            "ReportInput": REPORT_INPUT,
            "Report": REPORT,
            "Photo": PHOTO,
            "Errors": ERRORS,
            "Message": MESSAGE,
        },
    },
    "security": [{"session": [], "csrf": []}],
    "paths": {
        "/csrf": {
            "get": {
                "summary": "A fresh CSRF token, to send back as the X-CSRFToken header",
                "security": [],
                "responses": {
                    "200": json_answer(
                        {
                            "type": "object",
                            "required": ["csrf_token"],
                            "properties": {"csrf_token": {"type": "string"}},
                        },
                        "The token",
                    )
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This description",
                "security": [],
                "responses": {"200": json_answer({"type": "object"}, "OpenAPI 3.1")},
            }
        },
    },
}
