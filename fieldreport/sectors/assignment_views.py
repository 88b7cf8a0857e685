"""Assignments and the week roster (coordinators), and today's assignments (observer's home)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from fieldreport.accounts.roles import COORDINATION
from fieldreport.pagination import BadCursor
from fieldreport.sectors import assignments as service
from fieldreport.sectors.assignments import AssignmentOverlap
from fieldreport.sectors.days import today_in
from fieldreport.sectors.errors import SectorError
from fieldreport.sectors.forms import AssignmentForm, ConfirmForm
from fieldreport.sectors.models import Assignment, Sector
from fieldreport.sectors.view_helpers import day_arg, mission_today, viewer_limits
from fieldreport.web.auth import roles_required
from fieldreport.web.context import runtime
from fieldreport.web.transaction import request_session
from fieldreport.web.words import words

bp = Blueprint("assignments", __name__)


def _assignment_form() -> AssignmentForm:
    """The form, offering the active observers and the sectors the viewer may assign to."""
    db = request_session()
    form = AssignmentForm()
    form.observer.choices = [
        SelectChoice(o.id, f"{o.team_code or '—'} · {o.display_name}")
        for o in service.observers(db)
    ]
    form.sector.choices = [
        SelectChoice(sector_id, f"{code} · {name}")
        for sector_id, code, name in service.sector_choices(db, viewer_limits())
    ]
    return form


def _page(
    form: AssignmentForm, overlaps: list[tuple[Assignment, Sector]] | None = None, status: int = 200
) -> Any:
    after = request.args.get("after") or None
    try:
        rows = service.upcoming_assignments(
            request_session(), mission_today(), viewer_limits(), cursor=after
        )
    except BadCursor:
        abort(400, _("This link to a page of assignments cannot be read. Start from the first."))
    page = render_template(
        "sectors/assignments.html",
        form=form,
        rows=rows.items,
        next_cursor=rows.next_cursor,
        later_page=after is not None,
        overlaps=overlaps,
        delete_form=ConfirmForm(),
    )
    return page, status


@bp.route("/assignments", methods=["GET", "POST"])
@roles_required(*COORDINATION)
def index() -> Any:
    form = _assignment_form()
    if request.method == "GET" or not form.validate_on_submit():
        return _page(form, status=200 if request.method == "GET" else 422)
    try:
        service.create_assignment(
            request_session(),
            observer_id=form.observer.data,
            sector_id=form.sector.data,
            starts_on=form.starts_on.data,
            ends_on=form.ends_on.data,
            assigned_by=current_user,
            allow_overlap=form.allow_overlap.data,
            note=form.note.data,
        )
    except AssignmentOverlap as overlap:
        return _page(form, overlaps=overlap.overlaps, status=409)
    except SectorError as error:
        getattr(form, error.field).errors = [words(error)]
        return _page(form, status=422)
    flash(_("Assignment saved."))
    return redirect(url_for("assignments.index"))


@bp.post("/assignments/<int:assignment_id>/delete")
@roles_required(*COORDINATION)
def delete(assignment_id: int) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not service.delete_assignment(request_session(), assignment_id, current_user):
        abort(404)
    flash(_("Assignment removed."))
    return redirect(url_for("assignments.index"))


@bp.get("/roster")
@roles_required(*COORDINATION)
def roster() -> Any:
    day = day_arg("week")
    week_start = day - timedelta(days=day.weekday())
    return render_template(
        "sectors/roster.html",
        roster=service.roster(request_session(), week_start, viewer_limits()),
        previous=week_start - timedelta(days=7),
        next=week_start + timedelta(days=7),
    )


def todays_assignments() -> list[tuple[Assignment, Sector]]:
    """For the observer's home page: today's assignments, "today" in their own zone."""
    if not current_user.is_authenticated or current_user.role != "observer":
        return []
    zone = ZoneInfo(current_user.time_zone or runtime().settings.time_zone)
    return service.assignments_on(request_session(), current_user.id, today_in(zone))
