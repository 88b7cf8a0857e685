"""Holes in the log-in: racing attempts past the throttle, a proxy's shared address, usernames
told apart by timing; and HSTS, file modes, demo passwords printed once."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from fieldreport.accounts import passwords
from fieldreport.accounts.models import AuditLog
from fieldreport.accounts.service import (
    MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS,
    ClientInfo,
    LoginThrottled,
    log_in,
)
from fieldreport.config import load_settings
from fieldreport.db import Database
from fieldreport.migrate import upgrade
from fieldreport.runtime import build_runtime
from fieldreport.web.app import build_app
from tests.helpers import PASSWORD, csrf_from, make_settings


class CountingHasher(PasswordHasher):
    """The tests' cheap Argon2, counting every password check."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.checks = 0
        self.lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self.lock:
            self.checks += 1
        return super().verify(hash, password)


@pytest.fixture
def hasher() -> Iterator[CountingHasher]:
    previous = passwords._hasher
    counting = CountingHasher()
    passwords.use_password_hasher(counting)
    yield counting
    passwords.use_password_hasher(previous)


def test_racing_wrong_passwords_get_no_more_checks_than_the_limit(runtime, users, hasher):
    """Hole 4: 24 threads released at once; count-and-check is one atomic step."""
    attempts = 24
    barrier = threading.Barrier(attempts)

    def attempt(_: int) -> str:
        barrier.wait()
        try:
            with runtime.db.session_scope() as session:
                user = log_in(session, "obs1", "wrong guess", ClientInfo("192.0.2.1"))
        except LoginThrottled:
            return "throttled"
        return "ok" if user else "wrong"

    with ThreadPoolExecutor(attempts) as pool:
        outcomes = list(pool.map(attempt, range(attempts)))
    assert outcomes.count("wrong") == MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS
    assert outcomes.count("throttled") == attempts - MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS
    assert hasher.checks == MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS


def test_unknown_and_known_usernames_both_cost_a_password_check(runtime, users, hasher):
    """Hole 7: an unknown username is checked against a dummy hash, so it takes as long."""
    with runtime.db.session_scope() as session:
        assert log_in(session, "nobody-here", "some guess", ClientInfo("192.0.2.2")) is None
    unknown = hasher.checks
    with runtime.db.session_scope() as session:
        assert log_in(session, "obs1", "some guess", ClientInfo("192.0.2.2")) is None
    assert unknown == 1
    assert hasher.checks - unknown == 1


def _attempt(client, password: str, forwarded: str | None) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    environ = {"REMOTE_ADDR": "10.0.0.2"}  # the proxy
    page = client.get("/login", headers=headers, environ_base=environ)
    answer = client.post(
        "/login",
        data={"username": "obs1", "password": password, "csrf_token": csrf_from(page.text)},
        headers=headers,
        environ_base=environ,
    )
    return answer.status_code


def _proxied_app(tmp_path: Path, sqlite_url: str, hops: int):  # type: ignore[no-untyped-def]
    from fieldreport.accounts.service import create_user

    runtime = build_runtime(make_settings(tmp_path, sqlite_url, proxy_hops=hops))
    with runtime.db.session_scope() as session:
        create_user(session, "obs1", role="observer", password=PASSWORD, team_code="T-01")
    return build_app(runtime.settings, runtime), runtime


def _audited_addresses(runtime) -> set[str | None]:  # type: ignore[no-untyped-def]
    with runtime.db.session_scope(write=False) as session:
        query = select(AuditLog.address).where(AuditLog.action != "user.create")
        return set(session.scalars(query))


def test_behind_one_proxy_the_last_forwarded_hop_is_the_address(tmp_path, sqlite_url):
    """Hole 5: with FIELDREPORT_PROXY_HOPS=1 the throttle and audit use X-Forwarded-For's last
    hop (what our proxy appended); a forged earlier hop changes nothing."""
    app, runtime = _proxied_app(tmp_path, sqlite_url, hops=1)
    for _ in range(MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS):
        assert _attempt(app.test_client(), "guess", "6.6.6.6, 203.0.113.9") == 401
    assert _attempt(app.test_client(), PASSWORD, "7.7.7.7, 203.0.113.9") == 429
    assert _attempt(app.test_client(), PASSWORD, "198.51.100.7") == 302
    assert _audited_addresses(runtime) == {"203.0.113.9", "198.51.100.7"}
    runtime.db.dispose()


def test_without_proxy_hops_the_forwarded_header_is_ignored(tmp_path, sqlite_url):
    app, runtime = _proxied_app(tmp_path, sqlite_url, hops=0)
    for _ in range(MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS):
        _attempt(app.test_client(), "guess", "203.0.113.9")
    assert _attempt(app.test_client(), PASSWORD, "198.51.100.7") == 429
    assert _audited_addresses(runtime) == {"10.0.0.2"}
    runtime.db.dispose()


@pytest.mark.parametrize("secure", [True, False])
def test_hsts_is_sent_exactly_when_cookies_are_secure(tmp_path, sqlite_url, secure):
    runtime = build_runtime(make_settings(tmp_path, sqlite_url, secure_cookies=secure))
    answer = build_app(runtime.settings, runtime).test_client().get("/login")
    assert ("Strict-Transport-Security" in answer.headers) is secure
    if secure:
        assert answer.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    runtime.db.dispose()


def test_a_new_data_directory_and_database_are_for_the_owner_only(tmp_path):
    settings = load_settings({"FIELDREPORT_DATA_DIR": str(tmp_path / "fresh" / "data")})
    database = Database(settings.database_url)
    upgrade(database)
    database.dispose()
    assert stat.S_IMODE(settings.data_dir.stat().st_mode) == 0o700
    for path in settings.data_dir.glob("fieldreport.db*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def _run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "fieldreport.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def test_demo_passwords_are_printed_once_when_made(tmp_path):
    env = {**os.environ, "FIELDREPORT_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    first = _run_cli(["demo"], env)
    assert first.returncode == 0, first.stderr
    credentials = (tmp_path / "data" / "demo-accounts.txt").read_text().split()
    admin_password = credentials[credentials.index("admin") + 2]
    assert admin_password in first.stdout
    again = _run_cli(["demo"], env)
    assert again.returncode == 0, again.stderr
    assert admin_password not in again.stdout
    assert "demo-accounts.txt" in again.stdout
