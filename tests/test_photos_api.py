"""Photo uploads through the API: every corpus file judged by its pixels, stored once."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import select

from fieldreport.photos.models import Photo
from fieldreport.reports.models import Report
from tests.helpers import (
    CSRF_REFUSED,
    ON_POSTGRESQL_ONLY,
    api_token,
    count,
    held_at_statement,
    login,
    post_report,
    report_body,
    run_together,
    upload_photo,
)


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
        response = upload_photo(client, client_id, corpus / row["file"])
        assert response.status_code == 201, (row["file"], response.get_json())
        assert response.get_json()["sha256"] == row["sha256"]
        assert response.get_json()["state"] in ("pending", "processing", "done")
    assert count(runtime, Photo) == len(accepted)


def test_every_rejected_corpus_file_is_refused_and_nothing_is_stored(
    filed, runtime, manifest, corpus
):
    client, client_id = filed
    for row in (row for row in manifest if row["expect"] == "reject"):
        response = upload_photo(client, client_id, corpus / row["file"])
        assert response.status_code == 422, row["file"]
        message = response.get_json()["message"]
        assert message and "Traceback" not in message
    assert count(runtime, Photo) == 0
    assert not runtime.storage.path("originals").exists()
    assert client.get("/healthz").status_code == 200


def test_photo_renamed_to_jpg_is_still_judged_by_its_content(filed, runtime, tmp_path):
    client, client_id = filed
    fake = tmp_path / "holiday.jpg"
    fake.write_text("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>")
    response = upload_photo(client, client_id, fake)
    assert response.status_code == 422
    assert count(runtime, Photo) == 0


def test_same_photo_twice_is_stored_once(filed, runtime, corpus):
    client, client_id = filed
    path = corpus / "accept" / "gps_DSCN0012.jpg"
    first = upload_photo(client, client_id, path)
    again = upload_photo(client, client_id, path, name="renamed.jpg")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert count(runtime, Photo) == 1


@ON_POSTGRESQL_ONLY
def test_same_photo_uploaded_twice_at_once_is_stored_once(filed, app, runtime, corpus):
    _client, client_id = filed
    clients = []
    for _ in range(2):
        client = app.test_client()
        assert login(client, "obs1").status_code == 302
        clients.append(client)
    path = corpus / "accept" / "gps_DSCN0012.jpg"

    # Both uploads are held at their INSERT until both are there: neither saw the other's row.
    with held_at_statement(runtime.db.engine, "INSERT INTO photos (", 2) as held:
        responses = run_together(
            *(lambda c=client: upload_photo(c, client_id, path) for client in clients)
        )

    assert len(held) == 2
    assert sorted(r.status_code for r in responses) == [200, 201]
    assert len({r.get_json()["id"] for r in responses}) == 1
    assert count(runtime, Photo) == 1
    runtime.queue.drain()


def test_photo_over_the_per_file_limit_gets_413(tmp_path, database_url, users, corpus):
    from fieldreport.runtime import build_runtime
    from fieldreport.web.app import build_app
    from tests.helpers import login, make_settings

    settings = make_settings(tmp_path, database_url, max_photo_bytes=100_000)
    runtime = build_runtime(settings)
    client = build_app(settings, runtime).test_client()
    assert login(client, "obs1").status_code == 302
    body = report_body()
    assert post_report(client, body).status_code == 201
    response = upload_photo(client, body["client_id"], corpus / "accept" / "gps_DSCN0010.jpg")
    assert response.status_code == 413
    assert "limit" in response.get_json()["message"]
    runtime.db.dispose()


def test_client_file_name_is_display_text_only(filed, runtime, corpus):
    client, client_id = filed
    path = corpus / "accept" / "Canon_40D.jpg"
    response = upload_photo(client, client_id, path, name="../../etc/passwd\x00<b>.jpg")
    assert response.status_code == 201
    with runtime.db.session_scope(write=False) as session:
        photo = session.scalar(select(Photo))
    assert photo.original_name == "passwd<b>.jpg"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert runtime.storage.exists(f"originals/{digest[:2]}/{digest}")


def _processed_photo(runtime: Any, client: Any, client_id: str, path: Any) -> int:
    """Upload ``path`` and wait for its job, so that its thumbnail and display copy exist."""
    response = upload_photo(client, client_id, path)
    assert response.status_code == 201, response.get_json()
    runtime.queue.drain()
    photo_id = response.get_json()["id"]
    with runtime.db.session_scope(write=False) as session:
        assert session.get_one(Photo, photo_id).state == "done"
    return photo_id


PHOTO_FILES = ("original", "display", "thumb")


def test_photo_files_are_served_only_to_those_who_may_see_the_report(
    filed, client_for, runtime, corpus
):
    client, client_id = filed
    photo_id = _processed_photo(runtime, client, client_id, corpus / "accept" / "Canon_40D.jpg")
    # The files exist: the owner and a coordinator get every one of them.
    for viewer in (client, client_for("coord"), client_for("admin")):
        for kind in PHOTO_FILES:
            assert viewer.get(f"/photos/{photo_id}/{kind}").status_code == 200, kind
    # Another observer does not learn that the photo exists.
    other = client_for("obs2")
    for kind in PHOTO_FILES:
        assert other.get(f"/photos/{photo_id}/{kind}").status_code == 404, kind
    # The commission sees nothing of a report that is not verified yet...
    commission = client_for("comm")
    for kind in ("display", "thumb"):
        assert commission.get(f"/photos/{photo_id}/{kind}").status_code == 404, kind
    assert commission.get(f"/photos/{photo_id}/original").status_code == 403


def test_commission_gets_the_copies_of_a_verified_reports_photo_but_never_the_original(
    filed, client_for, runtime, corpus
):
    client, client_id = filed
    photo_id = _processed_photo(runtime, client, client_id, corpus / "accept" / "Canon_40D.jpg")
    assert "original" in client.get(f"/api/v1/reports/{client_id}").get_json()["photos"][0]["urls"]
    with runtime.db.session_scope() as session:
        session.scalar(select(Report).where(Report.client_id == client_id)).status = "verified"
    commission = client_for("comm")
    for kind in ("display", "thumb"):
        assert commission.get(f"/photos/{photo_id}/{kind}").status_code == 200, kind
    assert commission.get(f"/photos/{photo_id}/original").status_code == 403
    (photo,) = commission.get(f"/api/v1/reports/{client_id}").get_json()["photos"]
    assert set(photo["urls"]) == {"display", "thumbnail"}


def test_observer_cannot_upload_to_another_observers_report(filed, client_for, runtime, corpus):
    _client, client_id = filed
    response = upload_photo(client_for("obs2"), client_id, corpus / "accept" / "Canon_40D.jpg")
    assert response.status_code == 404
    assert count(runtime, Photo) == 0


@pytest.mark.parametrize("username", ["coord", "comm", "admin"])
def test_only_observers_upload_photos(filed, client_for, runtime, corpus, username):
    _client, client_id = filed
    response = upload_photo(client_for(username), client_id, corpus / "accept" / "Canon_40D.jpg")
    assert response.status_code == 403
    assert count(runtime, Photo) == 0


def test_photo_upload_without_csrf_token_is_refused_and_stores_nothing(filed, runtime, corpus):
    client, client_id = filed
    response = client.post(
        f"/api/v1/reports/{client_id}/photos",
        data={"photo": ((corpus / "accept" / "Canon_40D.jpg").open("rb"), "Canon_40D.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert CSRF_REFUSED in response.get_json()["message"]
    assert count(runtime, Photo) == 0
    assert not runtime.storage.path("originals").exists()


def test_upload_without_the_photo_field_is_explained(filed):
    client, client_id = filed
    response = client.post(
        f"/api/v1/reports/{client_id}/photos",
        data={"picture": "x"},
        headers={"X-CSRFToken": api_token(client)},
    )
    assert response.status_code == 422
    assert "photo" in response.get_json()["errors"]
