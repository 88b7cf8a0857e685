"""The HTML report form: works without JavaScript, keeps what was typed, refuses bad input."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from fieldreport.photos.models import Photo
from fieldreport.reports.models import Report
from tests.helpers import count, csrf_from


def _form(client: Any, **overrides: Any) -> dict[str, Any]:
    page = client.get("/reports/new").get_data(as_text=True)
    client_id = page.split('name="client_id" value="', 1)[1].split('"', 1)[0]
    local = datetime.now(ZoneInfo("Europe/Rome")) - timedelta(hours=1)
    values = {
        "csrf_token": csrf_from(page),
        "client_id": client_id,
        "category": "freedom_of_movement",
        "subcategory": "denied_access",
        "occurred_local": local.strftime("%Y-%m-%dT%H:%M"),
        "latitude": "43.4675",
        "longitude": "11.8851",
        "accuracy_m": "20",
        "basis": "seen",
        "d-freedom_of_movement-checkpoint_party": "Party B",
        "d-freedom_of_movement-duration_min": "45",
        "narrative": "Patrol stopped at the bridge.",
    }
    values.update(overrides)
    return values


def test_form_files_a_report_and_shows_it_in_my_reports(client_for, runtime):
    client = client_for("obs1")
    response = client.post("/reports/new", data=_form(client))
    assert response.status_code == 302
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Patrol stopped at the bridge." in detail
    listing = client.get("/reports").get_data(as_text=True)
    assert "Freedom of movement" in listing
    with runtime.db.session_scope(write=False) as session:
        report = session.scalar(select(Report))
        assert report.details == {"checkpoint_party": "Party B", "duration_min": 45}
        assert report.occurred_offset_minutes in (60, 120)  # Europe/Rome, the mission zone


def test_form_sent_twice_stores_one_report(client_for, runtime):
    client = client_for("obs1")
    values = _form(client)
    first = client.post("/reports/new", data=values)
    again = client.post("/reports/new", data=values)
    assert (first.status_code, again.status_code) == (302, 302)
    assert first.headers["Location"] == again.headers["Location"]
    assert count(runtime, Report) == 1


def test_form_without_csrf_token_is_refused_and_stores_nothing(client_for, runtime):
    client = client_for("obs1")
    values = _form(client)
    del values["csrf_token"]
    response = client.post("/reports/new", data=values)
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert count(runtime, Report) == 0


def test_form_with_a_wrong_csrf_token_is_refused(client_for, runtime):
    client = client_for("obs1")
    response = client.post("/reports/new", data=_form(client, csrf_token="forged"))
    assert response.status_code == 400
    assert count(runtime, Report) == 0


def test_invalid_form_keeps_what_the_observer_typed(client_for, runtime):
    client = client_for("obs1")
    narrative = "Long careful notes that must not be lost"
    response = client.post("/reports/new", data=_form(client, latitude="95.2", narrative=narrative))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Must be between -90 and 90." in page
    assert narrative in page
    assert 'value="95.2"' in page
    assert 'value="Party B"' in page
    assert count(runtime, Report) == 0


def test_subcategory_of_another_category_is_refused(client_for):
    client = client_for("obs1")
    response = client.post("/reports/new", data=_form(client, subcategory="explosion"))
    assert response.status_code == 422
    assert "Does not belong to the category." in response.get_data(as_text=True)


def test_future_event_time_is_refused_in_the_form(client_for):
    client = client_for("obs1")
    future = (datetime.now(ZoneInfo("Europe/Rome")) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post("/reports/new", data=_form(client, occurred_local=future))
    assert response.status_code == 422
    assert "in the future" in response.get_data(as_text=True)


def _with_photo(values: dict[str, Any], path: Path) -> dict[str, Any]:
    return {**values, "photos": [(path.open("rb"), path.name)]}


def test_form_with_a_photo_stores_the_original_under_its_hash(client_for, runtime, corpus):
    client = client_for("obs1")
    path = corpus / "accept" / "gps_DSCN0010.jpg"
    response = client.post(
        "/reports/new",
        data=_with_photo(_form(client), path),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with runtime.db.session_scope(write=False) as session:
        photo = session.scalar(select(Photo))
        stored = runtime.storage.get(f"originals/{photo.sha256[:2]}/{photo.sha256}")
    assert stored == path.read_bytes()
    assert photo.original_name == "gps_DSCN0010.jpg"
    original = client.get(f"/photos/{photo.id}/original")
    assert original.status_code == 200
    assert original.data == path.read_bytes()
    assert original.headers["X-Content-Type-Options"] == "nosniff"
    assert original.mimetype == "image/jpeg"


@pytest.mark.parametrize(
    "name",
    [
        "pillow_crash-4fb027452e6988530aa5dabee76eecacb3b79f8a.j2k",
        "pillow_decompression_bomb.gif",
        "pillow_decompression_bomb_extents.gif",
        "pillow_oom-225817ca0f8c663be7ab4b9e717b02c661e66834.tif",
        "pillow_truncated_jpeg.jpg",
    ],
)
def test_hostile_photo_in_the_form_is_refused_and_nothing_is_stored(
    client_for, runtime, corpus, name
):
    client = client_for("obs1")
    path = corpus / "reject" / name
    response = client.post(
        "/reports/new",
        data=_with_photo(_form(client, narrative="Keep me"), path),
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert name[:40] in page
    assert "Keep me" in page
    assert "Traceback" not in page
    assert count(runtime, Report) == 0
    assert count(runtime, Photo) == 0
    assert not (runtime.storage.path("originals")).exists() or not any(
        runtime.storage.path("originals").rglob("*")
    )
    assert client.get("/healthz").status_code == 200


def test_request_over_the_limit_gets_a_readable_413(tmp_path, database_url, users):
    from fieldreport.runtime import build_runtime
    from fieldreport.web.app import build_app
    from tests.helpers import login, make_settings

    settings = make_settings(tmp_path, database_url, max_request_bytes=200_000)
    runtime = build_runtime(settings)
    app = build_app(settings, runtime)
    client = app.test_client()
    assert login(client, "obs1").status_code == 302
    values = _form(client)
    values["photos"] = [(io.BytesIO(b"\xff" * 100), "a.jpg")]
    values["narrative"] = "x" * 300_000
    response = client.post("/reports/new", data=values, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "larger than" in response.get_data(as_text=True)
    assert "<html" in response.get_data(as_text=True)
    runtime.db.dispose()
