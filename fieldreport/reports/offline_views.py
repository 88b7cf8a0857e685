"""The offline side of the observer's app: the outbox page and the service worker script.

The service worker must be served from the site root to control ``/home`` and
``/reports/new``; its cache name is derived from the bytes of the files it precaches, so a new
release installs a new cache and the old one is deleted on activation.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

from flask import Blueprint, Response, current_app, render_template

from fieldreport.accounts.roles import OBSERVER
from fieldreport.config import PROJECT_ROOT
from fieldreport.web.auth import roles_required

bp = Blueprint("offline", __name__)

STATIC = PROJECT_ROOT / "static"
SHELL_ASSETS = (
    "css/app.css",
    "js/i18n.js",
    "js/idb.js",
    "js/device-key.js",  # issue 11: the phone signs reports offline too
    "js/outbox.js",
    "js/report-form.js",
    "js/field-rules.js",
    "js/position.js",
    "manifest.webmanifest",
    "icons/icon.svg",
    "icons/icon-192.png",
)
SHELL_PAGES = ("/home", "/reports/new", "/outbox")


@cache
def _asset_version() -> str:
    digest = hashlib.sha256((STATIC / "js" / "sw.js").read_bytes())
    for name in SHELL_ASSETS:
        digest.update(name.encode())
        digest.update((STATIC / name).read_bytes())
    return digest.hexdigest()[:12]


def asset_version() -> str:
    """A short hash of the shell's files: computed once per process, or per request in debug."""
    if current_app.debug:
        _asset_version.cache_clear()
    return _asset_version()


@bp.get("/sw.js")
def service_worker() -> Any:
    """The service worker, with its version and precache list written in front of it."""
    static = current_app.static_url_path
    assets = [f"{static}/{name}" for name in SHELL_ASSETS]
    preamble = (
        f"const VERSION = {json.dumps(asset_version())};\n"
        f"const SHELL_ASSETS = {json.dumps(assets)};\n"
        f"const SHELL_PAGES = {json.dumps(SHELL_PAGES)};\n"
    )
    body = preamble + (STATIC / "js" / "sw.js").read_text(encoding="utf-8")
    response = Response(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/outbox")
@roles_required(OBSERVER)
def outbox() -> Any:
    """What still waits to be sent from this phone; the list itself lives in the browser."""
    return render_template("reports/outbox.html")
