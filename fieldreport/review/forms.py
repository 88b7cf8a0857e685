"""Forms of the review domain: a coordinator's decision, an observer's answer."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from fieldreport.review.service import MAX_COMMENT

STATUS_CHOICES = [
    SelectChoice("in_review", _l("Take into review")),
    SelectChoice("verified", _l("Verify")),
    SelectChoice("disputed", _l("Dispute")),
    SelectChoice("rejected", _l("Reject")),
    SelectChoice("needs_info", _l("Ask the observer for more")),
]


class ReviewForm(FlaskForm):
    status = SelectField(_l("Decision"), choices=STATUS_CHOICES)
    comment = TextAreaField(
        _l("Comment (the question, when asking for more)"),
        validators=[Optional(), Length(max=MAX_COMMENT)],
    )


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Your answer"), validators=[DataRequired(), Length(max=MAX_COMMENT)])


class ReopenForm(FlaskForm):
    reason = TextAreaField(
        _l("Why reopen this decision (kept in the history)"),
        validators=[DataRequired(), Length(max=MAX_COMMENT)],
    )
