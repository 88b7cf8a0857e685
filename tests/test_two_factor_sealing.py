"""Two-step log-in secrets at rest: sealed for their user under the data directory's key, clear
secrets from before sealing upgraded, and a start-up that refuses a missing or wrong key
instead of locking everyone out (accounts/totp_sealing.py, accounts/totp_startup.py). The
database tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import re
import stat
import time
from typing import Any

import pyotp
import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select, update

from fieldreport.accounts.models import AuditLog, User, UserSession
from fieldreport.accounts.totp_sealing import (
    SecretUnreadable,
    TotpKey,
    TotpKeyError,
    is_sealed,
    key_path,
    make_key,
    read_key,
)
from fieldreport.cli import main
from fieldreport.db import utcnow
from fieldreport.web.app import build_app
from tests.helpers import count, csrf_from, login, make_settings

SECRET_ON_PAGE = re.compile(r'id="enrol-secret">([A-Z2-7 ]+)<')


@pytest.fixture
def settings(tmp_path, database_url):
    return make_settings(tmp_path, database_url, two_factor_roles=("coordinator", "admin"))


def _stored(runtime: Any, username: str) -> str | None:
    with runtime.db.session_scope(write=False) as session:
        return session.scalar(select(User.totp_secret).where(User.username == username))


def _set_stored(runtime: Any, username: str, value: str) -> None:
    """Write a row's secret as someone with the database only could (on for this user)."""
    with runtime.db.session_scope() as session:
        session.execute(
            update(User)
            .where(User.username == username)
            .values(totp_secret=value, totp_enabled_at=utcnow(), totp_last_step=None)
        )


def _code_step(app: Any, username: str, code: str) -> tuple[FlaskClient, Any]:
    """Password, then ``code`` at the code step: the browser and the code step's answer."""
    client = app.test_client()
    assert login(client, username).headers["Location"].endswith("/login/code")
    page = client.get("/login/code").get_data(as_text=True)
    return client, client.post("/login/code", data={"code": code, "csrf_token": csrf_from(page)})


def _enrol(app: Any, username: str) -> str:
    """Enrol through the pages; the secret the user's app was given."""
    client = app.test_client()
    assert login(client, username).headers["Location"].endswith("/two-factor/enrol")
    page = client.get("/two-factor/enrol").get_data(as_text=True)
    secret = SECRET_ON_PAGE.search(page).group(1).replace(" ", "")
    token = csrf_from(page)
    code = pyotp.TOTP(secret).now()
    done = client.post("/two-factor/enrol", data={"code": code, "csrf_token": token})
    assert done.status_code == 200, done.status_code
    return secret


def _live_sessions(runtime: Any, user_id: int) -> int:
    live = UserSession.revoked_at.is_(None)
    return count(runtime, UserSession, live, UserSession.user_id == user_id)


# --- sealed at rest ------------------------------------------------------------------------


def test_the_stored_secret_is_sealed_and_does_not_contain_it(app, runtime, users):
    secret = _enrol(app, "coord")
    stored = _stored(runtime, "coord")
    assert stored != secret and is_sealed(stored)
    assert secret not in stored and secret.lower() not in stored.lower()
    raw = base64.b32decode(secret)
    assert raw not in stored.encode() and raw.hex() not in stored
    key = read_key(runtime.settings.data_dir)
    assert key.open(users.coordinator.id, stored) == secret
    mode = stat.S_IMODE(key_path(runtime.settings.data_dir).stat().st_mode)
    assert mode == 0o600
    # And the sealed secret is the one that logs in (enrolment opened the first session).
    _client, answer = _code_step(app, "coord", pyotp.TOTP(secret).at(time.time(), counter_offset=1))
    assert answer.status_code == 302 and _live_sessions(runtime, users.coordinator.id) == 2


def test_a_secret_moved_to_another_user_is_refused_clearly(app, runtime, users):
    secret = _enrol(app, "coord")
    _enrol(app, "admin")
    _set_stored(runtime, "admin", _stored(runtime, "coord"))  # the coordinator's, in admin's row
    sessions_before = _live_sessions(runtime, users.admin.id)  # the one enrolment opened
    client, answer = _code_step(app, "admin", pyotp.TOTP(secret).now())
    assert answer.status_code == 403
    assert "cannot be checked here" in answer.get_data(as_text=True)
    assert _live_sessions(runtime, users.admin.id) == sessions_before
    assert client.get("/reports").status_code == 302  # no session in this browser
    with runtime.db.session_scope(write=False) as session:
        actions = session.scalars(select(AuditLog.action).where(AuditLog.username == "admin"))
        assert "two_factor.secret_unreadable" in list(actions)


def test_an_enrolment_whose_secret_was_swapped_starts_again_with_a_new_one(app, runtime, users):
    client = app.test_client()
    assert login(client, "coord").headers["Location"].endswith("/two-factor/enrol")
    _enrol(app, "admin")
    with runtime.db.session_scope() as session:  # the admin's sealed secret, in coord's row
        admins = session.scalar(select(User.totp_secret).where(User.username == "admin"))
        session.execute(update(User).where(User.username == "coord").values(totp_secret=admins))
    page = client.get("/two-factor/enrol")
    assert page.status_code == 302 and page.headers["Location"].endswith("/login")
    assert _enrol(app, "coord")  # a new log-in, a new secret: enrolment works


