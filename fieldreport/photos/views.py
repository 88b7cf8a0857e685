"""Serving photo files, only to those who may see the report they belong to."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, send_file
from flask_login import current_user

from fieldreport.accounts.roles import ALL_ROLES, ORIGINAL_PHOTO_ROLES
from fieldreport.photos.models import Photo
from fieldreport.reports.service import report_by_id_for
from fieldreport.storage import derivative_key, original_key
from fieldreport.web.auth import roles_required
from fieldreport.web.context import runtime
from fieldreport.web.transaction import request_session

bp = Blueprint("photos", __name__)
MIME_BY_FORMAT = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "HEIF": "image/heic",
}


def _photo_for_viewer(photo_id: int) -> Photo:
    db = request_session()
    photo = db.get(Photo, photo_id)
    if photo is None or report_by_id_for(db, current_user, photo.report_id) is None:
        abort(404)
    return photo


@bp.get("/photos/<int:photo_id>/original")
@roles_required(*ORIGINAL_PHOTO_ROLES)
def original(photo_id: int) -> Any:
    """The bytes as received: evidence, kept unchanged, for the observer and coordinators."""
    photo = _photo_for_viewer(photo_id)
    path = runtime().storage.path(original_key(photo.sha256))
    extension = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "HEIF": "heic"}[photo.format]
    return send_file(
        path,
        mimetype=MIME_BY_FORMAT[photo.format],
        as_attachment=True,
        download_name=f"{photo.sha256[:16]}.{extension}",
    )


@bp.get("/photos/<int:photo_id>/<any(display, thumb):kind>")
@roles_required(*ALL_ROLES)
def derivative(photo_id: int, kind: str) -> Any:
    """A re-encoded copy without EXIF; 404 until the worker has made it."""
    photo = _photo_for_viewer(photo_id)
    if photo.state != "done":
        abort(404)
    path = runtime().storage.path(derivative_key(photo.sha256, kind))
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="image/jpeg")
