"""The coordinators' map in a real Chromium on a tablet, offline: the vendored base layer, sectors
coloured by coverage, reports grouped and counted, popups that say where in words."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from fieldreport.accounts.models import User
from fieldreport.demo import DEMO_PLACES
from fieldreport.places.gazetteer import parse_places
from fieldreport.places.service import load_places
from fieldreport.reports.models import Report
from fieldreport.sectors import service as sectors
from tests.helpers import (
    DMZ,
    EAST,
    WEST,
    browser_login,
    collection,
    file_report,
    make_settings,
    make_user,
    pictures_dir,
)
from tests.live_server import live_server as running_server


@pytest.fixture
def live_server(tmp_path: Path, sqlite_url: str) -> Iterator[dict[str, Any]]:
    """The app on a real port, with sectors, a coordinator and three reports filed just now."""
    with running_server(make_settings(tmp_path, sqlite_url), observers=("obs1",)) as server:
        with server.runtime.db.session_scope() as session:
            observer = session.scalar(select(User).where(User.username == "obs1"))
            make_user(session, "coord", "coordinator", display_name="C")
            sectors.import_sector_collection(session, collection(WEST, EAST, DMZ))
            load_places(session, parse_places(DEMO_PLACES.read_text(encoding="utf-8")).rows)
            reports = [
                file_report(session, observer, 43.47, 11.85).id,
                file_report(session, observer, 43.47, 11.95, urgent=True).id,
                file_report(
                    session,
                    observer,
                    43.46,
                    11.86,
                    category="civilian_harm",
                    subcategory="injured",
                    details={},
                ).id,
            ]
            # The reports were filed an hour ago: just after midnight that is yesterday's map.
            first = session.get(Report, reports[0])
            day = first.occurred_at.astimezone(server.runtime.settings.zone).date().isoformat()
        yield {"url": server.url, "reports": reports, "day": day}


def _log_in(page: Any, base: str) -> None:
    browser_login(page, base, "coord")


def _offline(page: Any, blocked: list[str]) -> None:
    """Refuse every request that does not go to this machine, as in a field office offline."""

    def route(request_route: Any) -> None:
        host = urlsplit(request_route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            request_route.continue_()
        else:
            blocked.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)


def _watch(page: Any) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def _base_layer_pixels(page: Any) -> int:
    """Pixels of the world pane's canvas that are drawn (land, borders, coasts)."""
    return page.eval_on_selector(
        ".leaflet-world-pane canvas",
        """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                 let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }""",
    )


def test_the_base_layer_draws_with_no_internet(tablet_context, live_server):
    page = tablet_context.new_page()
    blocked: list[str] = []
    _offline(page, blocked)
    problems = _watch(page)
    base = live_server["url"]
    _log_in(page, base)
    page.goto(f"{base}/map?day={live_server['day']}")
    page.wait_for_selector("#map[data-state=ready][data-base]")
    # Zoomed in on the sectors: the 1:10m borders replace the 1:50m ones.
    expect(page.locator("#map")).to_have_attribute("data-base", "detail", timeout=30_000)
    assert _base_layer_pixels(page) > 10_000
    # Sectors are drawn too, coloured by coverage.
    assert page.locator("path.sector").count() == 3
    assert blocked == [] and problems == []


def test_the_map_groups_reports_and_counts_them_all(tablet_context, live_server):
    page = tablet_context.new_page()
    base = live_server["url"]
    _log_in(page, base)
    page.goto(f"{base}/map?day={live_server['day']}")
    page.wait_for_selector("#map[data-state=ready]")
    total = len(live_server["reports"])
    assert page.locator("#map").get_attribute("data-total") == str(total)
    page.click("button.map-reset")
    zoom = int(page.locator("#map").get_attribute("data-zoom"))
    while zoom > 9:  # at zoom 9 a group is 0.16° wide: the three reports are one group
        page.click(".leaflet-control-zoom-out")
        zoom -= 1
        # Each zoom asks the server for its groups: allow for a busy CI machine.
        expect(page.locator("#map")).to_have_attribute("data-zoom", str(zoom), timeout=20_000)
    expect(page.locator(".report-cluster")).to_have_count(1)
    assert page.locator(".report-cluster span").inner_text() == str(total)
    # Clicking a group zooms in by two levels around it, until its reports stand apart.
    for _ in range(3):
        if not page.locator(".report-cluster").count():
            break
        page.locator(".report-cluster").first.click()
        zoom += 2
        expect(page.locator("#map")).to_have_attribute("data-zoom", str(zoom))
    expect(page.locator(".report-cluster")).to_have_count(0)
    expect(page.locator(".report-point")).to_have_count(total)
    assert page.locator(".report-point.urgent").count() == 1


