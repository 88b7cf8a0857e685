"""The sectors page: list, import, draw, export, and (admins) coordinators' sector limits.

Coordinators and admins only; a coordinator limited to some sectors sees only those, read-only
with their history: only admins and coordinators of every sector draw, import or change sectors
(enforced in `service`, answered 403 here). Assignments and the roster are in
`assignment_views`, the coverage and the map in `day_views`.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from fieldreport.accounts.models import User
from fieldreport.accounts.roles import COORDINATION
from fieldreport.sectors import history, limits, service
from fieldreport.sectors.errors import SectorAuthorityError, SectorError
from fieldreport.sectors.forms import ImportForm, LimitsForm, SectorForm
from fieldreport.sectors.geojson import DOCUMENT, FeatureProblem, SectorImportError
from fieldreport.sectors.import_limits import ImportLimits
from fieldreport.sectors.models import Sector
from fieldreport.sectors.view_helpers import require_unlimited, viewer_limits
from fieldreport.web.auth import roles_required
from fieldreport.web.context import client_address, runtime
from fieldreport.web.transaction import request_session
from fieldreport.web.words import words

bp = Blueprint("sectors", __name__)


def _limits_form(sectors: list[Sector]) -> tuple[LimitsForm, list[User]]:
    coordinators = limits.coordinators(request_session())
    form = LimitsForm()
    form.coordinator.choices = [SelectChoice(c.id, c.username) for c in coordinators]
    form.sectors.choices = [SelectChoice(s.id, s.code) for s in sectors]
    return form, coordinators


def _index(
    import_form: ImportForm | None = None,
    problems: list[FeatureProblem] | None = None,
    status: int = 200,
) -> Any:
    db = request_session()
    visible = viewer_limits()
    sectors = service.all_sectors(db, sector_ids=visible)
    limits_form, coordinators = None, []
    if current_user.role == "admin":
        limits_form, coordinators = _limits_form(sectors)
    code_of = {s.id: s.code for s in sectors}
    page = render_template(
        "sectors/index.html",
        sectors=sectors,
        import_form=import_form or ImportForm(),
        limits_form=limits_form,
        coordinators=coordinators,
        limits={
            uid: [code_of.get(i, i) for i in ids]
            for uid, ids in limits.coordinator_limits(db).items()
        },
        may_change_all=visible is None,
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
    require_unlimited()
    form = ImportForm()
    if not form.validate_on_submit():
        return _index(form, status=400)
    data = form.file.data.read() if form.file.data else (form.text.data or "").encode()
    try:
        outcome = service.import_sector_collection(
            request_session(),
            data,
            current_user,
            runtime().queue,
            address=client_address(),
            limits=ImportLimits.of(runtime().settings),
            accept_repairs=form.accept_repairs.data,
        )
    except SectorAuthorityError as error:
        abort(403, description=words(error))
    except service.RepairNeeded as needed:
        return render_template(
            "sectors/repair_preview.html", form=form, document=data.decode(), needed=needed
        )
    except SectorImportError as error:
        return _index(form, problems=error.problems, status=422)
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


def _save(form: SectorForm, sector: Sector | None) -> Sector | None:
    """The saved sector, or None with the form's error set; 403 for a user who may not."""
    try:
        return service.save_sector(
            request_session(),
            sector_id=sector.id if sector else None,
            code=form.code.data,
            name=form.name.data,
            kind=form.kind.data,
            geometry=form.geometry.data,
            active=form.active.data,
            actor=current_user,
            queue=runtime().queue,
            address=client_address(),
            limits=ImportLimits.of(runtime().settings),
        )
    except SectorAuthorityError as error:
        abort(403, description=words(error))
    except SectorError as error:
        getattr(form, error.field, form.geometry).errors = [words(error)]
    return None


def _edit(sector: Sector | None) -> Any:
    """The drawing form, or (a limited coordinator) the sector read-only; its history below."""
    may_edit = viewer_limits() is None
    if request.method == "POST" and not may_edit:
        abort(403, description=SectorAuthorityError.MESSAGE)
    form = SectorForm(obj=sector)
    if sector is not None and request.method == "GET":
        form.geometry.data = json.dumps(sector.geometry)
    if form.validate_on_submit():
        saved = _save(form, sector)
        if saved is not None:
            flash(_("Sector %(code)s saved.", code=saved.code))
            return redirect(url_for("sectors.index"))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "sectors/edit.html",
        form=form,
        sector=sector,
        may_edit=may_edit,
        history=history.sector_history(request_session(), sector.id) if sector else [],
        tile_url=runtime().settings.map_tile_url,
    ), status


@bp.route("/sectors/new", methods=["GET", "POST"])
@roles_required(*COORDINATION)
def new() -> Any:
    require_unlimited()
    return _edit(None)


@bp.route("/sectors/<int:sector_id>/edit", methods=["GET", "POST"])
@roles_required(*COORDINATION)
def edit(sector_id: int) -> Any:
    visible = viewer_limits()
    sector = request_session().get(Sector, sector_id)
    if sector is None or (visible is not None and sector_id not in visible):
        abort(404)
    return _edit(sector)


@bp.get("/sectors/export.geojson")
@roles_required(*COORDINATION)
def export() -> Any:
    sectors = service.export_sectors(request_session(), viewer_limits(), exact=True)
    body = json.dumps(sectors, indent=1)
    return Response(
        body,
        mimetype="application/geo+json",
        headers={"Content-Disposition": 'attachment; filename="sectors.geojson"'},
    )


@bp.post("/sectors/limits")
@roles_required("admin")
def set_limits() -> Any:
    db = request_session()
    form, _coordinators = _limits_form(service.all_sectors(db))
    if not form.validate_on_submit():
        return _index(status=400)
    try:
        limits.set_coordinator_sectors(db, form.coordinator.data, form.sectors.data, current_user)
    except SectorError as error:
        flash(words(error))
        return _index(status=422)
    flash(_("Coordinator's sectors saved."))
    return redirect(url_for("sectors.index"))
