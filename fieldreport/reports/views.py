"""Report pages: the observer's home, the report form, lists and a report's page."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from fieldreport.accounts.roles import ALL_ROLES, OBSERVER, sees_observer_names
from fieldreport.db import utcnow
from fieldreport.photos import service as photos
from fieldreport.photos.forms import received_uploads, refusal_status
from fieldreport.reports import lists, service
from fieldreport.reports.forms import (
    ReportForm,
    blank_values,
    detail_fields_by_category,
    detail_input_name,
    form_rules,
    form_to_values,
)
from fieldreport.reports.schemas import ReportInvalid
from fieldreport.reports.taxonomy import BASIS_CODES, CATEGORIES, CONFIDENCE_CODES
from fieldreport.sectors.models import Sector
from fieldreport.web.auth import roles_required
from fieldreport.web.context import runtime
from fieldreport.web.lookups import visible_report_or_404
from fieldreport.web.transaction import request_session
from fieldreport.web.words import words, words_by_field

bp = Blueprint("reports", __name__)


def _viewer_zone() -> ZoneInfo:
    settings = runtime().settings
    return ZoneInfo(current_user.time_zone or settings.time_zone)


def _render_form(values: dict[str, Any], errors: dict[str, list[str]], status: int = 200) -> Any:
    settings = runtime().settings
    return (
        render_template(
            "reports/new.html",
            form=ReportForm(),
            values=values,
            errors=errors,
            categories=CATEGORIES,
            detail_fieldsets=detail_fields_by_category(),
            detail_input_name=detail_input_name,
            basis_codes=BASIS_CODES,
            confidence_codes=CONFIDENCE_CODES,
            accuracy_warning_m=settings.accuracy_warning_m,
            rules=form_rules(settings.parties),
        ),
        status,
    )


@bp.get("/home")
@roles_required(OBSERVER)
def home() -> Any:
    recent = service.list_reports(request_session(), current_user, limit=5)
    # The coordinators' open questions come first on the home page, with their answer boxes.
    mine = service.list_reports(request_session(), current_user, limit=100)
    asked = [report for report in mine if report.status == "needs_info"]
    return render_template("reports/home.html", recent=recent, asked=asked)


@bp.get("/reports/new")
@roles_required(OBSERVER)
def new() -> Any:
    return _render_form(blank_values(_viewer_zone(), utcnow()), {})


@bp.post("/reports/new")
@roles_required(OBSERVER)
def create() -> Any:
    ReportForm().validate_on_submit()
    rt = runtime()
    kept = dict(request.form)
    uploads = received_uploads(request.files.getlist("photos"), rt.settings.max_photo_bytes)
    try:
        outcome = service.submit_report_with_photos(
            request_session(),
            rt.storage,
            rt.queue,
            current_user,
            form_to_values(request.form, _viewer_zone()),
            uploads,
            rt.settings,
        )
    except ReportInvalid as invalid:
        return _render_form(kept, words_by_field(invalid.errors), 422)
    except service.ReportConflict:
        kept["client_id"] = blank_values(_viewer_zone(), utcnow())["client_id"]
        return _render_form(
            kept, {"client_id": [_("This form was already used. Send again.")]}, 409
        )
    except photos.PhotoRejected as rejected:
        return _render_form(kept, {"photos": [_photo_refusal(rejected)]}, refusal_status(rejected))
    flash(_("Report sent.") if outcome.created else _("This report had already arrived."))
    return redirect(url_for("reports.detail", report_id=outcome.report.id))


def _photo_refusal(rejected: photos.PhotoRejected) -> str:
    return _(
        "%(name)s: %(reason)s Nothing was sent; choose the photos again.",
        name=photos.display_name(rejected.original_name) or "photo",
        reason=words(rejected),
    )


@bp.get("/reports")
@roles_required(*ALL_ROLES)
def index() -> Any:
    """The reports the user may see, newest event first, a page at a time (``after``: the
    cursor of the last one shown)."""
    after = request.args.get("after") or None
    try:
        page = lists.report_page(request_session(), current_user, cursor=after)
    except lists.BadCursor:
        abort(400, _("This link to a page of reports cannot be read. Start from the newest."))
    return render_template("reports/list.html", page=page, later_page=after is not None)


@bp.get("/reports/<int:report_id>")
@roles_required(*ALL_ROLES)
def detail(report_id: int) -> Any:
    db = request_session()
    report = visible_report_or_404(report_id=report_id)
    sector = db.get(Sector, report.sector_id) if report.sector_id else None
    return render_template(
        "reports/detail.html",
        report=report,
        sector=sector,
        photos=photos.photos_of(db, report),
        show_observer=sees_observer_names(current_user),
    )
