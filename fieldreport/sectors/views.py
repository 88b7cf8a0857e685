"""Web pages of the sectors domain (a thin layer over sectors/service.py).

Sectors (import, draw, export), coordinators' sector limits, assignments and the roster,
coverage of a day, and the map. Coordinators and admins only; a coordinator limited to some
sectors sees only those and cannot change the sector set as a whole.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from fieldreport.accounts.models import User
from fieldreport.accounts.roles import COORDINATION
from fieldreport.db import utcnow
from fieldreport.reports.models import STATUSES
from fieldreport.reports.service import visible_reports
from fieldreport.reports.taxonomy import CATEGORIES
from fieldreport.sectors import service, tasks
from fieldreport.sectors.forms import (
    AssignmentForm,
    ConfirmForm,
    ImportForm,
    LimitsForm,
    SectorForm,
)
from fieldreport.sectors.geometry import DOCUMENT, SectorImportError
from fieldreport.sectors.models import Assignment, Sector
from fieldreport.web.auth import roles_required
from fieldreport.web.context import runtime
from fieldreport.web.transaction import request_session

bp = Blueprint("sectors", __name__)


def enqueue_rederive() -> None:
    """After a sector change is committed: put existing reports in their sectors again."""
    tasks.enqueue_rederive(runtime().queue)


def _limits() -> set[int] | None:
    return service.visible_sector_ids(request_session(), current_user)


def _require_unlimited() -> None:
    if _limits() is not None:
        abort(403)


def _mission_zone() -> ZoneInfo:
    return runtime().settings.zone


def _today(zone: ZoneInfo) -> date:
    return utcnow().astimezone(zone).date()


def _day_arg(name: str = "day") -> date:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return _today(_mission_zone())


def problems_json(error: SectorImportError) -> list[dict[str, Any]]:
    return [{"feature": p.feature, "reason": p.reason} for p in error.problems]


def _index(import_form: ImportForm | None = None, problems: Any = None, status: int = 200) -> Any:
    db = request_session()
    limits = _limits()
    sectors = [s for s in service.all_sectors(db) if limits is None or s.id in limits]
    limits_form = None
    coordinators: list[User] = []
    if current_user.role == "admin":
        limits_form = LimitsForm()
        coordinators = service.coordinators(db)
        limits_form.coordinator.choices = [SelectChoice(c.id, c.username) for c in coordinators]
        limits_form.sectors.choices = [SelectChoice(s.id, s.code) for s in sectors]
    by_id = {s.id: s.code for s in sectors}
    page = render_template(
        "sectors/index.html",
        sectors=sectors,
        import_form=import_form or ImportForm(),
        limits_form=limits_form,
        coordinators=coordinators,
        limits={
            uid: [by_id.get(i, i) for i in ids]
            for uid, ids in service.coordinator_limits(db).items()
        },
        may_change_all=limits is None,
        problems=problems,
        document=DOCUMENT,
    )
    return page, status


@bp.get("/sectors")
@roles_required(*COORDINATION)
def index() -> Any:
    return _index()


@bp.post("/sectors/import")
@roles_required(*COORDINATION)
def import_file() -> Any:
    _require_unlimited()
    form = ImportForm()
    if not form.validate_on_submit():
        return _index(form, status=400)
    data = form.file.data.read() if form.file.data else (form.text.data or "").encode()
    db = request_session()
    try:
        outcome = service.import_sector_collection(db, data, current_user)
    except SectorImportError as error:
        db.rollback()
        return _index(form, problems=error.problems, status=422)
    db.commit()
    enqueue_rederive()
    flash(
        _(
            "Imported %(n)s sectors: %(created)s new, %(updated)s updated (%(codes)s).",
            n=outcome.count,
            created=len(outcome.created),
            updated=len(outcome.updated),
            codes=", ".join(outcome.updated) or "—",
        )
    )
    return redirect(url_for("sectors.index"))


def _edit(sector: Sector | None) -> Any:
    form = SectorForm(obj=sector)
    if sector is not None and request.method == "GET":
        form.geometry.data = json.dumps(sector.geometry)
    if form.validate_on_submit():
        db = request_session()
        try:
            saved = service.save_sector(
                db,
                sector_id=sector.id if sector else None,
                code=form.code.data,
                name=form.name.data,
                kind=form.kind.data,
                geometry=form.geometry.data,
                active=form.active.data,
                actor=current_user,
            )
        except service.SectorError as error:
            db.rollback()
            getattr(form, error.field, form.geometry).errors = [error.message]
        else:
            db.commit()
            enqueue_rederive()
            flash(_("Sector %(code)s saved.", code=saved.code))
            return redirect(url_for("sectors.index"))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "sectors/edit.html", form=form, sector=sector, tile_url=runtime().settings.map_tile_url
    ), status


@bp.route("/sectors/new", methods=["GET", "POST"])
@roles_required(*COORDINATION)
def new() -> Any:
    _require_unlimited()
    return _edit(None)


@bp.route("/sectors/<int:sector_id>/edit", methods=["GET", "POST"])
@roles_required(*COORDINATION)
def edit(sector_id: int) -> Any:
    limits = _limits()
    sector = request_session().get(Sector, sector_id)
    if sector is None or (limits is not None and sector_id not in limits):
        abort(404)
    return _edit(sector)


@bp.get("/sectors/export.geojson")
@roles_required(*COORDINATION)
def export() -> Any:
    body = json.dumps(service.export_sectors(request_session(), _limits()), indent=1)
    return Response(
        body,
        mimetype="application/geo+json",
        headers={"Content-Disposition": 'attachment; filename="sectors.geojson"'},
    )


@bp.post("/sectors/limits")
@roles_required("admin")
def set_limits() -> Any:
    db = request_session()
    form = LimitsForm()
    form.coordinator.choices = [SelectChoice(c.id, c.username) for c in service.coordinators(db)]
    form.sectors.choices = [SelectChoice(s.id, s.code) for s in service.all_sectors(db)]
    if not form.validate_on_submit():
        return _index(status=400)
    try:
        service.set_coordinator_sectors(db, form.coordinator.data, form.sectors.data, current_user)
    except service.SectorError as error:
        db.rollback()
        flash(error.message)
        return _index(status=422)
    db.commit()
    flash(_("Coordinator's sectors saved."))
    return redirect(url_for("sectors.index"))


def _assignment_form() -> AssignmentForm:
    db = request_session()
    limits = _limits()
    form = AssignmentForm()
    form.observer.choices = [
        SelectChoice(o.id, f"{o.team_code or '—'} · {o.display_name}")
        for o in service.observers(db)
    ]
    form.sector.choices = [
        SelectChoice(s.id, f"{s.code} · {s.name}")
        for s in service.all_sectors(db, active_only=True)
        if limits is None or s.id in limits
    ]
    return form


def _assignments_page(form: AssignmentForm, overlaps: Any = None, status: int = 200) -> Any:
    db = request_session()
    since = _today(_mission_zone())
    rows = service.upcoming_assignments(db, since, _limits())
    return (
        render_template(
            "sectors/assignments.html",
            form=form,
            rows=rows,
            overlaps=overlaps,
            delete_form=ConfirmForm(),
        ),
        status,
    )


@bp.route("/assignments", methods=["GET", "POST"])
@roles_required(*COORDINATION)
def assignments() -> Any:
    form = _assignment_form()
    if request.method == "GET" or not form.validate_on_submit():
        return _assignments_page(form, status=200 if request.method == "GET" else 422)
    db = request_session()
    try:
        service.create_assignment(
            db,
            observer_id=form.observer.data,
            sector_id=form.sector.data,
            starts_on=form.starts_on.data,
            ends_on=form.ends_on.data,
            assigned_by=current_user,
            allow_overlap=form.allow_overlap.data,
            note=form.note.data,
        )
    except service.AssignmentOverlap as overlap:
        db.rollback()
        return _assignments_page(form, overlaps=overlap.overlaps, status=409)
    except service.SectorError as error:
        db.rollback()
        getattr(form, error.field).errors = [error.message]
        return _assignments_page(form, status=422)
    db.commit()
    flash(_("Assignment saved."))
    return redirect(url_for("sectors.assignments"))


@bp.post("/assignments/<int:assignment_id>/delete")
@roles_required(*COORDINATION)
def delete_assignment(assignment_id: int) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    db = request_session()
    limits = _limits()
    assignment = db.get(Assignment, assignment_id)
    if assignment is None or (limits is not None and assignment.sector_id not in limits):
        abort(404)
    service.delete_assignment(db, assignment_id)
    db.commit()
    flash(_("Assignment removed."))
    return redirect(url_for("sectors.assignments"))


@bp.get("/roster")
@roles_required(*COORDINATION)
def roster() -> Any:
    day = _day_arg("week")
    week_start = day - timedelta(days=day.weekday())
    grid = service.roster(request_session(), week_start, _limits())
    return render_template(
        "sectors/roster.html",
        roster=grid,
        previous=week_start - timedelta(days=7),
        next=week_start + timedelta(days=7),
    )


@bp.get("/coverage")
@roles_required(*COORDINATION)
def coverage() -> Any:
    day = _day_arg()
    report = service.coverage(request_session(), day, _mission_zone(), _limits())
    return render_template(
        "sectors/coverage.html",
        coverage=report,
        previous=day - timedelta(days=1),
        next=day + timedelta(days=1),
    )


@bp.get("/map")
@roles_required(*COORDINATION)
def map_page() -> Any:
    return render_template(
        "sectors/map.html",
        day=_day_arg(),
        category=request.args.get("category", ""),
        status=request.args.get("status", ""),
        categories=CATEGORIES,
        statuses=STATUSES,
        tile_url=runtime().settings.map_tile_url,
    )


@bp.get("/map/data.json")
@roles_required(*COORDINATION)
def map_data() -> Any:
    db = request_session()
    reports = service.map_features(
        db,
        visible_reports(db, current_user),
        day=_day_arg(),
        zone=_mission_zone(),
        category=request.args.get("category") or None,
        status=request.args.get("status") or None,
    )
    return jsonify(
        {
            "sectors": service.export_sectors(db, _limits()),
            "reports": map_report_collection(reports),
        }
    )


def map_report_collection(reports: list[Any]) -> dict[str, Any]:
    """Reports as GeoJSON points with what the map shows: colour, label, link."""
    from fieldreport.digests.picture import category_hex
    from fieldreport.reports.taxonomy import category_label, subcategory_label

    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [r.longitude, r.latitude]},
                "properties": {
                    "id": r.id,
                    "url": url_for("reports.detail", report_id=r.id),
                    "category": r.category,
                    "status": r.status,
                    "urgent": r.urgent,
                    "colour": category_hex(r.category),
                    "label": f"{category_label(r.category)} · "
                    f"{subcategory_label(r.category, r.subcategory)}",
                    "team_code": r.team_code,
                },
            }
            for r in reports
        ],
    }


def todays_assignments() -> list[Any]:
    """For the observer's home page: today's assignments, "today" in their own zone."""
    if not current_user.is_authenticated or current_user.role != "observer":
        return []
    zone = ZoneInfo(current_user.time_zone or runtime().settings.time_zone)
    return service.assignments_on(request_session(), current_user.id, _today(zone))
