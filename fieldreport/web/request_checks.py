"""Checks on a posted form before anything reads it (registered ahead of the CSRF check).

- A multipart part without a name is parsed by Werkzeug under the key ``None``; Flask-WTF's
  CSRF check then calls ``key.endswith`` on it and the request would end in a 500.
- A NUL character is refused by PostgreSQL in every text column (a user name typed at log-in
  is written to the audit log, a comment to the review history), so no form field may carry
  one (a file's own name may: it is display text, cleaned where it is kept).

Both are refused with a 400 that names the field; no form of ours sends either.
(Lone surrogates cannot arrive in a form: Werkzeug decodes invalid UTF-8 as U+FFFD.)
"""

from __future__ import annotations

from flask import abort, request

MUTATING_METHODS = ("POST", "PUT", "PATCH", "DELETE")
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def refuse_malformed_forms() -> None:
    """``before_request`` hook: 400 for a form field without a name or with a NUL in it."""
    if request.method not in MUTATING_METHODS or request.mimetype not in FORM_TYPES:
        return
    if None in request.form or None in request.files:
        abort(400, description="A form field without a name: the form is malformed.")
    for name, value in request.form.items(multi=True):
        if "\x00" in name or "\x00" in value:
            abort(400, description=f"The field {name!r} holds a NUL character; remove it.")
    # A file's own name is display text, cleaned where it is kept (photos: the original name).
    if any("\x00" in name for name in request.files):
        abort(400, description="A file field's name holds a NUL character.")
