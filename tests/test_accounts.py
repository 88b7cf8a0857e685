"""Log-in, log-out, sessions and the role matrix of the foundation's pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from fieldreport.accounts.administration import set_active
from fieldreport.accounts.models import AuditLog, LoginCounter, User
from fieldreport.accounts.service import (
    MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS,
    MAX_FAILURES_PER_ADDRESS,
    THROTTLE_WINDOW,
    set_password,
)
from fieldreport.db import utcnow
from tests.helpers import PASSWORD, csrf_from, login

ROUTES = {
    "/home": {"observer"},
    "/reports/new": {"observer"},
    "/reports": {"observer", "coordinator", "commission", "admin"},
}
ACCOUNTS = {"obs1": "observer", "coord": "coordinator", "comm": "commission", "admin": "admin"}


@pytest.mark.parametrize("path", sorted(ROUTES))
def test_every_page_needs_a_log_in(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("username", sorted(ACCOUNTS))
def test_each_role_opens_exactly_its_foundation_pages(client_for, username):
    client = client_for(username)
    for path, roles in ROUTES.items():
        expected = 200 if ACCOUNTS[username] in roles else 403
        assert client.get(path).status_code == expected, (username, path)


def test_wrong_password_is_refused_and_recorded(app, users, runtime):
    response = login(app.test_client(), "obs1", "not the password")
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)
    with runtime.db.session_scope(write=False) as session:
        failed = session.scalar(select(AuditLog).where(AuditLog.action == "login.failed"))
        assert failed.username == "obs1"


def test_repeated_failures_throttle_that_account_from_that_address_only(app, users):
    client = app.test_client()
    for _ in range(MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS):
        assert login(client, "obs1", "guess").status_code == 401
    assert login(client, "obs1", PASSWORD).status_code == 429
    other_address = app.test_client()
    page = other_address.get("/login", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    response = other_address.post(
        "/login",
        data={"username": "obs1", "password": PASSWORD, "csrf_token": csrf_from(page.text)},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert response.status_code == 302


def test_many_failures_from_one_address_over_many_accounts_lock_that_address_out(app, users):
    client = app.test_client()
    # Never more than the per-account limit on one name: only the per-address limit can stop it.
    for attempt in range(MAX_FAILURES_PER_ADDRESS - 1):
        assert login(client, f"guess{attempt}", "guess").status_code == 401, attempt
    assert login(client, "obs1", PASSWORD).status_code == 302  # one short of the limit
    assert login(app.test_client(), "nobody", "guess").status_code == 401  # the limit reached
    locked = login(app.test_client(), "obs2", PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.get_data(as_text=True)
    # Another address is not affected.
    assert login(app.test_client(), "obs2", PASSWORD, address="10.9.9.9").status_code == 302


def test_failures_older_than_the_window_do_not_count(app, users, runtime):
    client = app.test_client()
    for _ in range(MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS):
        assert login(client, "obs1", "guess").status_code == 401
    with runtime.db.session_scope() as session:
        long_ago = utcnow() - THROTTLE_WINDOW - timedelta(minutes=1)
        session.execute(update(LoginCounter).values(window_start=long_ago))
    assert login(client, "obs1", PASSWORD).status_code == 302


def test_address_failures_older_than_the_window_do_not_count(app, users, runtime):
    for attempt in range(MAX_FAILURES_PER_ADDRESS):
        assert login(app.test_client(), f"guess{attempt}", "guess").status_code == 401, attempt
    assert login(app.test_client(), "obs1", PASSWORD).status_code == 429
    with runtime.db.session_scope() as session:
        long_ago = utcnow() - THROTTLE_WINDOW - timedelta(minutes=1)
        session.execute(update(LoginCounter).values(window_start=long_ago))
    assert login(app.test_client(), "obs1", PASSWORD).status_code == 302


def test_successful_log_ins_do_not_count_against_the_limit(app, users):
    """A log-in gives back the slot it reserved: a user who logs in often is never locked out."""
    for attempt in range(MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS + 1):
        assert login(app.test_client(), "obs1", PASSWORD).status_code == 302, attempt
    assert login(app.test_client(), "obs1", "guess").status_code == 401


def test_a_deactivated_user_cannot_log_in_and_their_session_ends(client_for, app, runtime):
    client = client_for("obs1")
    assert client.get("/home").status_code == 200
    with runtime.db.session_scope() as session:
        admin = session.scalar(select(User).where(User.username == "admin"))
        set_active(
            session, admin, session.scalar(select(User).where(User.username == "obs1")), False
        )
    response = client.get("/home")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert client.get("/api/v1/reports").status_code == 401
    refused = login(app.test_client(), "obs1", PASSWORD)
    assert refused.status_code == 401
    assert "Wrong username or password." in refused.get_data(as_text=True)


def test_a_session_of_a_user_made_inactive_stops_working_even_with_its_version(client_for, runtime):
    """The session check looks at ``active`` itself, not only at the session version."""
    client = client_for("obs1")
    with runtime.db.session_scope() as session:
        session.execute(update(User).where(User.username == "obs1").values(active=False))
    assert client.get("/home").status_code == 302
    assert client.get("/api/v1/reports").status_code == 401


def test_logging_out_ends_the_session_for_good(client_for, app):
    client = client_for("obs1")
    cookie = client.get_cookie("fieldreport_session").value
    page = client.get("/home").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_from(page)}).status_code == 302
    assert client.get("/home").status_code == 302
    # The cookie the browser had before logging out does not log anyone in again.
    replay = app.test_client()
    replay.set_cookie("fieldreport_session", cookie)
    assert replay.get("/home").status_code == 302


def test_login_without_csrf_token_is_refused(app, users):
    response = app.test_client().post("/login", data={"username": "obs1", "password": PASSWORD})
    assert response.status_code == 400


def test_login_does_not_redirect_to_another_site(app, users):
    client = app.test_client()
    page = client.get("/login?next=https://evil.example/")
    response = client.post(
        "/login?next=https://evil.example/",
        data={"username": "obs1", "password": PASSWORD, "csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_logout_is_a_post_with_a_token(client_for):
    client = client_for("obs1")
    assert client.get("/logout").status_code == 405
    page = client.get("/home").get_data(as_text=True)
    response = client.post("/logout", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    assert client.get("/home").status_code == 302


def test_changing_the_password_ends_existing_sessions(client_for, runtime):
    client = client_for("obs1")
    assert client.get("/home").status_code == 200
    with runtime.db.session_scope() as session:
        user = session.scalar(select(User).where(User.username == "obs1"))
        set_password(session, user, "a brand new password")
    assert client.get("/home").status_code == 302


def test_session_cookie_is_http_only_and_same_site(app, users):
    client = app.test_client()
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": "obs1", "password": PASSWORD, "csrf_token": csrf_from(page.text)},
    )
    cookie = next(
        value for value in response.headers.getlist("Set-Cookie") if "fieldreport_session" in value
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_pages_with_reports_are_not_cached_and_have_a_strict_csp(client_for):
    response = client_for("obs1").get("/reports")
    assert response.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]


def test_static_files_carry_only_the_headers_a_file_needs(client_for):
    client = client_for("obs1")
    script = client.get("/static/js/idb.js")
    worker = client.get("/sw.js")

    # nosniff keeps a file from being run as another type; the policy belongs to documents and
    # to the service worker (a worker script's own policy governs the worker).
    assert script.headers["X-Content-Type-Options"] == "nosniff"
    for name in ("Content-Security-Policy", "Content-Disposition", "X-Request-ID"):
        assert name not in script.headers
    assert "script-src 'self'" in worker.headers["Content-Security-Policy"]


def test_passwords_are_stored_as_argon2_hashes(users, runtime):
    with runtime.db.session_scope(write=False) as session:
        user = session.scalar(select(User).where(User.username == "obs1"))
    assert user.password_hash.startswith("$argon2")
    assert PASSWORD not in user.password_hash


def _run_cli(args: list[str], env: dict[str, str], stdin: str = "") -> Any:
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "fieldreport.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_command_line_creates_users_and_the_demo(tmp_path):
    import os

    env = {**os.environ, "FIELDREPORT_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    made = _run_cli(
        ["create-user", "Field.Obs", "--role", "observer", "--team", "T-09", "--password-stdin"],
        env,
        stdin="a long enough password\n",
    )
    assert made.returncode == 0, made.stderr
    assert "Created observer field.obs" in made.stdout
    refused = _run_cli(
        ["create-user", "short", "--role", "observer", "--team", "T-1", "--password-stdin"],
        env,
        stdin="short\n",
    )
    assert refused.returncode != 0
    assert "at least 10 characters" in refused.stderr
    demo = _run_cli(["demo"], env)
    assert demo.returncode == 0
    assert "The database has users already" in demo.stdout
    fresh = {**env, "FIELDREPORT_DATA_DIR": str(tmp_path / "fresh")}
    demo = _run_cli(["demo"], fresh)
    assert demo.returncode == 0, demo.stderr
    for username in ("observer1", "coordinator", "commission", "admin"):
        assert username in demo.stdout
    assert oct((tmp_path / "fresh" / "secret_key").stat().st_mode)[-3:] == "600"


def test_bad_setting_is_named_in_the_error(tmp_path):
    import os

    env = {**os.environ, "FIELDREPORT_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgress://x"}
    result = _run_cli(["init-db"], env)
    assert result.returncode != 0
    assert "DATABASE_URL: unknown scheme 'postgress'" in result.stderr


def test_processes_starting_together_share_one_generated_secret_key(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from fieldreport.config import load_settings

    env = {"FIELDREPORT_DATA_DIR": str(tmp_path / "data")}
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: load_settings(env).secret_key, range(16)))
    assert len(keys) == 1
    assert len(keys.pop()) >= 48
    assert oct((tmp_path / "data" / "secret_key").stat().st_mode)[-3:] == "600"
