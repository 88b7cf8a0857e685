"""Reviewing reports: the status workflow, questions to observers and their answers, the history.

The two use cases, :func:`review_report` (a coordinator's decision) and :func:`answer_question`
(the observer's answer to a needs-info question), serve the review pages and the API alike. Each
checks everything before it writes, so a refusal leaves nothing to undo.

Allowed transitions (anything else raises :class:`TransitionRefused`, a 409 on the API):

* ``submitted`` → ``in_review`` (a coordinator takes it up), and ``submitted`` →
  ``verified`` / ``disputed`` / ``rejected`` / ``needs_info`` directly: a coordinator who can
  decide on first reading need not click twice; the ReviewEvent still records that the report
  went straight from ``submitted``.
* ``in_review`` → ``verified`` / ``disputed`` / ``rejected`` / ``needs_info``.
* ``needs_info`` → ``in_review`` only when the observer answers (:func:`answer_question`);
  a coordinator cannot close a question without an answer.
* ``verified``, ``disputed`` and ``rejected`` are final for coordinators: they feed the digest,
  and a digest already sent must stay true to the figures it was built from. Only an admin may
  reopen one (:func:`reopen_decision`, back to ``in_review``), with a reason that stays in the
  history and the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldreport.accounts.models import User
from fieldreport.accounts.roles import ADMIN, OBSERVER, coordinates, sees_observer_names
from fieldreport.accounts.service import audit
from fieldreport.db import utcnow
from fieldreport.i18n import N_
from fieldreport.ledger import record as evidence_log
from fieldreport.reports.models import Report
from fieldreport.review.models import ReviewEvent

DECISIONS = ("verified", "disputed", "rejected", "needs_info")
TRANSITIONS: dict[str, frozenset[str]] = {
    "submitted": frozenset({"in_review", *DECISIONS}),
    "in_review": frozenset(DECISIONS),
    "needs_info": frozenset(),
    "verified": frozenset(),
    "disputed": frozenset(),
    "rejected": frozenset(),
}
QUEUE_STATUSES = ("submitted", "in_review")
# Statuses in words (message ids, translated where they are shown).
STATUS_LABELS = {
    "submitted": N_("Submitted"),
    "in_review": N_("In review"),
    "verified": N_("Verified"),
    "disputed": N_("Disputed"),
    "rejected": N_("Rejected"),
    "needs_info": N_("Needs information"),
}
MAX_COMMENT = 4000


class TransitionRefused(Exception):
    """The report's status does not allow this change (see the transitions above)."""

    def __init__(self, from_status: str, to_status: str) -> None:
        super().__init__(
            N_(
                "a report that is “%(before)s” cannot become “%(after)s”",
                before=STATUS_LABELS.get(from_status, from_status),
                after=STATUS_LABELS.get(to_status, to_status),
            )
        )
        self.from_status = from_status
        self.to_status = to_status


