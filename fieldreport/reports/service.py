"""Filing reports (with their photos), the evidence ledger, and who may see which report.

Idempotency rests on the unique ``client_id``: a repeat of the same submission answers with the
stored report, a different body under the same ``client_id`` is refused and logged, and two
identical requests racing each other end with one report because the loser's insert hits the
unique constraint inside a savepoint and then reads the winner's row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fieldreport.accounts.models import User
from fieldreport.accounts.roles import COMMISSION, COORDINATOR, OBSERVER
from fieldreport.accounts.service import audit
from fieldreport.alerts.service import alerts
from fieldreport.alerts.tasks import alert_after_commit
from fieldreport.config import Settings
from fieldreport.db import utcnow
from fieldreport.jobs import JobQueue
from fieldreport.ledger import devices
from fieldreport.ledger import record as evidence_log
from fieldreport.photos.service import (
    PhotoLimits,
    Upload,
    check_photo,
    enqueue_pending,
    store_photo,
)
from fieldreport.reports.models import Report, ReportVersion
from fieldreport.reports.schemas import ReportInput, canonical_json, content_hash, validate_report
from fieldreport.sectors.limits import visible_sector_ids
from fieldreport.sectors.locate import sector_for_position
from fieldreport.storage import Storage

LEDGER_LOCK_ID = 72_031_017


class ReportConflict(Exception):
    """The client_id is taken by a different submission; nothing was overwritten."""

    def __init__(self, client_id: str) -> None:
        super().__init__(f"client_id {client_id} was already used for a different report")
        self.client_id = client_id


@dataclass(frozen=True)
class SubmitOutcome:
    report: Report
    created: bool


def _ledger_head(session: Session) -> str | None:
    if session.get_bind().dialect.name == "postgresql":
        # Serialises appends so that two reports never chain to the same predecessor.
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LEDGER_LOCK_ID})
    return session.scalar(
        select(ReportVersion.entry_sha256).order_by(ReportVersion.id.desc()).limit(1)
    )


def append_version(
    session: Session,
    report: Report,
    content: dict,
    actor: User | None,
    *,
    content_sha: str | None = None,
    device: devices.DeviceClaim | None = None,
) -> ReportVersion:
    """Add an immutable version of ``report``'s content to the ledger."""
    content_sha = content_sha or content_hash(content)
    previous = _ledger_head(session)
    entry = hashlib.sha256(f"{previous or ''}:{content_sha}".encode()).hexdigest()
    version = ReportVersion(
        report_id=report.id,
        version=report.version,
        content=canonical_json(content),
        content_sha256=content_sha,
        prev_sha256=previous,
        entry_sha256=entry,
        created_by_id=actor.id if actor else None,
    )
    session.add(version)
    report.content_sha256 = content_sha
    report.prev_sha256 = previous
    evidence_log.report_version(session, version, report, device)  # same transaction (issue 11)
    return version


def _new_report(
    data: ReportInput, observer: User, sector_id: int | None, content_sha: str
) -> Report:
    return Report(
        client_id=data.client_id,
        observer_id=observer.id,
        team_code=observer.team_code,
        category=data.category,
        subcategory=data.subcategory,
        occurred_at=data.occurred_at,
        occurred_offset_minutes=data.occurred_offset_minutes,
        received_at=utcnow(),
        latitude=data.latitude,
        longitude=data.longitude,
        accuracy_m=data.accuracy_m,
        position_source=data.position_source,
        sector_id=sector_id,
        basis=data.basis,
        attribution_party=data.attribution_party,
        attribution_confidence=data.attribution_confidence,
        details=data.details,
        narrative=data.narrative,
        urgent=data.urgent,
        status="submitted",
        version=1,
        content_sha256=content_sha,
    )


def _first_submission_sha(session: Session, report: Report) -> str | None:
    return session.scalar(
        select(ReportVersion.content_sha256).where(
            ReportVersion.report_id == report.id, ReportVersion.version == 1
        )
    )


def _answer_repeat(
    session: Session, existing: Report, observer: User, data: ReportInput
) -> SubmitOutcome:
    same_owner = existing.observer_id == observer.id
    if same_owner and _first_submission_sha(session, existing) == data.content_sha256():
        return SubmitOutcome(existing, created=False)
    audit(
        session,
        "report.conflict",
        user=observer,
        detail={"client_id": data.client_id, "content": data.content()},
    )
    raise ReportConflict(data.client_id)


def find_by_client_id(session: Session, client_id: str) -> Report | None:
    return session.scalar(select(Report).where(Report.client_id == client_id))


