"""In a real Chromium: an admin creates an observer in the web; the observer files from a phone,
saves a second report offline; the admin ends the observer's sessions (phone lost); back
online, the phone is asked to log in and its outbox still holds the unsent report."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from sqlalchemy import func, select

from fieldreport.accounts.service import create_user
from fieldreport.reports.models import Report
from tests.helpers import fill_report_form, make_settings
from tests.live_server import PASSWORD, LiveServer, live_server

LAPTOP = {"width": 1280, "height": 800}
WAIT_MS = 15_000
NEW_PASSWORD = "observer's own password"


@pytest.fixture
def server(tmp_path: Path, sqlite_url: str) -> Iterator[LiveServer]:
    with live_server(make_settings(tmp_path, sqlite_url), observers=()) as running:
        with running.runtime.db.session_scope() as session:
            create_user(session, "admin", role="admin", password=PASSWORD, display_name="Ada")
        yield running


@pytest.fixture
def laptop(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=LAPTOP)
    context.set_default_timeout(WAIT_MS)
    yield context
    context.close()


def _js(page: Page, script: str) -> Any:
    bounded = (
        f"() => Promise.race([({script})(), new Promise((_, reject) => "
        f"setTimeout(() => reject(new Error('no answer in time')), {WAIT_MS}))])"
    )
    return page.evaluate(bounded)


def _wait_until(page: Page, condition: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + WAIT_MS / 1000
    while not (value := condition()):
        assert time.monotonic() < deadline, "condition not met in time"
        page.wait_for_timeout(100)
    return value


def _outbox_states(page: Page) -> list[str]:
    return _js(
        page,
        """() => import("/static/js/outbox.js").then((m) => m.list())
            .then((entries) => entries.map((e) => e.state))""",
    )


def _log_in(page: Page, username: str, password: str) -> None:
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")


def _reports(server: LiveServer) -> int:
    with server.runtime.db.session_scope(write=False) as session:
        return session.scalar(select(func.count()).select_from(Report))


def _create_observer(admin: Page, server: LiveServer) -> str:
    admin.goto(server.url + "/login")
    _log_in(admin, "admin", PASSWORD)
    admin.goto(server.url + "/admin/users")
    admin.click("text=New account")
    admin.fill("input[name=username]", "field.obs")
    admin.fill("input[name=display_name]", "Farah Field")
    admin.select_option("select[name=role]", "observer")
    admin.fill("input[name=team_code]", "T-07")
    admin.click("#new-user button[type=submit]")
    return admin.inner_text("#one-time-code .code").strip()


def _first_log_in(phone: Page, server: LiveServer, code: str) -> None:
    phone.goto(server.url + "/login")
    _log_in(phone, "field.obs", code)
    phone.wait_for_url("**/account/password")
    phone.fill("input[name=current_password]", code)
    phone.fill("input[name=new_password]", NEW_PASSWORD)
    phone.fill("input[name=confirm]", NEW_PASSWORD)
    phone.click("#password-form button[type=submit]")
    phone.wait_for_url("**/home")


def _open_form(phone: Page, server: LiveServer) -> None:
    phone.goto(server.url + "/reports/new")
    _js(phone, "() => navigator.serviceWorker.ready.then(() => true)")
    if not phone.evaluate("() => Boolean(navigator.serviceWorker.controller)"):
        phone.reload()
    assert phone.evaluate("() => Boolean(navigator.serviceWorker.controller)")


def _fill_and_send(phone: Page, narrative: str) -> None:
    fill_report_form(phone, narrative)
    phone.click("#report-form button[type=submit]")


def test_a_lost_phone_is_logged_out_and_keeps_its_unsent_report(
    server: LiveServer, laptop: BrowserContext, phone_context: BrowserContext
) -> None:
    admin = laptop.new_page()
    code = _create_observer(admin, server)
    phone = phone_context.new_page()
    _first_log_in(phone, server, code)
    _open_form(phone, server)
    _fill_and_send(phone, "Filed online from the phone.")
    phone.wait_for_url("**/reports/1")
    assert _reports(server) == 1

    _open_form(phone, server)
    phone_context.set_offline(True)
    phone.reload()
    _fill_and_send(phone, "Saved offline, not sent yet.")
    phone.wait_for_selector("#form-status.notice")
    phone.wait_for_selector("#outbox-count:text('1')")

    admin.goto(server.url + "/admin/users")
    admin.click("text=Farah Field")
    admin.click("#revoke-sessions")
    assert "Sessions ended: 1." in admin.inner_text("main")

    phone_context.set_offline(False)
    _wait_until(phone, lambda: _outbox_states(phone) == ["login"])
    phone.goto(server.url + "/outbox")
    phone.wait_for_url("**/login?**")
    assert _outbox_states(phone) == ["login"], "the unsent report must stay on the phone"
    assert _reports(server) == 1
