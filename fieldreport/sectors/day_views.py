"""The pages of one day: coverage (who covered which sector); the map is `map_views`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, render_template

from fieldreport.accounts.roles import COORDINATION
from fieldreport.sectors.coverage import coverage as day_coverage
from fieldreport.sectors.view_helpers import day_arg, viewer_limits
from fieldreport.web.auth import roles_required
from fieldreport.web.context import runtime
from fieldreport.web.transaction import request_session

bp = Blueprint("day", __name__)


@bp.get("/coverage")
@roles_required(*COORDINATION)
def coverage() -> Any:
    day = day_arg()
    report = day_coverage(request_session(), day, runtime().settings.zone, viewer_limits())
    return render_template(
        "sectors/coverage.html",
        coverage=report,
        previous=day - timedelta(days=1),
        next=day + timedelta(days=1),
    )
