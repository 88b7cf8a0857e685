"""Building, signing, storing and sending the commission's daily digest.

A build reads one consistent snapshot of the database, aggregates it (``figures.py``), draws the
map and trend, renders the one template to the web body, a standalone document and a PDF,
writes every file (temp + rename) under a folder named after the signature, and only then
flips the row to ``ready`` in one transaction: a reader sees the old digest or the new one,
never half of one. Sending claims the row with a conditional update (``ready`` → ``sending``),
so two workers can never both send the same day.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fieldreport.accounts.models import User
from fieldreport.accounts.service import audit
from fieldreport.config import Settings
from fieldreport.db import utcnow
from fieldreport.digests import drawing, email, figures, render
from fieldreport.digests.models import Digest, DigestSend
from fieldreport.reports.models import ReportVersion
from fieldreport.runtime import Runtime

log = logging.getLogger(__name__)

SERVED_STATES = ("ready", "sending", "sent")
KEEP_STATES = ("sending", "sent")  # a rebuild must not make a sent digest sendable again
FAILURE_TEXT_LIMIT = 2000


class DigestSendFailed(RuntimeError):
    """The mail server refused or could not be reached; recorded, and the job may retry."""


def folder(day: date) -> str:
    return f"digests/{day.isoformat()}"


def canonical_json(data: Any) -> bytes:
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
    if digest.figures is None or digest.signature is None:
        return False
    expected = sign(settings, digest.figures, digest.ledger_head)
    return hmac.compare_digest(expected, digest.signature)


# --------------------------------------------------------------------------------------------
# Reading


def get_digest(session: Session, day: date) -> Digest | None:
    return session.scalar(select(Digest).where(Digest.day == day))


def neighbours(session: Session, day: date) -> tuple[date | None, date | None]:
    """The days of the nearest digests before and after ``day`` (for previous / next links)."""
    before = session.scalar(select(Digest.day).where(Digest.day < day).order_by(Digest.day.desc()))
    after = session.scalar(select(Digest.day).where(Digest.day > day).order_by(Digest.day))
    return before, after


def archive(session: Session, limit: int = 90) -> list[Digest]:
    return list(session.scalars(select(Digest).order_by(Digest.day.desc()).limit(limit)))


def latest_day(session: Session) -> date | None:
    return session.scalar(select(Digest.day).order_by(Digest.day.desc()).limit(1))


def recent_failures(session: Session, limit: int = 5) -> list[Digest]:
    """Failed digests, newest first: the coordinators' pages show them until rebuilt."""
    return list(
        session.scalars(
            select(Digest).where(Digest.state == "failed").order_by(Digest.day.desc()).limit(limit)
        )
    )


def body_key(digest: Digest) -> str | None:
    if not digest.html_key:
        return None
    return digest.html_key.rsplit("/", 1)[0] + "/body.html"


def trend_key(digest: Digest) -> str | None:
    if not digest.html_key:
        return None
    return digest.html_key.rsplit("/", 1)[0] + "/trend.png"


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


def _start(runtime: Runtime, day: date) -> None:
    with runtime.db.session_scope() as session:
        digest = _row_for(session, day, runtime.settings.time_zone)
        digest.attempts = (digest.attempts or 0) + 1
        digest.time_zone = runtime.settings.time_zone
        digest.started_at = utcnow()
        # A digest already out stays readable while it is rebuilt: the files of the new one
        # go to a new folder and the row switches to them in one commit at the end.
        if digest.state not in SERVED_STATES:
            digest.state = "building"


@dataclass(frozen=True)
class Snapshot:
    figures: dict[str, Any]
    ledger_head: str | None
    annex: list[dict[str, Any]]
    sectors: list[drawing.MapSector]
    events: list[drawing.MapEvent]


def read_snapshot(session: Session, day: date, settings: Settings) -> Snapshot:
    """Everything the digest states, read in one transaction so that it all agrees."""
    if session.get_bind().dialect.name == "postgresql":
        # One snapshot for every query: a report filed mid-build is in all figures or none.
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    head = session.scalar(
        select(ReportVersion.entry_sha256).order_by(ReportVersion.id.desc()).limit(1)
    )
    zone = settings.zone
    result = figures.compute_figures(session, day, zone)
    annex = figures.annex_rows(session, day, zone, render.WEB.annex)
    sectors, events = figures.map_inputs(session, day, zone)
    return Snapshot(result, head, annex, sectors, events)


@dataclass
class Outputs:
    """The rendered files of one build, and the time each piece took (for the benchmark)."""

    files: dict[str, bytes]
    timings: dict[str, float]


def render_outputs(settings: Settings, day: date, snapshot: Snapshot, signature: str) -> Outputs:
    """Map, trend, web body, standalone document and PDF: all from the one template."""
    timings: dict[str, float] = {}
    began = time.perf_counter()
    map_png = drawing.render_map_png(snapshot.sectors, snapshot.events)
    trend_png = drawing.render_trend_png(
        [(date.fromisoformat(d), n) for d, n in snapshot.figures["trend"]]
    )
    timings["map"] = time.perf_counter() - began
    began = time.perf_counter()
    context = {
        "figures": snapshot.figures,
        "mission_name": settings.mission_name,
        "parties": settings.parties,
        "language": settings.languages[0],
        "map_uri": drawing.png_data_uri(map_png),
        "trend_uri": drawing.png_data_uri(trend_png),
        "ledger_head": snapshot.ledger_head,
        "signature": signature,
        "csv_path": f"/digests/{day.isoformat()}/reports.csv",
    }
    language = settings.languages[0]
    body = render.render_body({**context, "annex": snapshot.annex}, render.WEB, language)
    printable = {**context, "annex": snapshot.annex[: render.PDF.annex]}
    document = render.render_document(printable, render.PDF, language)
    text = render.render_text(printable, language)
    timings["html"] = time.perf_counter() - began
    began = time.perf_counter()
    pdf = drawing.html_to_pdf(document)
    timings["pdf"] = time.perf_counter() - began
    files = {
        "body.html": body.encode(),
        "digest.html": document.encode(),
        "digest.txt": text.encode(),
        "digest.pdf": pdf,
        "map.png": map_png,
        "trend.png": trend_png,
    }
    return Outputs(files, timings)


