"""The submission use cases without the web: a report with its photos, one photo added later.

A refusal must come before any write, so that the transaction owner (which commits when the view
returns normally) keeps nothing of a refused submission. Each test therefore commits after the
refusal, as a request would, and then looks for what was left behind.
"""

from __future__ import annotations

import dataclasses
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from fieldreport.accounts.models import AuditLog
from fieldreport.photos import service as photos
from fieldreport.photos.models import Photo
from fieldreport.reports import service
from fieldreport.reports.models import Report
from fieldreport.reports.schemas import ReportInvalid
from tests.helpers import report_body


def jpeg(colour: tuple[int, int, int] = (180, 60, 40)) -> bytes:
    out = BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "JPEG")
    return out.getvalue()


def submit(runtime: Any, observer: Any, values: dict[str, Any], uploads: list[Any]) -> Any:
    """Run the use case in a session that commits even when it refuses (as a view returns)."""
    with runtime.db.session_scope() as session:
        try:
            return service.submit_report_with_photos(
                session, runtime.storage, runtime.queue, observer, values, uploads, runtime.settings
            )
        except (ReportInvalid, service.ReportConflict, photos.PhotoRejected) as refused:
            return refused


def count(runtime: Any, model: Any) -> int:
    with runtime.db.session_scope(write=False) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def stored_files(runtime: Any) -> list[Path]:
    return [path for path in Path(runtime.storage.root).rglob("*") if path.is_file()]


def test_a_refused_photo_leaves_no_report_and_no_file(runtime, users, corpus):
    good = photos.Upload(jpeg(), "first.jpg")
    bad = photos.Upload((corpus / "reject/pillow_truncated_jpeg.jpg").read_bytes(), "second.jpg")
    refused = submit(runtime, users.observer, report_body(), [good, bad])
    assert isinstance(refused, photos.PhotoRejected)
    assert refused.original_name == "second.jpg"
    assert not refused.too_large
    assert count(runtime, Report) == 0
    assert count(runtime, Photo) == 0
    assert stored_files(runtime) == []


def test_a_photo_over_the_byte_limit_is_refused_as_too_large(runtime, users):
    small = dataclasses.replace(runtime.settings, max_photo_bytes=100)
    with runtime.db.session_scope() as session, pytest.raises(photos.PhotoRejected) as refused:
        service.submit_report_with_photos(
            session,
            runtime.storage,
            runtime.queue,
            users.observer,
            report_body(),
            [photos.Upload(jpeg(), "big.jpg")],
            small,
        )
    assert refused.value.too_large
    assert count(runtime, Report) == 0
    assert stored_files(runtime) == []


def test_invalid_values_are_refused_before_the_photos_are_looked_at(runtime, users):
    refused = submit(
        runtime, users.observer, report_body(latitude=123), [photos.Upload(b"", "empty.jpg")]
    )
    assert isinstance(refused, ReportInvalid)
    assert "latitude" in refused.errors
    assert count(runtime, Report) == 0


def test_report_and_photos_are_stored_and_processed_after_the_commit(runtime, users):
    uploads = [photos.Upload(jpeg(), "a.jpg"), photos.Upload(jpeg((10, 200, 30)), "b.jpg")]
    outcome = submit(runtime, users.observer, report_body(), uploads)
    assert outcome.created
    runtime.queue.drain()
    with runtime.db.session_scope(write=False) as session:
        stored = session.scalars(select(Photo).order_by(Photo.id)).all()
    assert [photo.report_id for photo in stored] == [outcome.report.id] * 2
    assert [photo.original_name for photo in stored] == ["a.jpg", "b.jpg"]
    assert [photo.state for photo in stored] == ["done", "done"]


def test_a_repeat_answers_with_the_stored_report_and_adds_no_photo_twice(runtime, users):
    body = report_body()
    upload = photos.Upload(jpeg(), "a.jpg")
    first = submit(runtime, users.observer, body, [upload])
    again = submit(runtime, users.observer, body, [upload])
    assert (first.created, again.created) == (True, False)
    assert again.report.id == first.report.id
    assert count(runtime, Report) == 1
    assert count(runtime, Photo) == 1


def test_a_conflict_keeps_its_audit_row_and_stores_no_photo(runtime, users):
    body = report_body()
    submit(runtime, users.observer, body, [])
    changed = {**body, "narrative": "Something else."}
    refused = submit(runtime, users.observer, changed, [photos.Upload(jpeg(), "a.jpg")])
    assert isinstance(refused, service.ReportConflict)
    with runtime.db.session_scope(write=False) as session:
        actions = session.scalars(select(AuditLog.action)).all()
    assert "report.conflict" in actions
    assert count(runtime, Report) == 1
    assert count(runtime, Photo) == 0
    assert stored_files(runtime) == []


def test_attach_photo_adds_one_photo_once_and_refuses_without_writing(runtime, users, corpus):
    outcome = submit(runtime, users.observer, report_body(), [])
    limits = photos.PhotoLimits.from_settings(runtime.settings)

    def attach(upload: photos.Upload) -> Any:
        with runtime.db.session_scope() as session:
            report = session.get_one(Report, outcome.report.id)
            return photos.attach_photo(
                session, runtime.storage, runtime.queue, report, users.observer, upload, limits
            )

    bad = (corpus / "reject/pillow_truncated_jpeg.jpg").read_bytes()
    with pytest.raises(photos.PhotoRejected):
        attach(photos.Upload(bad, "bad.jpg"))
    assert count(runtime, Photo) == 0
    assert stored_files(runtime) == []

    first = attach(photos.Upload(jpeg(), "a.jpg"))
    again = attach(photos.Upload(jpeg(), "copy.jpg"))
    assert (first.created, again.created) == (True, False)
    assert again.photo.id == first.photo.id
    runtime.queue.drain()
    with runtime.db.session_scope(write=False) as session:
        assert session.get_one(Photo, first.photo.id).state == "done"
