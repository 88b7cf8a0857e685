"""Error pages and JSON errors in words people can act on: never a bare 500 for a known cause."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from fieldreport.i18n import N_
from fieldreport.web.words import words

# Our words for the errors people meet, in place of Werkzeug's (English only, for developers).
PLAIN_WORDS = {
    400: (N_("Bad request"), N_("The request could not be understood. Go back and try again.")),
    403: (N_("Not allowed"), N_("Your role may not open this page or do this.")),
    404: (N_("Not found"), N_("There is nothing here, or it is not yours to see.")),
    405: (N_("Not allowed"), N_("This address does not accept that kind of request.")),
    429: (N_("Too many requests"), N_("Wait a little, then try again.")),
    500: (N_("Server error"), N_("Something went wrong on the server. Try again in a minute.")),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def _error_response(
    status: int, title: str, message: str, page_title: str | None = None, **extra: Any
) -> Any:
    # The JSON "error" stays an English identifier; the message is for the reader.
    if wants_json():
        response = jsonify({"error": title, "message": gettext(message), **extra})
    else:
        response = render_template(
            "errors.html",
            status=status,
            title=gettext(page_title or title),
            message=gettext(message),
        )
    return response, status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> Any:
        return _error_response(
            400,
            N_("Form expired"),
            N_(
                "The form's security token was missing or has expired. Go back, reload the page "
                "and send it again; nothing you typed was stored."
            ),
        )

    @app.errorhandler(413)
    def too_large(error: HTTPException) -> Any:
        limit = app.config["MAX_CONTENT_LENGTH"] / 1e6
        message = N_(
            "What you sent is larger than the %(limit)s MB this server accepts at once. "
            "Send fewer or smaller photos at a time.",
            limit=f"{limit:.0f}",
        )
        return _error_response(413, N_("Too large"), words(message))

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
        page_title, message = error.name, error.description or ""
        if error.description == type(error).description and error.code in PLAIN_WORDS:
            page_title, message = PLAIN_WORDS[error.code]  # Werkzeug's own text: ours instead
        body, status = _error_response(error.code or 500, error.name, message, page_title)
        allowed = getattr(error, "valid_methods", None)  # a 405 says what is allowed
        return body, status, {"Allow": ", ".join(allowed)} if allowed else {}
