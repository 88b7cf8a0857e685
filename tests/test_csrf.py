"""Every state-changing route refuses a request without a CSRF token, whoever is logged in.

The routes are read from the app's URL map, so a route added later is covered without editing
this file, and an exempted one (``@csrf.exempt``) fails here.
"""

from __future__ import annotations

import re
from datetime import date
from io import BytesIO
from typing import Any

import pytest
from sqlalchemy import func, select

from fieldreport.db import Base
from fieldreport.sectors import assignments
from fieldreport.sectors import service as sectors
from fieldreport.sectors.models import Sector
from tests.helpers import CSRF_REFUSED, WEST, add_alert, collection, file_report, report_body

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Routes this file must find in the URL map; if one goes missing the enumeration is broken.
KNOWN = {
    "accounts.login",
    "accounts.logout",
    "accounts.own_password",
    "accounts.own_language",
    "admin.new_user",
    "admin.language",
    "admin.active",
    "admin.password_reset",
    "admin.revoke_sessions",
    "api_reports.create_report",
    "api_reports.add_photo",
    "api_ledger.register_device",
    "api_review.review_report",
    "api_sectors.import_sectors",
    "reports.create",
    "review.decide",
    "review.answer",
    "sectors.import_file",
    "sectors.new",
    "sectors.edit",
    "sectors.set_limits",
    "assignments.index",
    "assignments.delete",
    "digests.rebuild",
    "digests.resend",
    "alerts.acknowledge",
    "alerts.address",
    "review.reopen",
    "places.load",
    "places.load_area",
}


@pytest.fixture
def stored(runtime, users) -> dict[str, Any]:
    """A sector, a report of obs1 in it and an assignment: real ids for every URL argument."""
    with runtime.db.session_scope() as session:
        sectors.import_sector_collection(session, collection(WEST))
        report = file_report(session, users.observer, 43.47, 11.85)
        west = session.scalar(select(Sector).where(Sector.code == "W"))
        assignment = assignments.create_assignment(
            session,
            observer_id=users.observer.id,
            sector_id=west.id,
            starts_on=date(2026, 11, 24),
            ends_on=date(2026, 11, 24),
            assigned_by=None,
        )
        return {
            "report_id": report.id,
            "client_id": report.client_id,
            "sector_id": west.id,
            "assignment_id": assignment.id,
            "user_id": users.observer2.id,
            "day": "2026-11-24",
            "alert_id": add_alert(session, report).id,
        }


def _state_changing_routes(app: Any, stored: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(endpoint, method, URL with real arguments) of every state-changing route."""
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & STATE_CHANGING):
            url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(stored[m.group(1)]), rule.rule)
            routes.append((rule.endpoint, method, url))
    return sorted(routes)


def _row_counts(runtime: Any) -> dict[str, int]:
    with runtime.db.session_scope(write=False) as session:
        return {
            name: session.scalar(select(func.count()).select_from(table))
            for name, table in Base.metadata.tables.items()
        }


def _without_token(client: Any, method: str, url: str, corpus: Any) -> Any:
    """The request a forged page would send: a plausible body, and no token anywhere."""
    if url.endswith("/photos"):
        photo = (corpus / "accept" / "Canon_40D.jpg").read_bytes()
        return client.open(
            url,
            method=method,
            data={"photo": (BytesIO(photo), "photo.jpg")},
            content_type="multipart/form-data",
        )
    if url.startswith("/api/"):
        return client.open(url, method=method, json=report_body())
    return client.open(url, method=method, data={"narrative": "forged", "status": "verified"})


def test_the_url_map_lists_every_known_state_changing_route(app, stored):
    endpoints = {endpoint for endpoint, _method, _url in _state_changing_routes(app, stored)}
    assert endpoints >= KNOWN, KNOWN - endpoints


@pytest.mark.parametrize("username", ["obs1", "coord", "admin"])
def test_every_state_changing_route_refuses_a_request_without_a_token(
    client_for, app, runtime, stored, corpus, username
):
    client = client_for(username)
    before = _row_counts(runtime)
    for endpoint, method, url in _state_changing_routes(app, stored):
        response = _without_token(client, method, url, corpus)
        assert response.status_code == 400, (endpoint, url, response.status_code)
        assert CSRF_REFUSED in response.get_data(as_text=True), (endpoint, url)
    runtime.queue.drain()
    assert _row_counts(runtime) == before
    # Still logged in: the refused log-out did not log the user out either.
    assert client.get("/reports").status_code == 200


@pytest.mark.parametrize("username", ["obs1", "coord", "admin"])
def test_a_token_from_another_session_is_refused_too(client_for, app, runtime, stored, username):
    client = client_for(username)
    foreign = app.test_client().get("/api/v1/csrf").get_json()["csrf_token"]
    before = _row_counts(runtime)
    for endpoint, method, url in _state_changing_routes(app, stored):
        response = client.open(
            url, method=method, data={"csrf_token": foreign}, headers={"X-CSRFToken": foreign}
        )
        assert response.status_code == 400, (endpoint, url, response.status_code)
        assert CSRF_REFUSED in response.get_data(as_text=True), (endpoint, url)
    assert _row_counts(runtime) == before
