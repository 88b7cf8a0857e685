"""Web pages of spot-report alerts: the list, the banner's JSON, acknowledging, the mail address.

The banner (static/js/alerts.js, on every page of coordinators and admins) polls
``/alerts/open.json``; it shows from the database, so it never waits for a job.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from fieldreport.accounts.roles import COORDINATION
from fieldreport.alerts import service
from fieldreport.alerts.forms import AcknowledgeForm, AddressForm
from fieldreport.web.auth import roles_required
from fieldreport.web.context import runtime
from fieldreport.web.templating import category_label, local_time, subcategory_label
from fieldreport.web.transaction import request_session

bp = Blueprint("alerts", __name__)


def _as_json(view: service.AlertView) -> dict[str, Any]:
    return {
        "id": view.id,
        "report_url": url_for("reports.detail", report_id=view.report_id),
        "acknowledge_url": url_for("alerts.acknowledge", alert_id=view.id),
        "what": f"{category_label(view.category)} · "
        f"{subcategory_label(view.category, view.subcategory)}",
        "where": view.sector_code or _("Outside sectors"),
        "raised_at": local_time(view.raised_at, "short"),
        "acknowledged_by": view.acknowledged_by,
        "escalated": view.escalated,
    }


@bp.get("/alerts")
@roles_required(*COORDINATION)
def index() -> Any:
    db = request_session()
    return render_template(
        "alerts/index.html",
        alerts=service.alerts_for(db, current_user),
        ack_form=AcknowledgeForm(),
        escalate_minutes=f"{runtime().settings.alert_escalate_minutes:g}",
        address_form=AddressForm(email=service.address_of(db, current_user)),
    )


@bp.get("/alerts/open.json")
@roles_required(*COORDINATION)
def open_alerts() -> Any:
    """The alerts still open (the banner), and those acknowledged lately (who took them)."""
    db = request_session()
    waiting = service.alerts_for(db, current_user, taken=False, limit=20)
    taken = service.alerts_for(db, current_user, taken=True, limit=5)
    response = jsonify(
        {"alerts": [_as_json(v) for v in waiting], "taken": [_as_json(v) for v in taken]}
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/alerts/<int:alert_id>/acknowledge")
@roles_required(*COORDINATION)
def acknowledge(alert_id: int) -> Any:
    if not AcknowledgeForm().validate_on_submit():
        abort(400)
    view = service.acknowledge(request_session(), current_user, alert_id)
    if view is None:
        abort(404)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(_as_json(view))
    flash(_("Alert taken by %(name)s.", name=view.acknowledged_by))
    return redirect(url_for("alerts.index"))


@bp.post("/alerts/address")
@roles_required(*COORDINATION)
def address() -> Any:
    form = AddressForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.set_address(request_session(), current_user, form.email.data or "")
    except service.AlertInvalid:
        flash(_("Not saved: write an email address such as name@example.org."), "error")
        return redirect(url_for("alerts.index"))
    flash(_("Saved."))
    return redirect(url_for("alerts.index"))
