"""JSON shapes of reports and photos for the API. Never an observer's name: team codes only."""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for
from flask_login import current_user

from fieldreport.accounts.models import User
from fieldreport.accounts.roles import may_see_originals
from fieldreport.photos.models import Photo
from fieldreport.photos.service import photos_of
from fieldreport.reports.models import Report
from fieldreport.sectors.models import Sector
from fieldreport.web.transaction import request_session


def photo_json(photo: Photo, viewer: User) -> dict[str, Any]:
    urls: dict[str, str] = {}
    if photo.state == "done":
        urls["thumbnail"] = url_for("photos.derivative", photo_id=photo.id, kind="thumb")
        urls["display"] = url_for("photos.derivative", photo_id=photo.id, kind="display")
    if may_see_originals(viewer):
        urls["original"] = url_for("photos.original", photo_id=photo.id)
    return {
        "id": photo.id,
        "sha256": photo.sha256,
        "state": photo.state,
        "format": photo.format,
        "width": photo.width,
        "height": photo.height,
        "byte_size": photo.byte_size,
        "flags": photo.flags or [],
        "failure_reason": photo.failure_reason,
        "exif_taken_at": photo.exif_taken_at.isoformat() if photo.exif_taken_at else None,
        "urls": urls,
    }


def report_json(
    report: Report, viewer: User, *, sector_code: str | None, photos: list[Photo] | None = None
) -> dict[str, Any]:
    """A report as the API gives it; ``sector_code`` looked up by the caller (once for a page)."""
    body: dict[str, Any] = {
        "id": report.id,
        "client_id": report.client_id,
        "status": report.status,
        "category": report.category,
        "subcategory": report.subcategory,
        "occurred_at": report.occurred_at.isoformat(),
        "occurred_offset_minutes": report.occurred_offset_minutes,
        "received_at": report.received_at.isoformat(),
        "latitude": report.latitude,
        "longitude": report.longitude,
        "accuracy_m": report.accuracy_m,
        "position_source": report.position_source,
        "sector": sector_code,
        "basis": report.basis,
        "attribution_party": report.attribution_party,
        "attribution_confidence": report.attribution_confidence,
        "narrative": report.narrative,
        "urgent": report.urgent,
        "details": report.details,
        "team_code": report.team_code,
        "version": report.version,
        "content_sha256": report.content_sha256,
        "url": url_for("reports.detail", report_id=report.id),
    }
    if photos is not None:
        body["photos"] = [photo_json(photo, viewer) for photo in photos]
    return body


def report_response(report: Report, status: int) -> Any:
    """A report as the API answers it, with its sector and (unless just created) photos."""
    db = request_session()
    sector = db.get(Sector, report.sector_id) if report.sector_id else None
    # A report created by this very request has no photos yet: spare the query.
    attached = [] if status == 201 else photos_of(db, report)
    code = sector.code if sector else None
    return jsonify(report_json(report, current_user, sector_code=code, photos=attached)), status
