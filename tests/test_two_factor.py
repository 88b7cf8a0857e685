"""Two-step log-in (TOTP): enrolment, the code step, recovery codes, the throttle, the admin's
reset, and the attacks of the 2024 SecureDrop audit's class: enrolling a second factor for
someone else, or getting a session without one (docs/architecture.md, "Rules for evidence and
safety"). Every test runs on SQLite and PostgreSQL; the requirement is on for the usual roles.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from fieldreport.accounts import two_factor
from fieldreport.accounts.models import AuditLog, LoginCounter, RecoveryCode, User, UserSession
from fieldreport.accounts.throttle import MAX_CODE_FAILURES_PER_ACCOUNT
from fieldreport.accounts.totp_sealing import read_key
from fieldreport.config import load_settings
from fieldreport.db import utcnow
from tests.helpers import PASSWORD, count, csrf_from, login, make_settings

REQUIRED = ("coordinator", "commission", "admin")
SECRET_ON_PAGE = re.compile(r'id="enrol-secret">([A-Z2-7 ]+)<')
RECOVERY_ON_PAGE = re.compile(r"<li><code>([A-Z0-9-]{19})</code></li>")


@pytest.fixture
def settings(tmp_path, database_url):
    return make_settings(tmp_path, database_url, two_factor_roles=REQUIRED)


# --- helpers -------------------------------------------------------------------------------


def _user(runtime: Any, username: str) -> User:
    with runtime.db.session_scope(write=False) as session:
        return session.scalar(select(User).where(User.username == username))


def _secret(runtime: Any, username: str) -> str:
    """The authenticator secret as the user's app holds it (the row holds it sealed)."""
    key = read_key(runtime.settings.data_dir)
    user = _user(runtime, username)
    return key.open(user.id, user.totp_secret)


def _sessions(runtime: Any, username: str | None = None) -> int:
    """Live (not ended) sessions, of everyone or of ``username``."""
    live = UserSession.revoked_at.is_(None)
    if username is None:
        return count(runtime, UserSession, live)
    return count(runtime, UserSession, live, UserSession.user_id == _user(runtime, username).id)


def _actions(runtime: Any, username: str) -> list[str]:
    with runtime.db.session_scope(write=False) as session:
        return list(
            session.scalars(
                select(AuditLog.action).where(AuditLog.username == username).order_by(AuditLog.id)
            )
        )


def _post_code(client: FlaskClient, url: str, code: str, **extra: str) -> Any:
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    data = {"code": code, "csrf_token": csrf_from(page.get_data(as_text=True)), **extra}
    return client.post(url, data=data)


def _code(secret: str, later: int = 0) -> str:
    """The authenticator's code, ``later`` steps of 30 s on (a code works once)."""
    return pyotp.TOTP(secret).at(time.time(), counter_offset=later)


