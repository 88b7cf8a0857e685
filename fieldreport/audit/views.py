"""The audit log page for admins, and its export as CSV (the same filter for both)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_babel import gettext
from flask_login import current_user

from fieldreport.accounts.roles import ADMIN
from fieldreport.audit import service
from fieldreport.audit.export import csv_lines
from fieldreport.audit.forms import AuditFilterForm
from fieldreport.audit.labels import ACTION_LABELS, action_label, detail_text
from fieldreport.web.auth import roles_required
from fieldreport.web.context import runtime
from fieldreport.web.transaction import request_session

bp = Blueprint("audit", __name__)


@dataclass(frozen=True)
class _Entry:
    """One row as the page shows it: the event in words, the code only when it has none."""

    row: Any
    event: str
    unlabelled_code: str | None
    details: str


def _viewer_zone() -> ZoneInfo:
    return ZoneInfo(current_user.time_zone or runtime().settings.time_zone)


def _filter_form() -> tuple[AuditFilterForm, service.AuditFilter | None]:
    """The form filled from the address, and the filter it asks for (None when invalid)."""
    db = request_session()
    form = AuditFilterForm(request.args)
    form.fill_choices(service.known_actors(db), service.known_actions(db))
    if not form.validate():
        return form, None
    wanted = service.AuditFilter(
        zone=_viewer_zone(),
        actor=form.actor.data or None,
        action=form.action.data or None,
        since=form.since.data,
        until=form.until.data,
        address=(form.address.data or "").strip() or None,
    )
    return form, wanted


@bp.get("/admin/audit")
@roles_required(ADMIN)
def log() -> Any:
    form, wanted = _filter_form()
    if wanted is None:
        return render_template("audit/log.html", form=form, entries=[], older=None), 400
    older_than = request.args.get("older_than")
    if older_than is not None and not older_than.isdecimal():
        abort(400, gettext("This link to older events cannot be read. Start from the newest."))
    page = service.audit_page(request_session(), wanted, int(older_than) if older_than else None)
    entries = [
        _Entry(
            row=row,
            event=gettext(action_label(row.action)),
            unlabelled_code=None if row.action in ACTION_LABELS else row.action,
            details=detail_text(row.detail),
        )
        for row in page.rows
    ]
    filters = {key: value for key, value in request.args.items() if key != "older_than"}
    older = {**filters, "older_than": page.older_than} if page.older_than else None
    return render_template(
        "audit/log.html",
        form=form,
        entries=entries,
        older=older,
        filters=filters,
        later_page=older_than is not None,
    )


@bp.get("/admin/audit.csv")
@roles_required(ADMIN)
def export() -> Any:
    """The whole filtered list (not just the page shown), newest first."""
    form, wanted = _filter_form()
    if wanted is None:
        return render_template("audit/log.html", form=form, entries=[], older=None), 400
    database = runtime().db

    def generate() -> Iterator[str]:
        # Its own read transaction: the rows are read while the response streams.
        with database.session_scope(write=False) as session:
            yield from csv_lines(service.all_rows(session, wanted), wanted.zone, gettext)

    response = Response(stream_with_context(generate()), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    return response