def test_a_popup_shows_the_report_in_words_with_review_links(tablet_context, live_server):
    page = tablet_context.new_page()
    base = live_server["url"]
    _log_in(page, base)
    page.goto(f"{base}/map?day={live_server['day']}&category=civilian_harm")
    page.wait_for_selector("#map[data-state=ready]")
    expect(page.locator(".report-point")).to_have_count(1)
    page.locator(".report-point").click()
    popup = page.locator(".report-popup:not(.loading)")
    expect(popup.locator(".place")).to_have_text("1.6 km north-west of Arezzo")
    link = popup.locator("a.button").first
    assert link.get_attribute("href") == f"/reports/{live_server['reports'][2]}"
    link.click()
    page.wait_for_url(f"**/reports/{live_server['reports'][2]}")
    assert "1.6 km north-west of Arezzo" in page.content()


def test_map_filter_by_category_redraws_the_points(tablet_context, live_server):
    page = tablet_context.new_page()
    base = live_server["url"]
    _log_in(page, base)
    page.goto(f"{base}/map?day={live_server['day']}")
    page.wait_for_selector("#map[data-state=ready]")
    page.select_option("select[name=category]", "civilian_harm")
    # wait_for_function would evaluate a string, which the page's CSP (rightly) forbids.
    expect(page.locator("#map")).to_have_attribute("data-total", "1")
    assert "category=civilian_harm" in page.url


def test_screenshot_of_the_map_for_the_docs(browser, live_server, tmp_path):
    pictures = pictures_dir(tmp_path)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    _offline(page, [])
    base = live_server["url"]
    _log_in(page, base)
    page.goto(f"{base}/map?day={live_server['day']}")
    expect(page.locator("#map")).to_have_attribute("data-base", "detail", timeout=30_000)
    page.locator("#map").scroll_into_view_if_needed()
    page.locator(".report-point").first.click()
    expect(page.locator(".report-popup:not(.loading) .place")).to_be_visible()
    page.wait_for_timeout(300)
    page.screenshot(path=str(pictures / "map-popup.png"))
    page.keyboard.press("Escape")
    for zoom in (11, 10, 9, 8, 7):
        page.click(".leaflet-control-zoom-out")
        expect(page.locator("#map")).to_have_attribute("data-zoom", str(zoom), timeout=20_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(pictures / "map.png"))
    context.close()
    assert (pictures / "map.png").stat().st_size > 20_000


def test_drawing_a_sector_fills_the_geometry_field(tablet_context, live_server):
    page = tablet_context.new_page()
    base = live_server["url"]
    _log_in(page, base)
    page.goto(f"{base}/sectors/new")
    page.wait_for_selector(".draw-tools:not([hidden])")
    box = page.locator("#draw-map").bounding_box()
    for dx, dy in ((0.3, 0.3), (0.6, 0.3), (0.6, 0.6), (0.3, 0.6)):
        page.mouse.click(box["x"] + box["width"] * dx, box["y"] + box["height"] * dy)
    page.click("button[data-draw=finish]")
    geometry = json.loads(page.input_value("#geometry"))
    assert geometry["type"] == "Polygon"
    ring = geometry["coordinates"][0]
    assert len(ring) == 5 and ring[0] == ring[-1]
    page.fill("input[name=code]", "NEW-1")
    page.fill("input[name=name]", "Drawn in the browser")
    page.click("#sector-form button[type=submit]")
    page.wait_for_url(f"{base}/sectors")
    assert "NEW-1" in page.content()
