"""The web side of observability: every request timed and logged, and the ``/metrics`` scrape.

Each request is observed in ``fieldreport_http_request_duration_seconds`` under its URL rule
(``/api/v1/reports/<client_id>``, never the raw path, so series stay few) and logged as one JSON
line (``fieldreport.logs.request_line``) carrying a request id, taken from a proxy's
``X-Request-ID`` when it looks like one and echoed back. ``/metrics`` answers a scraper that
shows ``FIELDREPORT_METRICS_TOKEN`` as a bearer token, or a logged-in admin.
"""

from __future__ import annotations

import hmac
import re
import time
import uuid
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from flask_login import current_user
from sqlalchemy import func, select

from fieldreport import logs, metrics
from fieldreport.accounts.roles import ADMIN
from fieldreport.photos.models import Photo
from fieldreport.web.context import runtime

bp = Blueprint("metrics", __name__)

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
UNMATCHED = "<unmatched>"  # 404s and 405s: one series, whatever path a scanner tries


def register_request_metrics(app: Flask) -> None:
    """Time and log every request; serve ``/metrics``."""
    settings = app.extensions["fieldreport.runtime"].settings
    # Tests build hundreds of apps: their requests are not logged unless a test asks.
    logs.enable_request_log(settings.request_log and not settings.testing)
    if settings.request_log and not settings.testing:
        logs.setup_request_log()
    app.before_request(_start)
    app.after_request(_finish)
    app.register_blueprint(bp)
    rt = app.extensions["fieldreport.runtime"]
    app.extensions["fieldreport.metrics"] = metrics.LiveCollector(
        rt.queue.counts, lambda: _photos_pending(rt)
    )


def _start() -> None:
    g.metrics_started = time.perf_counter()
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex


def _finish(response: Response) -> Response:
    started = g.get("metrics_started")
    if started is None:  # a before_request hook ahead of ours answered
        return response
    seconds = time.perf_counter() - started
    route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    metrics.REQUEST_SECONDS.labels(
        route, request.method, metrics.status_class(response.status_code)
    ).observe(seconds)
    # The user flask_login loaded for this request, if any: never a query just for the log.
    user = g.get("_login_user")
    logs.request_line(
        route=route,
        method=request.method,
        status=response.status_code,
        ms=seconds * 1000,
        user_id=getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None,
        request_id=g.request_id,
    )
    if request.endpoint != "static":  # the log line has it; a phone's first load is budgeted
        response.headers["X-Request-ID"] = g.request_id
    return response


def _photos_pending(rt: Any) -> int:
    with rt.db.session_scope(write=False) as session:
        waiting = select(func.count(Photo.id)).where(Photo.state.in_(("pending", "processing")))
        return int(session.scalar(waiting) or 0)


def _may_scrape() -> bool:
    token = runtime().settings.metrics_token
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    return bool(current_user.is_authenticated and current_user.role == ADMIN)


@bp.get("/metrics")
def scrape() -> Any:
    """Prometheus text format; 401 for a stranger (no token), 403 for a user who is no admin."""
    if not _may_scrape():
        if current_user.is_authenticated:
            abort(403)
        return Response(
            "A metrics token or an admin's log-in is needed.\n",
            401,
            {"WWW-Authenticate": 'Bearer realm="metrics"', "Content-Type": "text/plain"},
        )
    live = current_app.extensions["fieldreport.metrics"]
    body, content_type = metrics.exposition(live, runtime().settings.metrics_multiprocess_dir)
    return Response(body, 200, {"Content-Type": content_type, "Cache-Control": "no-store"})