def submit_report(
    session: Session,
    observer: User,
    data: ReportInput,
    device: devices.DeviceClaim | None = None,
) -> SubmitOutcome:
    """Store a new report (and its first ledger entry), or answer a repeat with the stored one.

    Raises :class:`ReportConflict` when the client_id belongs to a different submission.
    """
    existing = find_by_client_id(session, data.client_id)
    if existing is not None:
        return _answer_repeat(session, existing, observer, data)
    sector_id = sector_for_position(session, data.latitude, data.longitude)
    content = data.content()
    content_sha = content_hash(content)
    try:
        with session.begin_nested():
            report = _new_report(data, observer, sector_id, content_sha)
            session.add(report)
            session.flush()
            append_version(
                session, report, content, observer, content_sha=content_sha, device=device
            )
    except IntegrityError:
        existing = find_by_client_id(session, data.client_id)
        if existing is None:
            raise
        return _answer_repeat(session, existing, observer, data)
    return SubmitOutcome(report, created=True)


def submit_report_with_photos(
    session: Session,
    storage: Storage,
    queue: JobQueue,
    observer: User,
    values: Mapping[str, Any],
    uploads: Sequence[Upload],
    settings: Settings,
) -> SubmitOutcome:
    """Use case: file a report and its photos, all or nothing; the HTML form and the API call it.

    Refusals are raised before anything is written (docs/architecture.md, "Transactions"):
    ``ReportInvalid`` for the values, ``PhotoRejected`` for the first photo that fails its check.
    ``ReportConflict`` is the exception: its audit row is written, and meant to be kept. Each new
    photo's job is queued once the caller's transaction commits.
    """
    values, claim = devices.split_claim(values)  # issue 11: the phone's signature, if any
    data = validate_report(values, now=utcnow(), parties=settings.parties)
    limits = PhotoLimits.from_settings(settings)
    checked = [check_photo(upload, limits) for upload in uploads]
    if claim is not None:
        devices.check_claim(session, observer, claim, values, [c.sha256 for c in checked])
    outcome = submit_report(session, observer, data, device=claim)
    stored = [store_photo(session, storage, outcome.report, observer, c).photo for c in checked]
    enqueue_pending(session, queue, stored)
    if outcome.created:
        alert_after_commit(session, queue, outcome.report)
    return outcome


def visible_reports(session: Session, user: User) -> Select[tuple[Report]]:
    """A query of the reports ``user`` may see, newest event first.

    Observers see their own; coordinators those in their sectors (all, when not limited);
    commission only verified reports; admins all.
    """
    query = select(Report)
    if user.role == OBSERVER:
        query = query.where(Report.observer_id == user.id)
    elif user.role == COORDINATOR:
        sectors = visible_sector_ids(session, user)
        if sectors is not None:
            query = query.where(Report.sector_id.in_(sectors))
    elif user.role == COMMISSION:
        query = query.where(Report.status == "verified")
    return query.order_by(Report.occurred_at.desc(), Report.id.desc())


def list_reports(session: Session, user: User, *, limit: int = 50) -> list[Report]:
    """The ``limit`` latest events ``user`` may see (a glance, as on the observer's home page;
    whole lists are pages: ``reports.lists``)."""
    return list(session.scalars(visible_reports(session, user).limit(limit)))


def report_for(session: Session, user: User, client_id: str) -> Report | None:
    """The report if ``user`` may see it; None otherwise (callers answer 404 either way)."""
    query = visible_reports(session, user).where(Report.client_id == client_id)
    return session.scalar(query)


def report_by_id_for(session: Session, user: User, report_id: int) -> Report | None:
    return session.scalar(visible_reports(session, user).where(Report.id == report_id))


def amend_report(
    session: Session, report: Report, actor: User, data: ReportInput, *, queue: JobQueue
) -> Report:
    """Record a corrected version of a report: a new ledger entry; the old one stays as it was.

    The client_id is the report's identity and cannot change; the workflow state is kept. An
    amendment that makes the report urgent raises its alert as a new urgent report does (its row
    in this transaction, its mail once the caller commits); a report alerts once, however often
    it is amended.
    """
    if data.client_id != report.client_id:
        raise ValueError("an amendment keeps the report's client_id")
    content = data.content()
    if content_hash(content) == report.content_sha256:
        return report
    was_urgent = alerts(report)
    report.version += 1
    for name in (
        "category", "subcategory", "occurred_at", "occurred_offset_minutes", "latitude",
        "longitude", "accuracy_m", "position_source", "basis", "attribution_party",
        "attribution_confidence", "details", "narrative", "urgent",
    ):  # fmt: skip
        setattr(report, name, getattr(data, name))
    report.sector_id = sector_for_position(session, data.latitude, data.longitude)
    append_version(session, report, content, actor)
    session.flush()
    if not was_urgent:
        alert_after_commit(session, queue, report)  # None when it is still not urgent
    return report


def versions_of(session: Session, report: Report) -> list[ReportVersion]:
    return list(
        session.scalars(
            select(ReportVersion)
            .where(ReportVersion.report_id == report.id)
            .order_by(ReportVersion.version)
        )
    )
