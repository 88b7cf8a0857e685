"""Serve our scripts stripped of comment lines (fieldreport/scripts_for_phones.py): the same
code in fewer bytes for a phone's budgeted first load. Vendored files are served as shipped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, Response, request

from fieldreport.scripts_for_phones import script_for_phone


def serve_stripped_scripts(app: Flask) -> None:
    """Wrap the static view: ``static/js/*.js`` (not its subfolders) go out stripped."""
    plain = app.view_functions["static"]
    scripts = (Path(app.static_folder or "") / "js").resolve()

    def static(filename: str) -> Any:
        path = (scripts.parent / filename).resolve()
        if path.parent != scripts or path.suffix != ".js" or not path.is_file():
            return plain(filename=filename)
        body, tag = script_for_phone(path)
        response = Response(body, mimetype="text/javascript")
        response.set_etag(tag)
        response.headers["Cache-Control"] = "no-cache"
        return response.make_conditional(request)

    app.view_functions["static"] = static
