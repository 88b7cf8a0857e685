"""Error pages and JSON errors in words people can act on: never a bare 500 for a known cause."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException


def wants_json() -> bool:
    return request.path.startswith("/api/")


def _error_response(status: int, title: str, message: str, **extra: Any) -> Any:
    if wants_json():
        response = jsonify({"error": title, "message": message, **extra})
    else:
        response = render_template("errors.html", status=status, title=title, message=message)
    return response, status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> Any:
        return _error_response(
            400,
            "Form expired",
            "The form's security token was missing or has expired. Go back, reload the page "
            "and send it again; nothing you typed was stored.",
        )

    @app.errorhandler(413)
    def too_large(error: HTTPException) -> Any:
        limit = app.config["MAX_CONTENT_LENGTH"] / 1e6
        return _error_response(
            413,
            "Too large",
            f"What you sent is larger than the {limit:.0f} MB this server accepts at once. "
            "Send fewer or smaller photos at a time.",
        )

    @app.errorhandler(OperationalError)
    def database_busy(error: OperationalError) -> Any:
        if "locked" not in str(error.orig).lower() and "busy" not in str(error.orig).lower():
            raise error
        message = "The server is busy. Nothing was stored; try again in a few seconds."
        if wants_json():
            response = app.make_response((jsonify({"error": "Busy", "message": message}), 503))
        else:
            # No template: the full page would load the user, which needs the locked database.
            page = f"<!doctype html><title>Busy</title><h1>Busy</h1><p>{message}</p>"
            response = app.make_response((page, 503))
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        body, status = _error_response(error.code or 500, error.name, error.description or "")
        allowed = getattr(error, "valid_methods", None)  # a 405 says what is allowed
        return body, status, {"Allow": ", ".join(allowed)} if allowed else {}
