"""Forms of the map-data page: a gazetteer file, and the offline map extract."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class PlacesForm(FlaskForm):
    file = FileField(
        _l("Gazetteer file (GeoNames .txt, or CSV with latitude, longitude, name)"),
        validators=[FileRequired()],
    )


class AreaTilesForm(FlaskForm):
    file = FileField(_l("Offline map extract (.pmtiles)"), validators=[FileRequired()])
