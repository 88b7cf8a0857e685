"""Rebuild every leaf from the rows and files it names, and find rows the log never saw."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from fieldreport.accounts.models import AuditLog
from fieldreport.ledger import leaves as build
from fieldreport.ledger.models import DeviceSignature, LedgerLeaf
from fieldreport.photos.models import Photo
from fieldreport.reports.models import Report, ReportVersion
from fieldreport.reports.schemas import canonical_json
from fieldreport.review.models import ReviewEvent
from fieldreport.sectors.history import geometry_sha256
from fieldreport.sectors.models import Sector
from fieldreport.storage import Storage, original_key

SECTOR_ACTIONS = (
    "sectors.create",
    "sectors.edit",
    "sectors.activate",
    "sectors.deactivate",
    "sectors.import",
)
CONTENT_FIELDS = (
    "client_id", "category", "subcategory", "occurred_offset_minutes", "latitude", "longitude",
    "accuracy_m", "position_source", "basis", "attribution_party", "attribution_confidence",
    "narrative", "urgent", "details",
)  # fmt: skip


def rows(session: Session, query: Select[Any]) -> list[Any]:
    """Plain rows (attribute access, no ORM objects): ten times faster at 100,000 reports."""
    return list(session.connection().execute(query))


def check_sources(
    session: Session, storage: Storage, leaves: list[LedgerLeaf], counts: dict[str, int]
) -> Iterator[str]:
    by_kind: dict[str, dict[int, LedgerLeaf]] = {kind: {} for kind in build.KINDS}
    for leaf in leaves:
        by_kind.setdefault(leaf.kind, {})[leaf.subject_id] = leaf
    columns = [getattr(Report, name) for name in ("id", "occurred_at", *CONTENT_FIELDS)]
    reports = {r.id: r for r in rows(session, select(*columns))}
    counts["reports"] = len(reports)
    yield from _versions(session, reports, by_kind[build.REPORT_VERSION], counts)
    yield from _photos(session, storage, reports, by_kind[build.PHOTO], counts)
    yield from _unsigned_photos(session, reports)
    yield from _reviews(session, reports, by_kind[build.REVIEW], counts)
    yield from _sectors(session, [x for x in leaves if x.kind == build.SECTOR_CHANGE], counts)


def _compare(leaf: LedgerLeaf | None, payload: dict[str, Any], what: str) -> str | None:
    if leaf is None:
        return f"{what} is not in the log."
    if leaf.data != build.canonical(payload):
        return f"{what} does not match leaf {leaf.leaf_index} of the log."
    return None


def _versions(
    session: Session, reports: dict[int, Report], logged: dict[int, LedgerLeaf], counts: dict
) -> Iterator[str]:
    devices = {d.report_version_id: d for d in rows(session, select(DeviceSignature.__table__))}
    latest: dict[int, ReportVersion] = {}
    columns = ("id", "report_id", "version", "content", "content_sha256", "created_by_id")
    query = select(*(getattr(ReportVersion, name) for name in columns))
    versions = rows(session, query.order_by(ReportVersion.id))
    for n, version in enumerate(versions, 1):
        counts["report versions"] = n
        report = reports[version.report_id]
        what = f"Report {report.client_id} version {version.version}"
        if hashlib.sha256(version.content.encode()).hexdigest() != version.content_sha256:
            yield f"{what}: its text does not match its recorded SHA-256."
        payload = build.report_version(version, report, devices.get(version.id))
        problem = _compare(logged.pop(version.id, None), payload, what)
        if problem:
            yield problem
        latest[report.id] = version
    for report in reports.values():
        if report.id in latest and _row_text(report) != latest[report.id].content:
            yield f"Report {report.client_id}: its row differs from its latest logged version."
    for leaf in logged.values():
        yield f"Leaf {leaf.leaf_index} logs a report version that is no longer in the database."


def _row_text(report: Report) -> str:
    values: dict[str, Any] = {name: getattr(report, name) for name in CONTENT_FIELDS}
    values["occurred_at"] = report.occurred_at.astimezone(UTC).isoformat()
    return canonical_json(values)


def _photos(
    session: Session,
    storage: Storage,
    reports: dict[int, Report],
    logged: dict[int, LedgerLeaf],
    counts: dict,
) -> Iterator[str]:
    query = select(Photo.id, Photo.report_id, Photo.sha256, Photo.byte_size).order_by(Photo.id)
    for n, photo in enumerate(rows(session, query), 1):
        counts["photos"] = n
        report = reports[photo.report_id]
        what = f"Photo {photo.id} of report {report.client_id}"
        problem = _compare(logged.pop(photo.id, None), build.photo(photo, report), what)
        if problem:
            yield problem
        try:
            data = storage.get(original_key(photo.sha256))
        except FileNotFoundError:
            yield f"{what}: its original file is missing."
            continue
        if hashlib.sha256(data).hexdigest() != photo.sha256:
            yield f"{what}: its original file was changed (SHA-256 differs)."
    for leaf in logged.values():
        yield f"Leaf {leaf.leaf_index} logs a photo that is no longer in the database."


def _unsigned_photos(session: Session, reports: dict[int, Report]) -> Iterator[str]:
    """A report signed on its phone names its photos' SHA-256: no other photo may join it."""
    query = select(ReportVersion.report_id, DeviceSignature.signed_body).join(
        ReportVersion, ReportVersion.id == DeviceSignature.report_version_id
    )
    signed: dict[int, set[str]] = {}
    for report_id, body in rows(session, query):
        try:
            signed.setdefault(report_id, set()).update(json.loads(body).get("photos") or [])
        except (ValueError, AttributeError):
            yield f"Report {reports[report_id].client_id}: its phone-signed body is not JSON."
    if not signed:
        return
    query = select(Photo.id, Photo.report_id, Photo.sha256).where(Photo.report_id.in_(signed))
    for photo in rows(session, query):
        if photo.sha256 not in signed[photo.report_id]:
            client_id = reports[photo.report_id].client_id
            yield f"Photo {photo.id} of report {client_id} is not one its phone signed."


def _reviews(
    session: Session, reports: dict[int, Report], logged: dict[int, LedgerLeaf], counts: dict
) -> Iterator[str]:
    events = rows(session, select(ReviewEvent.__table__).order_by(ReviewEvent.id))
    for n, event in enumerate(events, 1):
        counts["review events"] = n
        report = reports[event.report_id]
        what = f"Review event {event.id} of report {report.client_id}"
        problem = _compare(logged.pop(event.id, None), build.review(event, report), what)
        if problem:
            yield problem
    for leaf in logged.values():
        yield f"Leaf {leaf.leaf_index} logs a review event that is no longer in the database."


def _sectors(session: Session, logged: list[LedgerLeaf], counts: dict) -> Iterator[str]:
    entries = list(
        session.scalars(
            select(AuditLog).where(AuditLog.action.in_(SECTOR_ACTIONS)).order_by(AuditLog.id)
        )
    )
    counts["sector changes"] = len(entries)
    for i, entry in enumerate(entries):
        leaf = logged[i] if i < len(logged) else None
        what = f"Sector change {entry.id} ({entry.action})"
        problem = _compare(leaf, build.sector_change(entry.action, entry.detail or {}), what)
        if problem:
            yield problem
    current: dict[int, str] = {}
    for entry in entries:
        current[(entry.detail or {}).get("sector_id")] = (entry.detail or {}).get(
            "geometry_sha256_after"
        )
    for sector in session.scalars(select(Sector).where(Sector.id.in_(list(current)))):
        if geometry_sha256(sector.geometry) != current[sector.id]:
            yield f"Sector {sector.code}: its line differs from its last logged change."
