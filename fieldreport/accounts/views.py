"""Log-in, log-out, and the user's own password."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_required, login_user, logout_user

from fieldreport.accounts import administration, service, two_factor
from fieldreport.accounts.errors import AccountError, LoginThrottled
from fieldreport.accounts.forms import LanguageForm, LoginForm, LogoutForm, PasswordChangeForm
from fieldreport.accounts.two_factor_views import begin_pending
from fieldreport.accounts.two_factor_views import bp as two_factor_bp
from fieldreport.db import utcnow
from fieldreport.web.context import client_address, runtime, totp_key
from fieldreport.web.languages import current_language, language_choices, remember_language
from fieldreport.web.sessions import client_info
from fieldreport.web.transaction import request_session
from fieldreport.web.words import words

bp = Blueprint("accounts", __name__)
# Nested: its endpoints are "accounts.two_factor.*" (registered with this blueprint).
bp.register_blueprint(two_factor_bp)

# What a user who must choose a new password (after a reset) may still open.
OPEN_BEFORE_NEW_PASSWORD = ("accounts.own_password", "accounts.logout", "static", None)


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: a crafted link must not send a user to another host."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm(language=current_language())
    form.language.choices = language_choices()
    error = None
    status = 200
    if form.validate_on_submit():
        # The attempt is audited either way; a failure is committed too, as the view returns
        # normally, so the throttle counts it (docs/architecture.md, "Transactions").
        try:
            step = two_factor.log_in_password_step(
                request_session(),
                form.username.data,
                form.password.data,
                client_info(),
                runtime().settings.two_factor_roles,
                utcnow(),
                totp_key(),
            )
        except LoginThrottled:
            error, status = _("Too many failed attempts. Wait 15 minutes, then try again."), 429
        else:
            if step is not None:
                language = _keep_language(step.user, form.language.data)
                return remember_language(_after_password(step), language)
            error, status = _("Wrong username or password."), 401
    elif request.method == "POST":
        status = 400
    return render_template("accounts/login.html", form=form, error=error), status


def _keep_language(user: Any, language: str | None) -> str:
    """The language of the log-in page's list (the phone's, this device's last, or the one
    picked) becomes the user's: the pages after log-in speak what the log-in page spoke."""
    administration.choose_own_language(
        request_session(), user, language or "", runtime().settings.languages
    )
    return str(user.language)


def _after_password(step: two_factor.PasswordStep) -> Any:
    """Logged in now, or on to the second step (no session exists until it passes)."""
    target = _safe_next(request.args.get("next"))
    if step.next_step != two_factor.NEXT_SESSION:
        begin_pending(step.user, step.next_step, target)
        endpoint = "code" if step.next_step == two_factor.NEXT_CODE else "enrol"
        return redirect(url_for(f"accounts.two_factor.{endpoint}"))
    session.clear()
    login_user(step.user, remember=False)
    session.permanent = True
    if step.user.must_change_password:
        return redirect(url_for("accounts.own_password"))
    return redirect(target or url_for("core.index"))


@bp.post("/logout")
@login_required
def logout() -> Any:
    form = LogoutForm()
    if form.validate_on_submit():
        service.log_out(request_session(), current_user._get_current_object(), client_address())
        logout_user()
        session.clear()
    response = redirect(url_for("accounts.login"))
    # Pages kept by the browser carry the name and CSRF token of the one who logged out; the
    # service worker's copies go too (static/js/sw.js). The phone's outbox is kept, per observer.
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def own_password() -> Any:
    form = PasswordChangeForm()
    error = None
    if form.validate_on_submit():
        try:
            ended = service.change_own_password(
                request_session(),
                current_user._get_current_object(),
                form.current_password.data,
                form.new_password.data,
            )
        except AccountError as refused:
            error = words(refused)
        else:
            flash(_("Password changed. Sessions on other devices ended: %(n)d.", n=ended))
            return redirect(url_for("core.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/password.html", form=form, error=error), status


@bp.route("/account/language", methods=["GET", "POST"])
@login_required
def own_language() -> Any:
    """The user's own language: every page, message and the phone's scripts speak it."""
    # A POST must name the language (no default stands in for a missing field).
    form = (
        LanguageForm() if request.method == "POST" else LanguageForm(language=current_user.language)
    )
    form.language.choices = language_choices()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        languages = runtime().settings.languages
        administration.choose_own_language(request_session(), user, form.language.data, languages)
        refresh()  # the message below is in the new language already
        flash(_("Language saved."))
        return remember_language(redirect(url_for("accounts.own_language")), user.language)
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/language.html", form=form), status


@bp.before_app_request
def new_password_first() -> Any:
    """After a reset the one-time code opens one page only: the choice of a new password."""
    if request.endpoint in OPEN_BEFORE_NEW_PASSWORD or not current_user.is_authenticated:
        return None
    if not current_user.must_change_password:
        return None
    if request.path.startswith("/api/"):
        message = "Choose a new password first (open the app and log in)."
        return jsonify({"error": "Password change required", "message": message}), 403
    return redirect(url_for("accounts.own_password"))


@bp.app_context_processor
def logout_form() -> dict[str, Any]:
    # formdata=None: rendering must not parse the request body (it may be the 413 page).
    form = LogoutForm(formdata=None) if current_user.is_authenticated else None
    return {"logout_form": form}