class ReviewInvalid(ValueError):
    """The request itself is wrong (unknown status, a question without text)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def allowed_transitions(status: str) -> list[str]:
    """The statuses a reviewer may move a report to, in a stable order for buttons."""
    allowed = TRANSITIONS.get(status, frozenset())
    return [s for s in ("in_review", *DECISIONS) if s in allowed]


def _clean(comment: str | None) -> str | None:
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT:
        raise ReviewInvalid("comment", N_("at most %(n)s characters", n=MAX_COMMENT))
    return text or None


def review_report(
    session: Session, report: Report, reviewer: User, to_status: str, comment: str | None
) -> ReviewEvent:
    """Move ``report`` to ``to_status`` and record who did it, when, from what, and why.

    ``needs_info`` needs the question in ``comment``; it is shown to the observer.
    """
    if not coordinates(reviewer):
        raise ReviewInvalid("status", N_("only coordinators review reports"))
    if to_status not in TRANSITIONS:
        raise ReviewInvalid("status", N_("this is not a review decision"))
    text = _clean(comment)
    if to_status not in TRANSITIONS.get(report.status, frozenset()):
        raise TransitionRefused(report.status, to_status)
    if to_status == "needs_info" and not text:
        raise ReviewInvalid("comment", N_("write the question for the observer"))
    event = ReviewEvent(
        report_id=report.id,
        actor_id=reviewer.id,
        at=utcnow(),
        kind="question" if to_status == "needs_info" else "status",
        from_status=report.status,
        to_status=to_status,
        comment=text,
    )
    report.status = to_status
    session.add(event)
    session.flush()
    evidence_log.review(session, event, report)  # same transaction (issue 11)
    return event


def answer_question(session: Session, report: Report, observer: User, answer: str) -> ReviewEvent:
    """The observer's answer to an open question; the report goes back to ``in_review``."""
    if report.observer_id != observer.id:
        raise ReviewInvalid("answer", N_("only the report's observer answers its questions"))
    if report.status != "needs_info":
        raise TransitionRefused(report.status, "in_review")
    text = _clean(answer)
    if not text:
        raise ReviewInvalid("answer", N_("write your answer"))
    event = ReviewEvent(
        report_id=report.id,
        actor_id=observer.id,
        at=utcnow(),
        kind="answer",
        from_status="needs_info",
        to_status="in_review",
        comment=text,
    )
    report.status = "in_review"
    session.add(event)
    session.flush()
    evidence_log.review(session, event, report)  # same transaction (issue 11)
    return event


FINAL = ("verified", "disputed", "rejected")


def reopen_decision(
    session: Session, report: Report, admin: User, reason: str | None
) -> ReviewEvent:
    """An admin takes a final decision back to ``in_review``; the reason is kept and audited."""
    if admin.role != ADMIN:
        raise ReviewInvalid("status", "only admins reopen a decision")
    if report.status not in FINAL:
        raise TransitionRefused(report.status, "in_review")
    text = _clean(reason)
    if not text:
        raise ReviewInvalid("reason", "write why the decision is reopened")
    event = ReviewEvent(
        report_id=report.id,
        actor_id=admin.id,
        at=utcnow(),
        kind="reopen",
        from_status=report.status,
        to_status="in_review",
        comment=text,
    )
    audit(
        session,
        "review.reopened",
        user=admin,
        detail={"report": report.id, "from": report.status, "reason": text[:500]},
    )
    report.status = "in_review"
    session.add(event)
    session.flush()
    evidence_log.review(session, event, report)  # a reopening is evidence too (issue 11)
    return event


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    kind: str
    from_status: str | None
    to_status: str | None
    comment: str | None
    actor: str


def _actor_label(user: User, viewer: User) -> str:
    # The commission never sees who an observer is; a team code is what it may know.
    if not sees_observer_names(viewer) or (viewer.role == OBSERVER and user.id != viewer.id):
        return user.team_code if user.role == OBSERVER and user.team_code else user.role
    return user.display_name


def history(session: Session, report: Report, viewer: User) -> list[HistoryEntry]:
    """The report's review events, oldest first, with actors labelled for ``viewer``."""
    rows = session.execute(
        select(ReviewEvent, User)
        .join(User, User.id == ReviewEvent.actor_id)
        .where(ReviewEvent.report_id == report.id)
        .order_by(ReviewEvent.at, ReviewEvent.id)
    ).all()
    return [
        HistoryEntry(e.at, e.kind, e.from_status, e.to_status, e.comment, _actor_label(u, viewer))
        for e, u in rows
    ]


def open_question(session: Session, report: Report) -> ReviewEvent | None:
    """The question the observer still has to answer, if the report waits for one."""
    if report.status != "needs_info":
        return None
    return session.scalar(
        select(ReviewEvent)
        .where(ReviewEvent.report_id == report.id, ReviewEvent.kind == "question")
        .order_by(ReviewEvent.at.desc(), ReviewEvent.id.desc())
        .limit(1)
    )
