"""The API's guard on request bodies and path values, before any view reads them.

A JSON body is parsed once here, with limits: one nested deeper than ``MAX_JSON_DEPTH`` (Python's
parser would raise ``RecursionError`` at about a thousand levels), larger than ``MAX_JSON_BYTES``,
or not a JSON object (every body the API describes is one) is answered 400 before a view runs;
one holding a value no table can store (NUL, a lone surrogate, a huge integer) 422, by field.
What passes is cached by Werkzeug, so the views' ``request.get_json()`` gets the same value.
Bytes that are not JSON at all are left to the views, which answer 422 naming what is wrong.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask_login import current_user
from werkzeug.exceptions import BadRequest

from fieldreport.reports.schemas import unstorable_reason

MAX_JSON_DEPTH = 32
MAX_JSON_BYTES = 8 * 1024 * 1024
API_PREFIX = "/api/"


def refuse(status: int, title: str, message: str) -> tuple[Response, int]:
    return jsonify({"error": title, "message": message}), status


def guard_api_request() -> Any:
    """``before_app_request`` hook: None lets the request through, anything else answers it.

    Runs after the CSRF check and only for logged-in callers, so an anonymous caller gets its
    401 from the view without the server reading the body.
    """
    if not request.path.startswith(API_PREFIX) or not current_user.is_authenticated:
        return None
    if any(_unusable_text(value) for value in (request.view_args or {}).values()):
        # No report or day has such a name; PostgreSQL would refuse to even look it up.
        return refuse(404, "Not Found", "There is nothing at this address.")
    if request.method in ("GET", "HEAD", "OPTIONS") or not request.is_json:
        return None
    return _guard_json()


def _guard_json() -> Any:
    if (request.content_length or 0) > MAX_JSON_BYTES:
        return refuse(413, "Too large", f"A JSON body may be at most {MAX_JSON_BYTES:,} bytes.")
    try:
        body = request.get_json(silent=False)
    except RecursionError:
        return _too_deep()
    except BadRequest:
        return None  # not JSON: the view says so, naming the field or feature
    if not isinstance(body, dict):
        return refuse(400, "Bad Request", "Send a JSON object.")
    if _depth_exceeds(body, MAX_JSON_DEPTH):
        return _too_deep()
    problems = unstorable_values(body)
    if problems:
        return jsonify({"errors": problems}), 422
    return None


def _too_deep() -> tuple[Response, int]:
    return refuse(400, "Bad Request", f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")


def _depth_exceeds(value: Any, limit: int) -> bool:
    """True when ``value`` nests containers deeper than ``limit`` (iterative: no recursion)."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if not isinstance(item, dict | list):
            continue
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children)
    return False


def unstorable_values(body: dict[str, Any]) -> dict[str, list[str]]:
    """Messages by path (``details.direction``, ``features[0].properties.name``) for every key or
    value no table can hold: NUL characters, lone surrogates, integers past 2**53.

    Checked for every route here, so no service meets them; the report schema checks the same
    for the HTML form (``reports.schemas.unstorable_reason``).
    """
    problems: dict[str, list[str]] = {}
    pending: list[tuple[str, Any]] = [(str(key), value) for key, value in body.items()]
    while pending:
        path, value = pending.pop()
        reason = unstorable_reason(path.rsplit(".", 1)[-1]) or unstorable_reason(value)
        if reason:
            problems.setdefault(path if _storable(path) else "body", []).append(reason)
        elif isinstance(value, dict):
            pending.extend((f"{path}.{key}", item) for key, item in value.items())
        elif isinstance(value, list):
            pending.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
    return dict(sorted(problems.items()))


def _storable(text: str) -> bool:
    return unstorable_reason(text) is None


def _unusable_text(value: Any) -> bool:
    return isinstance(value, str) and unstorable_reason(value) is not None
