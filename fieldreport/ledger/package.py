"""Evidence packages: a ZIP that proves a report (or a day of reports) to someone offline.

Contents: ``package.json`` (the signed tree head; each leaf entry with its inclusion proof; the
latest digest head and a consistency proof to it, so a commission member holding that digest's
email can tie the package to what they were sent), the report versions exactly as stored, the
photo originals, the phones' signatures and public keys, every mission public key with its
announcement, and a README. ``tools/verify_package.py`` checks it with Python and
``cryptography`` only.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from fieldreport.digests.day_range import DayRange
from fieldreport.ledger import heads, keys, leaves, service
from fieldreport.ledger.models import DeviceKey, DeviceSignature, LedgerLeaf, TreeHead
from fieldreport.photos.models import Photo
from fieldreport.reports.models import Report, ReportVersion
from fieldreport.review.models import ReviewEvent
from fieldreport.storage import Storage, original_key

FORMAT = "fieldreport-evidence-package-v1"
README = """Evidence package of {subject}, from the mission's evidence log.

package.json   the signed tree head of the log, and for each entry of this package its leaf
               (the exact bytes logged) and its inclusion proof (RFC 9162) against that head
reports/       each version of each report exactly as stored; its SHA-256 is in its leaf
photos/        the photo originals, named by SHA-256 (also in their leaves)
devices/       signatures made on the observers' phones, with the phones' public keys
keys/          every public key of the mission (Ed25519), each new one announced by the last

Check it with no access to the mission's server (Python 3.11 and the cryptography package):

    python3 verify_package.py {name}

and compare the mission key fingerprint it prints with the one printed on the digest you hold.
"""


def for_report(
    session: Session, storage: Storage, data_dir: Path, report: Report
) -> tuple[str, bytes]:
    return _package(session, storage, data_dir, [report], f"report {report.client_id}")


def for_day(
    session: Session,
    storage: Storage,
    data_dir: Path,
    day: date,
    zone: ZoneInfo,
    visible: Select[tuple[Report]] | None = None,
) -> tuple[str, bytes]:
    """The reports of ``day`` (in ``zone``) among ``visible`` (the reader's; default: all)."""
    span = DayRange.of(day, zone)
    query = select(Report) if visible is None else visible
    query = query.where(Report.occurred_at >= span.start, Report.occurred_at < span.end)
    reports = list(session.scalars(query.order_by(None).order_by(Report.id)))
    return _package(session, storage, data_dir, reports, f"the reports of {day.isoformat()}")


def _package(
    session: Session, storage: Storage, data_dir: Path, reports: list[Report], subject: str
) -> tuple[str, bytes]:
    head = heads.sign_head(session, data_dir)
    files: dict[str, bytes] = {}
    entries: list[dict[str, Any]] = []
    for report in reports:
        entries.extend(_report_entries(session, storage, report, head, files))
    for fp, key in keys.public_keys(data_dir).items():
        files[f"keys/{fp}.pem"] = key.pem.encode()
        files[f"keys/{fp}.json"] = json.dumps(key.announcement, indent=2).encode()
    body = {
        "format": FORMAT,
        "subject": subject,
        "tree_head": heads.as_dict(head),
        "digest_head": _digest_witness(session, head),
        "entries": entries,
    }
    name = f"evidence-{subject.replace(' ', '-')}.zip"
    files["package.json"] = json.dumps(body, indent=2, ensure_ascii=False).encode()
    files["README.txt"] = README.format(subject=subject, name=name).encode()
    return name, _zip(files)


def _digest_witness(session: Session, head: TreeHead) -> dict[str, Any] | None:
    """The latest digest's head and the proof that the package's log extends it."""
    digest_head = session.scalar(
        select(TreeHead)
        .where(TreeHead.digest_day.is_not(None), TreeHead.tree_size <= head.tree_size)
        .order_by(TreeHead.id.desc())
        .limit(1)
    )
    if digest_head is None:
        return None
    proof = service.consistency_proof(session, digest_head.tree_size, head.tree_size)
    return {
        **heads.as_dict(digest_head),
        "day": digest_head.digest_day.isoformat() if digest_head.digest_day else None,
        "consistency_proof": [node.hex() for node in proof],
    }


def _report_entries(
    session: Session, storage: Storage, report: Report, head: TreeHead, files: dict[str, bytes]
) -> list[dict[str, Any]]:
    versions = session.scalars(select(ReportVersion).where(ReportVersion.report_id == report.id))
    photos = session.scalars(select(Photo).where(Photo.report_id == report.id))
    events = session.scalars(select(ReviewEvent).where(ReviewEvent.report_id == report.id))
    wanted = {
        leaves.REPORT_VERSION: {v.id: v for v in versions},
        leaves.PHOTO: {p.id: p for p in photos},
        leaves.REVIEW: {e.id: e for e in events},
    }
    entries = []
    for kind, rows in wanted.items():
        for leaf in service.leaves_of(session, kind, rows):
            entry = _entry(session, leaf, head)
            entry["files"] = _files_of(session, storage, report, rows[leaf.subject_id], files)
            entries.append(entry)
    return entries


def _entry(session: Session, leaf: LedgerLeaf, head: TreeHead) -> dict[str, Any]:
    proof = service.inclusion_proof(session, leaf.leaf_index, head.tree_size)
    return {
        "leaf_index": leaf.leaf_index,
        "kind": leaf.kind,
        "leaf": leaf.data,
        "inclusion_proof": [node.hex() for node in proof],
    }


def _files_of(
    session: Session, storage: Storage, report: Report, row: Any, files: dict[str, bytes]
) -> dict[str, str]:
    """Put the row's evidence files in the package; their names, by role."""
    if isinstance(row, ReportVersion):
        name = f"reports/{report.client_id}/version-{row.version}.json"
        files[name] = row.content.encode()
        named = {"content": name}
        device = session.scalar(
            select(DeviceSignature).where(DeviceSignature.report_version_id == row.id)
        )
        if device is not None:
            named.update(_device_files(session, report, row, device, files))
        return named
    if isinstance(row, Photo):
        name = f"photos/{row.sha256}"
        files[name] = storage.get(original_key(row.sha256))
        return {"original": name}
    return {}


def _device_files(
    session: Session, report: Report, version: ReportVersion, device: DeviceSignature, files: dict
) -> dict[str, str]:
    key = session.scalar(select(DeviceKey).where(DeviceKey.key_id == device.device_key_id))
    name = f"devices/{report.client_id}-v{version.version}.json"
    files[name] = json.dumps(
        {
            "device_key_id": device.device_key_id,
            "algorithm": key.algorithm if key else None,
            "public_key_spki": key.public_key_spki if key else None,
            "signature": device.signature,
            "signed_body": device.signed_body,
        },
        indent=2,
    ).encode()
    return {"device_signature": name}


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return buffer.getvalue()
