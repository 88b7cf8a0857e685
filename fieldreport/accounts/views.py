"""Log-in and log-out."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from fieldreport.accounts import service
from fieldreport.accounts.forms import LoginForm, LogoutForm
from fieldreport.web.context import client_address
from fieldreport.web.transaction import request_session

bp = Blueprint("accounts", __name__)


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
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        db = request_session()
        address = client_address()
        if service.login_throttled(db, form.username.data, address):
            error = _("Too many failed attempts. Wait 15 minutes, then try again.")
            status = 429
        else:
            # The attempt is audited either way; a failure is committed too, as the view returns
            # normally, so the throttle counts it (docs/architecture.md, "Transactions").
            user = service.authenticate(db, form.username.data, form.password.data, address)
            if user is not None:
                session.clear()
                login_user(user, remember=False)
                session.permanent = True
                return redirect(_safe_next(request.args.get("next")) or url_for("core.index"))
            error = _("Wrong username or password.")
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("accounts/login.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout() -> Any:
    form = LogoutForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()
    return redirect(url_for("accounts.login"))


@bp.app_context_processor
def logout_form() -> dict[str, Any]:
    # formdata=None: rendering must not parse the request body (it may be the 413 page).
    form = LogoutForm(formdata=None) if current_user.is_authenticated else None
    return {"logout_form": form}
