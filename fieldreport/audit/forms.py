"""The audit log's filter: a GET form (a link to a filtered list can be shared and reloaded)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from fieldreport.audit.labels import action_label


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # reads only; the filter lives in the address

    actor = SelectField(_l("User"), validators=[Optional()])
    action = SelectField(_l("Event"), validators=[Optional()])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])
    address = StringField(_l("Address starts with"), validators=[Optional(), Length(max=64)])

    def fill_choices(self, actors: list[str], actions: list[str]) -> None:
        """The names and events found in the log, with "all" first; events in words."""
        self.actor.choices = [("", _("All users")), *((name, name) for name in actors)]
        self.action.choices = [
            ("", _("All events")),
            *sorted(((code, _(action_label(code))) for code in actions), key=lambda c: c[1]),
        ]

    def validate_until(self, field: Any) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_("The end is before the start."))
