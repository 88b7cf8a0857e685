"""The evidence log at the web edge: the mission's public key, and evidence packages to download.

The public key is public on purpose (anyone checking a digest needs it). Packages are for
coordinators: a report's package for a report they may see (404 otherwise), a day's package of
the reports of that day they may see.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response
from flask_login import current_user

from fieldreport.accounts.roles import COORDINATION
from fieldreport.ledger import keys, package
from fieldreport.reports.service import visible_reports
from fieldreport.web.auth import roles_required
from fieldreport.web.context import runtime
from fieldreport.web.lookups import day_or_404, visible_report_or_404
from fieldreport.web.transaction import request_session

bp = Blueprint("ledger", __name__)


@bp.get("/ledger/public-key.pem")
def public_key() -> Any:
    """The current mission key (every earlier one: ``/api/v1/ledger/keys``)."""
    key = keys.signing_key(runtime().settings.data_dir).public_key()
    return Response(keys.public_pem(key), content_type="application/x-pem-file")


def zip_response(name: str, data: bytes) -> Response:
    response = Response(data, content_type="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/reports/<client_id>/evidence.zip")
@roles_required(*COORDINATION)
def report_package(client_id: str) -> Any:
    report = visible_report_or_404(client_id=client_id)
    settings = runtime().settings
    name, data = package.for_report(request_session(), runtime().storage, settings.data_dir, report)
    return zip_response(name, data)


@bp.get("/evidence/<day>.zip")
@roles_required(*COORDINATION)
def day_package(day: str) -> Any:
    settings, session = runtime().settings, request_session()
    visible = visible_reports(session, current_user)
    name, data = package.for_day(
        session, runtime().storage, settings.data_dir, day_or_404(day), settings.zone, visible
    )
    return zip_response(name, data)
