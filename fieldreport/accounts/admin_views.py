"""Account administration for admins: the list, new accounts, language, deactivation,
password resets (a one-time code shown once) and ending every session of a user."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from fieldreport.accounts import administration, two_factor
from fieldreport.accounts.errors import AccountError
from fieldreport.accounts.forms import (
    ActiveForm,
    ConfirmForm,
    LanguageForm,
    NewUserForm,
)
from fieldreport.accounts.models import User
from fieldreport.accounts.roles import ACCOUNT_ADMINS, ROLE_LABELS, ROLES
from fieldreport.db import utcnow
from fieldreport.web.auth import roles_required
from fieldreport.web.context import runtime
from fieldreport.web.sessions import session_limits
from fieldreport.web.templating import language_label
from fieldreport.web.transaction import request_session
from fieldreport.web.words import words

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _languages() -> tuple[str, ...]:
    return runtime().settings.languages


def _language_choices() -> list[tuple[str, str]]:
    return [(code, language_label(code)) for code in _languages()]


def _user_or_404(user_id: int) -> User:
    user = administration.user_or_none(request_session(), user_id)
    if user is None:
        abort(404)
    return user


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


@bp.get("/users")
@roles_required(*ACCOUNT_ADMINS)
def users() -> Any:
    limits = session_limits(runtime().settings)
    rows = administration.list_accounts(request_session(), limits=limits)
    return render_template("admin/users.html", rows=rows)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(*ACCOUNT_ADMINS)
def new_user() -> Any:
    form = NewUserForm()
    form.role.choices = [(role, _(ROLE_LABELS[role])) for role in ROLES]
    form.language.choices = _language_choices()
    error = None
    if form.validate_on_submit():
        new = administration.NewAccount(
            username=form.username.data,
            role=form.role.data,
            display_name=form.display_name.data,
            team_code=form.team_code.data,
            language=form.language.data,
        )
        try:
            user, code = administration.create_account(
                request_session(), _actor(), new, _languages()
            )
        except AccountError as refused:
            error = words(refused)
        else:
            return _user_page(user, one_time_code=code, created=True)
    status = 400 if error or form.errors else 200
    return render_template("admin/new_user.html", form=form, error=error), status


def _user_page(user: User, *, one_time_code: str | None = None, created: bool = False) -> Any:
    limits = session_limits(runtime().settings)
    language_form = LanguageForm(formdata=None, language=user.language)
    language_form.language.choices = _language_choices()
    return render_template(
        "admin/user.html",
        user=user,
        sessions=administration.user_sessions(request_session(), user, limits=limits),
        language_form=language_form,
        active_form=ActiveForm(formdata=None, active="1" if not user.active else "0"),
        confirm_form=ConfirmForm(formdata=None),
        one_time_code=one_time_code,
        created=created,
        two_factor=two_factor.status(request_session(), user),
    )


@bp.get("/users/<int:user_id>")
@roles_required(*ACCOUNT_ADMINS)
def user(user_id: int) -> Any:
    return _user_page(_user_or_404(user_id))


@bp.post("/users/<int:user_id>/language")
@roles_required(*ACCOUNT_ADMINS)
def language(user_id: int) -> Any:
    target = _user_or_404(user_id)
    form = LanguageForm()
    form.language.choices = _language_choices()
    if form.validate_on_submit():
        administration.set_language(
            request_session(), _actor(), target, form.language.data, _languages()
        )
        flash(_("Language saved."))
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/active")
@roles_required(*ACCOUNT_ADMINS)
def active(user_id: int) -> Any:
    target = _user_or_404(user_id)
    form = ActiveForm()
    if form.validate_on_submit():
        try:
            administration.set_active(request_session(), _actor(), target, form.active.data == "1")
        except AccountError as refused:
            flash(words(refused))
        else:
            flash(_("Account active again.") if target.active else _("Account deactivated."))
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/password-reset")
@roles_required(*ACCOUNT_ADMINS)
def password_reset(user_id: int) -> Any:
    target = _user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    code = administration.reset_password(request_session(), _actor(), target)
    # Shown on this answer only (no redirect: a flash would put the code in the cookie).
    return _user_page(target, one_time_code=code)


@bp.post("/users/<int:user_id>/sessions/revoke")
@roles_required(*ACCOUNT_ADMINS)
def revoke_sessions(user_id: int) -> Any:
    target = _user_or_404(user_id)
    if ConfirmForm().validate_on_submit():
        ended = administration.revoke_all_sessions(request_session(), _actor(), target)
        flash(_("Sessions ended: %(n)d. The next request of that user asks to log in.", n=ended))
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/two-factor/reset")
@roles_required(*ACCOUNT_ADMINS)
def two_factor_reset(user_id: int) -> Any:
    """A lost phone and lost recovery codes: two-step log-in off, every session ended."""
    target = _user_or_404(user_id)
    if ConfirmForm().validate_on_submit():
        ended = two_factor.reset(request_session(), _actor(), target, utcnow())
        flash(_("Two-step log-in turned off; sessions ended: %(n)d.", n=ended))
    return redirect(url_for("admin.user", user_id=user_id))
