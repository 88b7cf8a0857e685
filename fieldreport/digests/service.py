"""The digest's use cases: read, sign, and the steps of building and sending one.

Every function takes a session and plain values and never commits: the job side
(``pipeline.py``, run by ``tasks.py``) chains the steps, each in its own transaction, because a
build must show it is under way before its slow work, and a send must hold its claim while the
mail goes out (docs/architecture.md, "Transactions"). A build reads one consistent snapshot
(:func:`read_snapshot`), renders it (``outputs.py``), stores the files under a folder named after
the signature, and only then flips the row to ``ready`` (:func:`mark_ready`): a reader sees the
old digest or the new one, never half of one. Sending claims the row with a conditional update
(``ready`` → ``sending``, :func:`claim`), so two workers can never both send the same day.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fieldreport.accounts.models import User
from fieldreport.accounts.service import audit
from fieldreport.config import Settings
from fieldreport.db import utcnow
from fieldreport.digests import figures, render, rows
from fieldreport.digests.day_range import sector_codes
from fieldreport.digests.models import Digest, DigestSend
from fieldreport.digests.outputs import Snapshot
from fieldreport.places.finder import Locate, place_finder, place_locator
from fieldreport.reports.models import ReportVersion
from fieldreport.sectors.limits import visible_sector_ids
from fieldreport.storage import Storage

SERVED_STATES = ("ready", "sending", "sent")
WHOLE_DIGEST_REFUSED = (
    "The digest covers every sector, and you are limited to some sectors: its page, PDF and "
    "figures are not yours to read. Download the verified reports of your sectors instead."
)
KEEP_STATES = ("sending", "sent")  # a rebuild must not make a sent digest sendable again
FAILURE_TEXT_LIMIT = 2000


def folder(day: date) -> str:
    """Where the day's builds store their files, each build in a subfolder of its signature."""
    return f"digests/{day.isoformat()}"


def canonical_json(data: Any) -> bytes:
    """One byte string per value (sorted keys, no spaces): what the signature covers."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signing_key(settings: Settings) -> bytes:
    """A key for digest signatures only, derived from SECRET_KEY (never the key itself)."""
    return hmac.new(
        settings.secret_key.encode(), b"fieldreport digest signature v1", hashlib.sha256
    ).digest()


def sign(settings: Settings, figures_json: dict[str, Any], ledger_head: str | None) -> str:
    """HMAC-SHA256 of the canonical figures and the ledger head: who holds the key can check."""
    message = canonical_json(figures_json) + b"\n" + (ledger_head or "").encode()
    return hmac.new(signing_key(settings), message, hashlib.sha256).hexdigest()


def verify(settings: Settings, digest: Digest) -> bool:
    """Whether the stored figures and ledger head still match the stored signature."""
    if digest.figures is None or digest.signature is None:
        return False
    expected = sign(settings, digest.figures, digest.ledger_head)
    return hmac.compare_digest(expected, digest.signature)


# --------------------------------------------------------------------------------------------
# Reading


def reader_sectors(session: Session, user: User) -> set[int] | None:
    """The sectors a digest reader is limited to, or None when they may read the whole digest.

    The stored digest (page, PDF, figures) is one document of every sector per day, so a
    coordinator limited to some sectors gets only the exports, filtered to their sectors
    (docs/architecture.md, "Who sees what").
    """
    return visible_sector_ids(session, user)


def get_digest(session: Session, day: date) -> Digest | None:
    """The day's digest row, in any state, or None when no build was ever started."""
    return session.scalar(select(Digest).where(Digest.day == day))


def neighbours(session: Session, day: date) -> tuple[date | None, date | None]:
    """The days of the nearest digests before and after ``day`` (for previous / next links)."""
    before = session.scalar(select(Digest.day).where(Digest.day < day).order_by(Digest.day.desc()))
    after = session.scalar(select(Digest.day).where(Digest.day > day).order_by(Digest.day))
    return before, after


