"""The offline side of the observer's app: the outbox page, the service worker script and the
small answer the outbox asks before each send (who the session is, the server's clock).

The service worker must be served from the site root to control ``/home`` and
``/reports/new``; its cache name is derived from the bytes of the files it precaches, so a new
release installs a new cache and the old one is deleted once nothing is sending.
"""

from __future__ import annotations

import hashlib
import json
import time
from functools import cache
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template
from flask_babel import gettext
from flask_login import current_user

from fieldreport.accounts.roles import OBSERVER
from fieldreport.config import PROJECT_ROOT
from fieldreport.i18n import N_
from fieldreport.reports.phone_clock import SKEW_WARNING
from fieldreport.reports.taxonomy import CATEGORIES
from fieldreport.scripts_for_phones import strip_script
from fieldreport.web.auth import roles_required

bp = Blueprint("offline", __name__)

STATIC = PROJECT_ROOT / "static"
SHELL_ASSETS = (
    "css/app.css",
    "js/drafts.js",
    "js/i18n.js",
    "js/idb.js",
    "js/device-key.js",  # issue 11: the phone signs reports offline too
    "js/outbox-view.js",
    "js/outbox.js",
    "js/report-form.js",
    "js/field-rules.js",
    "js/position.js",
)
# Not precached: the manifest and icons (the browser keeps an installed app's own copies; no
# page needs them to work offline), so the first load stays within its budget.
SHELL_PAGES = ("/home", "/reports/new", "/outbox")
# The form's words for the fields the server may refuse (templates/reports/new.html).
FIELD_LABELS = {
    "category": N_("What happened"),
    "subcategory": N_("Kind"),
    "occurred_at": N_("When"),
    "latitude": N_("Latitude"),
    "longitude": N_("Longitude"),
    "accuracy_m": N_("Accuracy (m)"),
    "basis": N_("How you know"),
    "attribution_party": N_("Attributed to"),
    "attribution_confidence": N_("How sure"),
    "narrative": N_("What you observed"),
    "photos": N_("Photos"),
}


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
    body = preamble + strip_script((STATIC / "js" / "sw.js").read_text(encoding="utf-8"))
    response = Response(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


def taxonomy_labels() -> dict[str, str]:
    """Category and sub-type labels in the reader's language, by code ("cat" and "cat/sub"):
    the outbox titles its entries in people's words, offline too (the page is cached)."""
    labels = {f"field:{name}": gettext(label) for name, label in FIELD_LABELS.items()}
    for category in CATEGORIES:
        labels[category.code] = gettext(category.label)
        for sub in category.subcategories:
            labels[f"{category.code}/{sub.code}"] = gettext(sub.label)
    return labels


@bp.get("/outbox")
@roles_required(OBSERVER)
def outbox() -> Any:
    """What still waits to be sent from this phone; the list itself lives in the browser."""
    return render_template("reports/outbox.html", labels=taxonomy_labels())


@bp.get("/outbox/session.json")
@roles_required(OBSERVER)
def outbox_session() -> Any:
    """Asked before every send: whose session this is (so a shared phone sends each observer's
    reports only under their own log-in) and the server's clock (the phone compares its own)."""
    response = jsonify(
        {
            "user_id": current_user.id,
            "username": current_user.username,
            "server_time_ms": int(time.time() * 1000),
            "skew_warning_s": int(SKEW_WARNING.total_seconds()),
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response
