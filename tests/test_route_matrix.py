"""Who may do what, route by route: every rule of ``app.url_map`` (HTML and API, GET and POST)
for anonymous visitors, each role and a coordinator limited to one sector, with the exact
status each must get. A route without a row fails the test, saying which row to add.

The requests carry a valid CSRF token (so the table is about access, not CSRF) and no form
fields: an allowed actor meets the view's own refusal of an empty form (400/422), or its page.
The report, photo, sector and assignment in the paths belong to sector E and observer obs2,
so obs1 and the coordinator limited to sector W must not reach them (404, never 403).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from fieldreport.accounts.service import create_user
from fieldreport.db import utcnow
from fieldreport.digests import tasks
from fieldreport.sectors import assignments
from fieldreport.sectors import service as sectors
from fieldreport.sectors.limits import set_coordinator_sectors
from fieldreport.sectors.models import Sector
from tests.helpers import (
    EAST,
    PASSWORD,
    WEST,
    add_alert,
    add_photo_row,
    api_token,
    collection,
    file_report,
    login,
)

PARAMETER = re.compile(r"<[^>]*?(\w+)>")  # <int:report_id>, <any(display, thumb):kind>
ACTORS = ("anonymous", "obs1", "coord", "limited", "comm", "admin")

# (method, rule): the status for each of ACTORS, in that order:
#   (anonymous, obs1, coord, limited (to W), comm, admin)
EXPECTED: dict[tuple[str, str], tuple[int, ...]] = {
    ("GET", "/"): (302, 302, 302, 302, 302, 302),
    ("GET", "/account/password"): (302, 200, 200, 200, 200, 200),
    ("POST", "/account/password"): (302, 400, 400, 400, 400, 400),
    ("GET", "/account/language"): (302, 200, 200, 200, 200, 200),
    ("POST", "/account/language"): (302, 400, 400, 400, 400, 400),
    ("GET", "/account/two-factor"): (302, 200, 200, 200, 200, 200),
    ("POST", "/account/two-factor"): (302, 400, 400, 400, 400, 400),
    ("GET", "/admin/audit"): (302, 403, 403, 403, 403, 200),
    ("GET", "/admin/audit.csv"): (302, 403, 403, 403, 403, 200),
    ("GET", "/admin/users"): (302, 403, 403, 403, 403, 200),
    ("GET", "/admin/places"): (302, 403, 403, 403, 403, 200),
    ("POST", "/admin/places"): (302, 403, 403, 403, 403, 400),
    ("POST", "/admin/places/area"): (302, 403, 403, 403, 403, 400),
    ("GET", "/admin/users/new"): (302, 403, 403, 403, 403, 200),
    ("POST", "/admin/users/new"): (302, 403, 403, 403, 403, 400),
    ("GET", "/admin/users/<int:user_id>"): (302, 403, 403, 403, 403, 200),
    ("POST", "/admin/users/<int:user_id>/active"): (302, 403, 403, 403, 403, 302),
    ("POST", "/admin/users/<int:user_id>/language"): (302, 403, 403, 403, 403, 302),
    # 200: the one-time code is shown on the answer itself, never put in a cookie.
    ("POST", "/admin/users/<int:user_id>/password-reset"): (302, 403, 403, 403, 403, 200),
    ("POST", "/admin/users/<int:user_id>/sessions/revoke"): (302, 403, 403, 403, 403, 302),
    ("POST", "/admin/users/<int:user_id>/two-factor/reset"): (302, 403, 403, 403, 403, 302),
    ("GET", "/api/v1/csrf"): (200, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/digests/<day>"): (401, 403, 200, 403, 200, 200),
    ("GET", "/api/v1/openapi.json"): (200, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/reports"): (401, 200, 200, 200, 200, 200),
    ("POST", "/api/v1/reports"): (401, 422, 403, 403, 403, 403),
    ("GET", "/api/v1/reports/<client_id>"): (401, 404, 200, 404, 404, 200),
    # 400 with no from/to: every role may export what it may see.
    ("GET", "/api/v1/reports/export.csv"): (401, 400, 400, 400, 400, 400),
    ("GET", "/api/v1/reports/export.geojson"): (401, 400, 400, 400, 400, 400),
    ("POST", "/api/v1/reports/<client_id>/photos"): (401, 404, 403, 403, 403, 403),
    ("POST", "/api/v1/reports/<client_id>/review"): (401, 403, 422, 404, 403, 422),
    ("GET", "/api/v1/sectors"): (401, 200, 200, 200, 200, 200),
    ("POST", "/api/v1/sectors"): (401, 403, 422, 403, 403, 422),
    ("GET", "/alerts"): (302, 403, 200, 200, 403, 200),
    # The alert is in E, which no coordinator is limited to: the unlimited coordinator's; the
    # admins' only once escalated.
    ("POST", "/alerts/<int:alert_id>/acknowledge"): (302, 403, 302, 404, 403, 404),
    ("POST", "/alerts/address"): (302, 403, 302, 302, 403, 302),
    ("GET", "/alerts/open.json"): (302, 403, 200, 200, 403, 200),
    ("GET", "/assignments"): (302, 403, 200, 200, 403, 200),
    ("POST", "/assignments"): (302, 403, 422, 422, 403, 422),
    ("POST", "/assignments/<int:assignment_id>/delete"): (302, 403, 302, 404, 403, 302),
    ("GET", "/coverage"): (302, 403, 200, 200, 403, 200),
    ("GET", "/digests"): (302, 403, 200, 200, 200, 200),
    ("GET", "/digests/latest"): (302, 403, 302, 302, 302, 302),
    ("GET", "/digests/<day>"): (302, 403, 200, 403, 200, 200),
    ("GET", "/digests/<day>/digest.html"): (302, 403, 200, 403, 200, 200),
    ("GET", "/digests/<day>/digest.pdf"): (302, 403, 200, 403, 200, 200),
    ("GET", "/digests/<day>/map.png"): (302, 403, 200, 403, 200, 200),
    ("POST", "/digests/<day>/rebuild"): (302, 403, 302, 302, 403, 302),
    ("GET", "/digests/<day>/reports.csv"): (302, 403, 200, 200, 200, 200),
    ("GET", "/digests/<day>/reports.geojson"): (302, 403, 200, 200, 200, 200),
    ("POST", "/digests/<day>/resend"): (302, 403, 403, 403, 403, 302),
    ("GET", "/healthz"): (200, 200, 200, 200, 200, 200),
    ("GET", "/home"): (302, 200, 403, 403, 403, 403),
    ("GET", "/login"): (200, 200, 200, 200, 200, 200),
    ("POST", "/login"): (400, 400, 400, 400, 400, 400),
    # The second step exists only between a correct password and the code: otherwise, log in.
    ("GET", "/login/code"): (302, 302, 302, 302, 302, 302),
    ("POST", "/login/code"): (302, 302, 302, 302, 302, 302),
    ("GET", "/two-factor/enrol"): (302, 302, 302, 302, 302, 302),
    ("POST", "/two-factor/enrol"): (302, 302, 302, 302, 302, 302),
    # A scraper shows FIELDREPORT_METRICS_TOKEN (401 without it); of the users, admins only.
    ("GET", "/metrics"): (401, 403, 403, 403, 403, 200),
    ("GET", "/map"): (302, 403, 200, 200, 403, 200),
    ("GET", "/map/data.json"): (302, 403, 200, 200, 403, 200),
    ("GET", "/map/sectors.json"): (302, 403, 200, 200, 403, 200),
    ("GET", "/map/places.json"): (302, 403, 200, 200, 403, 200),
    ("GET", "/map/reports/<int:report_id>.json"): (302, 403, 200, 404, 403, 200),
    # 404 until an admin loads the offline extract.
    ("GET", "/map/area.pmtiles"): (302, 403, 404, 404, 403, 404),
    ("GET", "/outbox"): (302, 200, 403, 403, 403, 403),
    ("GET", "/outbox/session.json"): (302, 200, 403, 403, 403, 403),
    ("GET", "/photos/<int:photo_id>/<any(display, thumb):kind>"): (302, 404, 404, 404, 404, 404),
    ("GET", "/photos/<int:photo_id>/original"): (302, 404, 200, 404, 403, 200),
    ("GET", "/reports"): (302, 200, 200, 200, 200, 200),
    ("GET", "/reports/<int:report_id>"): (302, 404, 200, 404, 404, 200),
    ("POST", "/reports/<int:report_id>/answer"): (302, 404, 403, 403, 403, 403),
    ("GET", "/reports/new"): (302, 200, 403, 403, 403, 403),
    ("POST", "/reports/new"): (302, 422, 403, 403, 403, 403),
    ("GET", "/review"): (302, 403, 200, 200, 403, 200),
    ("GET", "/review/<int:report_id>"): (302, 403, 200, 404, 403, 200),
    ("POST", "/review/<int:report_id>"): (302, 403, 400, 404, 403, 400),
    # Only admins reopen a decision; an empty reason is refused with a message (a redirect).
    ("POST", "/review/<int:report_id>/reopen"): (302, 403, 403, 403, 403, 302),
    ("GET", "/review/reviewed"): (302, 403, 200, 200, 403, 200),
    ("GET", "/roster"): (302, 403, 200, 200, 403, 200),
    ("GET", "/sectors"): (302, 403, 200, 200, 403, 200),
    ("GET", "/sectors/<int:sector_id>/edit"): (302, 403, 200, 404, 403, 200),
    ("POST", "/sectors/<int:sector_id>/edit"): (302, 403, 302, 404, 403, 302),
    ("GET", "/sectors/export.geojson"): (302, 403, 200, 200, 403, 200),
    ("POST", "/sectors/import"): (302, 403, 422, 403, 403, 422),
    ("POST", "/sectors/limits"): (302, 403, 403, 403, 403, 400),
    ("GET", "/sectors/new"): (302, 403, 200, 403, 403, 200),
    ("POST", "/sectors/new"): (302, 403, 422, 403, 403, 422),
    ("GET", "/static/<path:filename>"): (200, 200, 200, 200, 200, 200),
    ("GET", "/sw.js"): (200, 200, 200, 200, 200, 200),
    ("POST", "/logout"): (302, 302, 302, 302, 302, 302),
    # Issue 11: the evidence log. The public key is public; packages are for coordinators.
    ("GET", "/api/v1/ledger/keys"): (200, 200, 200, 200, 200, 200),
    ("POST", "/api/v1/devices"): (401, 422, 403, 403, 403, 403),
    ("GET", "/api/v1/reports/<client_id>/evidence"): (401, 403, 200, 404, 403, 200),
    ("GET", "/evidence/<day>.zip"): (302, 403, 200, 200, 403, 200),
    ("GET", "/ledger/public-key.pem"): (200, 200, 200, 200, 200, 200),
    ("GET", "/reports/<client_id>/evidence.zip"): (302, 403, 200, 404, 403, 200),
}


@pytest.fixture
def world(runtime, users) -> dict[str, Any]:
    """Sectors W and E; obs2's report in E with a photo; obs2 assigned to E; a built digest;
    ``limited``: a coordinator limited to W."""
    with runtime.db.session_scope() as session:
        sectors.import_sector_collection(session, collection(WEST, EAST))
        east = session.scalar(select(Sector).where(Sector.code == "E"))
        west_id = session.scalar(select(Sector.id).where(Sector.code == "W"))
        report = file_report(session, users.observer2, 43.47, 11.94)
        limited = create_user(session, "limited", role="coordinator", password=PASSWORD)
        session.flush()
        set_coordinator_sectors(session, limited.id, [west_id], None)
        today = utcnow().astimezone(runtime.settings.zone).date()
        assignment = assignments.create_assignment(
            session,
            observer_id=users.observer2.id,
            sector_id=east.id,
            starts_on=today,
            ends_on=today,
            assigned_by=None,
        )
        values = {
            "report_id": report.id,
            "client_id": report.client_id,
            "sector_id": east.id,
            "assignment_id": assignment.id,
            "user_id": users.observer2.id,
            "day": report.occurred_at.astimezone(runtime.settings.zone).date().isoformat(),
            "alert_id": add_alert(session, report).id,
        }
    values["photo_id"] = add_photo_row(runtime, values["report_id"], b"not decoded here")
    tasks.request_build(runtime.queue, date.fromisoformat(values["day"]))
    runtime.queue.drain()
    return values


def concrete_path(rule: Any, values: dict[str, Any]) -> str:
    """The rule with its parameters filled from the world (``kind``: the thumbnail)."""
    fill = {**values, "kind": "thumb", "filename": "css/app.css"}
    missing = set(rule.arguments) - set(fill)
    assert not missing, f"{rule.rule}: no value for {sorted(missing)}; add it to concrete_path"
    return PARAMETER.sub(lambda match: str(fill[match.group(1)]), rule.rule)


def client_of(app, actor: str):
    client = app.test_client()
    if actor != "anonymous":
        assert login(client, actor).status_code == 302
    return client, api_token(client)


def routes(app) -> list[tuple[str, Any]]:
    """(method, rule) for every GET and POST of the url map; log-out last (it ends the session)."""
    found = [
        (method, rule)
        for rule in app.url_map.iter_rules()
        for method in sorted((rule.methods or set()) & {"GET", "POST"})
    ]
    return sorted(found, key=lambda item: (item[1].rule == "/logout", item[1].rule, item[0]))


def observe(app, world, actor: str) -> dict[tuple[str, str], int]:
    client, token = client_of(app, actor)
    seen = {}
    for method, rule in routes(app):
        path = concrete_path(rule, world)
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data={"csrf_token": token}, headers={"X-CSRFToken": token})
        response.close()
        seen[(method, rule.rule)] = response.status_code
    return seen


@pytest.mark.parametrize("actor", ACTORS)
def test_every_route_answers_each_actor_as_the_table_says(app, world, actor):
    column = ACTORS.index(actor)
    seen = observe(app, world, actor)
    unknown = sorted(set(seen) - set(EXPECTED))
    assert not unknown, "\n".join(
        f"No row for {key!r} in EXPECTED (tests/test_route_matrix.py): add "
        f"{key!r}: (anonymous, obs1, coord, limited, comm, admin) with the status each must "
        f"get ({actor} got {seen[key]})"
        for key in unknown
    )
    stale = sorted(set(EXPECTED) - set(seen))
    assert not stale, f"rows for routes that no longer exist: {stale}"
    wrong = {
        key: (EXPECTED[key][column], status)
        for key, status in seen.items()
        if EXPECTED[key][column] != status
    }
    assert not wrong, f"{actor}: (expected, got) by route: {wrong}"


def test_table_has_a_status_for_each_actor():
    assert all(len(statuses) == len(ACTORS) for statuses in EXPECTED.values())
