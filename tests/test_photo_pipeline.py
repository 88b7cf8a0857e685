"""The photo job in the embedded (in-process) mode: derivatives, EXIF facts, flags, failures."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import time
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image, ImageChops, ImageCms, ImageOps, ImageStat
from sqlalchemy import select, update

from fieldreport.db import utcnow
from fieldreport.periodic import PERIODIC_TASKS
from fieldreport.photos import processing
from fieldreport.photos.flags import haversine_m
from fieldreport.photos.imaging import DAMAGED_MESSAGE
from fieldreport.photos.models import Photo
from fieldreport.photos.tasks import enqueue_photo, enqueue_sweep, run_photo_job
from fieldreport.reports.models import Report
from fieldreport.storage import LocalStorage, derivative_key, original_key
from tests.helpers import add_photo_row, post_report, report_body, upload_photo

REPORT_LAT, REPORT_LON = 43.4675, 11.8851
ORIENTATION_SAMPLES = (
    "orientation_landscape_3.jpg",
    "orientation_landscape_6.jpg",
    "orientation_portrait_6.jpg",
    "orientation_portrait_8.jpg",
)


def new_report(client: Any, **overrides: Any) -> str:
    body = report_body(latitude=REPORT_LAT, longitude=REPORT_LON, **overrides)
    assert post_report(client, body).status_code == 201
    return body["client_id"]


def photo_row(runtime: Any, photo_id: int) -> Photo:
    with runtime.db.session_scope(write=False) as session:
        return session.get_one(Photo, photo_id)


def submit(client: Any, runtime: Any, data: bytes, name: str = "photo.jpg", **report: Any) -> Photo:
    """File a report with one photo, let the in-process job run, and read the photo back."""
    response = upload_photo(client, new_report(client, **report), data, name)
    assert response.status_code == 201, response.get_json()
    runtime.queue.drain()
    return photo_row(runtime, response.get_json()["id"])


def jpeg(*, taken_at: datetime | None = None, size: tuple[int, int] = (64, 48)) -> bytes:
    """A small JPEG; with ``taken_at``, its EXIF says when (naive: a camera's local wall clock)."""
    image = Image.new("RGB", size, (180, 60, 40))
    out = BytesIO()
    if taken_at is None:
        image.save(out, "JPEG")
    else:
        exif = Image.Exif()
        exif[ExifTags.Base.Make] = "Test camera"
        exif_ifd = exif.get_ifd(ExifTags.IFD.Exif)
        exif_ifd[ExifTags.Base.DateTimeOriginal] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
        image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def codes(photo: Photo) -> set[str]:
    return {flag["code"] for flag in photo.flags}


def in_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """The reference picture: full decode, colours converted as the derivatives' are."""
    image = image.convert("RGB")
    if not icc_profile:
        return image
    source = ImageCms.ImageCmsProfile(BytesIO(icc_profile))
    return ImageCms.profileToProfile(
        image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
    )


def mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def test_every_accepted_corpus_photo_gets_derivatives_without_exif(
    client_for, runtime, corpus, manifest
):
    client = client_for("obs1")
    client_id = new_report(client)
    accepted = [row for row in manifest if row["expect"] == "accept"]
    ids = {}
    for row in accepted:
        response = upload_photo(client, client_id, (corpus / row["file"]).read_bytes(), row["file"])
        assert response.status_code == 201, (row["file"], response.get_json())
        ids[row["file"]] = response.get_json()["id"]
    runtime.queue.drain()

    storage = runtime.storage
    for row in accepted:
        photo = photo_row(runtime, ids[row["file"]])
        assert photo.state == "done", (row["file"], photo.failure_reason)
        assert photo.sha256 == row["sha256"]
        assert hashlib.sha256(storage.get(original_key(photo.sha256))).hexdigest() == row["sha256"]
        for kind, size in (
            ("display", (photo.display_width, photo.display_height)),
            ("thumb", (photo.thumbnail_width, photo.thumbnail_height)),
        ):
            data = storage.get(derivative_key(photo.sha256, kind))
            with Image.open(BytesIO(data)) as image:
                assert image.format == "JPEG"
                assert image.size == size
                assert len(image.getexif()) == 0, (row["file"], kind)
                assert "exif" not in image.info and "xmp" not in image.info
            assert b"Exif\x00\x00" not in data
        assert max(photo.display_width, photo.display_height) <= 1600
        assert max(photo.thumbnail_width, photo.thumbnail_height) <= 320


@pytest.mark.parametrize("name", ORIENTATION_SAMPLES)
def test_derivative_is_turned_upright_as_the_exif_orientation_says(
    name, client_for, runtime, corpus
):
    data = (corpus / "accept" / name).read_bytes()
    photo = submit(client_for("obs1"), runtime, data, name)
    assert photo.state == "done"
    with Image.open(BytesIO(runtime.storage.get(derivative_key(photo.sha256, "display")))) as d:
        display = d.convert("RGB")
    with Image.open(BytesIO(data)) as original:
        upright = in_srgb(ImageOps.exif_transpose(original), original.info.get("icc_profile"))
        as_stored = in_srgb(original, original.info.get("icc_profile"))
    assert display.size == upright.size
    right = mean_abs_diff(display, upright)
    wrong = mean_abs_diff(display, upright.transpose(Image.Transpose.ROTATE_180))
    stored = mean_abs_diff(display, as_stored.resize(display.size))
    assert right < 6, right
    assert wrong > 4 * right + 10, (right, wrong)
    assert stored > 4 * right + 10, (right, stored)


def test_gps_photos_get_their_manifest_position_on_the_photo_row(
    client_for, runtime, corpus, manifest
):
    client = client_for("obs1")
    client_id = new_report(client)
    with_gps = [row for row in manifest if row["expect"] == "accept" and row["gps_lat"]]
    assert len(with_gps) >= 5
    ids = {}
    for row in with_gps:
        response = upload_photo(client, client_id, (corpus / row["file"]).read_bytes(), row["file"])
        ids[row["file"]] = response.get_json()["id"]
    runtime.queue.drain()
    for row in with_gps:
        photo = photo_row(runtime, ids[row["file"]])
        assert photo.exif_latitude == pytest.approx(float(row["gps_lat"]), abs=1e-5)
        assert photo.exif_longitude == pytest.approx(float(row["gps_lon"]), abs=1e-5)


def test_photo_far_from_report_is_flagged_with_the_distance_in_km(client_for, runtime, corpus):
    photo = submit(
        client_for("obs1"), runtime, (corpus / "accept/hdr_iphone_hdr_YES.jpg").read_bytes()
    )
    far = next(flag for flag in photo.flags if flag["code"] == "far_from_report")
    km = round(
        haversine_m(REPORT_LAT, REPORT_LON, photo.exif_latitude, photo.exif_longitude) / 1000
    )
    assert km > 1000
    assert far["message"] == f"photo taken {km} km from the reported position"
    assert far["distance_km"] == km


def test_photo_near_the_report_is_not_flagged_as_far(client_for, runtime, corpus):
    photo = submit(client_for("obs1"), runtime, (corpus / "accept/gps_DSCN0010.jpg").read_bytes())
    assert photo.exif_latitude is not None
    assert "far_from_report" not in codes(photo)
    assert "no_gps" not in codes(photo)


METRES_PER_DEGREE_OF_LATITUDE = 111_195


@pytest.mark.parametrize(
    ("metres", "flagged"),
    [(1_500, False), (1_900, False), (2_100, True), (3_000, True), (4_500, True)],
)
def test_photo_is_flagged_as_far_only_beyond_the_default_2_km(
    client_for, runtime, corpus, manifest, metres, flagged
):
    """The corpus has no photo 2 to 10 km from the usual report position, so the report is
    moved instead: ``metres`` due north of where the photo's GPS says it was taken."""
    row = next(row for row in manifest if row["file"] == "accept/gps_DSCN0010.jpg")
    photo_lat, photo_lon = float(row["gps_lat"]), float(row["gps_lon"])
    assert runtime.settings.photo_distance_flag_m == 2000  # the default, not set by the tests
    client = client_for("obs1")
    body = report_body(
        latitude=photo_lat + metres / METRES_PER_DEGREE_OF_LATITUDE, longitude=photo_lon
    )
    assert post_report(client, body).status_code == 201
    response = upload_photo(client, body["client_id"], corpus / row["file"])
    assert response.status_code == 201
    runtime.queue.drain()
    photo = photo_row(runtime, response.get_json()["id"])
    assert photo.state == "done"
    assert "no_gps" not in codes(photo)
    far = [flag for flag in photo.flags if flag["code"] == "far_from_report"]
    if not flagged:
        assert far == []
        return
    (flag,) = far
    assert flag["distance_m"] == pytest.approx(metres, rel=0.01)
    assert flag["threshold_m"] == 2000
    assert flag["message"] == f"photo taken {metres / 1000:.1f} km from the reported position"


def test_distance_threshold_comes_from_the_settings(runtime, client_for, corpus):
    client = client_for("obs1")
    response = upload_photo(
        client, new_report(client), (corpus / "accept/gps_DSCN0027.jpg").read_bytes()
    )
    photo_id = response.get_json()["id"]
    runtime.queue.drain()
    assert "far_from_report" not in codes(photo_row(runtime, photo_id))
    strict = dataclasses.replace(runtime.settings, photo_distance_flag_m=50)
    with runtime.db.session_scope() as session:
        session.execute(update(Photo).values(state="pending"))
    runtime.storage.delete(derivative_key(photo_row(runtime, photo_id).sha256, "display"))
    assert run_photo_job(runtime.db, runtime.storage, strict, photo_id) == "done"
    photo = photo_row(runtime, photo_id)
    assert "photo taken 0.3 km from the reported position" in [f["message"] for f in photo.flags]


def test_photo_taken_long_before_the_event_is_flagged(client_for, runtime):
    occurred = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    occurred_local = (occurred + timedelta(hours=2)).replace(tzinfo=None)
    # The camera's clock says local wall-clock time (no offset), nine hours before the event.
    client = client_for("obs1")
    photo = submit(
        client,
        runtime,
        jpeg(taken_at=occurred_local - timedelta(hours=9)),
        occurred_at=occurred_local.isoformat() + "+02:00",
    )
    assert photo.exif_taken_at == occurred - timedelta(hours=9)
    flag = next(flag for flag in photo.flags if flag["code"] == "time_far_from_event")
    assert flag["message"] == "photo taken 9 hours before the reported time"
    assert flag["hours"] == -9.0
    page = client.get(f"/reports/{photo.report_id}").get_data(as_text=True)
    assert "Photo taken 9 hours before the reported time." in page


def test_naive_exif_time_is_read_in_the_reports_offset_and_close_times_are_not_flagged(
    client_for, runtime
):
    occurred = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    local = (occurred + timedelta(hours=5, minutes=30)).replace(tzinfo=None)
    photo = submit(
        client_for("obs1"),
        runtime,
        jpeg(taken_at=local + timedelta(minutes=10)),
        occurred_at=local.isoformat() + "+05:30",
    )
    assert photo.exif_taken_at == occurred + timedelta(minutes=10)
    assert "time_far_from_event" not in codes(photo)
    assert codes(photo) == {"no_gps"}


def test_photo_without_exif_is_flagged_and_still_processed(client_for, runtime):
    photo = submit(client_for("obs1"), runtime, jpeg())
    assert photo.state == "done"
    assert codes(photo) == {"no_exif"}
    assert photo.exif_taken_at is None and photo.exif_latitude is None


def test_broken_exif_is_tolerated(client_for, runtime, corpus):
    data = (corpus / "accept/oddexif_exifsamples_tests_42_IndexError.jpg").read_bytes()
    photo = submit(client_for("obs1"), runtime, data)
    assert photo.state == "done"
    assert photo.failure_reason is None


def _stored_photo(runtime: Any, client: Any, data: bytes) -> int:
    """A photo row on a new report whose stored original is ``data``."""
    client_id = new_report(client)
    with runtime.db.session_scope(write=False) as session:
        report_id = session.scalar(select(Report.id).where(Report.client_id == client_id))
    return add_photo_row(runtime, report_id, data)


def test_image_refused_at_processing_is_failed_with_a_reason_and_not_retried(
    client_for, runtime, corpus
):
    data = (corpus / "reject/pillow_truncated_jpeg.jpg").read_bytes()
    photo_id = _stored_photo(runtime, client_for("obs1"), data)
    enqueue_photo(runtime.queue, photo_id)
    runtime.queue.drain()
    photo = photo_row(runtime, photo_id)
    assert (photo.state, photo.failure_reason, photo.attempts) == ("failed", DAMAGED_MESSAGE, 1)

    enqueue_sweep(runtime.queue)
    runtime.queue.drain()
    assert photo_row(runtime, photo_id).attempts == 1


def test_original_that_no_longer_matches_its_hash_is_failed_and_left_alone(
    client_for, runtime, corpus
):
    data = (corpus / "accept/Canon_40D.jpg").read_bytes()
    photo_id = _stored_photo(runtime, client_for("obs1"), data)
    sha256 = hashlib.sha256(data).hexdigest()
    damaged = data[:-10] + b"\x00" * 10
    runtime.storage.put(original_key(sha256), damaged)
    assert run_photo_job(runtime.db, runtime.storage, runtime.settings, photo_id) == "failed"
    photo = photo_row(runtime, photo_id)
    assert photo.state == "failed"
    assert "damaged" in photo.failure_reason
    assert photo.sha256 == sha256
    assert runtime.storage.get(original_key(sha256)) == damaged
    assert not runtime.storage.exists(derivative_key(sha256, "display"))


def test_running_the_job_again_gives_the_same_files_and_row(client_for, runtime, corpus):
    data = (corpus / "accept/gps_DSCN0012.jpg").read_bytes()
    first = submit(client_for("obs1"), runtime, data)
    keys = [derivative_key(first.sha256, kind) for kind in ("display", "thumb")]
    files = [runtime.storage.get(key) for key in keys]

    assert run_photo_job(runtime.db, runtime.storage, runtime.settings, first.id) == "done"
    assert photo_row(runtime, first.id).attempts == first.attempts == 1
    for key in keys:
        runtime.storage.delete(key)
    assert run_photo_job(runtime.db, runtime.storage, runtime.settings, first.id) == "done"
    redone = photo_row(runtime, first.id)
    assert [runtime.storage.get(key) for key in keys] == files
    columns = (
        "state",
        "exif_taken_at",
        "exif_latitude",
        "exif_longitude",
        "flags",
        "display_width",
        "display_height",
        "thumbnail_width",
        "thumbnail_height",
        "sha256",
    )
    assert [getattr(redone, c) for c in columns] == [getattr(first, c) for c in columns]
    assert runtime.storage.get(original_key(first.sha256)) == data


class _FlakyStorage(LocalStorage):
    """Local storage whose first read fails like a network file system hiccup."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.failures = 1

    def get(self, key: str) -> bytes:
        if self.failures:
            self.failures -= 1
            raise OSError("storage briefly unreachable")
        return super().get(key)


def test_storage_error_is_raised_for_a_retry_which_then_finishes(client_for, runtime, corpus):
    photo_id = _stored_photo(
        runtime, client_for("obs1"), (corpus / "accept/Canon_40D.jpg").read_bytes()
    )
    flaky = _FlakyStorage(runtime.storage.root)
    with pytest.raises(OSError):
        run_photo_job(runtime.db, flaky, runtime.settings, photo_id)
    assert photo_row(runtime, photo_id).state == "processing"
    run_photo_job(runtime.db, flaky, runtime.settings, photo_id)
    photo = photo_row(runtime, photo_id)
    assert (photo.state, photo.attempts) == ("done", 2)


def test_photo_that_never_finishes_is_given_up_after_the_attempt_limit(client_for, runtime):
    photo_id = _stored_photo(runtime, client_for("obs1"), jpeg())
    with runtime.db.session_scope() as session:
        session.execute(update(Photo).values(attempts=processing.MAX_ATTEMPTS, state="processing"))
    assert run_photo_job(runtime.db, runtime.storage, runtime.settings, photo_id) == "failed"
    photo = photo_row(runtime, photo_id)
    assert photo.state == "failed"
    assert "tried 5 times" in photo.failure_reason


def test_sweep_processes_pending_and_stuck_photos_but_not_fresh_ones(client_for, runtime):
    client = client_for("obs1")
    pending = _stored_photo(runtime, client, jpeg(size=(60, 40)))
    stuck = _stored_photo(runtime, client, jpeg(size=(40, 60)))
    busy = _stored_photo(runtime, client, jpeg(size=(50, 50)))
    long_ago = utcnow() - timedelta(seconds=runtime.settings.job_timeout_s + 60)
    with runtime.db.session_scope() as session:
        session.execute(
            update(Photo)
            .where(Photo.id == stuck)
            .values(state="processing", processing_started_at=long_ago, attempts=1)
        )
        session.execute(
            update(Photo)
            .where(Photo.id == busy)
            .values(state="processing", processing_started_at=utcnow(), attempts=1)
        )
    enqueue_sweep(runtime.queue)
    runtime.queue.drain()
    assert photo_row(runtime, pending).state == "done"
    assert (photo_row(runtime, stuck).state, photo_row(runtime, stuck).attempts) == ("done", 2)
    assert photo_row(runtime, busy).state == "processing"


def test_in_process_timer_sweeps_when_asked(client_for, runtime):
    photo_id = _stored_photo(runtime, client_for("obs1"), jpeg())
    runtime.queue.start_periodic(PERIODIC_TASKS)
    deadline = time.monotonic() + 20
    while photo_row(runtime, photo_id).state != "done":
        assert time.monotonic() < deadline, "the timer never swept the pending photo"
        time.sleep(0.05)


def test_report_page_shows_the_thumbnail_and_the_flags(client_for, runtime, corpus):
    client = client_for("obs1")
    client_id = new_report(client)
    response = upload_photo(client, client_id, corpus / "accept/hdr_iphone_hdr_YES.jpg")
    assert response.status_code == 201
    runtime.queue.drain()
    with runtime.db.session_scope(write=False) as session:
        photo = session.scalar(select(Photo))
        report_id = photo.report_id
    page = client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert f"/photos/{photo.id}/thumb" in page
    km = photo.flags[0]["distance_km"]
    assert f"Photo taken {km} km from the reported position." in page
    thumb = client.get(f"/photos/{photo.id}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    original = client_for("coord").get(f"/photos/{photo.id}/original")
    assert original.status_code == 200
    assert original.data == (corpus / "accept/hdr_iphone_hdr_YES.jpg").read_bytes()


def test_periodic_runner_runs_due_tasks_and_survives_a_broken_one(tmp_path):
    from types import SimpleNamespace

    from fieldreport.clock import PeriodicRunner, PeriodicTask

    ran: list[str] = []

    def broken(queue: Any) -> None:
        raise RuntimeError("boom")

    queue = SimpleNamespace(settings=None, activate=contextlib.nullcontext)
    runner = PeriodicRunner(
        queue,  # type: ignore[arg-type]
        [
            PeriodicTask("broken", lambda s: 10, broken),
            PeriodicTask("off", lambda s: 0, lambda q: ran.append("off")),
            PeriodicTask("sweep", lambda s: 30, lambda q: ran.append("sweep")),
        ],
    )
    wait = runner.run_due()
    assert ran == ["sweep"]
    assert 0 < wait <= 30
    runner.run_due()
    assert ran == ["sweep"]
