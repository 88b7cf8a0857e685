"""The steps of emailing a digest: claim it, read its stored parts, record the outcome.

Each takes a session and never commits; ``pipeline.send`` commits the claim before the mail goes
out and records the outcome after. The claim is a conditional update (``ready`` → ``sending``),
so two workers can never both send the same day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import update
from sqlalchemy.orm import Session

from fieldreport.accounts.models import User
from fieldreport.accounts.service import audit
from fieldreport.config import Settings
from fieldreport.digests.models import Digest, DigestSend
from fieldreport.digests.service import get_digest
from fieldreport.storage import Storage


class DigestSendFailed(RuntimeError):
    """The mail server refused or could not be reached; recorded, and the job may retry."""


def _claimable_states(resend: bool) -> tuple[str, ...]:
    # An admin's resend may also take a digest left "sending" by a worker that died mid-send.
    return ("ready", "sent", "sending") if resend else ("ready",)


def can_send(session: Session, settings: Settings, day: date, *, resend: bool = False) -> bool:
    """Whether a send of ``day`` would have anything to do: recipients and a claimable digest."""
    if not settings.digest_recipients or not settings.smtp_host:
        return False
    digest = get_digest(session, day)
    return digest is not None and digest.state in _claimable_states(resend)


def claim(session: Session, day: date, *, resend: bool) -> bool:
    """Take the day's digest for sending (``ready`` → ``sending``); False when another has it.

    Only a ``ready`` digest can be claimed (``resend``, an admin's explicit action, also takes
    a ``sent`` one). The caller commits the claim before sending, so it is seen by every worker.
    """
    claimed = session.execute(
        update(Digest)
        .where(Digest.day == day, Digest.state.in_(_claimable_states(resend)))
        .values(state="sending")
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(claimed)


@dataclass(frozen=True)
class Outgoing:
    """The stored parts of a claimed digest, read before the mail server is contacted."""

    digest_id: int
    html: str
    text: str
    pdf: bytes


def outgoing(session: Session, storage: Storage, day: date) -> Outgoing:
    """The claimed digest's HTML, text and PDF as stored by its latest build."""
    digest = get_digest(session, day)
    assert digest is not None and digest.html_key and digest.pdf_key
    base = digest.html_key.rsplit("/", 1)[0]
    return Outgoing(
        digest_id=digest.id,
        html=storage.get(digest.html_key).decode(),
        text=storage.get(f"{base}/digest.txt").decode(),
        pdf=storage.get(digest.pdf_key),
    )


def record_sent(
    session: Session,
    settings: Settings,
    day: date,
    digest_id: int,
    message_id: str,
    actor: User | None = None,
) -> None:
    """The send succeeded: keep its Message-ID, mark the digest sent, audit who sent it."""
    recipients = ", ".join(settings.digest_recipients)
    session.add(
        DigestSend(digest_id=digest_id, recipients=recipients, state="sent", message_id=message_id)
    )
    session.execute(update(Digest).where(Digest.id == digest_id).values(state="sent"))
    audit(
        session,
        "digest_sent",
        user=actor,
        username=None if actor else "worker",
        detail={"day": day.isoformat(), "recipients": len(settings.digest_recipients)},
    )


def record_send_failure(
    session: Session,
    settings: Settings,
    day: date,
    digest_id: int,
    error: str,
    actor: User | None = None,
) -> None:
    """The mail server refused or was unreachable: note it and make the digest sendable again."""
    recipients = ", ".join(settings.digest_recipients)
    session.add(DigestSend(digest_id=digest_id, recipients=recipients, state="failed", error=error))
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
        detail={"day": day.isoformat(), "error": error[:500]},
    )
