"""Web pages of the digests domain (a thin layer over digests/service.py).

The commission, coordinators and admins read digests; observers never do. The page shows the
body the worker rendered (the same template as the PDF and the email) inside the site's chrome,
with the archive's previous / next days, and the exports of the day's verified reports. A
coordinator limited to some sectors gets the exports of their sectors and a 403 for the rest.
"""

from __future__ import annotations

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
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from fieldreport.accounts.roles import COORDINATION, DIGEST_READERS
from fieldreport.digests import exports, rows, service, tasks
from fieldreport.digests.forms import RebuildForm, ResendForm
from fieldreport.places.finder import place_finder
from fieldreport.web.auth import roles_required
from fieldreport.web.context import runtime
from fieldreport.web.lookups import day_or_404
from fieldreport.web.transaction import request_session

bp = Blueprint("digests", __name__)
READERS = DIGEST_READERS
BUILDERS = COORDINATION


def _reader_sectors() -> set[int] | None:
    return service.reader_sectors(request_session(), current_user)


def _whole_digest_reader() -> None:
    """403 for a coordinator limited to some sectors: the stored digest covers every sector."""
    if _reader_sectors() is not None:
        abort(403, description=service.WHOLE_DIGEST_REFUSED)


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
    before = request.args.get("before")
    digests, older = service.archive(
        request_session(), before=day_or_404(before) if before else None
    )
    return render_template(
        "digests/archive.html",
        digests=digests,
        older=older,
    )


@bp.get("/digests/latest")
@roles_required(*READERS)
def latest() -> Any:
    """The commission's landing page: the newest digest that can be read, or the archive."""
    day = service.latest_served_day(request_session())
    if day is None:
        return redirect(url_for("digests.index"))
    return redirect(url_for("digests.day_page", day=day.isoformat()))


@bp.get("/digests/<day>")
@roles_required(*READERS)
def day_page(day: str) -> Any:
    parsed = day_or_404(day)
    if _reader_sectors() is not None:
        digest = service.get_digest(request_session(), parsed)
        served = digest is not None and digest.state in service.SERVED_STATES
        page = render_template("digests/limited.html", day=parsed, served=served)
        return page, 403
    view = service.day_view(request_session(), runtime().storage, parsed)
    return render_template(
        "digests/day.html",
        day=parsed,
        digest=view.digest,
        # The worker rendered and escaped this with the same template as the PDF.
        body=Markup(view.body) if view.body is not None else None,  # noqa: S704
        previous=view.previous,
        following=view.following,
        sends=view.sends,
        rebuild_form=RebuildForm(),
        resend_form=ResendForm(),
    )


@bp.post("/digests/<day>/rebuild")
@roles_required(*BUILDERS)
def rebuild(day: str) -> Any:
    parsed = day_or_404(day)
    if not RebuildForm().validate_on_submit():
        abort(400)
    outcome = tasks.request_rebuild(runtime().queue, request_session(), parsed, current_user)
    if outcome == "day_not_over":
        flash(_("The digest of a day is built once the day is over."))
    elif outcome == "queued":
        flash(_("The digest of %(day)s is being rebuilt.", day=parsed.isoformat()))
    else:
        flash(_("The rebuild could not be queued now; try again in a minute."))
    return redirect(url_for("digests.day_page", day=parsed.isoformat()))


@bp.post("/digests/<day>/resend")
@roles_required("admin")
def resend(day: str) -> Any:
    """An admin's resend: a job sends it (the request must not wait on the mail server)."""
    parsed = day_or_404(day)
    if not ResendForm().validate_on_submit():
        abort(400)
    outcome = tasks.request_resend(runtime().queue, request_session(), parsed, current_user)
    if outcome == "queued":
        flash(_("The digest of %(day)s is being sent again.", day=parsed.isoformat()))
    elif outcome == "nothing_to_send":
        flash(_("Nothing to send (not built, or no recipients)."))
    else:
        flash(_("Sending could not be queued now; try again in a minute."))
    return redirect(url_for("digests.day_page", day=parsed.isoformat()))


@bp.get("/digests/<day>/digest.pdf")
@roles_required(*READERS)
def pdf(day: str) -> Any:
    _whole_digest_reader()
    digest = _served(day_or_404(day))
    return _file(digest.pdf_key, "application/pdf", f"digest-{day}.pdf")


@bp.get("/digests/<day>/map.png")
@roles_required(*READERS)
def map_png(day: str) -> Any:
    _whole_digest_reader()
    return _file(_served(day_or_404(day)).map_key, "image/png")


@bp.get("/digests/<day>/digest.html")
@roles_required(*READERS)
def document(day: str) -> Any:
    """The standalone document (as emailed); its inline styles are its own, so no CSP relax."""
    _whole_digest_reader()
    response = _file(_served(day_or_404(day)).html_key, "text/html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    )
    return response


def _stream(day: date, render: Any) -> Response:
    """Rows straight from a database cursor to the client, in batches: 100,000 rows fit.

    A coordinator limited to some sectors gets the reports of their sectors only.
    """
    settings = runtime().settings
    database = runtime().db
    sector_ids = _reader_sectors()

    def generate() -> Iterator[str]:
        with database.session_scope(write=False) as session:
            describe = place_finder(session)
            yield from render(
                rows.verified_records(session, day, settings.zone, describe, sector_ids=sector_ids)
            )

    return Response(stream_with_context(generate()), content_type=render.mimetype)


def _signed_export(digest: Any, name: str) -> Response | None:
    """Issue 11: the export stored (and signed) with the build, for readers of every sector."""
    if _reader_sectors() is not None or not digest.html_key:
        return None
    key = f"{digest.html_key.rsplit('/', 1)[0]}/{name}"
    if not runtime().storage.exists(key):
        return None  # a digest built before exports were stored
    mimetype = exports.csv_chunks.mimetype if name.endswith(".csv") else "application/geo+json"
    return Response(runtime().storage.get(key), content_type=mimetype)


@bp.get("/digests/<day>/reports.csv")
@roles_required(*READERS)
def reports_csv(day: str) -> Any:
    digest = _served(day_or_404(day))
    stored = _signed_export(digest, "reports.csv")
    response = stored or _stream(digest.day, exports.record_csv_chunks)
    response.headers["Content-Disposition"] = f'attachment; filename="verified-{day}.csv"'
    return response


@bp.get("/digests/<day>/reports.geojson")
@roles_required(*READERS)
def reports_geojson(day: str) -> Any:
    digest = _served(day_or_404(day))
    stored = _signed_export(digest, "reports.geojson")
    response = stored or _stream(digest.day, exports.record_geojson_chunks)
    response.headers["Content-Disposition"] = f'attachment; filename="verified-{day}.geojson"'
    return response
