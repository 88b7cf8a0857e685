"""The photo job's work: derivatives without EXIF, EXIF facts, and flags that a reviewer reads.

Runs in a worker (or in-process beside the web app) after the upload was committed, in three
steps that ``tasks.run_photo_job`` runs: :func:`claim_photo` (committed at once),
:func:`make_outputs` (the slow part, holding no database lock) and :func:`finish_photo`. The
original bytes are evidence and are only ever read: their SHA-256 is checked before anything is
made from them. Running the job again gives the same files and the same row, so retries and
sweeps are harmless. Errors split in two: a photo that cannot be used is marked failed with a
reason (a retry could not fix it), while a storage or database hiccup is raised so the queue
retries.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fieldreport.config import Settings
from fieldreport.db import utcnow
from fieldreport.i18n import N_
from fieldreport.photos.exif import ExifFacts, read_exif
from fieldreport.photos.flags import exif_time_utc, photo_flags
from fieldreport.photos.imaging import Derivatives, ImageRejected, make_derivatives
from fieldreport.photos.models import Photo
from fieldreport.reports.models import Report
from fieldreport.storage import Storage, derivative_key, original_key

log = logging.getLogger(__name__)

# A photo that kills its worker every time (out of memory, say) must not be retried for ever.
MAX_ATTEMPTS = 5
DERIVATIVE_KINDS = ("display", "thumb")

DAMAGED_ORIGINAL = N_("The original file is damaged: its bytes no longer match their SHA-256.")
MISSING_ORIGINAL = N_("The original file is missing from storage.")
TOO_MANY_ATTEMPTS = "Processing was tried {attempts} times without finishing."


class PhotoNotFound(LookupError):
    """The photo row is gone; there is nothing a retry could do."""


@dataclass(frozen=True)
class ReportFacts:
    """What the flags compare the photo with, read while the claim holds the row."""

    latitude: float
    longitude: float
    occurred_at: datetime
    offset_minutes: int


@dataclass(frozen=True)
class PhotoWork:
    """A claimed photo: what the slow part needs, copied out so that no session is held for it."""

    photo_id: int
    sha256: str
    report: ReportFacts


@dataclass(frozen=True)
class WorkResult:
    """What the slow part made, or why the photo cannot be used (then nothing was made)."""

    derivatives: Derivatives | None = None
    exif: ExifFacts | None = None
    failure: str | None = None


def claim_photo(session: Session, storage: Storage, photo_id: int) -> PhotoWork | None:
    """Mark the photo *processing* (attempts, start time) and return the work; None if none is left.

    The caller commits the claim before the slow part, so that a worker killed mid-job leaves a
    trace the sweep finds. A photo already done or failed needs nothing; one tried too often is
    marked failed here. Raises ``PhotoNotFound`` when the row is gone.
    """
    photo = session.get(Photo, photo_id)
    if photo is None:
        raise PhotoNotFound(f"no photo {photo_id}")
    if photo.state == "failed" or (photo.state == "done" and _derivatives_exist(storage, photo)):
        return None
    attempts = photo.attempts or 0
    if attempts >= MAX_ATTEMPTS:
        _fail(photo, TOO_MANY_ATTEMPTS.format(attempts=attempts))
        return None
    report = session.get_one(Report, photo.report_id)
    facts = ReportFacts(
        report.latitude, report.longitude, report.occurred_at, report.occurred_offset_minutes
    )
    photo.state = "processing"
    photo.attempts = attempts + 1
    photo.processing_started_at = utcnow()
    return PhotoWork(photo.id, photo.sha256, facts)


def make_outputs(storage: Storage, work: PhotoWork, settings: Settings) -> WorkResult:
    """The slow part, with no database: check the original, store its derivatives, read EXIF.

    Raises ``OSError`` for storage trouble a retry may fix; a photo that cannot be used comes
    back as a failure instead.
    """
    try:
        data = storage.get(original_key(work.sha256))
    except FileNotFoundError:
        return WorkResult(failure=MISSING_ORIGINAL)
    if hashlib.sha256(data).hexdigest() != work.sha256:
        return WorkResult(failure=DAMAGED_ORIGINAL)
    try:
        derivatives = make_derivatives(data, max_pixels=settings.max_photo_pixels)
    except ImageRejected as rejected:
        return WorkResult(failure=rejected.message)
    exif = read_exif(data)
    storage.put(derivative_key(work.sha256, "display"), derivatives.display)
    storage.put(derivative_key(work.sha256, "thumb"), derivatives.thumbnail)
    return WorkResult(derivatives, exif)


def finish_photo(
    session: Session, work: PhotoWork, result: WorkResult, settings: Settings
) -> Photo:
    """Record the slow part's result on the photo: done with its facts and flags, or failed."""
    photo = session.get(Photo, work.photo_id)
    if photo is None:
        raise PhotoNotFound(f"no photo {work.photo_id}")
    if result.failure is not None:
        return _fail(photo, result.failure)
    assert result.derivatives is not None and result.exif is not None
    _record(photo, result.derivatives, result.exif, work.report, settings)
    return photo


def photos_needing_work(session: Session, *, stuck_before: datetime) -> list[int]:
    """Ids of photos whose job was never queued (still pending) or died mid-way (stuck).

    A photo is stuck when it has been ``processing`` since before ``stuck_before`` — callers pass
    now minus the job timeout, past which the queue would have ended a living job.
    """
    return list(
        session.scalars(
            select(Photo.id)
            .where(
                or_(
                    Photo.state == "pending",
                    (Photo.state == "processing") & (Photo.processing_started_at < stuck_before),
                )
            )
            .order_by(Photo.id)
        )
    )


def _record(
    photo: Photo,
    derivatives: Derivatives,
    exif: ExifFacts,
    facts: ReportFacts,
    settings: Settings,
) -> None:
    taken_at = exif_time_utc(exif, facts.offset_minutes)
    photo.exif_taken_at = taken_at
    photo.exif_latitude = exif.latitude
    photo.exif_longitude = exif.longitude
    photo.display_width, photo.display_height = derivatives.display_size
    photo.thumbnail_width, photo.thumbnail_height = derivatives.thumbnail_size
    photo.flags = photo_flags(
        exif,
        taken_at,
        latitude=facts.latitude,
        longitude=facts.longitude,
        occurred_at=facts.occurred_at,
        settings=settings,
    )
    photo.failure_reason = None
    photo.state = "done"
    photo.processed_at = utcnow()


def _fail(photo: Photo, reason: str) -> Photo:
    log.warning("photo %s failed: %s", photo.id, reason)
    photo.state = "failed"
    photo.failure_reason = reason
    photo.processed_at = utcnow()
    return photo


def _derivatives_exist(storage: Storage, photo: Photo) -> bool:
    return all(storage.exists(derivative_key(photo.sha256, kind)) for kind in DERIVATIVE_KINDS)