def archive(
    session: Session, limit: int = 60, before: date | None = None
) -> tuple[list[Digest], date | None]:
    """The newest ``limit`` digests before ``before`` (all, when None), newest first, and the day
    to ask for the next (older) page, or None when this page reaches the first digest."""
    query = select(Digest).order_by(Digest.day.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(Digest.day < before)
    digests = list(session.scalars(query))
    if len(digests) <= limit:
        return digests, None
    return digests[:limit], digests[limit - 1].day


def latest_served_day(session: Session) -> date | None:
    """The newest day whose digest can be read (the commission's landing page)."""
    query = select(Digest.day).where(Digest.state.in_(SERVED_STATES))
    return session.scalar(query.order_by(Digest.day.desc()).limit(1))


def recent_failures(session: Session, limit: int = 5) -> list[Digest]:
    """Failed digests, newest first: the coordinators' pages show them until rebuilt."""
    return list(
        session.scalars(
            select(Digest).where(Digest.state == "failed").order_by(Digest.day.desc()).limit(limit)
        )
    )


def body_key(digest: Digest) -> str | None:
    """The stored web body (no page chrome) of the digest's latest build."""
    if not digest.html_key:
        return None
    return digest.html_key.rsplit("/", 1)[0] + "/body.html"


@dataclass(frozen=True)
class DayView:
    """What the day page shows: the digest (if any), its stored body, the neighbouring days."""

    digest: Digest | None
    body: str | None  # rendered and escaped by the worker, with the template of the PDF
    previous: date | None
    following: date | None
    sends: list[DigestSend]


def day_view(session: Session, storage: Storage, day: date) -> DayView:
    """The day page's content; the body only for a digest that is served."""
    digest = get_digest(session, day)
    body = None
    if digest is not None and digest.state in SERVED_STATES:
        key = body_key(digest)
        body = storage.get(key).decode() if key else None
    previous, following = neighbours(session, day)
    sends = sends_of(session, digest) if digest is not None else []
    return DayView(digest, body, previous, following, sends)


def sends_of(session: Session, digest: Digest) -> list[DigestSend]:
    """Every attempt to email the digest, oldest first (the day page lists them)."""
    return list(
        session.scalars(
            select(DigestSend).where(DigestSend.digest_id == digest.id).order_by(DigestSend.id)
        )
    )


def describe(digest: Digest | None, day: date) -> str:
    """One line on the day's digest for the ``fieldreport digest`` command."""
    if digest is None:
        return f"digest {day.isoformat()}: not built"
    if digest.state == "failed":
        return f"digest {day.isoformat()}: failed after {digest.attempts} attempt(s): " + (
            digest.failure_reason or "unknown reason"
        )
    totals = (digest.figures or {}).get("totals", {})
    return (
        f"digest {day.isoformat()}: {digest.state}, {totals.get('verified', 0)} verified and "
        f"{totals.get('unverified', 0)} unverified reports, signature {digest.signature}"
    )


# --------------------------------------------------------------------------------------------
# Building


def _row_for(session: Session, day: date, zone: str) -> Digest:
    """The day's row, created on first use; a racing creator's row wins and is returned."""
    digest = get_digest(session, day)
    if digest is not None:
        return digest
    try:
        with session.begin_nested():
            digest = Digest(day=day, time_zone=zone, state="building", attempts=0)
            session.add(digest)
    except IntegrityError:
        digest = get_digest(session, day)
        assert digest is not None
    return digest


def start_build(session: Session, day: date, zone: str) -> None:
    """Count an attempt and show the day as building (its own transaction, before slow work).

    A digest already out stays readable while it is rebuilt: the files of the new one go to a
    new folder and the row switches to them in one commit at the end (:func:`mark_ready`).
    """
    digest = _row_for(session, day, zone)
    digest.attempts = (digest.attempts or 0) + 1
    digest.time_zone = zone
    digest.started_at = utcnow()
    if digest.state not in SERVED_STATES:
        digest.state = "building"


def begin_snapshot(session: Session) -> None:
    """Start ``session``'s transaction as one snapshot for every query that follows: a report
    filed mid-build is in all the figures, the signed head and the exports, or in none.
    Must come before the session's first query (PostgreSQL; SQLite's transaction already is)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def read_snapshot(
    session: Session, day: date, settings: Settings, locate: Locate | None = None
) -> Snapshot:
    """Everything the digest states, read in one transaction so that it all agrees
    (``session`` begun with :func:`begin_snapshot`): the figures, the annex, the map and the
    records of the exports (the day's reports read once for the last two)."""
    head = session.scalar(
        select(ReportVersion.entry_sha256).order_by(ReportVersion.id.desc()).limit(1)
    )
    zone = settings.zone
    locate = locate or place_locator(session)
    codes = sector_codes(session)
    result = figures.compute_figures(session, day, zone, locate, codes)
    annex = rows.annex_rows(session, day, zone, render.WEB.annex)
    sectors = rows.map_sectors(session)
    reports = rows.day_reports(session, day, zone, codes, place_finder(session, locate=locate))
    return Snapshot(result, head, annex, sectors, reports.events, records=reports.records)


def store_files(storage: Storage, day: date, signature: str, files: dict[str, bytes]) -> str:
    """Write a build's files under their own folder (named after the signature); its path."""
    base = f"{folder(day)}/{signature[:16]}"
    for name, data in files.items():
        storage.put(f"{base}/{name}", data)
    return base


def mark_ready(
    session: Session, day: date, zone: str, snapshot: Snapshot, signature: str, base: str
) -> Digest:
    """Point the row at the stored build; a sent (or sending) digest keeps its state."""
    digest = _row_for(session, day, zone)
    digest.figures = snapshot.figures
    digest.ledger_head = snapshot.ledger_head
    digest.signature = signature
    digest.html_key = f"{base}/digest.html"
    digest.pdf_key = f"{base}/digest.pdf"
    digest.map_key = f"{base}/map.png"
    digest.generated_at = utcnow()
    digest.failure_reason = None
    if digest.state not in KEEP_STATES:
        digest.state = "ready"
    return digest


def record_failure(session: Session, day: date, zone: str, reason: str, *, final: bool) -> None:
    """Note why a build failed; after the last retry, mark it failed and tell coordinators."""
    reason = reason[:FAILURE_TEXT_LIMIT]
    digest = _row_for(session, day, zone)
    digest.failure_reason = reason
    if final:
        digest.state = "failed"
        audit(
            session,
            "digest_failed",
            username="worker",
            detail={"day": day.isoformat(), "attempts": digest.attempts, "reason": reason},
        )


def rebuild_requested(session: Session, day: date, user: User) -> None:
    """The audit trail of a manual rebuild (a coordinator's button, an admin)."""
    audit(session, "digest_rebuild", user=user, detail={"day": day.isoformat()})
