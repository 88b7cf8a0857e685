"""Account administration in the web: who may, creating accounts with a one-time code, resets,
deactivation, languages, ending a user's sessions; every act audited."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from fieldreport.accounts.models import AuditLog, User
from tests.helpers import PASSWORD, csrf_from, login

CODE = re.compile(r'<strong class="code">([a-z0-9-]+)</strong>')


def _post(client, page_path: str, action: str, **data):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get(page_path).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **data})


def _user_id(runtime, username: str) -> int:  # type: ignore[no-untyped-def]
    with runtime.db.session_scope(write=False) as session:
        return session.scalar(select(User.id).where(User.username == username))


def _actions(runtime) -> list[tuple[str, str | None, dict | None]]:  # type: ignore[no-untyped-def]
    with runtime.db.session_scope(write=False) as session:
        rows = session.scalars(select(AuditLog).order_by(AuditLog.id))
        return [(row.action, row.username, row.detail) for row in rows]


@pytest.mark.parametrize("username", ["obs1", "coord", "comm"])
def test_only_admins_administer_accounts(client_for, runtime, username):
    client = client_for(username)
    assert client.get("/admin/users").status_code == 403
    target = f"/admin/users/{_user_id(runtime, 'obs2')}"
    assert client.get(target).status_code == 403
    # The acts too, with a valid token: 403, and nothing done.
    token = csrf_from(client.get("/reports").get_data(as_text=True))
    data = {"csrf_token": token, "active": "0", "language": "en"}
    for act in ("/password-reset", "/sessions/revoke", "/active", "/language"):
        assert client.post(target + act, data=data).status_code == 403, act
    acts = {"user.password_reset", "user.sessions_revoked", "user.deactivate", "user.language"}
    assert not acts & {action for action, *_ in _actions(runtime)}


def test_the_list_names_roles_and_languages_in_words(client_for):
    page = client_for("admin").get("/admin/users").get_data(as_text=True)
    for words in ("Observer", "Coordinator", "Commission member", "Administrator", "English"):
        assert words in page
    assert "T-01" in page
    assert "<td>observer</td>" not in page


def _create(client, **fields):  # type: ignore[no-untyped-def]
    data = {"username": "new.obs", "display_name": "Nadia New", "role": "observer"}
    data.update(team_code="T-09", language="en")
    data.update(fields)
    return _post(client, "/admin/users/new", "/admin/users/new", **data)


def test_an_observer_needs_a_team_code(client_for):
    answer = _create(client_for("admin"), team_code="")
    assert answer.status_code == 400
    assert "team code" in answer.get_data(as_text=True)


def test_a_new_account_logs_in_once_with_its_code_then_chooses_a_password(app, client_for, runtime):
    answer = _create(client_for("admin"))
    assert answer.status_code == 200
    code = CODE.search(answer.get_data(as_text=True)).group(1)
    phone = app.test_client()
    assert login(phone, "new.obs", code).headers["Location"] == "/account/password"
    assert phone.get("/home").headers["Location"] == "/account/password"
    assert phone.get("/api/v1/reports").status_code == 403
    changed = _post(
        phone,
        "/account/password",
        "/account/password",
        current_password=code,
        new_password="my own password",
        confirm="my own password",
    )
    assert changed.status_code == 302
    assert phone.get("/home").status_code == 200
    assert login(app.test_client(), "new.obs", code).status_code == 401
    assert ("user.create", "new.obs", {"role": "observer", "by": "admin"}) in _actions(runtime)


def test_a_reset_ends_every_session_and_shows_a_one_time_code(app, client_for, runtime):
    observer, admin = client_for("obs1"), client_for("admin")
    user_page = f"/admin/users/{_user_id(runtime, 'obs1')}"
    answer = _post(admin, user_page, user_page + "/password-reset")
    code = CODE.search(answer.get_data(as_text=True)).group(1)
    ended = observer.get("/home")
    assert ended.status_code == 302
    # The session itself ended (asked to log in), not just sent to choose a new password.
    assert ended.headers["Location"].startswith("/login")
    assert login(app.test_client(), "obs1", PASSWORD).status_code == 401
    assert login(app.test_client(), "obs1", code).headers["Location"] == "/account/password"
    assert code not in admin.get(user_page).get_data(as_text=True), "shown once only"
    assert "user.password_reset" in [action for action, *_ in _actions(runtime)]


def test_revoking_all_sessions_logs_out_every_device(client_for, runtime):
    phone, tablet, admin = client_for("obs1"), client_for("obs1"), client_for("admin")
    user_page = f"/admin/users/{_user_id(runtime, 'obs1')}"
    assert admin.get("/admin/users").get_data(as_text=True).count('class="sessions">2<') == 1
    answer = _post(admin, user_page, user_page + "/sessions/revoke")
    assert answer.status_code == 302
    assert phone.get("/home").status_code == 302
    assert tablet.get("/home").status_code == 302
    assert "No active sessions." in admin.get(user_page).get_data(as_text=True)
    revoked = [d for a, u, d in _actions(runtime) if a == "user.sessions_revoked"]
    assert revoked == [{"by": "admin", "ended": 2}]


def test_deactivation_ends_sessions_and_log_ins_until_reactivated(app, client_for, runtime):
    phone, admin = client_for("obs1"), client_for("admin")
    user_page = f"/admin/users/{_user_id(runtime, 'obs1')}"
    _post(admin, user_page, user_page + "/active", active="0")
    assert phone.get("/home").status_code == 302
    assert login(app.test_client(), "obs1").status_code == 401
    _post(admin, user_page, user_page + "/active", active="1")
    assert login(app.test_client(), "obs1").status_code == 302
    # Reactivation does not bring back the sessions that deactivation ended (a lost phone).
    assert phone.get("/home").status_code == 302
    actions = [action for action, *_ in _actions(runtime)]
    assert "user.deactivate" in actions and "user.reactivate" in actions


def test_an_admin_cannot_deactivate_their_own_account(client_for, runtime):
    admin = client_for("admin")
    user_page = f"/admin/users/{_user_id(runtime, 'admin')}"
    _post(admin, user_page, user_page + "/active", active="0")
    assert admin.get("/admin/users").status_code == 200


def test_the_admin_sets_a_users_language(client_for, runtime):
    admin = client_for("admin")
    user_page = f"/admin/users/{_user_id(runtime, 'obs1')}"
    assert _post(admin, user_page, user_page + "/language", language="en").status_code == 302
    assert _post(admin, user_page, user_page + "/language", language="xx").status_code == 302
    with runtime.db.session_scope(write=False) as session:
        assert session.scalar(select(User.language).where(User.username == "obs1")) == "en"
    assert [a for a, *_ in _actions(runtime)].count("user.language") == 1


def test_forms_without_a_token_change_nothing(client_for, runtime):
    admin = client_for("admin")
    user_page = f"/admin/users/{_user_id(runtime, 'obs1')}"
    assert admin.post(user_page + "/password-reset").status_code == 400
    assert admin.post(user_page + "/sessions/revoke").status_code == 400
