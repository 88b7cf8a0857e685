"""The gazetteer at the web edge: where a report is in words on pages, and the admin's loading of
place names and of the offline map extract (the "Map data" page)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from fieldreport.accounts.roles import ADMIN
from fieldreport.accounts.service import audit
from fieldreport.places.forms import AreaTilesForm, PlacesForm
from fieldreport.places.gazetteer import parse_places
from fieldreport.places.service import describe_location, load_places, place_count
from fieldreport.sectors.map_tiles import NotPMTiles, area_tiles_path, store_area_tiles
from fieldreport.web.auth import roles_required
from fieldreport.web.context import runtime
from fieldreport.web.transaction import request_session

bp = Blueprint("places", __name__)


def location_words(latitude: float, longitude: float) -> str | None:
    """Template global: "4 km north-east of Arezzo" in the reader's language, or None."""
    return describe_location(request_session(), latitude, longitude, _)


def _page(
    places_form: PlacesForm | None = None,
    area_form: AreaTilesForm | None = None,
    problems: list[str] | None = None,
    status: int = 200,
) -> Any:
    tiles = area_tiles_path(runtime().settings.data_dir)
    page = render_template(
        "admin/places.html",
        places_form=places_form or PlacesForm(),
        area_form=area_form or AreaTilesForm(),
        places=place_count(request_session()),
        area_bytes=tiles.stat().st_size if tiles.is_file() else None,
        area_path=str(tiles),
        problems=problems or [],
    )
    return page, status


@bp.get("/admin/places")
@roles_required(ADMIN)
def index() -> Any:
    return _page()


@bp.post("/admin/places")
@roles_required(ADMIN)
def load() -> Any:
    """Replace the gazetteer with the uploaded file's populated places."""
    form = PlacesForm()
    if not form.validate_on_submit():
        return _page(places_form=form, status=400)
    try:
        text = form.file.data.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        return _page(places_form=form, problems=[_("The file is not UTF-8 text.")], status=422)
    parsed = parse_places(text)
    if not parsed.rows:
        problems = [_("No place could be read from the file."), *parsed.problems]
        return _page(places_form=form, problems=problems, status=422)
    db = request_session()
    loaded = load_places(db, parsed.rows)
    audit(
        db, "places.load", user=current_user, detail={"places": loaded, "refused": parsed.refused}
    )
    flash(_("%(n)s places loaded; %(r)s lines refused.", n=loaded, r=parsed.refused), "success")
    for problem in parsed.problems:
        flash(problem, "error")
    return redirect(url_for("places.index"))


@bp.post("/admin/places/area")
@roles_required(ADMIN)
def load_area() -> Any:
    """Keep the uploaded PMTiles extract as the map's offline detail layer."""
    form = AreaTilesForm()
    if not form.validate_on_submit():
        return _page(area_form=form, status=400)
    try:
        size = store_area_tiles(runtime().settings.data_dir, form.file.data.stream)
    except NotPMTiles as error:
        return _page(area_form=form, problems=[_("Refused: %(why)s", why=str(error))], status=422)
    audit(request_session(), "map.area_load", user=current_user, detail={"bytes": size})
    flash(_("Offline map extract loaded (%(mb).1f MB).", mb=size / 1e6), "success")
    return redirect(url_for("places.index"))
