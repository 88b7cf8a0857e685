"""Accepting photo evidence: decide what the bytes are, keep them under their hash, record them.

Uploads are never trusted: the file is judged by decoding it (see ``imaging.inspect_upload``),
the client's file name is kept only as capped display text, and the bytes are stored under their
SHA-256 outside the web root. The same bytes for the same report give the same photo row.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fieldreport.accounts.models import User
from fieldreport.jobs import JobQueue
from fieldreport.photos.imaging import ImageRejected, inspect_upload
from fieldreport.photos.models import Photo
from fieldreport.photos.tasks import enqueue_photo
from fieldreport.reports.models import Report
from fieldreport.storage import Storage, original_key

MAX_NAME_CHARS = 120


class PhotoRejected(ValueError):
    """A file that will not be stored; ``message`` is for the observer."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.too_large = too_large


@dataclass(frozen=True)
class PhotoOutcome:
    photo: Photo
    created: bool


def display_name(name: str | None) -> str | None:
    """The client's file name as harmless display text: no path, no control characters."""
    if not name:
        return None
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return name[:MAX_NAME_CHARS] or None


def add_photo(
    session: Session,
    storage: Storage,
    report: Report,
    uploader: User,
    data: bytes,
    *,
    original_name: str | None,
    max_bytes: int,
    max_pixels: int,
) -> PhotoOutcome:
    """Attach the photo ``data`` to ``report``, or answer with the one already attached."""
    if not data:
        raise PhotoRejected("The file is empty.")
    if len(data) > max_bytes:
        raise PhotoRejected(
            f"The photo is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB.",
            too_large=True,
        )
    sha256 = hashlib.sha256(data).hexdigest()
    existing = photo_of(session, report, sha256)
    if existing is not None:
        return PhotoOutcome(existing, created=False)
    try:
        info = inspect_upload(data, max_pixels=max_pixels)
    except ImageRejected as error:
        raise PhotoRejected(error.message) from None
    key = original_key(sha256)
    if not storage.exists(key):
        storage.put(key, data)
    try:
        with session.begin_nested():
            photo = Photo(
                report_id=report.id,
                sha256=sha256,
                byte_size=len(data),
                format=info.format,
                width=info.width,
                height=info.height,
                original_name=display_name(original_name),
                uploaded_by_id=uploader.id,
                state="pending",
                flags=[],
            )
            session.add(photo)
            session.flush()
    except IntegrityError:
        existing = photo_of(session, report, sha256)
        if existing is None:
            raise
        return PhotoOutcome(existing, created=False)
    return PhotoOutcome(photo, created=True)


def photo_of(session: Session, report: Report, sha256: str) -> Photo | None:
    return session.scalar(select(Photo).where(Photo.report_id == report.id, Photo.sha256 == sha256))


def photos_of(session: Session, report: Report) -> list[Photo]:
    return list(
        session.scalars(select(Photo).where(Photo.report_id == report.id).order_by(Photo.id))
    )


def enqueue_processing(queue: JobQueue, photos: list[Photo]) -> None:
    """Queue the worker's photo job for each photo (after the commit that stored them)."""
    for photo in photos:
        if photo.state == "pending":
            enqueue_photo(queue, photo.id)
