"""Log what was recorded before the evidence log existed (``fieldreport ledger-backfill``).

Run once after upgrading a database that already holds reports: every report version, photo,
review event and sector change without a leaf gets one, oldest first by kind. Running it again
adds nothing. Entries logged this way say nothing about *when* they were first recorded; the
first signed head after the backfill is what vouches for them from then on.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldreport.accounts.models import AuditLog
from fieldreport.ledger import leaves, service
from fieldreport.ledger.models import DeviceSignature, LedgerLeaf
from fieldreport.ledger.verify_sources import SECTOR_ACTIONS
from fieldreport.photos.models import Photo
from fieldreport.reports.models import Report, ReportVersion
from fieldreport.review.models import ReviewEvent


def backfill(session: Session) -> dict[str, int]:
    """Append the missing leaves; how many of each kind."""
    logged = {tuple(row) for row in session.execute(select(LedgerLeaf.kind, LedgerLeaf.subject_id))}
    reports = {r.id: r for r in session.scalars(select(Report))}
    devices = {d.report_version_id: d for d in session.scalars(select(DeviceSignature))}
    added = dict.fromkeys(leaves.KINDS, 0)
    for version in session.scalars(select(ReportVersion).order_by(ReportVersion.id)):
        if (leaves.REPORT_VERSION, version.id) not in logged:
            report = reports[version.report_id]
            payload = leaves.report_version(version, report, devices.get(version.id))
            service.append(session, leaves.REPORT_VERSION, version.id, payload)
            added[leaves.REPORT_VERSION] += 1
    for photo in session.scalars(select(Photo).order_by(Photo.id)):
        if (leaves.PHOTO, photo.id) not in logged:
            payload = leaves.photo(photo, reports[photo.report_id])
            service.append(session, leaves.PHOTO, photo.id, payload)
            added[leaves.PHOTO] += 1
    for event in session.scalars(select(ReviewEvent).order_by(ReviewEvent.id)):
        if (leaves.REVIEW, event.id) not in logged:
            payload = leaves.review(event, reports[event.report_id])
            service.append(session, leaves.REVIEW, event.id, payload)
            added[leaves.REVIEW] += 1
    added[leaves.SECTOR_CHANGE] = _sector_changes(session, logged)
    return {kind: n for kind, n in added.items() if n}


def _sector_changes(session: Session, logged: set[tuple[str, int]]) -> int:
    """Sector leaves follow the audit entries in order: log the entries past the last logged."""
    done = sum(1 for kind, _subject in logged if kind == leaves.SECTOR_CHANGE)
    entries = session.scalars(
        select(AuditLog).where(AuditLog.action.in_(SECTOR_ACTIONS)).order_by(AuditLog.id)
    ).all()
    for entry in entries[done:]:
        detail = entry.detail or {}
        payload = leaves.sector_change(entry.action, detail)
        service.append(session, leaves.SECTOR_CHANGE, detail.get("sector_id") or 0, payload)
    return max(0, len(entries) - done)
