"""The digest jobs: build a day's digest (and, for the nightly run, email it), an admin's
resend, and the nightly schedule. The units of work they run are in ``pipeline.py``.

With RQ, a build that raises is retried with back-off by RQ itself (the job is queued with a
``Retry``); in-process there is no RQ, so the job retries in a loop with its own back-off. Either
way the last failure marks the digest failed with its reason and tells the coordinators.

The nightly run has two mechanisms and one outcome (the times are in ``schedule.py``). With RQ,
the next night's build is put on RQ's scheduler so it fires on time even if no periodic check
happens to be due. In both modes a periodic check catches up: once the hour has passed, a day with
no digest yet, or one built but never sent, is queued. The job id is the day's
(``digest:YYYY-MM-DD``) and the send is claimed by a conditional update, so the two paths never
send a day twice.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from fieldreport.accounts.models import User
from fieldreport.clock import PeriodicTask
from fieldreport.config import Settings
from fieldreport.db import utcnow
from fieldreport.digests import pipeline, schedule, sending, service
from fieldreport.jobs import JobQueue
from fieldreport.runtime import Runtime, current

log = logging.getLogger(__name__)

QUEUE = "digests"
# Seconds between in-process attempts: a locked SQLite file or a full disk may clear.
IN_PROCESS_BACKOFF_S: tuple[float, ...] = (5.0, 30.0)
IN_PROCESS_CHECK_S = 60.0
RQ_CHECK_S = 300.0


def job_id(day: date) -> str:
    """The build's job id: one build of a day at a time, however often it is asked for."""
    return f"digest:{day.isoformat()}"


def resend_job_id(day: date) -> str:
    """An admin's resend of a day: apart from the build's, so a build never swallows it."""
    return f"digest:{day.isoformat()}:resend"


def build_digest(day_iso: str, send: bool = False) -> str:
    """Job: build ``day_iso``'s digest; with ``send``, then email it once. Returns its state."""
    runtime = current()
    day = date.fromisoformat(day_iso)
    from rq import get_current_job

    job = get_current_job()
    if job is not None:
        _attempt(runtime, day, final=not job.retries_left)
    else:
        _attempt_in_process(runtime, day)
    if send:
        pipeline.send(runtime, day)
    with runtime.db.session_scope(write=False) as session:
        digest = service.get_digest(session, day)
        return digest.state if digest else "missing"


def _attempt_in_process(runtime: Runtime, day: date) -> None:
    delays = (*IN_PROCESS_BACKOFF_S, None)
    for delay in delays:
        try:
            _attempt(runtime, day, final=delay is None)
            return
        except Exception:
            if delay is None:
                raise
            log.warning("digest %s: build failed; retrying in %.0f s", day, delay)
            time.sleep(delay)


def _attempt(runtime: Runtime, day: date, *, final: bool) -> None:
    try:
        pipeline.build(runtime, day)
    except Exception as error:
        log.exception("digest %s: build failed", day)
        pipeline.record_failure(runtime, day, error, final=final)
        raise


def request_build(queue: JobQueue, day: date, *, send: bool = False) -> bool:
    """Queue the build under the day's job id, so a double request does one build."""
    return queue.enqueue(build_digest, day.isoformat(), send, job_id=job_id(day), queue=QUEUE)


RebuildOutcome = Literal["queued", "day_not_over", "not_queued"]


def request_rebuild(
    queue: JobQueue, session: Session, day: date, user: User, now: datetime | None = None
) -> RebuildOutcome:
    """A coordinator's rebuild of a day that is over: audited, then queued."""
    if not schedule.is_over(queue.settings, day, now or utcnow()):
        return "day_not_over"
    service.rebuild_requested(session, day, user)
    return "queued" if request_build(queue, day) else "not_queued"


def resend_digest(day_iso: str, actor_id: int) -> bool:
    """Job: email ``day_iso``'s digest again for an admin; False when there was nothing to send.

    A refusal by the mail server is recorded on the day's page and in the audit log; the job
    does not retry (the admin may ask again).
    """
    runtime = current()
    day = date.fromisoformat(day_iso)
    try:
        return pipeline.send(runtime, day, resend=True, actor_id=actor_id)
    except sending.DigestSendFailed:
        log.warning("digest %s: resend failed", day, exc_info=True)
        return False


ResendOutcome = Literal["queued", "nothing_to_send", "not_queued"]


def request_resend(queue: JobQueue, session: Session, day: date, actor: User) -> ResendOutcome:
    """Queue an admin's resend of ``day``, unless there is nothing to send (not built, or no
    recipients); "not_queued" when the queue cannot take it now (Redis down)."""
    if not sending.can_send(session, queue.settings, day, resend=True):
        return "nothing_to_send"
    args = (day.isoformat(), actor.id)
    if queue.enqueue(resend_digest, *args, job_id=resend_job_id(day), queue=QUEUE):
        return "queued"
    return "not_queued"


def build_and_wait(runtime: Runtime, day: date, timeout: float = 900) -> str:
    """Queue the day's build and wait for its outcome (the ``fieldreport digest`` command)."""
    if not request_build(runtime.queue, day):
        return f"digest {day.isoformat()}: could not be queued (is Redis up?)"
    runtime.queue.wait(job_id(day), timeout)
    with runtime.db.session_scope(write=False) as session:
        return service.describe(service.get_digest(session, day), day)


def schedule_nightly(
    queue: JobQueue, now: datetime | None = None, *, at: datetime | None = None
) -> tuple[date, datetime]:
    """Put the next nightly build on RQ's scheduler (``at`` overrides the time: tests)."""
    day, when = schedule.next_nightly(queue.settings, now or utcnow())
    when = at or when
    if at is None and queue.status(job_id(day)) in ("scheduled", "queued"):
        return day, when
    queue.enqueue_at(when, build_digest, day.isoformat(), True, job_id=job_id(day), queue=QUEUE)
    log.info("nightly digest of %s scheduled for %s", day, when.isoformat())
    return day, when


def enqueue_due_digest(queue: JobQueue, now: datetime | None = None) -> Any:
    """The periodic check: catch up on a missed night, and keep the next night scheduled."""
    runtime = current()
    now = now or utcnow()
    day = schedule.due_day(runtime.settings, now)
    with runtime.db.session_scope(write=False) as session:
        needed = schedule.needs_nightly(session, runtime.settings, day, now)
    if needed:
        request_build(queue, day, send=True)
    if queue.mode == "rq":
        schedule_nightly(queue, now)
    return day


def _interval(settings: Settings) -> float:
    return RQ_CHECK_S if settings.redis_url else IN_PROCESS_CHECK_S


DIGEST_TASK = PeriodicTask("digest", _interval, enqueue_due_digest)
PERIODIC = [DIGEST_TASK]
