"""The observer's phone in a real Chromium against the real app: offline filing, the outbox,
replay without duplicates, session expiry, and the page-weight and photo-size budgets."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image
from playwright.sync_api import BrowserContext, Page, Request, expect
from sqlalchemy import select

from fieldreport.photos.models import Photo
from fieldreport.reports import offline_views
from fieldreport.reports.models import Report
from fieldreport.storage import original_key
from tests.helpers import (
    PASSWORD,
    browser_login,
    count,
    csrf_from,
    fill_report_form,
    make_settings,
    report_body,
)
from tests.live_server import HttpClient, LiveServer, live_server

FIRST_LOAD_BUDGET = 50 * 1024
HTML_BUDGET = 14 * 1024
WAIT_MS = 15_000


@pytest.fixture
def server(tmp_path: Path, sqlite_url: str) -> Iterator[LiveServer]:
    with live_server(make_settings(tmp_path, sqlite_url)) as running:
        yield running


def _js(page: Page, script: str, arg: Any = None) -> Any:
    """Evaluate in the page; a promise that never settles fails the test instead of hanging."""
    bounded = (
        f"(arg) => Promise.race([({script})(arg), new Promise((_, reject) => "
        f"setTimeout(() => reject(new Error('no answer in time')), {WAIT_MS}))])"
    )
    return page.evaluate(bounded, arg)


def _wait_until(page: Page, condition: Callable[[], Any]) -> Any:
    """Poll a condition (wait_for_function evaluates strings, which the CSP rightly forbids)."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while not (value := condition()):
        assert time.monotonic() < deadline, "condition not met in time"
        page.wait_for_timeout(100)
    return value


def _outbox(page: Page) -> list[dict[str, Any]]:
    return _js(
        page,
        """() => import("/static/js/outbox.js").then((m) => m.list()).then((entries) =>
            entries.map((e) => ({
                client_id: e.client_id, state: e.state, error: e.error,
                photos: e.photos.map((p) => ({sha256: p.sha256, sent: p.sent})),
            })))""",
    )


def _open_form(page: Page, server: LiveServer) -> None:
    """Log in, open the form and wait until the service worker controls the page."""
    browser_login(page, server.url, "obs1")
    assert page.url.endswith("/home")
    page.goto(server.url + "/reports/new")
    _js(page, "() => navigator.serviceWorker.ready.then(() => true)")
    # Activation can finish after this page loaded, and whether the worker then claims it is a
    # race; a page loaded after activation is always controlled, so reload once when needed.
    if not page.evaluate("() => Boolean(navigator.serviceWorker.controller)"):
        page.reload()
    assert page.evaluate("() => Boolean(navigator.serviceWorker.controller)")


def _fill(page: Page, narrative: str, photo: Path | None = None) -> list[str]:
    """Fill in a valid report; returns the SHA-256 of the photos as the page prepared them."""
    fill_report_form(page, narrative)
    if photo is None:
        return []
    page.set_input_files("input[name=photos]", str(photo))
    page.wait_for_selector("#report-form[data-photos-ready='1']", state="attached")
    return page.get_attribute("#report-form", "data-photo-sha256").split()


def _submit(page: Page) -> None:
    page.click("#report-form button[type=submit]")


def _file_offline(page: Page, narrative: str, photo: Path | None = None) -> list[str]:
    hashes = _fill(page, narrative, photo)
    _submit(page)
    page.wait_for_selector("#form-status.notice")
    return hashes


def _count(server: LiveServer, model: Any, *where: Any) -> int:
    return count(server.runtime, model, *where)


def _file_two_offline(page: Page, server: LiveServer, corpus: Path) -> list[str]:
    _open_form(page, server)
    page.context.set_offline(True)
    page.reload()
    assert page.locator("#report-form").is_visible()
    _file_offline(page, "Bursts from the ridge.")
    hashes = _file_offline(page, "Impacts near the school.", corpus / "accept" / "gps_DSCN0010.jpg")
    page.wait_for_selector("#outbox-count:text('2')")
    return hashes


def test_reports_filed_offline_wait_in_the_outbox(
    server: LiveServer, phone_context: BrowserContext, corpus: Path
) -> None:
    page = phone_context.new_page()
    _file_two_offline(page, server, corpus)
    page.goto(server.url + "/outbox")
    expect(page.locator("#outbox-list li[data-state=waiting]")).to_have_count(2)
    assert _count(server, Report) == 0


def test_back_online_each_report_and_photo_arrives_once(
    server: LiveServer, phone_context: BrowserContext, corpus: Path
) -> None:
    page = phone_context.new_page()
    hashes = _file_two_offline(page, server, corpus)
    client_ids = [entry["client_id"] for entry in _outbox(page)]
    phone_context.set_offline(False)
    page.wait_for_selector("#outbox-count", state="hidden", timeout=WAIT_MS)
    assert _outbox(page) == []
    assert _count(server, Report, Report.client_id.in_(client_ids)) == 2
    assert _count(server, Report) == 2
    with server.runtime.db.session_scope(write=False) as session:
        stored = list(session.scalars(select(Photo.sha256)))
    assert stored == hashes
    original = hashlib.sha256((corpus / "accept" / "gps_DSCN0010.jpg").read_bytes()).hexdigest()
    assert hashes[0] != original, "the photo was sent as it came, not re-encoded"
    sent = Image.open(server.runtime.storage.path(original_key(hashes[0])))
    exif = sent.getexif()
    assert exif.get_ifd(ExifTags.IFD.GPSInfo), "the camera's GPS position was lost"
    assert exif.get(ExifTags.Base.Orientation, 1) == 1


