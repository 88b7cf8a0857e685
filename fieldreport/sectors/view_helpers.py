"""What the sectors domain's pages share: the viewer's sector limits and the day asked for."""

from __future__ import annotations

from datetime import date

from flask import abort, request
from flask_login import current_user

from fieldreport.sectors.days import today_in
from fieldreport.sectors.errors import SectorAuthorityError
from fieldreport.sectors.limits import visible_sector_ids
from fieldreport.web.context import runtime
from fieldreport.web.transaction import request_session


def viewer_limits() -> set[int] | None:
    """The sectors the logged-in coordinator is limited to (None: all)."""
    return visible_sector_ids(request_session(), current_user)


def require_unlimited() -> None:
    """403 for a limited coordinator: only who sees every sector changes the set as a whole."""
    if viewer_limits() is not None:
        abort(403, description=SectorAuthorityError.MESSAGE)


def mission_today() -> date:
    return today_in(runtime().settings.zone)


def day_arg(name: str = "day") -> date:
    """The day in the query string (``?day=2026-11-24``), today in the mission's zone if none."""
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return mission_today()
