"""Account forms (Flask-WTF: each carries its CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length, Optional

from fieldreport.accounts.passwords import MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    # Choices and default (the page's language: the phone's, or the one picked) from the view.
    language = SelectField(_l("Language"), validate_choice=False)


class LogoutForm(FlaskForm):
    """Log-out is a POST with a token, so another site cannot log an observer out."""


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password or one-time code"), validators=[DataRequired(), Length(max=256)]
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=256)],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new_password", _l("The two passwords differ."))],
    )


class NewUserForm(FlaskForm):
    """Choices (roles, languages) are filled in by the view, with words for people."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Full name"), validators=[Optional(), Length(max=120)])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    team_code = StringField(_l("Team code (observers)"), validators=[Optional(), Length(max=16)])
    language = SelectField(_l("Language"), validators=[DataRequired()])


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), validators=[DataRequired()])


class ActiveForm(FlaskForm):
    active = HiddenField(validators=[AnyOf(("0", "1"))])


class ConfirmForm(FlaskForm):
    """A button that changes something: a POST with a token, nothing else."""


class CodeForm(FlaskForm):
    """The second step of a log-in: six digits from the app, or a recovery code."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])


class PasswordAgainForm(FlaskForm):
    """Typing the password again before a change to how one logs in."""

    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=256)])