def build(runtime: Runtime, day: date, timings: dict[str, float] | None = None) -> Digest:
    """Build (or rebuild) ``day``'s digest; the row is ready only once every file is stored.

    Rebuilding the same day updates the same row; the same data gives the same figures and
    signature. Raises whatever went wrong: the caller records it (:func:`record_failure`).
    ``timings``, when given, receives the seconds each phase took (``bench/digest.py``).
    """
    settings = runtime.settings
    began = time.perf_counter()
    _start(runtime, day)
    with runtime.db.session_scope(write=False) as session:
        snapshot = read_snapshot(session, day, settings)
    signature = sign(settings, snapshot.figures, snapshot.ledger_head)
    figures_s = time.perf_counter() - began
    outputs = render_outputs(settings, day, snapshot, signature)
    began = time.perf_counter()
    base = f"{folder(day)}/{signature[:16]}"
    for name, data in outputs.files.items():
        runtime.storage.put(f"{base}/{name}", data)
    with runtime.db.session_scope() as session:
        digest = _row_for(session, day, settings.time_zone)
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
    if timings is not None:
        timings.update(outputs.timings, figures=figures_s, store=time.perf_counter() - began)
    return digest


def record_failure(runtime: Runtime, day: date, reason: str, *, final: bool) -> None:
    """Note why a build failed; after the last retry, mark it failed and tell coordinators."""
    reason = reason[:FAILURE_TEXT_LIMIT]
    with runtime.db.session_scope() as session:
        digest = _row_for(session, day, runtime.settings.time_zone)
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


def describe(digest: Digest | None, day: date) -> str:
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
# Sending


def _claim(runtime: Runtime, day: date, *, resend: bool) -> bool:
    # An admin's resend may also take a digest left "sending" by a worker that died mid-send.
    states = ("ready", "sent", "sending") if resend else ("ready",)
    with runtime.db.session_scope() as session:
        claimed = session.execute(
            update(Digest)
            .where(Digest.day == day, Digest.state.in_(states))
            .values(state="sending")
            .execution_options(synchronize_session=False)
        ).rowcount
    return bool(claimed)


def send(runtime: Runtime, day: date, *, resend: bool = False, actor: User | None = None) -> bool:
    """Email the ready digest to the recipients once; False when there is nothing to send.

    Only a ``ready`` digest can be claimed (``resend``, an admin's explicit action, also takes
    a ``sent`` one). Each attempt leaves a :class:`DigestSend` row with its outcome.
    """
    settings = runtime.settings
    if not settings.digest_recipients or not settings.smtp_host:
        log.info("digest %s: no recipients or no SMTP host; not sent", day)
        return False
    if not _claim(runtime, day, resend=resend):
        return False
    with runtime.db.session_scope(write=False) as session:
        digest = get_digest(session, day)
        assert digest is not None and digest.html_key and digest.pdf_key
        base = digest.html_key.rsplit("/", 1)[0]
        digest_id = digest.id
        html = runtime.storage.get(digest.html_key).decode()
        pdf = runtime.storage.get(digest.pdf_key)
        text = runtime.storage.get(f"{base}/digest.txt").decode()
    message = email.compose(settings, day=day, html=html, text=text, pdf=pdf)
    recipients = ", ".join(settings.digest_recipients)
    try:
        message_id = email.deliver(settings, message)
    except (OSError, email.SMTPException) as error:
        with runtime.db.session_scope() as session:
            session.add(
                DigestSend(
                    digest_id=digest_id, recipients=recipients, state="failed", error=str(error)
                )
            )
            session.execute(
                update(Digest)
                .where(Digest.id == digest_id, Digest.state == "sending")
                .values(state="ready")
            )
            audit(
                session,
                "digest_send_failed",
                user=actor,
                username=None if actor else "worker",
                detail={"day": day.isoformat(), "error": str(error)[:500]},
            )
        raise DigestSendFailed(f"digest {day}: {error}") from error
    with runtime.db.session_scope() as session:
        session.add(
            DigestSend(
                digest_id=digest_id, recipients=recipients, state="sent", message_id=message_id
            )
        )
        session.execute(update(Digest).where(Digest.id == digest_id).values(state="sent"))
        audit(
            session,
            "digest_sent",
            user=actor,
            username=None if actor else "worker",
            detail={"day": day.isoformat(), "recipients": len(settings.digest_recipients)},
        )
    return True


def sends_of(session: Session, digest: Digest) -> list[DigestSend]:
    return list(
        session.scalars(
            select(DigestSend).where(DigestSend.digest_id == digest.id).order_by(DigestSend.id)
        )
    )
