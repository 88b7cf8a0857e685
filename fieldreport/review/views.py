"""Web pages of the review domain (a thin layer over review/service.py and review/desk.py).

The desk (queue with filters and counts, a report's two-column page, the reviewed list), a
coordinator's decision, an admin's reopening and the observer's answer to a question. The use
cases refuse before they write, so a refusal is flashed as an error and the view returns
normally (docs/architecture.md, "Transactions"). The report page (reports/detail.html) shows
the panel through ``review_panel``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from fieldreport.accounts.roles import ADMIN, COORDINATION, OBSERVER, coordinates
from fieldreport.pagination import BadCursor
from fieldreport.photos import service as photos
from fieldreport.places.views import location_words
from fieldreport.reports.taxonomy import CATEGORIES
from fieldreport.review import desk, service
from fieldreport.review.forms import AnswerForm, ReopenForm, ReviewForm
from fieldreport.sectors.display import display_features
from fieldreport.sectors.limits import visible_sector_ids
from fieldreport.sectors.models import Sector
from fieldreport.sectors.service import all_sectors
from fieldreport.web.auth import roles_required
from fieldreport.web.context import runtime
from fieldreport.web.lookups import visible_report_or_404
from fieldreport.web.transaction import request_session
from fieldreport.web.words import words

bp = Blueprint("review", __name__)


def _my_sectors(db: Any) -> tuple[list[Sector], bool]:
    limits = visible_sector_ids(db, current_user)
    return [s for s in all_sectors(db) if limits is None or s.id in limits], limits is None


@bp.get("/review")
@roles_required(*COORDINATION)
def queue() -> Any:
    db = request_session()
    filters = desk.Filters.from_args(request.args)
    try:
        page = desk.queue_page(db, current_user, filters, request.args.get("cursor"))
    except BadCursor:
        abort(400)
    sectors, may_see_outside = _my_sectors(db)
    return render_template(
        "review/queue.html",
        page=page,
        filters=filters,
        counts=desk.counts(db, current_user, filters),
        photo_counts=desk.photo_counts(db, [r.id for r in page.items]),
        excerpt=desk.excerpt,
        categories=CATEGORIES,
        statuses=desk.DESK_STATUSES,
        sectors=sectors,
        sector_codes={s.id: s.code for s in sectors},
        may_see_outside=may_see_outside,
    )


@bp.get("/review/reviewed")
@roles_required(*COORDINATION)
def reviewed() -> Any:
    db = request_session()
    try:
        page = desk.reviewed_page(db, current_user, request.args.get("cursor"))
    except BadCursor:
        abort(400)
    return render_template(
        "review/reviewed.html", page=page, sector_codes={s.id: s.code for s in all_sectors(db)}
    )


def _outline(db: Any, sector_id: int | None) -> dict[str, Any] | None:
    found = [f for sid, f in display_features(db) if sid == sector_id]
    return found[0].geometry if found else None


@bp.get("/review/<int:report_id>")
@roles_required(*COORDINATION)
def report(report_id: int) -> Any:
    db = request_session()
    found = visible_report_or_404(report_id=report_id)
    return render_template(
        "review/report.html",
        report=found,
        sector=db.get(Sector, found.sector_id) if found.sector_id else None,
        photos=photos.photos_of(db, found),
        show_observer=True,
        outline=_outline(db, found.sector_id),
        place=location_words(found.latitude, found.longitude),
        tile_url=runtime().settings.map_tile_url,
        next_report=desk.next_in_queue(db, current_user, found),
        reopen_form=ReopenForm() if current_user.role == ADMIN else None,
    )


@bp.post("/review/<int:report_id>")
@roles_required(*COORDINATION)
def decide(report_id: int) -> Any:
    db = request_session()
    found = visible_report_or_404(report_id=report_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.review_report(db, found, current_user, form.status.data, form.comment.data)
    except (service.TransitionRefused, service.ReviewInvalid) as error:
        flash(_("Not changed: %(reason)s.", reason=words(error)), "error")
        return redirect(url_for("review.report", report_id=report_id))
    flash(_("Review saved."))
    following = desk.next_in_queue(db, current_user, found)
    if following is not None and request.form.get("then") == "next":
        return redirect(url_for("review.report", report_id=following.id))
    return redirect(url_for("review.queue"))


@bp.post("/review/<int:report_id>/reopen")
@roles_required(ADMIN)
def reopen(report_id: int) -> Any:
    db = request_session()
    found = visible_report_or_404(report_id=report_id)
    form = ReopenForm()
    if not form.validate_on_submit():
        flash(_("Not reopened: write why the decision is reopened."), "error")
        return redirect(url_for("review.report", report_id=report_id))
    try:
        service.reopen_decision(db, found, current_user, form.reason.data)
    except (service.TransitionRefused, service.ReviewInvalid) as error:
        flash(_("Not reopened: %(reason)s.", reason=words(error)), "error")
        return redirect(url_for("review.report", report_id=report_id))
    flash(_("Decision reopened: the report is back in review."))
    return redirect(url_for("review.report", report_id=report_id))


@bp.post("/reports/<int:report_id>/answer")
@roles_required(OBSERVER)
def answer(report_id: int) -> Any:
    db = request_session()
    found = visible_report_or_404(report_id=report_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        flash(_("Write your answer first."), "error")
        return redirect(url_for("reports.detail", report_id=report_id))
    try:
        service.answer_question(db, found, current_user, form.answer.data)
    except (service.TransitionRefused, service.ReviewInvalid) as error:
        flash(_("Not sent: %(reason)s.", reason=words(error)), "error")
        return redirect(url_for("reports.detail", report_id=report_id))
    flash(_("Answer sent to the coordinators."))
    return redirect(url_for("reports.detail", report_id=report_id))


def review_panel(report: Any) -> dict[str, Any]:
    """What the report page shows of the review: history, open question, the forms allowed."""
    db = request_session()
    reviewer = coordinates(current_user)
    owner = current_user.role == OBSERVER and report.observer_id == current_user.id
    question = service.open_question(db, report)
    allowed = service.allowed_transitions(report.status) if reviewer else []
    review_form = None
    if allowed:
        review_form = ReviewForm()
        review_form.status.choices = [
            choice for choice in review_form.status.choices if choice.value in allowed
        ]
    return {
        "history": service.history(db, report, current_user),
        "question": question,
        "review_form": review_form,
        "allowed": allowed,
        "answer_form": AnswerForm() if owner and question is not None else None,
    }
