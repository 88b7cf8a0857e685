"""Web pages of the digests domain (a thin layer over digests/service.py).

The commission, coordinators and admins read digests; observers never do. The page shows the
body the worker rendered (the same template as the PDF and the email) inside the site's chrome,
with the archive's previous / next days, and the exports of the day's verified reports.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from fieldreport.accounts.roles import COORDINATION, DIGEST_READERS
from fieldreport.db import utcnow
from fieldreport.digests import figures, service, tasks
from fieldreport.digests.forms import RebuildForm, ResendForm
from fieldreport.web.auth import roles_required
from fieldreport.web.context import runtime
from fieldreport.web.lookups import day_or_404
from fieldreport.web.transaction import request_session

bp = Blueprint("digests", __name__)
READERS = DIGEST_READERS
BUILDERS = COORDINATION


def _served(day: date) -> Any:
    digest = service.get_digest(request_session(), day)
    if digest is None or digest.state not in service.SERVED_STATES:
        abort(404)
    return digest


def _file(key: str | None, mimetype: str, filename: str | None = None) -> Response:
    if not key or not runtime().storage.exists(key):
        abort(404)
    response = Response(runtime().storage.get(key), mimetype=mimetype)
    if filename:
        response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def digest_failures() -> list[Any]:
    """Failed digests for the coordinators' banner (the audit log has the details).

    Asked by the page layout, once per page and only for those who may rebuild a digest.
    """
    if not current_user.is_authenticated or current_user.role not in BUILDERS:
        return []
    return service.recent_failures(request_session())


@bp.get("/digests")
@roles_required(*READERS)
def index() -> Any:
    return render_template("digests/archive.html", digests=service.archive(request_session()))


@bp.get("/digests/<day>")
@roles_required(*READERS)
def day_page(day: str) -> Any:
    parsed = day_or_404(day)
    db = request_session()
    digest = service.get_digest(db, parsed)
    body = None
    if digest is not None and digest.state in service.SERVED_STATES:
        key = service.body_key(digest)
        # The worker rendered and escaped this with the same template as the PDF.
        body = Markup(runtime().storage.get(key).decode()) if key else None  # noqa: S704
    previous, following = service.neighbours(db, parsed)
    return render_template(
        "digests/day.html",
        day=parsed,
        digest=digest,
        body=body,
        previous=previous,
        following=following,
        sends=service.sends_of(db, digest) if digest is not None else [],
        rebuild_form=RebuildForm(),
        resend_form=ResendForm(),
    )


@bp.post("/digests/<day>/rebuild")
@roles_required(*BUILDERS)
def rebuild(day: str) -> Any:
    parsed = day_or_404(day)
    if not RebuildForm().validate_on_submit():
        abort(400)
    if parsed >= utcnow().astimezone(runtime().settings.zone).date():
        flash(_("The digest of a day is built once the day is over."))
        return redirect(url_for("digests.day_page", day=parsed.isoformat()))
    service.rebuild_requested(request_session(), parsed, current_user)
    if tasks.request_build(runtime().queue, parsed):
        flash(_("The digest of %(day)s is being rebuilt.", day=parsed.isoformat()))
    else:
        flash(_("The rebuild could not be queued now; try again in a minute."))
    return redirect(url_for("digests.day_page", day=parsed.isoformat()))


@bp.post("/digests/<day>/resend")
@roles_required("admin")
def resend(day: str) -> Any:
    parsed = day_or_404(day)
    if not ResendForm().validate_on_submit():
        abort(400)
    # The send opens its own transactions; the request's must not hold SQLite's write lock.
    request_session().commit()
    try:
        sent = service.send(runtime(), parsed, resend=True, actor=current_user)
    except service.DigestSendFailed as error:
        flash(_("Sending failed: %(error)s", error=str(error)))
    else:
        flash(_("Sent again.") if sent else _("Nothing to send (not built, or no recipients)."))
    return redirect(url_for("digests.day_page", day=parsed.isoformat()))


@bp.get("/digests/<day>/digest.pdf")
@roles_required(*READERS)
def pdf(day: str) -> Any:
    digest = _served(day_or_404(day))
    return _file(digest.pdf_key, "application/pdf", f"digest-{day}.pdf")


@bp.get("/digests/<day>/map.png")
@roles_required(*READERS)
def map_png(day: str) -> Any:
    return _file(_served(day_or_404(day)).map_key, "image/png")


@bp.get("/digests/<day>/digest.html")
@roles_required(*READERS)
def document(day: str) -> Any:
    """The standalone document (as emailed); its inline styles are its own, so no CSP relax."""
    response = _file(_served(day_or_404(day)).html_key, "text/html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    )
    return response


def _stream(day: date, render: Any) -> Response:
    """Rows straight from a database cursor to the client, in batches: 100,000 rows fit."""
    settings = runtime().settings
    database = runtime().db

    def generate() -> Iterator[str]:
        with database.session_scope(write=False) as session:
            yield from render(figures.verified_reports(session, day, settings.zone))

    return Response(stream_with_context(generate()), mimetype=render.mimetype)


def _csv(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=figures.EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for i, row in enumerate(rows, 1):
        writer.writerow(row)
        if i % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


_csv.mimetype = "text/csv; charset=utf-8"  # type: ignore[attr-defined]


def _geojson(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield '{"type":"FeatureCollection","features":['
    for i, row in enumerate(rows):
        properties = {k: v for k, v in row.items() if k not in ("latitude", "longitude")}
        feature = {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [row["longitude"], row["latitude"]]},
            "properties": properties,
        }
        yield ("," if i else "") + json.dumps(feature, ensure_ascii=False)
    yield "]}"


_geojson.mimetype = "application/geo+json"  # type: ignore[attr-defined]


@bp.get("/digests/<day>/reports.csv")
@roles_required(*READERS)
def reports_csv(day: str) -> Any:
    digest = _served(day_or_404(day))
    response = _stream(digest.day, _csv)
    response.headers["Content-Disposition"] = f'attachment; filename="verified-{day}.csv"'
    return response


@bp.get("/digests/<day>/reports.geojson")
@roles_required(*READERS)
def reports_geojson(day: str) -> Any:
    digest = _served(day_or_404(day))
    response = _stream(digest.day, _geojson)
    response.headers["Content-Disposition"] = f'attachment; filename="verified-{day}.geojson"'
    return response
