"""What each leaf says: one builder per kind of evidence, used to append and to re-check.

A leaf entry is canonical JSON (sorted keys, no spaces, UTF-8) that names what it logs and the
SHA-256 of its content, never the content itself (a report's text stays in its version row; the
evidence package carries both, so anyone can recompute the hash). ``verify.py`` rebuilds every
leaf from the rows it names with these same functions: a changed byte anywhere shows.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fieldreport.ledger.models import DeviceSignature
from fieldreport.photos.models import Photo
from fieldreport.reports.models import Report, ReportVersion
from fieldreport.review.models import ReviewEvent

REPORT_VERSION = "report_version"
PHOTO = "photo"
REVIEW = "review"
SECTOR_CHANGE = "sector_change"
TOMBSTONE = "tombstone"
KINDS = (REPORT_VERSION, PHOTO, REVIEW, SECTOR_CHANGE, TOMBSTONE)


def canonical(payload: dict[str, Any]) -> str:
    """The one byte string of a payload (its UTF-8 is the leaf entry)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_text(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()


def report_version(
    version: ReportVersion, report: Report, device: DeviceSignature | None
) -> dict[str, Any]:
    """A version of a report: its content's SHA-256, and the phone's signature when it had one."""
    payload: dict[str, Any] = {
        "kind": REPORT_VERSION,
        "report": report.client_id,
        "version": version.version,
        "content_sha256": sha256_text(version.content),
        "created_by": version.created_by_id,
        "device": None,
    }
    if device is not None:
        payload["device"] = {
            "key_id": device.device_key_id,
            "signature": device.signature,
            "signed_body_sha256": sha256_text(device.signed_body),
        }
    return payload


def photo(row: Photo, report: Report) -> dict[str, Any]:
    """A photo original: the SHA-256 of its bytes (the file is stored under that name)."""
    return {
        "kind": PHOTO,
        "report": report.client_id,
        "photo": row.id,
        "sha256": row.sha256,
        "byte_size": row.byte_size,
    }


def review(event: ReviewEvent, report: Report) -> dict[str, Any]:
    """A review decision, question or answer: who, when, from what to what, and the words' hash."""
    return {
        "kind": REVIEW,
        "report": report.client_id,
        "event": event.id,
        "event_kind": event.kind,
        "from": event.from_status,
        "to": event.to_status,
        "actor": event.actor_id,
        "at": event.at.isoformat(),
        "comment_sha256": sha256_text(event.comment),
    }


def sector_change(action: str, detail: dict[str, Any]) -> dict[str, Any]:
    """A change of the sector lines: the audit entry's action and detail (geometry hashes)."""
    return {"kind": SECTOR_CHANGE, "action": action, "detail": detail}


def tombstone(of_kind: str, subject_id: int, reason: str) -> dict[str, Any]:
    """Evidence withdrawn: the leaf that logged it stays; this one says it no longer stands."""
    return {"kind": TOMBSTONE, "of_kind": of_kind, "subject": subject_id, "reason": reason}
