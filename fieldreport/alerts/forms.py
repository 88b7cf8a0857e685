"""Forms of the alerts page: acknowledging an alert, and where to mail one's alerts."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms.validators import Length, Optional

from fieldreport.alerts.service import MAX_EMAIL


class AcknowledgeForm(FlaskForm):
    """Only the CSRF token: the alert is in the URL."""


class AddressForm(FlaskForm):
    email = EmailField(
        _l("Mail my alerts to (empty: only on screen)"),
        validators=[Optional(), Length(max=MAX_EMAIL)],
    )
