"""Web pages of the review domain (a thin layer over review/service.py).

The queue for coordinators, their decision on a report, and the observer's answer to a
question. The use cases refuse before they write, so a refusal is flashed and the view returns
normally (docs/architecture.md, "Transactions"). The report page (reports/detail.html) shows the
panel through ``review_panel``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from fieldreport.accounts.roles import COORDINATION, OBSERVER, coordinates
from fieldreport.review import service
from fieldreport.review.forms import AnswerForm, ReviewForm
from fieldreport.sectors.limits import visible_sector_ids
from fieldreport.sectors.service import all_sectors
from fieldreport.web.auth import roles_required
from fieldreport.web.lookups import visible_report_or_404
from fieldreport.web.transaction import request_session
from fieldreport.web.words import words

bp = Blueprint("review", __name__)


@bp.get("/review")
@roles_required(*COORDINATION)
def queue() -> Any:
    db = request_session()
    scope = request.args.get("scope") or None
    limits = visible_sector_ids(db, current_user)
    sectors = [s for s in all_sectors(db) if limits is None or s.id in limits]
    return render_template(
        "review/queue.html",
        reports=service.review_queue(db, current_user, scope),
        sectors=sectors,
        sector_codes={s.id: s.code for s in sectors},
        scope=scope or "",
        may_see_outside=limits is None,
    )


@bp.post("/review/<int:report_id>")
@roles_required(*COORDINATION)
def decide(report_id: int) -> Any:
    db = request_session()
    report = visible_report_or_404(report_id=report_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.review_report(db, report, current_user, form.status.data, form.comment.data)
    except (service.TransitionRefused, service.ReviewInvalid) as error:
        flash(_("Not changed: %(reason)s.", reason=words(error)))
        return redirect(url_for("reports.detail", report_id=report_id))
    flash(_("Review saved."))
    return redirect(url_for("review.queue"))


@bp.post("/reports/<int:report_id>/answer")
@roles_required(OBSERVER)
def answer(report_id: int) -> Any:
    db = request_session()
    report = visible_report_or_404(report_id=report_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        flash(_("Write your answer first."))
        return redirect(url_for("reports.detail", report_id=report_id))
    try:
        service.answer_question(db, report, current_user, form.answer.data)
    except (service.TransitionRefused, service.ReviewInvalid) as error:
        flash(_("Not sent: %(reason)s.", reason=words(error)))
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
        "answer_form": AnswerForm() if owner and question is not None else None,
    }
