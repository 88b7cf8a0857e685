"""The review desk in a real Chromium on a laptop (1280×800): decisions by keyboard, the
spot-report banner, and the pictures of the desk kept under docs/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fieldreport.accounts.models import User
from fieldreport.alerts.service import raise_alert
from fieldreport.db import utcnow
from fieldreport.reports.models import Report
from fieldreport.sectors import service as sectors
from tests.helpers import (
    EAST,
    WEST,
    add_photo_row,
    add_report,
    browser_login,
    collection,
    make_settings,
    make_user,
    pictures_dir,
)
from tests.live_server import live_server as running_server

LAPTOP = {"width": 1280, "height": 800}
NARRATIVES = (
    "Patrol stopped at the checkpoint north of the bridge; weapons pointed at the vehicle.",
    "Three bursts of small-arms fire heard from the tree line east of the village.",
    "Two houses damaged by shelling overnight; residents report one person injured.",
    "Heavy weapon seen moving along the road inside the withdrawal zone.",
)


@pytest.fixture
def live_server(tmp_path: Path, sqlite_url: str) -> Iterator[dict[str, Any]]:
    """Sectors W and E, a coordinator, and four reports waiting (the first urgent, alerted)."""
    with running_server(make_settings(tmp_path, sqlite_url), observers=("obs1",)) as server:
        with server.runtime.db.session_scope() as session:
            observer = session.scalar(select(User).where(User.username == "obs1"))
            make_user(session, "coord", "coordinator", display_name="Carla Coordinator")
            sectors.import_sector_collection(session, collection(WEST, EAST))
            kinds = [
                ("freedom_of_movement", "threatened", True),
                ("ceasefire_violation", "small_arms_fire", False),
                ("civilian_harm", "damage_homes", False),
                ("weapons_forces", "heavy_weapons_restricted_area", False),
            ]
            ids = []
            for hours, (narrative, (category, sub, urgent)) in enumerate(
                zip(NARRATIVES, kinds, strict=True), start=1
            ):
                report = add_report(
                    session,
                    observer,
                    utcnow() - timedelta(hours=hours),
                    category=category,
                    subcategory=sub,
                    status="submitted",
                    urgent=urgent,
                    narrative=narrative,
                    lon=11.85 if hours % 2 else 11.94,
                    lat=43.47,
                )
                report.sector_id = 1 if hours % 2 else 2
                ids.append(report.id)
            raise_alert(session, session.get_one(Report, ids[0]))
        add_photo_row(server.runtime, ids[1], b"not decoded here")
        yield {"url": server.url, "ids": ids, "runtime": server.runtime}


@pytest.fixture
def laptop(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=LAPTOP, screen=LAPTOP)
    context.set_default_timeout(20_000)
    try:
        yield context
    finally:
        context.close()


def status_of(runtime: Any, report_id: int) -> str:
    with runtime.db.session_scope(write=False) as session:
        return session.get_one(Report, report_id).status


def test_coordinator_decides_by_keyboard_and_moves_to_the_next_report(laptop, live_server):
    page = laptop.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    base, ids, runtime = live_server["url"], live_server["ids"], live_server["runtime"]
    browser_login(page, base, "coord")
    page.goto(f"{base}/review/{ids[0]}")
    page.wait_for_selector("#mini-map .leaflet-interactive")
    assert page.locator("button[data-key=v] kbd").inner_text() == "V"
    page.keyboard.press("v")
    page.wait_for_url(f"{base}/review/{ids[1]}")
    assert page.locator(".notice").inner_text() == "Review saved."
    assert status_of(runtime, ids[0]) == "verified"

    page.keyboard.press("a")  # no question written yet: the comment box takes the focus
    assert page.evaluate("document.activeElement.id") == "review-comment"
    assert page.url == f"{base}/review/{ids[1]}"
    page.keyboard.type("Which direction did the fire come from?")  # "a" in text stays text
    page.keyboard.press("Tab")
    page.keyboard.press("a")
    page.wait_for_url(f"{base}/review/{ids[2]}")
    assert status_of(runtime, ids[1]) == "needs_info"

    page.keyboard.press("r")
    page.wait_for_url(f"{base}/review/{ids[3]}")
    assert status_of(runtime, ids[2]) == "rejected"
    page.goto(f"{base}/review/reviewed")
    rows = page.locator("#reviewed tbody tr")
    assert rows.count() == 3 and "Carla Coordinator" in rows.first.inner_text()
    assert problems == []


def test_alert_banner_shows_on_open_pages_and_is_taken_with_one_click(laptop, live_server):
    page = laptop.new_page()
    base = live_server["url"]
    browser_login(page, base, "coord")
    page.goto(f"{base}/review")
    banner = page.locator("#alert-banner")
    banner.wait_for(state="visible")
    assert "Urgent report" in banner.inner_text()
    banner.locator("button").click()
    page.wait_for_selector("#alert-banner .taken")
    assert "Taken by Carla Coordinator" in banner.inner_text()


def test_pictures_of_the_desk(laptop, live_server, tmp_path):
    """The queue and a report's page at 1280×800 (committed as docs/review-desk*.png)."""
    page = laptop.new_page()
    base, ids = live_server["url"], live_server["ids"]
    browser_login(page, base, "coord")
    page.goto(f"{base}/review")
    page.wait_for_selector("#alert-banner:not([hidden])")
    docs = pictures_dir(tmp_path)
    page.screenshot(path=str(docs / "review-desk.png"))
    page.goto(f"{base}/review/{ids[1]}")
    page.wait_for_selector("#mini-map .leaflet-interactive")
    page.screenshot(path=str(docs / "review-desk-report.png"))
    assert (docs / "review-desk.png").stat().st_size > 10_000
    assert page.locator(".desk-right").bounding_box()["x"] > 600  # two columns on a laptop
    page.goto(f"{base}/alerts")
    page.screenshot(path=str(docs / "alerts.png"))
    assert page.locator("#alert-list li.open").count() == 1


def test_an_alert_raised_while_the_page_is_open_shows_within_a_poll_and_beeps(laptop, live_server):
    page = laptop.new_page()
    base, ids, runtime = live_server["url"], live_server["ids"], live_server["runtime"]
    browser_login(page, base, "coord")
    page.goto(f"{base}/review")
    banner = page.locator("#alert-banner")
    banner.wait_for(state="visible")
    banner.locator("button").click()  # the first alert taken; a user gesture unlocks sound
    page.wait_for_selector("#alert-banner .taken")
    with runtime.db.session_scope() as session:
        raise_alert(session, session.get_one(Report, ids[2]))  # "damage to homes" is not urgent
        report = session.get_one(Report, ids[3])
        report.urgent = True
        raise_alert(session, report)
    banner.locator("button").wait_for(state="visible", timeout=30_000)  # the next poll (20 s)
    assert "Heavy weapons in a restricted area" in banner.inner_text()
    assert page.locator("#alert-banner").get_attribute("data-beeps") == "1"


def test_the_report_page_is_one_column_on_a_phone(phone_context, live_server, tmp_path):
    page = phone_context.new_page()
    base, ids = live_server["url"], live_server["ids"]
    browser_login(page, base, "coord")
    page.goto(f"{base}/review/{ids[1]}")
    page.wait_for_selector("#mini-map .leaflet-interactive")
    left = page.locator(".desk-left").bounding_box()
    right = page.locator(".desk-right").bounding_box()
    assert right["y"] >= left["y"] + left["height"] and right["x"] == left["x"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    page.screenshot(path=str(tmp_path / "review-desk-phone.png"), full_page=True)
