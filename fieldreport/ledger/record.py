"""The hooks the evidence-making use cases call: one leaf per thing logged, same transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from fieldreport.ledger import leaves, service
from fieldreport.ledger.devices import DeviceClaim
from fieldreport.ledger.models import DeviceSignature
from fieldreport.photos.models import Photo
from fieldreport.reports.models import Report, ReportVersion
from fieldreport.review.models import ReviewEvent


def report_version(
    session: Session, version: ReportVersion, report: Report, claim: DeviceClaim | None = None
) -> int:
    """Log a version; a phone's signature (already checked: ``devices.check_claim``) is kept."""
    session.flush()
    device = None
    if claim is not None:
        device = DeviceSignature(
            report_version_id=version.id,
            device_key_id=claim.key_id,
            signature=claim.signature,
            signed_body=claim.signed_body,
        )
        session.add(device)
    payload = leaves.report_version(version, report, device)
    return service.append(session, leaves.REPORT_VERSION, version.id, payload)


def photo(session: Session, row: Photo, report: Report) -> int:
    return service.append(session, leaves.PHOTO, row.id, leaves.photo(row, report))


def review(session: Session, event: ReviewEvent, report: Report) -> int:
    return service.append(session, leaves.REVIEW, event.id, leaves.review(event, report))


def sector_change(session: Session, sector_id: int, action: str, detail: dict[str, Any]) -> int:
    payload = leaves.sector_change(action, detail)
    return service.append(session, leaves.SECTOR_CHANGE, sector_id, payload)


def tombstone(session: Session, of_kind: str, subject_id: int, reason: str) -> int:
    """Withdraw a piece of evidence: a new leaf; the one that logged it is never removed."""
    payload = leaves.tombstone(of_kind, subject_id, reason)
    return service.append(session, leaves.TOMBSTONE, subject_id, payload)
