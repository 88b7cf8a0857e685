"""Photo uploads through the API: every corpus file judged by its pixels, stored once."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from fieldreport.photos.models import Photo
from tests.conftest import api_token, post_report, report_body


def _upload(client: Any, client_id: str, path: Path, name: str | None = None) -> Any:
    return client.post(
        f"/api/v1/reports/{client_id}/photos",
        data={"photo": (path.open("rb"), name or path.name)},
        headers={"X-CSRFToken": api_token(client)},
        content_type="multipart/form-data",
    )


def _photo_count(runtime: Any) -> int:
    with runtime.db.session_scope(write=False) as session:
        return session.scalar(select(func.count(Photo.id)))


@pytest.fixture
def filed(client_for: Any) -> tuple[Any, str]:
    client = client_for("obs1")
    body = report_body()
    assert post_report(client, body).status_code == 201
    return client, body["client_id"]


def test_every_accepted_corpus_photo_is_stored_with_its_hash(filed, runtime, manifest, corpus):
    client, client_id = filed
    accepted = [row for row in manifest if row["expect"] == "accept"]
    for row in accepted:
        response = _upload(client, client_id, corpus / row["file"])
        assert response.status_code == 201, (row["file"], response.get_json())
        assert response.get_json()["sha256"] == row["sha256"]
        assert response.get_json()["state"] in ("pending", "processing", "done")
    assert _photo_count(runtime) == len(accepted)


def test_every_rejected_corpus_file_is_refused_and_nothing_is_stored(
    filed, runtime, manifest, corpus
):
    client, client_id = filed
    for row in (row for row in manifest if row["expect"] == "reject"):
        response = _upload(client, client_id, corpus / row["file"])
        assert response.status_code == 422, row["file"]
        message = response.get_json()["message"]
        assert message and "Traceback" not in message
    assert _photo_count(runtime) == 0
    assert not runtime.storage.path("originals").exists()
    assert client.get("/healthz").status_code == 200


def test_photo_renamed_to_jpg_is_still_judged_by_its_content(filed, runtime, tmp_path):
    client, client_id = filed
    fake = tmp_path / "holiday.jpg"
    fake.write_text("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>")
    response = _upload(client, client_id, fake)
    assert response.status_code == 422
    assert _photo_count(runtime) == 0


def test_same_photo_twice_is_stored_once(filed, runtime, corpus):
    client, client_id = filed
    path = corpus / "accept" / "gps_DSCN0012.jpg"
    first = _upload(client, client_id, path)
    again = _upload(client, client_id, path, name="renamed.jpg")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert _photo_count(runtime) == 1


def test_photo_over_the_per_file_limit_gets_413(tmp_path, database_url, users, corpus):
    from fieldreport.runtime import build_runtime
    from fieldreport.web.app import build_app
    from tests.conftest import login, make_settings

    settings = make_settings(tmp_path, database_url, max_photo_bytes=100_000)
    runtime = build_runtime(settings)
    client = build_app(settings, runtime).test_client()
    login(client, "obs1")
    body = report_body()
    post_report(client, body)
    response = _upload(client, body["client_id"], corpus / "accept" / "gps_DSCN0010.jpg")
    assert response.status_code == 413
    assert "limit" in response.get_json()["message"]
    runtime.db.dispose()


def test_client_file_name_is_display_text_only(filed, runtime, corpus):
    client, client_id = filed
    path = corpus / "accept" / "Canon_40D.jpg"
    response = _upload(client, client_id, path, name="../../etc/passwd\x00<b>.jpg")
    assert response.status_code == 201
    with runtime.db.session_scope(write=False) as session:
        photo = session.scalar(select(Photo))
    assert photo.original_name == "passwd<b>.jpg"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert runtime.storage.exists(f"originals/{digest[:2]}/{digest}")


def test_observer_cannot_open_another_observers_photo_or_upload_to_their_report(
    filed, client_for, runtime, corpus
):
    client, client_id = filed
    _upload(client, client_id, corpus / "accept" / "Canon_40D.jpg")
    with runtime.db.session_scope(write=False) as session:
        photo_id = session.scalar(select(Photo.id))
    other = client_for("obs2")
    assert other.get(f"/photos/{photo_id}/original").status_code == 404
    assert other.get(f"/photos/{photo_id}/thumb").status_code == 404
    assert _upload(other, client_id, corpus / "accept" / "Canon_40D.jpg").status_code == 404
    assert client_for("coord").get(f"/photos/{photo_id}/original").status_code == 200
    assert client_for("comm").get(f"/photos/{photo_id}/original").status_code == 403


def test_upload_without_the_photo_field_is_explained(filed):
    client, client_id = filed
    response = client.post(
        f"/api/v1/reports/{client_id}/photos",
        data={"picture": "x"},
        headers={"X-CSRFToken": api_token(client)},
    )
    assert response.status_code == 422
    assert "photo" in response.get_json()["errors"]
