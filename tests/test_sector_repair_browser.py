"""The repair preview in a real Chromium (1280×800, offline): Ukraine's outline from Natural
Earth, mended, drawn over the outline as given, then imported with one button."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from fieldreport.sectors.models import Sector
from tests.helpers import browser_login, make_settings, make_user, pictures_dir
from tests.live_server import live_server as running_server
from tests.test_sector_repair import UKRAINE_ID, WORLD_ATLAS, collection, topojson_geometry


@pytest.fixture
def live_server(tmp_path: Path, sqlite_url: str) -> Iterator[Any]:
    with running_server(make_settings(tmp_path, sqlite_url), observers=()) as server:
        with server.runtime.db.session_scope() as session:
            make_user(session, "coord", "coordinator", display_name="C")
        yield server


def test_the_repair_is_previewed_on_a_map_then_imported(browser, live_server, tmp_path):
    ukraine = topojson_geometry(WORLD_ATLAS / "countries-10m.json", "countries", UKRAINE_ID)
    upload = tmp_path / "ukraine.geojson"
    upload.write_text(json.dumps(collection("UA", "Ukraine (Natural Earth)", ukraine)))
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.route(
        "**/*",
        lambda r: r.continue_() if "127.0.0.1" in r.request.url else r.abort(),
    )
    browser_login(page, live_server.url, "coord")
    page.goto(f"{live_server.url}/sectors")
    page.set_input_files("input[name=file]", str(upload))
    page.locator("form[action='/sectors/import'] button[type=submit]").click()
    expect(page.locator("#repairs li")).to_contain_text("differs by less than a millionth")
    expect(page.locator("#repair-map")).to_have_attribute("data-state", "ready")
    assert page.locator("#repair-map path.leaflet-interactive").count() == 2
    page.screenshot(path=str(pictures_dir(tmp_path) / "sector-repair-preview.png"))
    page.click("#accept-repairs button[type=submit]")
    page.wait_for_url(f"{live_server.url}/sectors")
    with live_server.runtime.db.session_scope(write=False) as session:
        assert session.scalar(select(Sector.code)) == "UA"
    context.close()
