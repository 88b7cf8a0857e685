"""Two-step log-in at the web edge: the code step, enrolment, and the account page.

Between the password and the second step this browser holds only ``PENDING`` in its signed
cookie: which user passed the password, when, and what comes next. No server-side session
exists until the second factor passed, so every page and the API treat the browser as logged
out. The user id comes from that cookie (written by the server after checking the password),
never from a form or a URL. See accounts/two_factor.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import segno
from flask import (
    Blueprint,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from fieldreport.accounts import administration, two_factor
from fieldreport.accounts.errors import AccountError, LoginThrottled
from fieldreport.accounts.forms import CodeForm, PasswordAgainForm
from fieldreport.accounts.models import User
from fieldreport.accounts.totp_sealing import SecretUnreadable
from fieldreport.db import utcnow
from fieldreport.web.context import runtime, totp_key
from fieldreport.web.sessions import client_info
from fieldreport.web.transaction import request_session
from fieldreport.web.words import words

bp = Blueprint("two_factor", __name__)

PENDING = "two_factor_pending"
# What a logged-in user whose role requires two-step log-in, and who has none yet (a session
# from before the setting), may still open.
OPEN_BEFORE_TWO_FACTOR = (
    "accounts.two_factor.account",
    "accounts.two_factor.enrol",
    "accounts.own_password",
    "accounts.logout",
    "static",
    None,
)


def begin_pending(
    user: User, next_step: str, target: str | None, *, keep_login: bool = False
) -> None:
    """Remember in this browser that ``user`` passed the password. A log-in starts afresh
    (whoever was logged in here is not any more); ``keep_login``: the logged-in user's own."""
    if not keep_login:
        session.clear()
    now = int(utcnow().timestamp())
    session[PENDING] = {"user": user.id, "at": now, "step": next_step, "to": target}


def _pending(next_step: str) -> User | None:
    """The user who passed the password in this browser, for ``next_step``, if still fresh."""
    data = session.get(PENDING)
    if not isinstance(data, dict) or data.get("step") != next_step:
        return None
    started = datetime.fromtimestamp(int(data.get("at", 0)), UTC)
    user = administration.user_or_none(request_session(), int(data.get("user", 0)))
    stale = not two_factor.step_is_fresh(started, next_step, utcnow())
    other = current_user.is_authenticated and user is not None and current_user.id != user.id
    if stale or other or user is None or not user.active:
        session.pop(PENDING, None)
        return None
    return user


def _start_again() -> Any:
    session.pop(PENDING, None)
    flash(_("Please log in again."))
    return redirect(url_for("accounts.login"))


def _logged_in(user: User) -> None:
    """The session row exists now (two_factor opened it): hand its id to the cookie."""
    session.clear()
    login_user(user, remember=False)
    session.permanent = True


@bp.route("/login/code", methods=["GET", "POST"])
def code() -> Any:
    user = _pending(two_factor.NEXT_CODE)
    if user is None:
        return _start_again()
    form, error, status = CodeForm(), None, 200
    if form.validate_on_submit():
        try:
            two_factor.log_in_code_step(
                request_session(), user, form.code.data, client_info(), utcnow(), totp_key()
            )
        except two_factor.CodeThrottled as refused:
            error, status = words(refused), 429
        except two_factor.WrongCode as refused:  # counted and audited: those rows commit
            error, status = words(refused), 401
        except SecretUnreadable as refused:  # audited; a recovery code still works
            error, status = words(refused), 403
        except AccountError:
            return _start_again()
        else:
            target = session[PENDING].get("to")
            _logged_in(user)
            return redirect(_after_login(user, target))
    elif request.method == "POST":
        status = 400
    return render_template("accounts/two_factor_code.html", form=form, error=error), status


def _after_login(user: User, target: str | None) -> str:
    if user.must_change_password:
        return url_for("accounts.own_password")
    return target or url_for("core.index")


@bp.route("/two-factor/enrol", methods=["GET", "POST"])
def enrol() -> Any:
    user = _pending(two_factor.NEXT_ENROL)
    if user is None or not two_factor.enrolment_pending(user):
        return _start_again()
    form, error, status = CodeForm(), None, 200
    if form.validate_on_submit():
        logging_in = not current_user.is_authenticated
        try:
            db, code = request_session(), form.code.data
            codes = two_factor.confirm_enrolment(
                db, user, code, client_info(), utcnow(), totp_key(), start_session=logging_in
            )
        except (two_factor.CodeThrottled, two_factor.WrongCode) as refused:
            error = words(refused)
            status = 429 if isinstance(refused, two_factor.CodeThrottled) else 401
        except AccountError:
            return _start_again()
        else:
            target = session[PENDING].get("to")
            if logging_in:
                _logged_in(user)
            session.pop(PENDING, None)
            return _recovery_codes_page(user, codes, target)
    elif request.method == "POST":
        status = 400
    try:
        return _enrol_page(user, form, error), status
    except SecretUnreadable:  # altered or moved meanwhile: a new log-in makes a new secret
        return _start_again()


def _enrol_page(user: User, form: CodeForm, error: str | None) -> str:
    issuer = runtime().settings.mission_name
    uri = two_factor.provisioning_uri(user, issuer, totp_key())
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    return render_template(
        "accounts/two_factor_enrol.html",
        form=form,
        error=error,
        qr=qr,
        secret=two_factor.secret_in_groups(user, totp_key()),
        user=user,
    )


def _recovery_codes_page(user: User, codes: list[str], target: str | None) -> str:
    # Shown on this answer only (no redirect: a flash would put the codes in the cookie).
    return render_template(
        "accounts/two_factor_recovery.html",
        codes=codes,
        target=_after_login(user, target),
    )


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def account() -> Any:
    user = current_user._get_current_object()
    form, error = PasswordAgainForm(), None
    if form.validate_on_submit():
        try:
            two_factor.begin_own_enrolment(
                request_session(), user, form.password.data, client_info(), utcnow(), totp_key()
            )
        except LoginThrottled as refused:
            error = words(refused)
        except AccountError as refused:  # counted and audited: those rows commit
            error = words(refused)
        else:
            target = url_for("accounts.two_factor.account")
            begin_pending(user, two_factor.NEXT_ENROL, target, keep_login=True)
            return redirect(url_for("accounts.two_factor.enrol"))
    status = 400 if request.method == "POST" else 200
    info = two_factor.status(request_session(), user)
    required = two_factor.required_for(user, runtime().settings.two_factor_roles)
    page = render_template(
        "accounts/two_factor_account.html", form=form, error=error, info=info, required=required
    )
    return page, status


@bp.after_request
def no_store(response: Any) -> Any:
    """These pages show secrets and codes: no cache may keep them."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.before_app_request
def two_factor_first() -> Any:
    """A session that predates the requirement (or its setting) reaches enrolment only."""
    if request.endpoint in OPEN_BEFORE_TWO_FACTOR or not current_user.is_authenticated:
        return None
    user = current_user._get_current_object()
    roles = runtime().settings.two_factor_roles
    if two_factor.is_on(user) or not two_factor.required_for(user, roles):
        return None
    if request.path.startswith("/api/"):
        message = "Set up two-step log-in first (open the app and log in)."
        return jsonify({"error": "Two-step log-in required", "message": message}), 403
    return redirect(url_for("accounts.two_factor.account"))
