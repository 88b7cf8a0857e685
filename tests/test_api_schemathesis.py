"""The OpenAPI document tells the truth: schemathesis generates requests from it and sends them
as each role (session cookie + X-CSRFToken); every answer must be no server error, a documented
status, of the documented content type, and valid against its schema.

Examples are few and derandomized (same requests each run); the module prints how many it sent.
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

from fieldreport.accounts.service import create_user
from fieldreport.api.openapi import document
from fieldreport.runtime import build_runtime
from fieldreport.sectors import service as sectors
from fieldreport.sectors.limits import set_coordinator_sectors
from fieldreport.web.app import build_app
from tests.conftest import PASSWORD, api_token, login, make_settings
from tests.sector_factories import EAST, WEST, collection, file_report

ROLES = ("obs1", "coord", "limited", "comm", "admin")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SENT: Counter[str] = Counter()


@pytest.fixture(scope="module")
def api_world(tmp_path_factory, sqlite_template) -> Iterator[dict]:
    """One app for the module (SQLite): every role logged in, two sectors, one report."""
    tmp = tmp_path_factory.mktemp("schemathesis")
    shutil.copy(sqlite_template, tmp / "db.sqlite")
    runtime = build_runtime(make_settings(Path(tmp), f"sqlite:///{tmp / 'db.sqlite'}"))
    app = build_app(runtime.settings, runtime)
    with runtime.db.session_scope() as session:
        observer = create_user(session, "obs1", role="observer", password=PASSWORD, team_code="T")
        for name, role in (("coord", "coordinator"), ("limited", "coordinator")):
            create_user(session, name, role=role, password=PASSWORD)
        create_user(session, "comm", role="commission", password=PASSWORD)
        create_user(session, "admin", role="admin", password=PASSWORD)
        sectors.import_sector_collection(session, collection(WEST, EAST))
        file_report(session, observer, 43.47, 11.80)
    with runtime.db.session_scope() as session:
        limited = session.scalar(_user("limited"))
        set_coordinator_sectors(session, limited.id, [_sector_id(session, "W")], None)
    clients = {}
    for username in ROLES:
        client = app.test_client()
        assert login(client, username).status_code == 302
        clients[username] = (client, api_token(client))
    yield {"app": app, "clients": clients}
    print(f"\nschemathesis: {sum(SENT.values())} requests, by role {dict(SENT)}")
    runtime.queue.shutdown()
    runtime.db.dispose()


def _user(username):
    from sqlalchemy import select

    from fieldreport.accounts.models import User

    return select(User).where(User.username == username)


def _sector_id(session, code):
    from sqlalchemy import select

    from fieldreport.sectors.models import Sector

    return session.scalar(select(Sector.id).where(Sector.code == code))


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
    client, token = api_world["clients"][role]
    SENT[role] += 1
    case.call_and_validate(
        app=api_world["app"],
        session=client,
        headers={"X-CSRFToken": token, "Accept-Encoding": "identity"},
        checks=CHECKS,
    )


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
    role = "coord" if case.operation.path in COORDINATOR_BODIES else "obs1"
    client, token = api_world["clients"][role]
    SENT[f"{role} (coverage)"] += 1
    case.call_and_validate(
        app=api_world["app"],
        session=client,
        headers={"X-CSRFToken": token, "Accept-Encoding": "identity"},
        checks=CHECKS,
    )
