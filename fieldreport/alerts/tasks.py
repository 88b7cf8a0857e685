"""The alert jobs: mail an alert once, escalate what nobody took, and sweep up what Redis lost.

``send_alert`` runs on the default queue as ``alert:<id>`` (``alert:<id>:escalation`` for the
admins' mail); the sweep (``alerts:sweep``, every ``alert_sweep_s``) escalates alerts left
unacknowledged for ``alert_escalate_minutes`` and re-enqueues every mail not yet sent, so an
alert whose enqueue was lost (Redis down or restarted) still goes out.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from smtplib import SMTPException

from sqlalchemy.orm import Session

from fieldreport.accounts.service import audit
from fieldreport.alerts import mailing, service
from fieldreport.alerts.models import Alert
from fieldreport.clock import PeriodicTask
from fieldreport.db import after_commit, utcnow
from fieldreport.digests.email import deliver
from fieldreport.jobs import JobQueue
from fieldreport.reports.models import Report
from fieldreport.runtime import current

log = logging.getLogger(__name__)

QUEUE = "default"


def job_id(alert_id: int, escalation: bool = False) -> str:
    return f"alert:{alert_id}:escalation" if escalation else f"alert:{alert_id}"


def send_alert(alert_id: int, escalation: bool = False) -> str:
    """Job: mail the alert (to its coordinators, or escalated to the admins) at most once.

    Raises when the mail server refused, so RQ retries; the claim is released first.
    """
    runtime = current()
    settings = runtime.settings
    stale_before = utcnow() - timedelta(seconds=settings.job_timeout_s)
    with runtime.db.session_scope() as session:
        alert = session.get(Alert, alert_id)
        if alert is None or (escalation and alert.escalated_at is None):
            return "nothing to send"
        if mailing.is_sent(alert, escalation=escalation):
            return "already sent"
        to = service.recipients(session, alert, escalation=escalation)
        if not to or not settings.smtp_host:
            mailing.record_sent(session, alert_id, escalation=escalation, count=0)
            return "nobody to mail"
        if not mailing.claim(session, alert_id, escalation=escalation, stale_before=stale_before):
            return "sent by another"
        message = mailing.compose(session, settings, alert, to, escalation=escalation)
    try:
        deliver(settings, message)
    except (SMTPException, OSError) as error:
        with runtime.db.session_scope() as session:
            mailing.release(session, alert_id, escalation=escalation, error=str(error))
        raise
    with runtime.db.session_scope() as session:
        mailing.record_sent(session, alert_id, escalation=escalation, count=len(to))
    return "sent"


def enqueue_alert(queue: JobQueue, alert_id: int, escalation: bool = False) -> bool:
    return queue.enqueue(
        send_alert, alert_id, escalation, job_id=job_id(alert_id, escalation), queue=QUEUE
    )


def alert_after_commit(session: Session, queue: JobQueue, report: Report) -> None:
    """The hook of an accepted report: its alert row now, its mail once the report commits."""
    alert = service.raise_alert(session, report)
    if alert is not None and alert.mailed_at is None:
        alert_id = alert.id
        after_commit(session, lambda: enqueue_alert(queue, alert_id))


def sweep_alerts() -> int:
    """Job: escalate the alerts nobody acknowledged in time; enqueue every mail not yet sent."""
    runtime = current()
    settings = runtime.settings
    now = utcnow()
    with runtime.db.session_scope() as session:
        for alert_id in service.due_for_escalation(session, settings.alert_escalate_minutes, now):
            if service.mark_escalated(session, alert_id):
                audit(session, "alert.escalated", username="worker", detail={"alert": alert_id})
        stale_before = now - timedelta(seconds=settings.job_timeout_s)
        first, escalations = service.unsent(session, stale_before)
    work = [(a, False) for a in first] + [(a, True) for a in escalations]
    enqueued = 0
    for alert_id, escalation in work:
        if not enqueue_alert(runtime.queue, alert_id, escalation):
            break  # the queue is down: the next sweep tries again
        enqueued += 1
    if work:
        log.info("alert sweep: %d of %d mails enqueued", enqueued, len(work))
    return enqueued


def enqueue_sweep(queue: JobQueue) -> bool:
    return queue.enqueue(sweep_alerts, job_id="alerts:sweep", queue=QUEUE)


PERIODIC = [PeriodicTask("alerts", lambda settings: settings.alert_sweep_s, enqueue_sweep)]
