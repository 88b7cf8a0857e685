"""SQLite under contention: a writer that cannot get the lock answers 503 and stores nothing."""

from __future__ import annotations

import sqlite3

from sqlalchemy import func, select

from fieldreport.reports.models import Report
from fieldreport.runtime import build_runtime
from fieldreport.web.app import build_app
from tests.helpers import api_token, login, make_settings, make_user, report_body


def test_locked_database_answers_503_with_retry_after_and_stores_nothing(
    tmp_path, sqlite_url, monkeypatch
):
    settings = make_settings(tmp_path, sqlite_url, sqlite_busy_timeout_ms=200)
    runtime = build_runtime(settings)
    with runtime.db.session_scope() as session:
        make_user(session, "obs1", team_code="T-01")
    client = build_app(settings, runtime).test_client()
    assert login(client, "obs1").status_code == 302
    token = api_token(client)
    blocker = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        body = report_body()
        response = client.post("/api/v1/reports", json=body, headers={"X-CSRFToken": token})
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert "Nothing was stored" in response.get_json()["message"]
    finally:
        blocker.rollback()
        blocker.close()
    retry = client.post("/api/v1/reports", json=body, headers={"X-CSRFToken": token})
    assert retry.status_code == 201
    with runtime.db.session_scope(write=False) as session:
        assert session.scalar(select(func.count(Report.id))) == 1
    runtime.db.dispose()


def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path, sqlite_url):
    runtime = build_runtime(make_settings(tmp_path, sqlite_url))
    with runtime.db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    runtime.db.dispose()


def test_locked_database_on_the_html_form_shows_a_busy_page(tmp_path, sqlite_url):
    from tests.helpers import csrf_from

    settings = make_settings(tmp_path, sqlite_url, sqlite_busy_timeout_ms=200)
    runtime = build_runtime(settings)
    with runtime.db.session_scope() as session:
        make_user(session, "obs1", team_code="T-01")
    client = build_app(settings, runtime).test_client()
    assert login(client, "obs1").status_code == 302
    token = csrf_from(client.get("/reports/new").get_data(as_text=True))
    blocker = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        response = client.post("/reports/new", data={"csrf_token": token, "narrative": "x"})
    finally:
        blocker.rollback()
        blocker.close()
    assert response.status_code == 503
    assert "Nothing was stored" in response.get_data(as_text=True)
    runtime.db.dispose()
