"""Photos at the web edge: uploads read off a request as plain values, refusals as statuses."""

from __future__ import annotations

from werkzeug.datastructures import FileStorage

from fieldreport.photos.service import PhotoRejected, Upload


def received_upload(file: FileStorage, max_bytes: int) -> Upload:
    """The file's bytes, read up to one past ``max_bytes`` so that the check can tell "too big"."""
    return Upload(file.read(max_bytes + 1), file.filename)


def received_uploads(files: list[FileStorage], max_bytes: int) -> list[Upload]:
    """The chosen files of a multiple file input (a browser sends one without a name as "none")."""
    return [received_upload(file, max_bytes) for file in files if file and file.filename]


def refusal_status(rejected: PhotoRejected) -> int:
    """413 for a file over the byte limit, 422 for one that is not a photo we take."""
    return 413 if rejected.too_large else 422
