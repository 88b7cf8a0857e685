"""The observer's pages in Ukrainian and Russian in a real Chromium on a 360x740 phone: the
phone's language chosen at log-in, another picked on the log-in page, no English left on the
home page and the form, and the scripts' times written as the server writes them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import Browser, BrowserContext, Page

from fieldreport.i18n import TRANSLATIONS
from tests.external_servers import PHONE_VIEWPORT
from tests.helpers import browser_login, make_settings, pictures_dir
from tests.live_server import LiveServer, live_server

# Words that read the same in English (codes, names, units) are not evidence of a gap.
SAME_IN_EVERY_LANGUAGE = {"PDF", "GeoJSON file", "Code", "Sector", "Coordinator", "Role"}


@pytest.fixture
def server(tmp_path: Path, sqlite_url: str) -> Iterator[LiveServer]:
    with live_server(make_settings(tmp_path, sqlite_url)) as running:
        yield running


def _phone(browser: Browser, locale: str) -> BrowserContext:
    """A 360x740 phone whose language (Accept-Language, navigator.language) is ``locale``."""
    context = browser.new_context(
        viewport=PHONE_VIEWPORT,
        screen=PHONE_VIEWPORT,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        locale=locale,
    )
    context.set_default_timeout(15_000)
    return context


def _english_left(page: Page, language: str) -> list[str]:
    """English message ids (of two words or more) still visible on the page."""
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    text = page.inner_text("body")
    return [
        str(message.id)
        for message in catalogue
        if isinstance(message.id, str)
        and " " in message.id
        and "%(" not in message.id
        and message.id not in SAME_IN_EVERY_LANGUAGE
        and message.id != message.string
        and message.id in text
    ]


def _time_in_script(page: Page, iso: str) -> Any:
    return page.evaluate(
        "(iso) => import('/static/js/i18n.js').then((m) => m.formatTime(iso))", iso
    )


def test_an_observer_with_a_ukrainian_phone_gets_ukrainian_pages(
    browser: Browser, server: LiveServer, tmp_path: Path
) -> None:
    pictures = pictures_dir(tmp_path)
    context = _phone(browser, "uk-UA")
    try:
        page = context.new_page()
        page.goto(server.url + "/login")
        assert page.get_attribute("html", "lang") == "uk"
        assert page.inner_text("main button[type=submit]") == "Увійти"
        page.screenshot(path=str(pictures / "login-uk-360.png"))
        browser_login(page, None, "obs1")
        assert page.url.endswith("/home")
        assert "Новий звіт" in page.inner_text("main")
        assert _english_left(page, "uk") == []
        page.goto(server.url + "/reports/new")
        form = page.inner_text("main")
        assert "Що сталося" in form and "Надіслати звіт" in form
        assert "Порушення режиму припинення вогню" in page.inner_html("main")
        assert _english_left(page, "uk") == []
        page.screenshot(path=str(pictures / "report-form-uk-360.png"))
        # The scripts write a time as the server does, in the mission's zone (Europe/Rome).
        assert _time_in_script(page, "2026-12-03T12:05:00Z") == "3 груд. 2026, 13:05 (UTC+1)"
        assert _time_in_script(page, "2026-07-03T12:05:00Z") == "3 лип. 2026, 14:05 (UTC+2)"
    finally:
        context.close()


def test_russian_picked_on_the_log_in_page_of_an_english_phone_stays(
    browser: Browser, server: LiveServer
) -> None:
    context = _phone(browser, "en-US")
    try:
        page = context.new_page()
        page.goto(server.url + "/login")
        assert page.inner_text("main button[type=submit]") == "Log in"
        assert "Log in" in _english_left(page, "ru")  # the check sees English when it is there
        page.click("nav.languages a[lang=ru]")
        assert page.inner_text("main button[type=submit]") == "Войти"
        browser_login(page, None, "obs1")
        assert "Новый отчет" in page.inner_text("main")
        assert _english_left(page, "ru") == []
        page.goto(server.url + "/reports/new")
        assert "Отправить отчет" in page.inner_text("main")
        assert _english_left(page, "ru") == []
        assert _time_in_script(page, "2026-12-03T12:05:00Z") == "3 дек. 2026, 13:05 (UTC+1)"
        page.goto(server.url + "/account/language")
        assert page.input_value("select[name=language]") == "ru"
    finally:
        context.close()
