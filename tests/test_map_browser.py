"""The coordinators' map in a real Chromium on a tablet: sectors and the day's points, no tiles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fieldreport.accounts.models import User
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


def test_map_shows_the_days_report_points_without_tiles(tablet_context, live_server):
    page = tablet_context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    tile_requests: list[str] = []
    page.on(
        "request", lambda r: tile_requests.append(r.url) if r.resource_type == "image" else None
    )
    base = live_server["url"]
    _log_in(page, base)
    page.goto(f"{base}/map?day={live_server['day']}")
    page.wait_for_selector("#map[data-state=ready]")
    assert page.locator("path.report-point").count() == 3
    assert page.locator("#map").get_attribute("data-points") == "3"
    # The three sectors are drawn as vector shapes too (no tile needed to see them).
    assert page.locator("path.leaflet-interactive:not(.report-point)").count() == 3
    assert not any("tile" in url for url in tile_requests)
    assert problems == []


def test_map_filter_by_category_redraws_the_points(tablet_context, live_server):
    page = tablet_context.new_page()
    base = live_server["url"]
    _log_in(page, base)
    page.goto(f"{base}/map?day={live_server['day']}")
    page.wait_for_selector("#map[data-state=ready]")
    from playwright.sync_api import expect

    page.select_option("select[name=category]", "civilian_harm")
    # wait_for_function would evaluate a string, which the page's CSP (rightly) forbids.
    expect(page.locator("path.report-point")).to_have_count(1)
    assert "category=civilian_harm" in page.url


def test_tapping_a_point_opens_the_report(tablet_context, live_server):
    page = tablet_context.new_page()
    base = live_server["url"]
    _log_in(page, base)
    page.goto(f"{base}/map?day={live_server['day']}&category=civilian_harm")
    page.wait_for_selector("#map[data-state=ready]")
    page.locator("path.report-point").first.click(force=True)
    page.wait_for_url(f"**/reports/{live_server['reports'][2]}")


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
