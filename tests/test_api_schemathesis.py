"""The OpenAPI document tells the truth: schemathesis generates requests from it and sends them
as each role (session cookie + X-CSRFToken); every answer must be no server error, a documented
status, of the documented content type, and valid against its schema.

Examples are few and derandomized (same requests each run); the module prints how many it sent
(run with -s), with the statuses each role got.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from fieldreport.accounts.service import create_user
from fieldreport.api.openapi import document
from fieldreport.digests import tasks
from fieldreport.runtime import build_runtime
from fieldreport.sectors import service as sectors
from fieldreport.sectors.limits import set_coordinator_sectors
from fieldreport.sectors.models import Sector
from fieldreport.web.app import build_app
from tests.helpers import (
    EAST,
    PASSWORD,
    WEST,
    api_token,
    collection,
    file_report,
    login,
    make_settings,
    report_body,
)

ROLE_OF = {
    "obs1": "observer",
    "coord": "coordinator",
    "limited": "coordinator",
    "comm": "commission",
    "admin": "admin",
}
ROLES = tuple(ROLE_OF)
SESSION_COOKIE = "fieldreport_session"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SENT: Counter[str] = Counter()
STATUS: Counter[tuple[str, int]] = Counter()


@pytest.fixture(scope="module")
def api_world(tmp_path_factory, sqlite_template) -> Iterator[dict]:
    """One app for the module (SQLite): every role logged in (``limited``: a coordinator limited
    to sector W), sectors W and E, one report of obs1."""
    tmp = tmp_path_factory.mktemp("schemathesis")
    shutil.copy(sqlite_template, tmp / "db.sqlite")
    runtime = build_runtime(make_settings(Path(tmp), f"sqlite:///{tmp / 'db.sqlite'}"))
    app = build_app(runtime.settings, runtime)
    with runtime.db.session_scope() as session:
        users = {
            name: create_user(session, name, role=role, password=PASSWORD, team_code="T-01")
            for name, role in ROLE_OF.items()
        }
        sectors.import_sector_collection(session, collection(WEST, EAST))
        report = file_report(session, users["obs1"], 43.47, 11.80)
        west = session.scalar(select(Sector.id).where(Sector.code == "W"))
        set_coordinator_sectors(session, users["limited"].id, [west], None)
        day = report.occurred_at.astimezone(runtime.settings.zone).date()
    tasks.request_build(runtime.queue, day)
    runtime.queue.drain()
    sessions = {}
    for username in ROLES:
        client = app.test_client()
        assert login(client, username).status_code == 302
        token = api_token(client)
        sessions[username] = (client.get_cookie(SESSION_COOKIE).value, token)
    yield {"app": app, "sessions": sessions, "day": day, "runtime": runtime}
    print(f"\nschemathesis: {sum(SENT.values())} requests, by role {dict(SENT)}")
    print(f"statuses by role: {sorted(STATUS.items())}")
    runtime.queue.shutdown()
    runtime.db.dispose()


def _send(case, role: str, world: dict) -> int:
    """Send ``case`` as ``role``, hold the answer to the document; its status."""
    cookie, token = world["sessions"][role]
    SENT[role] += 1
    # The session goes as a cookie of each call: schemathesis fills the documented cookie scheme
    # with a value of its own, which ours replaces (a shared client would lose its session).
    response = case.call_and_validate(
        app=world["app"],
        cookies={SESSION_COOKIE: cookie},
        headers={"X-CSRFToken": token, "Accept-Encoding": "identity"},  # the client won't gunzip
        checks=CHECKS,
    )
    STATUS[(role, response.status_code)] += 1
    assert response.status_code != 401, f"{role}'s session was not sent: the run is not as {role}"
    return response.status_code


# The document the server serves (test_served_document_is_the_one_tested checks they match).
CONFIG = schemathesis.Config.from_dict(
    {"seed": 20261202, "phases": {"coverage": {"enabled": False}}}
)
schema = schemathesis.openapi.from_dict(document(), config=CONFIG)


def test_served_document_is_the_one_tested(api_world):
    served = api_world["app"].test_client().get("/api/v1/openapi.json")
    assert served.status_code == 200 and served.get_json() == document()


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_documented(case, role, api_world):
    _send(case, role, api_world)


# The coverage phase sends the edge values and negative cases of the bodies (missing fields, wrong
# types, odd multipart parts) once each, as the role whose request reaches the view's body.
COVERAGE = schemathesis.Config.from_dict(
    {
        "seed": 20261202,
        "phases": {"examples": {"enabled": False}, "fuzzing": {"enabled": False}},
    }
)
coverage_schema = schemathesis.openapi.from_dict(document(), config=COVERAGE)
COORDINATOR_BODIES = ("/sectors", "/reports/{client_id}/review")


@coverage_schema.include(method="POST").parametrize()
@settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_api_edge_cases_answer_as_documented(case, api_world):
    _send(case, "coord" if case.operation.path in COORDINATOR_BODIES else "obs1", api_world)


def test_successful_answers_match_their_schemas(api_world, corpus):
    """Generated requests are mostly refused; these succeed, so every 200/201 body is checked."""
    body = report_body()
    client_id = {"client_id": body["client_id"]}
    photo = (corpus / "accept" / "gps_DSCN0010.jpg").read_bytes()
    cases = [
        ("obs1", "/reports", "POST", {"body": body}),
        ("obs1", "/reports", "POST", {"body": body}),  # the repeat: 200
        (
            "obs1",
            "/reports/{client_id}/photos",
            "POST",
            {"path_parameters": client_id, "body": {"photo": photo}},
        ),
        ("obs1", "/reports/{client_id}", "GET", {"path_parameters": client_id}),
        (
            "coord",
            "/reports/{client_id}/review",
            "POST",
            {"path_parameters": client_id, "body": {"status": "verified"}},
        ),
        ("comm", "/reports", "GET", {}),
        (
            "coord",
            "/sectors",
            "POST",
            {"body": collection(WEST), "media_type": "application/geo+json"},
        ),
        ("limited", "/sectors", "GET", {}),
        (
            "comm",
            "/digests/{day}",
            "GET",
            {"path_parameters": {"day": api_world["day"].isoformat()}},
        ),
    ]
    statuses = [
        _send(schema[path][method].Case(**parts), role, api_world)
        for role, path, method, parts in cases
    ]
    assert statuses == [201, 200, 201, 200, 200, 200, 201, 200, 200]