def test_lost_answers_are_retried_without_a_duplicate_or_a_second_upload(
    server: LiveServer, phone_context: BrowserContext, corpus: Path
) -> None:
    page = phone_context.new_page()
    _open_form(page, server)
    server.lose_next_answer("POST", "/api/v1/reports")
    server.lose_next_answer("POST", "/api/v1/reports/")
    _fill(page, "Answers lost on the way back.", corpus / "accept" / "gps_DSCN0010.jpg")
    _submit(page)
    page.wait_for_selector("#form-status.notice")
    page.wait_for_selector("#outbox-count", state="hidden", timeout=2 * WAIT_MS)
    assert len(server.faults.lost) == 2
    assert server.faults.seen.count("POST /api/v1/reports") == 2
    assert len([line for line in server.faults.seen if line.endswith("/photos")]) == 1, (
        "the photo was uploaded again although the server had it"
    )
    assert _count(server, Report) == 1
    assert _count(server, Photo) == 1


def test_session_expired_while_offline_sends_after_log_in(
    server: LiveServer, phone_context: BrowserContext
) -> None:
    page = phone_context.new_page()
    _open_form(page, server)
    phone_context.set_offline(True)
    _file_offline(page, "Filed while the session ran out.")
    phone_context.clear_cookies()
    phone_context.set_offline(False)
    _wait_until(page, lambda: [entry["state"] for entry in _outbox(page)] == ["login"])
    assert _count(server, Report) == 0
    page.goto(server.url + "/outbox")
    page.wait_for_url("**/login?**")
    browser_login(page, None, "obs1")
    page.wait_for_url("**/outbox*")
    page.wait_for_selector("#outbox-empty", state="visible", timeout=WAIT_MS)
    assert _count(server, Report) == 1


