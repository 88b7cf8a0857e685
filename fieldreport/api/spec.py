"""Pieces of the OpenAPI 3.1 description: shared schemas, and the base document with the report
paths. Each other route module declares its own ``PATHS``; ``openapi.py`` puts them together."""

from __future__ import annotations

from typing import Any

from fieldreport.reports.schemas import POSITION_SOURCES
from fieldreport.reports.taxonomy import BASIS_CODES, CATEGORIES, CONFIDENCE_CODES

_ERRORS = {
    "type": "object",
    "properties": {
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        }
    },
}
_MESSAGE = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def answer(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """A JSON response of ``schema`` (any object when not given)."""
    return json_answer(schema or {"type": "object"}, description)


def json_answer(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


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
        "subcategory": {"type": "string", "description": "A subcategory of the category."},
        "occurred_at": {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601 with offset; a time without one is refused.",
        },
        "latitude": {"type": "number", "minimum": -90, "maximum": 90},
        "longitude": {"type": "number", "minimum": -180, "maximum": 180},
        "accuracy_m": {"type": ["number", "null"], "minimum": 0},
        "position_source": {"type": "string", "enum": list(POSITION_SOURCES)},
        "basis": {"type": "string", "enum": list(BASIS_CODES)},
        "attribution_party": {"type": ["string", "null"]},
        "attribution_confidence": {"type": ["string", "null"], "enum": [*CONFIDENCE_CODES, None]},
        "narrative": {"type": "string", "maxLength": 10000},
        "urgent": {"type": "boolean"},
        "details": {"type": "object", "description": "The subcategory's own fields."},
    },
}
PHOTO: dict[str, Any] = {
    "type": "object",
    "properties": {
        "sha256": {"type": "string"},
        "state": {"type": "string", "enum": ["pending", "processing", "done", "failed"]},
        "flags": {"type": "array", "items": {"type": "object"}},
        "urls": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
REPORT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "client_id": {"type": "string"},
        "status": {"type": "string"},
        "sector": {"type": ["string", "null"]},
        "photos": {"type": "array", "items": ref("Photo")},
    },
    "additionalProperties": True,
}

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
            "Errors": _ERRORS,
            "Message": _MESSAGE,
        },
    },
    "security": [{"session": [], "csrf": []}],
    "paths": {
        "/csrf": {
            "get": {
                "summary": "A fresh CSRF token",
                "security": [],
                "responses": {"200": json_answer({"type": "object"}, "The token")},
            }
        },
        "/reports": {
            "get": {
                "summary": "The caller's reports",
                "responses": {"200": json_answer({"type": "object"}, "Reports, newest first")},
            },
            "post": {
                "summary": "File a report (idempotent on client_id)",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref("ReportInput")}},
                },
                "responses": {
                    "201": json_answer(ref("Report"), "Stored"),
                    "200": json_answer(
                        ref("Report"), "Already stored: the same client_id and body"
                    ),
                    "409": json_answer(ref("Message"), "client_id used for a different body"),
                    "422": json_answer(ref("Errors"), "Invalid, with messages by field"),
                },
            },
        },
        "/reports/{client_id}": {
            "get": {
                "summary": "One report with its photos",
                "parameters": [
                    {
                        "name": "client_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": json_answer(ref("Report"), "The report"),
                    "404": json_answer(ref("Message"), "Not there, or not yours"),
                },
            }
        },
        "/reports/{client_id}/photos": {
            "post": {
                "summary": "Attach a photo (idempotent on its SHA-256)",
                "parameters": [
                    {
                        "name": "client_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {"photo": {"type": "string", "format": "binary"}},
                            }
                        }
                    },
                },
                "responses": {
                    "201": json_answer(ref("Photo"), "Stored"),
                    "200": json_answer(ref("Photo"), "The same bytes were already stored"),
                    "413": json_answer(ref("Message"), "Too large"),
                    "422": json_answer(ref("Message"), "Not a photo we accept"),
                },
            }
        },
    },
}
