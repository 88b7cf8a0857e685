"""Server-side sessions: log-out, "end all sessions", password changes and deactivation end a
session on the next request, even for a copied cookie; idle and absolute lifetimes."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select, update

from fieldreport.accounts.models import User, UserSession
from fieldreport.accounts.service import set_password
from fieldreport.db import utcnow
from tests.helpers import csrf_from

COOKIE = "fieldreport_session"


def _cookie(client: FlaskClient) -> str:
    return client.get_cookie(COOKIE).value


def _replay(app, cookie: str) -> FlaskClient:
    """A second browser that got hold of a copy of the cookie."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie)
    return thief


def _sessions(runtime, username: str) -> list[UserSession]:
    with runtime.db.session_scope(write=False) as session:
        user = session.scalar(select(User).where(User.username == username))
        return list(session.scalars(select(UserSession).where(UserSession.user_id == user.id)))


def test_cookie_replayed_after_logout_is_refused(app, client_for):
    client = client_for("obs1")
    cookie = _cookie(client)
    assert _replay(app, cookie).get("/home").status_code == 200
    page = client.get("/home").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_from(page)}).status_code == 302
    replayed = _replay(app, cookie).get("/home")
    assert replayed.status_code == 302
    assert "/login" in replayed.headers["Location"]
    api = _replay(app, cookie).get("/api/v1/reports")
    assert api.status_code == 401


def test_only_the_hash_of_the_session_id_is_stored(client_for, runtime):
    client = client_for("obs1")
    (row,) = _sessions(runtime, "obs1")
    assert len(row.token_sha256) == 64
    assert row.token_sha256 not in _cookie(client)
    assert row.user_agent is not None and row.address == "127.0.0.1"


def test_a_password_change_elsewhere_ends_every_session(client_for, runtime):
    phone, laptop = client_for("obs1"), client_for("obs1")
    with runtime.db.session_scope() as session:
        user = session.scalar(select(User).where(User.username == "obs1"))
        set_password(session, user, "a brand new password")
    assert phone.get("/home").status_code == 302
    assert laptop.get("/home").status_code == 302
    assert all(row.revoked_at is not None for row in _sessions(runtime, "obs1"))


def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(client_for, runtime):
    phone, laptop = client_for("obs1"), client_for("obs1")
    page = laptop.get("/account/password").get_data(as_text=True)
    answer = laptop.post(
        "/account/password",
        data={
            "csrf_token": csrf_from(page),
            "current_password": "correct horse battery",
            "new_password": "another long password",
            "confirm": "another long password",
        },
    )
    assert answer.status_code == 302
    assert laptop.get("/home").status_code == 200
    assert phone.get("/home").status_code == 302


def test_own_password_change_needs_the_current_password(client_for):
    client = client_for("obs1")
    page = client.get("/account/password").get_data(as_text=True)
    answer = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_from(page),
            "current_password": "not it at all",
            "new_password": "another long password",
            "confirm": "another long password",
        },
    )
    assert answer.status_code == 400
    assert "The current password is not right." in answer.get_data(as_text=True)


def test_an_idle_session_ends(client_for, runtime, app):
    client = client_for("obs1")
    idle = timedelta(hours=runtime.settings.session_idle_hours)
    with runtime.db.session_scope() as session:
        session.execute(update(UserSession).values(last_seen_at=utcnow() - idle - timedelta(1)))
    assert client.get("/home").status_code == 302


def test_a_session_ends_at_its_absolute_lifetime_however_busy(client_for, runtime):
    client = client_for("obs1")
    age = timedelta(days=runtime.settings.session_max_days)
    with runtime.db.session_scope() as session:
        session.execute(update(UserSession).values(created_at=utcnow() - age - timedelta(1)))
    assert client.get("/home").status_code == 302


def test_last_seen_is_written_at_most_once_a_minute(client_for, runtime):
    client = client_for("obs1")
    (row,) = _sessions(runtime, "obs1")
    client.get("/home")
    assert _sessions(runtime, "obs1")[0].last_seen_at == row.last_seen_at
    earlier = utcnow() - timedelta(minutes=5)
    with runtime.db.session_scope() as session:
        session.execute(update(UserSession).values(last_seen_at=earlier))
    assert client.get("/home").status_code == 200
    assert _sessions(runtime, "obs1")[0].last_seen_at > earlier + timedelta(minutes=4)
