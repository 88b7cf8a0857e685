"""Role checks for views: every view says who may open it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app
from flask_login import current_user, login_required

from fieldreport.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])


def roles_required(*roles: str) -> Callable[[F], F]:
    """Log-in required, and one of ``roles``; others get 403 (404 where existence leaks)."""

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def runtime() -> Runtime:
    return current_app.extensions["fieldreport.runtime"]


def client_address() -> str | None:
    from flask import request

    return request.remote_addr


def visible_report_or_404(*, report_id: int | None = None, client_id: str | None = None) -> Any:
    """The report if the current user may see it; 404 otherwise (never 403: no existence leak)."""
    from fieldreport.reports.service import report_by_id_for, report_for
    from fieldreport.web.transaction import request_session

    db = request_session()
    if report_id is not None:
        report = report_by_id_for(db, current_user, report_id)
    else:
        report = report_for(db, current_user, client_id or "")
    if report is None:
        abort(404)
    return report
