"""The JSON API for reports: validation, idempotency, conflicts, who sees what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from fieldreport.accounts.models import AuditLog
from fieldreport.reports.models import Report, ReportVersion
from tests.helpers import (
    ON_POSTGRESQL_ONLY,
    api_token,
    count,
    held_at_statement,
    login,
    post_report,
    report_body,
    run_together,
)


def test_valid_report_is_stored_with_its_ledger_entry(client_for, runtime):
    client = client_for("obs1")
    response = post_report(client, report_body())
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "submitted"
    assert body["team_code"] == "T-01"
    with runtime.db.session_scope(write=False) as session:
        version = session.scalar(select(ReportVersion))
        assert version.content_sha256 == body["content_sha256"]
        assert version.prev_sha256 is None


def test_ledger_entries_chain_to_the_one_before(client_for, runtime):
    client = client_for("obs1")
    assert post_report(client, report_body()).status_code == 201
    assert post_report(client, report_body()).status_code == 201
    with runtime.db.session_scope(write=False) as session:
        first, second = session.scalars(select(ReportVersion).order_by(ReportVersion.id))
        assert second.prev_sha256 == first.entry_sha256


def test_same_client_id_twice_stores_one_report(client_for, runtime):
    client = client_for("obs1")
    body = report_body()
    first = post_report(client, body)
    again = post_report(client, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert count(runtime, Report) == 1


def test_same_client_id_with_a_different_body_is_a_conflict_and_kept_in_the_log(
    client_for, runtime
):
    client = client_for("obs1")
    body = report_body()
    assert post_report(client, body).status_code == 201
    response = post_report(client, {**body, "narrative": "Something else"})
    assert response.status_code == 409
    with runtime.db.session_scope(write=False) as session:
        stored = session.scalar(select(Report))
        assert stored.narrative == body["narrative"]
        logged = session.scalar(select(AuditLog).where(AuditLog.action == "report.conflict"))
        assert logged.detail["content"]["narrative"] == "Something else"


def test_another_observers_client_id_is_a_conflict_not_a_leak(client_for, runtime):
    body = report_body()
    assert post_report(client_for("obs1"), body).status_code == 201
    response = post_report(client_for("obs2"), body)
    assert response.status_code == 409
    assert "narrative" not in response.get_json()


@ON_POSTGRESQL_ONLY
def test_identical_requests_racing_past_the_existence_check_make_one_report(app, users, runtime):
    body = report_body()
    clients = []
    for _ in range(4):
        client = app.test_client()
        assert login(client, "obs1").status_code == 302
        clients.append((client, api_token(client)))

    def send(client: Any, token: str) -> Any:
        return lambda: client.post("/api/v1/reports", json=body, headers={"X-CSRFToken": token})

    # Each request is held at its INSERT until all four are there: none of them had seen
    # another's row, so three of them must lose on the unique client_id and answer the winner.
    with held_at_statement(runtime.db.engine, "INSERT INTO reports (", len(clients)) as held:
        responses = run_together(*(send(client, token) for client, token in clients))
    assert len(held) == 4
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    assert len({r.get_json()["id"] for r in responses}) == 1
    assert count(runtime, Report) == 1
    assert count(runtime, ReportVersion) == 1


@ON_POSTGRESQL_ONLY
def test_another_observer_losing_the_race_for_a_client_id_gets_a_conflict(app, users, runtime):
    """The loser of the race is answered as a repeat would be: only its owner gets the report."""
    body = report_body()
    clients = []
    for username in ("obs1", "obs2"):
        client = app.test_client()
        assert login(client, username).status_code == 302
        clients.append((client, api_token(client)))

    def send(client: Any, token: str) -> Any:
        return lambda: client.post("/api/v1/reports", json=body, headers={"X-CSRFToken": token})

    with held_at_statement(runtime.db.engine, "INSERT INTO reports (", 2) as held:
        responses = run_together(*(send(client, token) for client, token in clients))
    assert len(held) == 2
    assert sorted(r.status_code for r in responses) == [201, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert "narrative" not in loser.get_json()
    assert count(runtime, Report) == 1


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"latitude": 90.5}, "latitude"),
        ({"latitude": -91}, "latitude"),
        ({"longitude": 180.01}, "longitude"),
        ({"longitude": "east"}, "longitude"),
        ({"accuracy_m": -1}, "accuracy_m"),
        ({"category": "gossip"}, "category"),
        ({"subcategory": "prisoner_exchange"}, "subcategory"),
        ({"basis": "dreamt"}, "basis"),
        ({"client_id": "not-a-uuid"}, "client_id"),
        ({"occurred_at": "2026-11-25T10:00:00"}, "occurred_at"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"narrative": "x" * 2_000_000}, "narrative"),
        ({"details": {"count": -3}}, "details.count"),
        ({"details": {"colour": "red"}}, "details.colour"),
        ({"attribution_party": "Party C", "attribution_confidence": "likely"}, "attribution_party"),
        ({"attribution_party": "Party A"}, "attribution_confidence"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_field_is_refused_with_its_name(client_for, runtime, override, field):
    response = post_report(client_for("obs1"), report_body(**override))
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert count(runtime, Report) == 0


def test_event_time_in_the_future_is_refused_but_small_skew_is_allowed(client_for):
    client = client_for("obs1")
    future = datetime.now(UTC) + timedelta(hours=2)
    skewed = datetime.now(UTC) + timedelta(minutes=3)
    assert post_report(client, report_body(occurred_at=future.isoformat())).status_code == 422
    assert post_report(client, report_body(occurred_at=skewed.isoformat())).status_code == 201


def test_event_time_years_ago_is_refused(client_for):
    old = datetime.now(UTC) - timedelta(days=3 * 365)
    response = post_report(client_for("obs1"), report_body(occurred_at=old.isoformat()))
    assert response.status_code == 422
    assert "occurred_at" in response.get_json()["errors"]


def test_offset_of_the_phone_is_kept_and_time_stored_in_utc(client_for):
    plus_three = timezone(timedelta(hours=3))
    local = (datetime.now(UTC) - timedelta(hours=1)).astimezone(plus_three).replace(microsecond=0)
    response = post_report(client_for("obs1"), report_body(occurred_at=local.isoformat()))
    assert response.status_code == 201
    body = response.get_json()
    assert body["occurred_offset_minutes"] == 180
    assert datetime.fromisoformat(body["occurred_at"]) == local
    assert body["occurred_at"].endswith("+00:00")


def test_missing_csrf_header_is_refused(client_for, runtime):
    client = client_for("obs1")
    response = client.post("/api/v1/reports", json=report_body())
    assert response.status_code == 400
    assert count(runtime, Report) == 0


def test_api_without_login_answers_401(app, users):
    client = app.test_client()
    token = api_token(client)
    response = client.post("/api/v1/reports", json=report_body(), headers={"X-CSRFToken": token})
    assert response.status_code == 401


@pytest.mark.parametrize("role", ["coord", "comm", "admin"])
def test_only_observers_file_reports(client_for, role):
    assert post_report(client_for(role), report_body()).status_code == 403


def test_observer_cannot_read_another_observers_report(client_for):
    body = report_body()
    assert post_report(client_for("obs1"), body).status_code == 201
    other = client_for("obs2")
    assert other.get(f"/api/v1/reports/{body['client_id']}").status_code == 404
    assert other.get("/api/v1/reports").get_json()["reports"] == []


def test_commission_sees_only_verified_reports_and_no_names(client_for, runtime):
    body = report_body()
    assert post_report(client_for("obs1"), body).status_code == 201
    commission = client_for("comm")
    assert commission.get(f"/api/v1/reports/{body['client_id']}").status_code == 404
    with runtime.db.session_scope() as session:
        session.scalar(select(Report)).status = "verified"
    response = commission.get(f"/api/v1/reports/{body['client_id']}")
    assert response.status_code == 200
    assert "Olga" not in response.get_data(as_text=True)
    assert response.get_json()["team_code"] == "T-01"


def test_openapi_document_describes_the_report_routes(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert {"/reports", "/reports/{client_id}", "/reports/{client_id}/photos"} <= set(
        document["paths"]
    )


def test_healthz_reports_database_and_queue(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "queue": "in-process"}