def _transferred(requests: list[Request]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for request in requests:
        size = request.sizes()
        transferred = size["responseBodySize"] + size["responseHeadersSize"]
        sizes[request.url] = sizes.get(request.url, 0) + transferred
    return sizes


def test_report_page_first_load_is_within_budget(
    server: LiveServer, phone_context: BrowserContext
) -> None:
    """Everything the phone downloads for its first report page, the service worker's precache
    of the offline shell included, gzip as sent."""
    login = phone_context.request.get(server.url + "/login").text()
    form = {"username": "obs1", "password": PASSWORD, "csrf_token": csrf_from(login)}
    assert (
        phone_context.request.post(server.url + "/login", form=form, max_redirects=0).status == 302
    )
    page = phone_context.new_page()
    finished: list[Request] = []
    phone_context.on("requestfinished", lambda request: finished.append(request))
    page.goto(server.url + "/reports/new", wait_until="networkidle")
    page_sizes = _transferred([r for r in finished if not r.service_worker])
    _js(page, "() => navigator.serviceWorker.ready.then(() => true)")
    _wait_until(page, lambda: _js(page, "() => caches.keys().then((k) => k.length)"))
    sizes = _transferred(finished)
    total = sum(sizes.values())
    html = page_sizes[server.url + "/reports/new"]
    print(
        f"\nfirst load of /reports/new: page {sum(page_sizes.values()) / 1024:.1f} KB, "
        f"with the offline shell's precache {total / 1024:.1f} KB in {len(finished)} responses"
    )
    for url, size in sorted(sizes.items(), key=lambda item: -item[1]):
        print(f"  {size / 1024:6.1f} KB  {url.removeprefix(server.url)}")
    assert all(url.startswith(server.url) for url in sizes), "a third-party host was contacted"
    assert html <= HTML_BUDGET, f"HTML is {html} bytes"
    assert total <= FIRST_LOAD_BUDGET, f"first load is {total} bytes"
    # A repeat visit: what still crosses the network (the page itself; scripts, styles and
    # pictures come from the service worker's cache).
    finished.clear()
    page.goto(server.url + "/reports/new", wait_until="networkidle")
    network = [r for r in finished if not (r.response() and r.response().from_service_worker)]
    repeat = sum(_transferred(network).values())
    print(f"repeat visit of /reports/new: {repeat / 1024:.1f} KB over the network")
    assert 0 < repeat <= FIRST_LOAD_BUDGET // 2, f"repeat visit is {repeat} bytes"


def _upload_bytes(page: Page, server: LiveServer, photo: Path, *, original: bool) -> int:
    page.goto(server.url + "/reports/new")
    posted: list[Request] = []
    page.on(
        "requestfinished",
        lambda request: posted.append(request) if request.url.endswith("/photos") else None,
    )
    if original:
        page.check("#send-original")
    _fill(page, "A 12-megapixel photo.", photo)
    _submit(page)
    page.wait_for_url(re.compile(r"/reports/\d+$"), timeout=WAIT_MS)
    [request] = posted
    return int(request.all_headers()["content-length"])


def test_photos_are_downscaled_on_the_phone_unless_the_original_is_asked_for(
    server: LiveServer, phone_context: BrowserContext, corpus: Path
) -> None:
    photo = corpus / "accept" / "oddexif_exifsamples_tests_42_IndexError.jpg"
    page = phone_context.new_page()
    _open_form(page, server)
    downscaled = _upload_bytes(page, server, photo, original=False)
    original = _upload_bytes(page, server, photo, original=True)
    print(
        f"\n12 MP photo upload: downscaled {downscaled / 1024:.0f} KB, original "
        f"{original / 1024:.0f} KB, saved {(original - downscaled) / 1024:.0f} KB "
        f"({100 * (1 - downscaled / original):.0f} %)"
    )
    assert original >= photo.stat().st_size
    assert downscaled < original / 2
    with server.runtime.db.session_scope(write=False) as session:
        sizes = sorted(session.execute(select(Photo.width, Photo.height)).all())
    assert sizes == [(2048, 1536), (4032, 3024)]


def test_a_sideways_photo_is_turned_upright_on_the_phone(
    server: LiveServer, phone_context: BrowserContext, corpus: Path
) -> None:
    page = phone_context.new_page()
    _open_form(page, server)
    [sha256] = _fill(
        page, "Photo taken sideways.", corpus / "accept" / "orientation_portrait_6.jpg"
    )
    _submit(page)
    page.wait_for_url(re.compile(r"/reports/\d+$"), timeout=WAIT_MS)
    sent = Image.open(server.runtime.storage.path(original_key(sha256)))
    assert sent.size == (450, 600)
    assert sent.getexif().get(ExifTags.Base.Orientation, 1) == 1


def test_logging_out_forgets_the_cached_pages(
    server: LiveServer, phone_context: BrowserContext
) -> None:
    page = phone_context.new_page()
    _open_form(page, server)
    cached = "() => caches.match('/reports/new').then((hit) => Boolean(hit))"
    assert _js(page, cached)
    page.click("nav form button[type=submit]")
    page.wait_for_url("**/login")
    _wait_until(page, lambda: not _js(page, cached))


def test_conflicts_and_refusals_stay_in_the_outbox_in_words(
    server: LiveServer, phone_context: BrowserContext
) -> None:
    page = phone_context.new_page()
    _open_form(page, server)
    api = HttpClient(server.url)
    api.login("obs1")
    stored = report_body(latitude="43.4675", longitude="11.8851")
    assert api.post_report(stored).status == 201
    changed = {**stored, "narrative": "Another text under the same id."}
    invalid = report_body(latitude="95")
    _js(
        page,
        """([a, b]) => import("/static/js/outbox.js")
            .then((m) => Promise.all([m.add(a, [], "obs1"), m.add(b, [], "obs1")]))""",
        [changed, invalid],
    )
    page.goto(server.url + "/outbox")
    conflict = page.locator("#outbox-list li[data-state=conflict]")
    refused = page.locator("#outbox-list li[data-state=invalid]")
    expect(conflict).to_contain_text("Conflict")
    expect(refused).to_contain_text("Latitude: Must be between -90 and 90.")
    # Nothing can be sent until the observer acts: "Send now" says so by being disabled.
    expect(page.locator("#outbox-send")).to_be_disabled()
    expect(page.locator("#outbox-list li")).to_have_count(2)
    assert _count(server, Report) == 1


def test_a_poor_position_fix_is_flagged(server: LiveServer, phone_context: BrowserContext) -> None:
    phone_context.grant_permissions(["geolocation"], origin=server.url)
    phone_context.set_geolocation({"latitude": 43.4675, "longitude": 11.8851, "accuracy": 800})
    page = phone_context.new_page()
    _open_form(page, server)
    expect(page.locator("#locate-status")).to_have_class("warning")
    expect(page.locator("#locate-status")).to_contain_text("800 m")
    assert page.input_value("input[name=position_source]") == "gps"
    assert page.input_value("input[name=accuracy_m]") == "800"


def test_a_new_release_replaces_the_old_cache_when_the_observer_says_so(
    server: LiveServer, phone_context: BrowserContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = phone_context.new_page()
    _open_form(page, server)
    before = _js(page, "() => caches.keys()")
    monkeypatch.setattr(offline_views, "asset_version", lambda: "next-release")
    _js(page, "() => navigator.serviceWorker.getRegistration().then((r) => r.update())")
    with page.expect_navigation():
        page.click("#app-update")
    _wait_until(page, lambda: _js(page, "() => caches.keys()") == ["fieldreport-next-release"])
    assert before != ["fieldreport-next-release"]
    assert page.locator("#report-form").is_visible()
