"""Forms of the sectors domain: import, drawing, coordinator limits, assignments."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from fieldreport.sectors.geojson import MAX_CODE_LENGTH, MAX_NAME_LENGTH

KIND_CHOICES = [
    SelectChoice("sector", _l("Sector")),
    SelectChoice("dmz", _l("Demilitarized zone")),
    SelectChoice("crossing_point", _l("Crossing-point area")),
]


class ImportForm(FlaskForm):
    file = FileField(_l("GeoJSON file"))
    text = TextAreaField(_l("…or paste the GeoJSON here"), validators=[Optional()])
    # Set by the repair preview's button: the coordinator saw the mended outlines.
    accept_repairs = BooleanField(default=False)


class SectorForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=MAX_CODE_LENGTH)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=MAX_NAME_LENGTH)])
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES, default="sector")
    geometry = TextAreaField(_l("Shape (GeoJSON Polygon)"), validators=[DataRequired()])
    active = BooleanField(_l("Active"), default=True)


class LimitsForm(FlaskForm):
    coordinator = SelectField(_l("Coordinator"), coerce=int)
    sectors = SelectMultipleField(_l("Sectors (none: all sectors)"), coerce=int)


class AssignmentForm(FlaskForm):
    observer = SelectField(_l("Observer"), coerce=int)
    sector = SelectField(_l("Sector"), coerce=int)
    starts_on = DateField(_l("First day"), validators=[DataRequired()])
    ends_on = DateField(_l("Last day"), validators=[DataRequired()])
    allow_overlap = BooleanField(_l("Allow overlap with the observer's other assignments"))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class ConfirmForm(FlaskForm):
    """Only the CSRF token: for buttons that change something (delete)."""
