"""The server's side of the phone's outbox: the session answer asked before each send, the
phone's send time kept beside the receipt time with the skew flagged to the coordinator, and a
log-out that tells the browser to drop what it cached."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from fieldreport.reports.models import Report
from fieldreport.reports.phone_clock import parse_phone_time
from tests.helpers import api_token, report_body


def _post(client, body, phone_time: str | None):
    headers = {"X-CSRFToken": api_token(client)}
    if phone_time is not None:
        headers["X-Phone-Sent-At"] = phone_time
    return client.post("/api/v1/reports", json=body, headers=headers)


def _stored(runtime, client_id: str) -> Report:
    with runtime.db.session_scope(write=False) as session:
        report = session.scalar(select(Report).where(Report.client_id == client_id))
        session.expunge(report)
        return report


def test_the_session_answer_names_the_observer_and_the_servers_clock(client_for, users):
    before = int(time.time() * 1000)
    response = client_for("obs1").get("/outbox/session.json")
    after = int(time.time() * 1000)
    answer = response.get_json()
    assert answer["user_id"] == users.observer.id
    assert answer["username"] == "obs1"
    assert before <= answer["server_time_ms"] <= after
    assert answer["skew_warning_s"] == 300
    assert response.headers["Cache-Control"] == "no-store"


def test_a_slow_phone_clock_is_kept_beside_the_receipt_time_and_flagged(
    client_for, runtime
) -> None:
    observer = client_for("obs1")
    slow = datetime.now(UTC) - timedelta(hours=3)
    body = report_body(occurred_at=(slow - timedelta(minutes=5)).isoformat())
    assert _post(observer, body, slow.isoformat()).status_code == 201
    report = _stored(runtime, body["client_id"])
    assert report.phone_sent_at is not None
    assert abs(report.phone_sent_at - slow) < timedelta(seconds=1)
    assert -3 * 3600 - 60 < report.clock_skew_s < -3 * 3600 + 60
    page = client_for("coord").get(f"/reports/{report.id}").get_data(as_text=True)
    assert 'id="clock-skew"' in page
    assert "3 h 0 min slow when sent" in page


def test_a_right_clock_or_no_phone_time_raises_no_flag(client_for, runtime) -> None:
    observer = client_for("obs1")
    right = report_body()
    assert _post(observer, right, datetime.now(UTC).isoformat()).status_code == 201
    silent = report_body()
    assert _post(observer, silent, "not a time").status_code == 201
    assert abs(_stored(runtime, right["client_id"]).clock_skew_s) < 60
    stored = _stored(runtime, silent["client_id"])
    assert stored.phone_sent_at is None and stored.clock_skew_s is None
    page = client_for("coord").get(f"/reports/{stored.id}").get_data(as_text=True)
    assert "clock-skew" not in page


def test_a_phone_time_that_is_no_time_is_ignored() -> None:
    for raw in ("", "yesterday", "2026-12-03T10:00:00", "0001-01-01T00:00:00+05:00", "9" * 50):
        assert parse_phone_time(raw) is None
    assert parse_phone_time("2026-12-03T10:00:00+02:00") == datetime(2026, 12, 3, 8, tzinfo=UTC)


def test_a_resend_keeps_the_first_send_time(client_for, runtime) -> None:
    observer = client_for("obs1")
    body = report_body()
    first = datetime.now(UTC) - timedelta(minutes=20)
    assert _post(observer, body, first.isoformat()).status_code == 201
    assert _post(observer, body, datetime.now(UTC).isoformat()).status_code == 200
    assert abs(_stored(runtime, body["client_id"]).phone_sent_at - first) < timedelta(seconds=1)


def test_logging_out_tells_the_browser_to_drop_its_cached_pages(client_for) -> None:
    observer = client_for("obs1")
    token = api_token(observer)
    response = observer.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == '"cache"'