def test_a_sealed_value_opens_only_for_its_user_and_unaltered():
    key = TotpKey(b"k" * 32, "0badc0de")
    sealed = key.seal(7, "JBSWY3DPEHPK3PXP")
    assert key.open(7, sealed) == "JBSWY3DPEHPK3PXP"
    version, key_id, body = sealed.split(":")
    flipped = body[:-3] + ("A" if body[-3] != "A" else "B") + body[-2:]
    bad = [
        (8, sealed),  # another user's row
        (7, f"{version}:{key_id}:{flipped}"),  # altered
        (7, f"{version}:{key_id}:!!"),  # not base64
        (7, TotpKey(b"x" * 32, "0badc0de").seal(7, "JBSWY3DPEHPK3PXP")),  # another key
        (7, "JBSWY3DPEHPK3PXP"),  # clear: only the start-up and the log-in upgrade it
    ]
    for user_id, value in bad:
        with pytest.raises(SecretUnreadable):
            key.open(user_id, value)


# --- clear secrets from before sealing -----------------------------------------------------


def test_a_clear_secret_from_before_sealing_is_sealed_at_start(runtime, users):
    secret = pyotp.random_base32()
    _set_stored(runtime, "coord", secret)
    app = build_app(runtime.settings, runtime)  # the start-up (init-db does the same)
    stored = _stored(runtime, "coord")
    assert is_sealed(stored) and secret not in stored
    assert read_key(runtime.settings.data_dir).open(users.coordinator.id, stored) == secret
    _client, answer = _code_step(app, "coord", pyotp.TOTP(secret).now())
    assert answer.status_code == 302 and _live_sessions(runtime, users.coordinator.id) == 1


def test_a_clear_secret_written_after_start_works_and_is_sealed_at_its_use(app, runtime, users):
    secret = pyotp.random_base32()
    _set_stored(runtime, "coord", secret)  # an older process wrote it after this one started
    _client, answer = _code_step(app, "coord", pyotp.TOTP(secret).now())
    assert answer.status_code == 302 and _live_sessions(runtime, users.coordinator.id) == 1
    stored = _stored(runtime, "coord")
    assert is_sealed(stored) and secret not in stored


# --- the key at start-up -------------------------------------------------------------------


def test_the_key_is_made_on_first_start_when_no_secret_is_sealed(runtime, users):
    path = key_path(runtime.settings.data_dir)
    path.unlink(missing_ok=True)
    build_app(runtime.settings, runtime)
    assert read_key(runtime.settings.data_dir) is not None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_missing_key_stops_the_start_and_is_not_replaced(app, runtime, users):
    _enrol(app, "coord")
    path = key_path(runtime.settings.data_dir)
    path.unlink()
    with pytest.raises(TotpKeyError, match="is missing") as refused:
        build_app(runtime.settings, runtime)
    assert str(path) in str(refused.value) and "reset-two-factor --all" in str(refused.value)
    assert not path.exists()  # no new key: the enrolled stay able to log in once it is back


def test_a_key_file_of_another_key_stops_the_start(app, runtime, users):
    _enrol(app, "coord")
    path = key_path(runtime.settings.data_dir)
    before = path.read_bytes()
    path.unlink()
    other = make_key(runtime.settings.data_dir)
    with pytest.raises(TotpKeyError, match=f"holds key {other.key_id}.*sealed with key"):
        build_app(runtime.settings, runtime)
    path.write_bytes(before)  # the right file restored: the start goes on
    build_app(runtime.settings, runtime)


@pytest.mark.parametrize("content", [b"", b"not a key\n", base64.urlsafe_b64encode(b"short")])
def test_a_damaged_key_file_stops_the_start(runtime, users, content):
    key_path(runtime.settings.data_dir).write_bytes(content)
    with pytest.raises(TotpKeyError, match="is not a two-step log-in key"):
        build_app(runtime.settings, runtime)


def test_init_db_refuses_a_lost_key_until_two_factor_is_reset_on_purpose(app, runtime, users):
    _enrol(app, "coord")
    key_path(runtime.settings.data_dir).unlink()
    env = {
        "FIELDREPORT_DATA_DIR": str(runtime.settings.data_dir),
        "DATABASE_URL": runtime.settings.database_url,
        "FIELDREPORT_TWO_FACTOR_ROLES": "coordinator,admin",
    }
    refused = CliRunner().invoke(main, ["init-db"], env=env)
    assert refused.exit_code == 1 and "is missing" in refused.output, refused.output
    no_flag = CliRunner().invoke(main, ["reset-two-factor"], env=env)
    assert no_flag.exit_code == 2 and _stored(runtime, "coord") is not None
    reset = CliRunner().invoke(main, ["reset-two-factor", "--all"], env=env)
    assert reset.exit_code == 0 and "for 1 users" in reset.output, reset.output
    ready = CliRunner().invoke(main, ["init-db"], env=env)
    assert ready.exit_code == 0, ready.output
    assert _stored(runtime, "coord") is None
    assert login(app.test_client(), "coord").headers["Location"].endswith("/two-factor/enrol")
