"""Accepting photo evidence: decide what the bytes are, keep them under their hash, record them.

Uploads are never trusted: the file is judged by decoding it (see ``imaging.inspect_upload``),
the client's file name is kept only as capped display text, and the bytes are stored under their
SHA-256 outside the web root. The same bytes for the same report give the same photo row.

Checking (:func:`check_photo`) is pure and storing (:func:`store_photo`) writes, so a use case
can check every photo before it writes anything (docs/architecture.md, "Transactions").
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fieldreport.accounts.models import User
from fieldreport.config import Settings
from fieldreport.i18n import N_
from fieldreport.jobs import JobQueue
from fieldreport.ledger import record as evidence_log
from fieldreport.photos.imaging import ImageInfo, ImageRejected, inspect_upload
from fieldreport.photos.models import Photo
from fieldreport.photos.tasks import enqueue_photos_after_commit
from fieldreport.reports.models import Report
from fieldreport.storage import Storage, original_key

MAX_NAME_CHARS = 120


class Upload(NamedTuple):
    """A file as the edge received it: its bytes (read up to the limit plus one) and its name."""

    data: bytes
    original_name: str | None


@dataclass(frozen=True)
class PhotoLimits:
    max_bytes: int
    max_pixels: int

    @classmethod
    def from_settings(cls, settings: Settings) -> PhotoLimits:
        return cls(max_bytes=settings.max_photo_bytes, max_pixels=settings.max_photo_pixels)


class PhotoRejected(ValueError):
    """A file that will not be stored; ``message`` is for the observer.

    ``original_name`` is the client's name of the refused file, for the edge to say which one.
    """

    def __init__(
        self, message: str, *, too_large: bool = False, original_name: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.too_large = too_large
        self.original_name = original_name


@dataclass(frozen=True)
class CheckedPhoto:
    """An upload that passed :func:`check_photo`: what :func:`store_photo` records."""

    data: bytes
    sha256: str
    info: ImageInfo
    original_name: str | None


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


def check_photo(upload: Upload, limits: PhotoLimits) -> CheckedPhoto:
    """Judge an upload without writing anything; raises :class:`PhotoRejected` with the reason."""
    data, name = upload
    if not data:
        raise PhotoRejected(N_("The file is empty."), original_name=name)
    if len(data) > limits.max_bytes:
        raise PhotoRejected(
            N_(
                "The photo is %(size)s MB; the limit is %(limit)s MB.",
                size=f"{len(data) / 1e6:.1f}",
                limit=f"{limits.max_bytes / 1e6:.0f}",
            ),
            too_large=True,
            original_name=name,
        )
    try:
        info = inspect_upload(data, max_pixels=limits.max_pixels)
    except ImageRejected as error:
        raise PhotoRejected(error.message, original_name=name) from None
    return CheckedPhoto(data, hashlib.sha256(data).hexdigest(), info, name)


def store_photo(
    session: Session, storage: Storage, report: Report, uploader: User, checked: CheckedPhoto
) -> PhotoOutcome:
    """Keep a checked photo's bytes and attach it to ``report``, or answer with the one there."""
    existing = photo_of(session, report, checked.sha256)
    if existing is not None:
        return PhotoOutcome(existing, created=False)
    key = original_key(checked.sha256)
    if not storage.exists(key):
        storage.put(key, checked.data)
    try:
        with session.begin_nested():
            photo = _new_photo(report, uploader, checked)
            session.add(photo)
            session.flush()
            evidence_log.photo(session, photo, report)  # same savepoint (issue 11)
    except IntegrityError:
        # The same bytes raced in through another request: its row is the answer.
        existing = photo_of(session, report, checked.sha256)
        if existing is None:
            raise
        return PhotoOutcome(existing, created=False)
    return PhotoOutcome(photo, created=True)


def attach_photo(
    session: Session,
    storage: Storage,
    queue: JobQueue,
    report: Report,
    uploader: User,
    upload: Upload,
    limits: PhotoLimits,
) -> PhotoOutcome:
    """Use case: add one photo to a filed report; its job is queued once the request commits."""
    outcome = store_photo(session, storage, report, uploader, check_photo(upload, limits))
    enqueue_pending(session, queue, [outcome.photo])
    return outcome


def enqueue_pending(session: Session, queue: JobQueue, photos: Iterable[Photo]) -> None:
    """Queue the job of each photo still waiting for it, after ``session``'s commit."""
    pending = [photo.id for photo in photos if photo.state == "pending"]
    enqueue_photos_after_commit(session, queue, pending)


def photo_of(session: Session, report: Report, sha256: str) -> Photo | None:
    return session.scalar(select(Photo).where(Photo.report_id == report.id, Photo.sha256 == sha256))


def photos_of(session: Session, report: Report) -> list[Photo]:
    return list(
        session.scalars(select(Photo).where(Photo.report_id == report.id).order_by(Photo.id))
    )


def _new_photo(report: Report, uploader: User, checked: CheckedPhoto) -> Photo:
    return Photo(
        report_id=report.id,
        sha256=checked.sha256,
        byte_size=len(checked.data),
        format=checked.info.format,
        width=checked.info.width,
        height=checked.info.height,
        original_name=display_name(checked.original_name),
        uploaded_by_id=uploader.id,
        state="pending",
        flags=[],
    )
