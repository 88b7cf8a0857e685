"""The mission's languages: every string of the sources is in each catalogue, the user's
language is chosen at log-in (the phone's by default) and on the account page, and the
services' messages reach people in their language (pages, the API, the worker)."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po, write_po
from babel.support import Translations
from flask import Flask
from flask_babel import force_locale

from fieldreport.accounts.models import User
from fieldreport.digests.email import compose
from fieldreport.i18n import N_, TRANSLATIONS, Message, compile_catalogues, gettext_for
from fieldreport.i18n_tools import LANGUAGES, extract, problems, untranslated
from fieldreport.runtime import build_runtime
from fieldreport.sectors.geojson import SectorImportError, parse_sector_collection
from fieldreport.web.app import build_app
from fieldreport.web.dates import local_date, local_time, utc_offset
from fieldreport.web.languages import LANGUAGE_COOKIE, _script_words
from tests.helpers import (
    PASSWORD,
    api_token,
    csrf_from,
    feature,
    make_settings,
    make_user,
    report_body,
)

KYIV_WINTER = datetime(2026, 12, 3, 12, 5, tzinfo=UTC)  # 14:05 in Kyiv, 13:05 in Rome


def test_every_string_of_the_sources_is_translated_in_each_catalogue(tmp_path: Path) -> None:
    template = extract(tmp_path / "messages.pot")
    assert len(list(template)) > 500  # the extraction found the sources
    found = problems(template)
    assert set(found) == set(LANGUAGES) == {"uk", "ru"}
    assert found == {"uk": [], "ru": []}, "run: python -m fieldreport.i18n_tools update"


def test_a_missing_or_fuzzy_translation_is_listed(tmp_path: Path) -> None:
    template = extract(tmp_path / "messages.pot")
    po = Path(__file__).parent.parent / "fieldreport/translations/uk/LC_MESSAGES/messages.po"
    with po.open("rb") as handle:
        catalogue = read_po(handle)
    catalogue.delete("Report sent.")
    catalogue["Send report"].flags.add("fuzzy")
    copy = tmp_path / "uk.po"
    with copy.open("wb") as handle:
        write_po(handle, catalogue)
    with copy.open("rb") as handle:
        missing = untranslated(template, read_po(handle))
    assert sorted(missing) == ["Report sent.", "Send report"]


def test_a_message_with_values_reads_as_english_and_translates_whole() -> None:
    message = N_("At most %(n)s characters.", n=200)
    assert message == "At most 200 characters."
    assert isinstance(message, Message) and message.params == {"n": 200}
    assert gettext_for("uk")(message) == "Не більше 200 символів."
    assert gettext_for("ru")(message) == "Не более 200 символов."
    assert gettext_for("uk")("This field is required.") == "Це поле обов'язкове."


def test_the_log_in_page_speaks_the_phones_language(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/login", headers={"Accept-Language": "uk-UA,uk;q=0.9,en;q=0.5"})
    html = page.get_data(as_text=True)
    assert '<html lang="uk">' in html and "Увійти" in html
    assert '<option selected value="uk">' in html
    russian = client.get("/login?lang=ru", headers={"Accept-Language": "uk"})
    assert "Войти" in russian.get_data(as_text=True)


def _log_in(client, username: str, language: str, headers: dict[str, str]):
    token = csrf_from(client.get("/login", headers=headers).get_data(as_text=True))
    form = {"username": username, "password": PASSWORD, "csrf_token": token, "language": language}
    return client.post("/login", data=form, headers=headers)


def test_the_language_of_the_log_in_page_becomes_the_users(app: Flask, users, runtime) -> None:
    client = app.test_client()
    answer = _log_in(client, "obs1", "ru", {"Accept-Language": "uk"})
    assert answer.status_code == 302
    assert f"{LANGUAGE_COOKIE}=ru" in answer.headers["Set-Cookie"]
    with runtime.db.session_scope() as session:
        assert session.get(User, users.observer.id).language == "ru"
    home = client.get("/home", headers={"Accept-Language": "uk"}).get_data(as_text=True)
    assert '<html lang="ru">' in home and "Новый отчет" in home
    client.post("/logout", data={"csrf_token": csrf_from(home)})
    # The next log-in on this device speaks the last language, whatever the phone says.
    again = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Войти" in again


def test_the_account_page_changes_the_language(client_for, users, runtime) -> None:
    client = client_for("obs1")
    page = client.get("/account/language").get_data(as_text=True)
    answer = client.post(
        "/account/language", data={"language": "uk", "csrf_token": csrf_from(page)}
    )
    assert answer.status_code == 302
    saved = client.get("/account/language").get_data(as_text=True)
    assert "Мову збережено." in saved and "Мова" in saved
    with runtime.db.session_scope() as session:
        assert session.get(User, users.observer.id).language == "uk"
    refused = client.post(
        "/account/language", data={"language": "xx", "csrf_token": csrf_from(saved)}
    )
    assert refused.status_code == 400


def test_the_api_answers_a_refused_report_in_the_observers_language(client_for) -> None:
    client = client_for("obs1")
    page = client.get("/account/language").get_data(as_text=True)
    client.post("/account/language", data={"language": "uk", "csrf_token": csrf_from(page)})
    body = report_body(latitude=123.0, details={"count": "a dozen"})
    answer = client.post("/api/v1/reports", json=body, headers={"X-CSRFToken": api_token(client)})
    assert answer.status_code == 422, answer.get_data(as_text=True)
    errors = answer.get_json()["errors"]
    assert errors["latitude"] == ["Має бути від -90 до 90."]
    assert errors["details.count"] == ["Введіть ціле число."]


def test_times_are_written_one_way_in_the_missions_zone_with_month_names(app: Flask) -> None:
    with app.test_request_context("/"):
        assert local_time(KYIV_WINTER) == "3 Dec 2026, 13:05 (UTC+1)"  # tests: Europe/Rome
        with force_locale("uk"):
            assert local_time(KYIV_WINTER) == "3 груд. 2026, 13:05 (UTC+1)"
            assert local_date(KYIV_WINTER.date()) == "3 груд. 2026"
        with force_locale("ru"):
            assert local_time(KYIV_WINTER) == "3 дек. 2026, 13:05 (UTC+1)"
    india = datetime(2026, 12, 3, 12, 5, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert utc_offset(india) == "UTC+5:30" and utc_offset(KYIV_WINTER) == "UTC"


def test_the_scripts_words_are_the_catalogues_entries_found_in_static_js(tmp_path: Path) -> None:
    source = Path(__file__).parent.parent / "fieldreport/translations/uk/LC_MESSAGES/messages.po"
    with source.open("rb") as handle:
        catalogue = read_po(handle)
    catalogue.add("Sent: %(n)s.", "Надіслано: %(n)s.", locations=[("static/js/outbox.js", 3)])
    catalogue.add("Elsewhere", "Деінде", locations=[("templates/base.html", 3)])
    po = tmp_path / "messages.po"
    with po.open("wb") as handle:
        write_po(handle, catalogue)
    words = _script_words(po, po.stat().st_mtime)
    assert words["Sent: %(n)s."] == "Надіслано: %(n)s."
    assert "Elsewhere" not in words


def test_a_clean_clone_compiles_its_catalogues(tmp_path: Path) -> None:
    copy = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS, copy, ignore=shutil.ignore_patterns("*.mo"))
    assert compile_catalogues(copy) == 2
    assert compile_catalogues(copy) == 0  # fresh .mo files are left alone
    compiled = Translations.load(str(copy), ["ru"])
    assert compiled.gettext("Send report") == "Отправить отчет"


def test_error_pages_speak_the_readers_language(app: Flask) -> None:
    client = app.test_client()
    missing = client.get("/no-such-page", headers={"Accept-Language": "ru"})
    assert missing.status_code == 404
    assert "Не найдено" in missing.get_data(as_text=True)
    expired = client.post("/login", data={"username": "x"}, headers={"Accept-Language": "uk"})
    assert expired.status_code == 400
    assert "Термін дії форми минув" in expired.get_data(as_text=True)
    api = client.get("/api/v1/no-such-thing", headers={"Accept-Language": "uk"})
    assert api.get_json()["error"] == "Not Found"  # an identifier, in English
    assert api.get_json()["message"] == "Тут нічого немає, або це не призначено для вас."


def test_the_digest_email_is_written_in_the_missions_first_language(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'db'}", languages=("uk", "en"))
    message = compose(settings, day=date(2026, 11, 24), html="<p></p>", text="", pdf=b"%PDF")
    assert message["Subject"] == f"{settings.mission_name}: щоденне зведення за 2026-11-24"


def test_the_second_step_of_a_log_in_speaks_the_language_picked(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(tmp_path, sqlite_url, two_factor_roles=("coordinator",))
    runtime = build_runtime(settings)
    try:
        with runtime.db.session_scope() as session:
            make_user(session, "carla", "coordinator")
        client = build_app(settings, runtime).test_client()
        answer = _log_in_at(client, "/login?lang=ru", "carla", "ru")
        assert answer.status_code == 302 and "two-factor" in answer.headers["Location"]
        second = client.get(answer.headers["Location"]).get_data(as_text=True)
        assert '<html lang="ru">' in second and "Никому не показывайте эту страницу" in second
    finally:
        runtime.queue.shutdown()
        runtime.db.dispose()


def _log_in_at(client, url: str, username: str, language: str):
    token = csrf_from(client.get(url).get_data(as_text=True))
    form = {"username": username, "password": PASSWORD, "csrf_token": token, "language": language}
    return client.post(url, data=form)


def test_a_sector_files_problems_are_translated_whole_with_their_parts() -> None:
    unclosed = {"type": "Polygon", "coordinates": [[[11.8, 43.4], [11.9, 43.4], [11.9, 43.5]] * 2]}
    document = {"type": "FeatureCollection", "features": [feature("S-1", unclosed)]}
    with pytest.raises(SectorImportError) as refused:
        parse_sector_collection(document)
    reason = refused.value.problems[0].reason
    assert reason.startswith("outer ring is not closed (unclosed ring)")  # English as before
    assert gettext_for("uk")(reason).startswith("зовнішнє кільце: кільце не замкнене")
    assert gettext_for("ru")(reason).startswith("внешнее кольцо: кольцо не замкнуто")