def _enrol(client: FlaskClient, runtime: Any, username: str) -> tuple[str, list[str]]:
    """Password, enrolment page, a current code: logged in. Returns the secret and the codes."""
    response = login(client, username)
    assert response.headers["Location"].endswith("/two-factor/enrol")
    page = client.get("/two-factor/enrol").get_data(as_text=True)
    secret = SECRET_ON_PAGE.search(page).group(1).replace(" ", "")
    assert secret == _secret(runtime, username)
    assert 'src="data:image/svg+xml' in page
    done = _post_code(client, "/two-factor/enrol", _code(secret))
    assert done.status_code == 200, done.get_data(as_text=True)[:300]
    codes = RECOVERY_ON_PAGE.findall(done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def _enrolled(app: Any, runtime: Any, username: str) -> tuple[str, list[str]]:
    """Enrol ``username`` in a browser of its own, then forget that browser."""
    return _enrol(app.test_client(), runtime, username)


def _to_code_step(app: Any, username: str) -> FlaskClient:
    client = app.test_client()
    response = login(client, username)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login/code")
    return client


def _asked_to_log_in(response: Any) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


def _locked_out_everywhere(client: FlaskClient) -> None:
    """Every kind of page refuses: the browser has no session."""
    for url in ("/home", "/reports", "/admin/users", "/digests", "/account/password"):
        assert _asked_to_log_in(client.get(url)), url
    for url in ("/api/v1/reports", "/api/v1/sectors"):
        response = client.get(url)
        assert response.status_code == 401, (url, response.status_code)


# --- enrolment and log-in ------------------------------------------------------------------


def test_enrolment_then_log_in_with_a_code(app, runtime, users):
    client = app.test_client()
    secret, _codes = _enrol(client, runtime, "coord")
    assert client.get("/reports").status_code == 200
    assert _sessions(runtime, "coord") == 1
    assert count(runtime, RecoveryCode, RecoveryCode.user_id == users.coordinator.id) == 10
    with runtime.db.session_scope(write=False) as session:
        stored = session.scalars(select(RecoveryCode.code_sha256)).all()
    assert not set(_codes) & set(stored)  # only hashes are stored

    later = _to_code_step(app, "coord")
    assert _sessions(runtime, "coord") == 1  # the password alone opened nothing
    response = _post_code(later, "/login/code", _code(secret, 1))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert later.get("/reports").status_code == 200
    assert later.get("/api/v1/reports").status_code == 200
    assert _sessions(runtime, "coord") == 2
    actions = _actions(runtime, "coord")
    assert actions.count("two_factor.enrolled") == 1 and "two_factor.verified" in actions


def test_a_wrong_code_is_refused_and_counted(app, runtime, users):
    secret, _codes = _enrolled(app, runtime, "comm")
    client = _to_code_step(app, "comm")
    wrong = "000000" if _code(secret, 1) != "000000" else "111111"
    response = _post_code(client, "/login/code", wrong)
    assert response.status_code == 401
    assert "not right" in response.get_data(as_text=True)
    assert _actions(runtime, "comm").count("two_factor.failed") == 1
    key = f"code:{users.commission.id}"
    with runtime.db.session_scope(write=False) as session:
        assert session.get(LoginCounter, key).failures == 1
    for _attempt in range(MAX_CODE_FAILURES_PER_ACCOUNT - 1):
        assert _post_code(client, "/login/code", wrong).status_code == 401
    # The limit is the account's: another browser (another address) is throttled too.
    elsewhere = _to_code_step(app, "comm")
    throttled = _post_code(elsewhere, "/login/code", _code(secret, 1))
    assert throttled.status_code == 429
    assert _sessions(runtime, "comm") == 1  # the enrolment's only
    assert "two_factor.throttled" in _actions(runtime, "comm")


def test_a_code_is_accepted_once(app, runtime, users):
    secret, _codes = _enrolled(app, runtime, "coord")
    code = _code(secret, 1)
    first = _post_code(_to_code_step(app, "coord"), "/login/code", code)
    assert first.status_code == 302
    replayed = _post_code(_to_code_step(app, "coord"), "/login/code", code)
    assert replayed.status_code == 401
    assert _sessions(runtime, "coord") == 2


def test_a_recovery_code_works_once(app, runtime, users):
    _secret, codes = _enrolled(app, runtime, "admin")
    phone_lost = _to_code_step(app, "admin")
    response = _post_code(phone_lost, "/login/code", codes[3].lower().replace("-", " "))
    assert response.status_code == 302
    assert phone_lost.get("/admin/users").status_code == 200
    again = _post_code(_to_code_step(app, "admin"), "/login/code", codes[3])
    assert again.status_code == 401
    actions = _actions(runtime, "admin")
    assert actions.count("two_factor.recovery_used") == 1
    assert count(runtime, RecoveryCode, RecoveryCode.used_at.is_not(None)) == 1
    with runtime.db.session_scope(write=False) as session:
        detail = session.scalar(
            select(AuditLog.detail).where(AuditLog.action == "two_factor.recovery_used")
        )
    assert detail == {"recovery_codes_left": 9}


def test_an_enrolment_code_cannot_be_a_recovery_code(app, runtime, users):
    client = app.test_client()
    login(client, "coord")
    response = _post_code(client, "/two-factor/enrol", "ABCD-EFGH-JKLM-NPQR")
    assert response.status_code == 401
    assert _user(runtime, "coord").totp_enabled_at is None


# --- who must, who may ---------------------------------------------------------------------


@pytest.mark.parametrize("username", ["coord", "comm", "admin"])
def test_a_required_role_reaches_no_page_or_api_before_the_second_factor(
    app, runtime, users, username
):
    enrolling = app.test_client()
    response = login(enrolling, username)
    assert response.headers["Location"].endswith("/two-factor/enrol")
    _locked_out_everywhere(enrolling)
    secret, _codes = _enrolled(app, runtime, username)
    pending = _to_code_step(app, username)
    _locked_out_everywhere(pending)
    assert _asked_to_log_in(pending.get("/account/two-factor"))
    assert _sessions(runtime, username) == 1  # the one enrolment opened
    assert _post_code(pending, "/login/code", _code(secret, 1)).status_code == 302
    assert pending.get("/reports").status_code == 200


def test_an_optional_role_logs_in_with_one_step_until_enrolled(app, runtime, users):
    client = app.test_client()
    response = login(client, "obs1")
    assert response.headers["Location"] == "/"
    account = client.get("/account/two-factor").get_data(as_text=True)
    assert "Two-step log-in is off" in account
    started = client.post(
        "/account/two-factor", data={"password": PASSWORD, "csrf_token": csrf_from(account)}
    )
    assert started.headers["Location"].endswith("/two-factor/enrol")
    secret = _secret(runtime, "obs1")
    done = _post_code(client, "/two-factor/enrol", _code(secret))
    assert done.status_code == 200 and len(RECOVERY_ON_PAGE.findall(done.get_data(True))) == 10
    assert client.get("/reports").status_code == 200  # still logged in
    assert "On since" in client.get("/account/two-factor").get_data(as_text=True)
    assert _to_code_step(app, "obs1") is not None  # from now on: two steps


def test_the_own_enrolment_needs_the_password_again(app, runtime, users, client_for):
    client = client_for("obs1")
    page = client.get("/account/two-factor").get_data(as_text=True)
    refused = client.post(
        "/account/two-factor", data={"password": "not it at all", "csrf_token": csrf_from(page)}
    )
    assert refused.status_code == 400
    assert _user(runtime, "obs1").totp_secret is None
    assert _asked_to_log_in(client.get("/two-factor/enrol"))
    assert "two_factor.password_failed" in _actions(runtime, "obs1")


def test_a_session_from_before_the_requirement_reaches_enrolment_only(app, runtime, users):
    """A coordinator logged in while the setting was empty: pages send them to enrolment."""
    with runtime.db.session_scope() as session:
        user = session.get(User, users.coordinator.id)
        token = two_factor.service.start_login(
            session, user, two_factor.ClientInfo("1.2.3.4"), utcnow()
        )
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = token
        cookie["_fresh"] = True
    response = client.get("/reports")
    assert response.headers["Location"].endswith("/account/two-factor")
    assert client.get("/api/v1/reports").status_code == 403
    assert client.get("/account/two-factor").status_code == 200


def test_the_setting_is_read_from_the_environment(tmp_path):
    base = {"FIELDREPORT_DATA_DIR": str(tmp_path)}
    assert load_settings(base).two_factor_roles == REQUIRED
    assert load_settings({**base, "FIELDREPORT_TWO_FACTOR_ROLES": ""}).two_factor_roles == ()
    only = load_settings({**base, "FIELDREPORT_TWO_FACTOR_ROLES": " admin , observer"})
    assert only.two_factor_roles == ("admin", "observer")


# --- the SecureDrop-class attacks ----------------------------------------------------------


def test_enrolment_cannot_be_done_for_another_user(app, runtime, users):
    """A passes the password; B has started enrolment elsewhere. Whatever A posts naming B,
    B gets no second factor and A's browser no session of B."""
    victim = app.test_client()
    login(victim, "comm")
    victim_secret = _secret(runtime, "comm")
    attacker = app.test_client()
    login(attacker, "coord")
    named = _post_code(
        attacker,
        f"/two-factor/enrol?user_id={users.commission.id}",
        _code(victim_secret),
        user_id=str(users.commission.id),
        username="comm",
    )
    assert named.status_code == 401
    assert _user(runtime, "comm").totp_enabled_at is None
    assert _secret(runtime, "comm") == victim_secret
    assert _user(runtime, "coord").totp_enabled_at is None
    assert _sessions(runtime) == 0
    page = attacker.get(f"/two-factor/enrol?user_id={users.commission.id}").get_data(True)
    assert victim_secret not in page.replace(" ", "")


def test_a_logged_in_user_cannot_enrol_for_another(app, runtime, users, client_for):
    """Flask's signed cookie binds the pending step to the user who passed the password: a
    logged-in observer whose cookie names someone else gets nothing."""
    client = client_for("obs1")
    login(app.test_client(), "coord")  # the coordinator's enrolment is pending elsewhere
    with client.session_transaction() as cookie:
        cookie["two_factor_pending"] = {
            "user": users.coordinator.id,
            "at": int(time.time()),
            "step": "enrol",
            "to": None,
        }
    secret = _secret(runtime, "coord")
    assert _asked_to_log_in(client.get("/two-factor/enrol"))
    with client.session_transaction() as cookie:
        cookie["two_factor_pending"] = {
            "user": users.coordinator.id, "at": int(time.time()), "step": "enrol", "to": None,
        }  # fmt: skip
    token = csrf_from(client.get("/home").get_data(as_text=True))
    response = client.post("/two-factor/enrol", data={"code": _code(secret), "csrf_token": token})
    assert _asked_to_log_in(response)
    assert _user(runtime, "coord").totp_enabled_at is None


@pytest.mark.parametrize("step", ["enrol", "code"])
def test_a_pending_step_replayed_after_its_lifetime_goes_back_to_log_in(
    app, runtime, users, monkeypatch, step
):
    if step == "code":
        secret, _codes = _enrolled(app, runtime, "coord")
        client, url = _to_code_step(app, "coord"), "/login/code"
    else:
        client, url = app.test_client(), "/two-factor/enrol"
        login(client, "coord")
        secret = _secret(runtime, "coord")
    token = csrf_from(client.get(url).get_data(as_text=True))
    cookie = client.get_cookie("fieldreport_session").value
    sessions_before = _sessions(runtime)
    lifetime = two_factor.ENROL_STEP_LIFETIME if step == "enrol" else two_factor.CODE_STEP_LIFETIME
    later = utcnow() + lifetime + timedelta(seconds=1)
    monkeypatch.setattr("fieldreport.accounts.two_factor_views.utcnow", lambda: later)
    replay = app.test_client()
    replay.set_cookie("fieldreport_session", cookie)
    response = replay.post(url, data={"code": _code(secret, 1), "csrf_token": token})
    assert _asked_to_log_in(response)
    assert _asked_to_log_in(client.get(url))
    assert _sessions(runtime) == sessions_before
    _locked_out_everywhere(replay)


def test_leaving_enrolment_half_way_gives_no_session(app, runtime, users):
    client = app.test_client()
    login(client, "admin")
    first = client.get("/two-factor/enrol").get_data(as_text=True)
    old_secret = SECRET_ON_PAGE.search(first).group(1).replace(" ", "")
    _locked_out_everywhere(client)
    assert _asked_to_log_in(client.get("/login/code"))
    assert _sessions(runtime) == 0
    # Starting again gives a new secret: the half-seen one is worth nothing.
    login(client, "admin")
    assert _secret(runtime, "admin") != old_secret
    stale = _post_code(client, "/two-factor/enrol", _code(old_secret))
    assert stale.status_code == 401 and _sessions(runtime) == 0


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "ABCD-EFGH-JKLM-NPQR"])
def test_the_confirmation_without_a_valid_code_gives_no_session(app, runtime, users, code):
    client = app.test_client()
    login(client, "coord")
    response = _post_code(client, "/two-factor/enrol", code)
    assert response.status_code in (400, 401)
    assert _sessions(runtime) == 0
    assert _user(runtime, "coord").totp_enabled_at is None
    _locked_out_everywhere(client)


