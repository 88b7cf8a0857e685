"""Checks on a request before anything reads it (registered ahead of the CSRF check).

A multipart part without a name is parsed by Werkzeug under the key ``None``; Flask-WTF's CSRF
check then calls ``key.endswith`` on it and the request would end in a 500. No form of ours has
such a part, so the request is refused as malformed.
"""

from __future__ import annotations

from flask import abort, request

MUTATING_METHODS = ("POST", "PUT", "PATCH", "DELETE")
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def refuse_unnamed_form_parts() -> None:
    """``before_request`` hook: 400 for a form with a field that has no name."""
    if request.method not in MUTATING_METHODS or request.mimetype not in FORM_TYPES:
        return
    if None in request.form or None in request.files:
        abort(400, description="A form field without a name: the form is malformed.")
