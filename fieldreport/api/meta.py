"""The API's own routes: its description and a fresh CSRF token for the outbox."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask_wtf.csrf import generate_csrf

from fieldreport.api.body import guard_api_request
from fieldreport.api.openapi import document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Every API request's body and path values pass the guard before a view reads them.
bp.before_app_request(guard_api_request)


@bp.get("/csrf")
def csrf_token() -> Any:
    return jsonify({"csrf_token": generate_csrf()})


@bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(document())