def test_an_enrolled_users_secret_cannot_be_replaced_with_the_password_alone(app, runtime, users):
    secret, _codes = _enrolled(app, runtime, "coord")
    client = _to_code_step(app, "coord")
    with client.session_transaction() as cookie:  # even a forged step name is refused
        cookie["two_factor_pending"] = {**cookie["two_factor_pending"], "step": "enrol"}
    assert _asked_to_log_in(client.get("/two-factor/enrol"))
    assert _asked_to_log_in(_to_code_step(app, "coord").get("/two-factor/enrol"))
    assert _secret(runtime, "coord") == secret


# --- the admin's reset ---------------------------------------------------------------------


def test_an_admin_resets_two_factor_and_ends_the_users_sessions(app, runtime, users):
    admin = app.test_client()
    _enrol(admin, runtime, "admin")
    _enrolled(app, runtime, "coord")
    coordinator = _to_code_step(app, "coord")
    assert _post_code(coordinator, "/login/code", _code(_secret(runtime, "coord"), 1))
    assert coordinator.get("/reports").status_code == 200
    page = admin.get(f"/admin/users/{users.coordinator.id}").get_data(as_text=True)
    assert 'id="reset-two-factor"' in page
    response = admin.post(
        f"/admin/users/{users.coordinator.id}/two-factor/reset",
        data={"csrf_token": csrf_from(page)},
    )
    assert response.status_code == 302
    assert _asked_to_log_in(coordinator.get("/reports"))
    assert _sessions(runtime, "coord") == 0
    assert count(runtime, RecoveryCode, RecoveryCode.user_id == users.coordinator.id) == 0
    user = _user(runtime, "coord")
    assert user.totp_secret is None and user.totp_enabled_at is None
    assert "two_factor.reset" in _actions(runtime, "coord")
    assert login(app.test_client(), "coord").headers["Location"].endswith("/two-factor/enrol")


def test_only_an_admin_resets_two_factor(app, runtime, users, client_for):
    client = client_for("obs1")
    token = csrf_from(client.get("/home").get_data(as_text=True))
    response = client.post(
        f"/admin/users/{users.observer2.id}/two-factor/reset", data={"csrf_token": token}
    )
    assert response.status_code == 403
