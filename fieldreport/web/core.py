"""Pages that belong to no domain: the front door and the health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, url_for
from flask_login import current_user
from sqlalchemy import text

from fieldreport.accounts.roles import ADMIN, COMMISSION, COORDINATOR, OBSERVER
from fieldreport.web.context import runtime

bp = Blueprint("core", __name__)

HOME_BY_ROLE = {
    OBSERVER: "reports.home",
    COORDINATOR: "reports.index",
    COMMISSION: "digests.latest",
    ADMIN: "reports.index",
}


@bp.get("/")
def index() -> Any:
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    return redirect(url_for(HOME_BY_ROLE.get(current_user.role, "reports.index")))


@bp.get("/healthz")
def healthz() -> Any:
    """Liveness for load balancers: 503 when the database cannot answer."""
    rt = runtime()
    try:
        with rt.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database = "ok"
    except Exception:
        database = "down"
    body = {
        "status": "ok" if database == "ok" else "error",
        "database": database,
        "queue": rt.queue.health(),
    }
    return jsonify(body), 200 if database == "ok" else 503
