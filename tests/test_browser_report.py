"""A phone in a real browser: log in, file a report with a corpus photo, see it in the list."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from fieldreport.photos.models import Photo
from fieldreport.reports.models import Report
from tests.helpers import PASSWORD, make_settings
from tests.live_server import live_server


@pytest.fixture
def server(tmp_path: Path, sqlite_url: str):
    with live_server(make_settings(tmp_path, sqlite_url)) as running:
        yield running


def test_observer_files_a_report_with_a_photo_on_a_phone(server, phone_context, corpus):
    phone_context.grant_permissions(["geolocation"], origin=server.url)
    phone_context.set_geolocation({"latitude": 43.46745, "longitude": 11.88513, "accuracy": 8})
    page = phone_context.new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", "obs1")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{server.url}/reports/new")
    assert page.evaluate("window.innerWidth") == 360
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, "the form is wider than the phone"
    page.check("input[name=category][value=ceasefire_violation]")
    page.check("input[name=subcategory][value=explosion]")
    page.wait_for_function("document.querySelector('input[name=latitude]').value !== ''")
    assert page.input_value("input[name=position_source]") == "gps"
    page.check("input[name=basis][value=heard]")
    page.fill("textarea[name=narrative]", "Two explosions west of the checkpoint.")
    photo = corpus / "accept" / "gps_DSCN0010.jpg"
    page.set_input_files("input[name=photos]", str(photo))
    button = page.locator("button[type=submit].big")
    box = button.bounding_box()
    assert box is not None and box["height"] >= 44, "touch target too small"
    button.click()
    page.wait_for_url(re.compile(r".*/reports/\d+$"))
    assert "Two explosions west of the checkpoint." in page.content()
    page.goto(f"{server.url}/reports")
    assert page.locator("ul.list li").count() == 1
    assert "Explosion" in page.locator("ul.list").inner_text()
    with server.runtime.db.session_scope(write=False) as session:
        report = session.scalar(select(Report))
        stored = session.scalar(select(Photo))
    assert report.narrative == "Two explosions west of the checkpoint."
    assert abs(report.latitude - 43.46745) < 1e-4 and report.position_source == "gps"
    # The photo is the observer's file or, where the page downscales it first, a JPEG made
    # from it: either way the server keeps exactly the bytes it received, under their hash.
    kept = server.runtime.storage.get(f"originals/{stored.sha256[:2]}/{stored.sha256}")
    assert hashlib.sha256(kept).hexdigest() == stored.sha256
    assert stored.format == "JPEG"
