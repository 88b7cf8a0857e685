"""Lookups every view shares: one way to find a thing the caller may see, or answer 404."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort
from flask_login import current_user

from fieldreport.reports.service import report_by_id_for, report_for
from fieldreport.web.transaction import request_session


def visible_report_or_404(*, report_id: int | None = None, client_id: str | None = None) -> Any:
    """The report if the current user may see it; 404 otherwise (never 403: no existence leak)."""
    db = request_session()
    if report_id is not None:
        report = report_by_id_for(db, current_user, report_id)
    else:
        report = report_for(db, current_user, client_id or "")
    if report is None:
        abort(404)
    return report


def day_or_404(text: str) -> date:
    """A ``YYYY-MM-DD`` path segment as a date; anything else is a page that does not exist."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        abort(404)
