"""When the nightly digest runs: at ``settings.digest_hour`` in the commission's zone, for
the day before.

Two mechanisms, one outcome. With RQ, the next night's build is put on RQ's scheduler
(``Queue.enqueue_at``; the workers run with ``with_scheduler=True``) so it fires on time even if
no periodic check happens to be due. In both modes a periodic check (:data:`DIGEST_TASK`, run
by :class:`fieldreport.jobs.PeriodicRunner` in the worker or the embedded app) catches up: once
the hour has passed, a day with no digest yet, or one built but never sent, is queued. The job id
is the day's (``digest:YYYY-MM-DD``) and the send is claimed by a conditional update, so the two
paths never send a day twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from fieldreport.config import Settings
from fieldreport.db import utcnow
from fieldreport.digests import service
from fieldreport.digests.models import DigestSend
from fieldreport.jobs import PeriodicTask

if TYPE_CHECKING:
    from fieldreport.jobs import JobQueue
    from fieldreport.runtime import Runtime

log = logging.getLogger(__name__)

IN_PROCESS_CHECK_S = 60.0
RQ_CHECK_S = 300.0


def nightly_run(settings: Settings, day: date) -> datetime:
    """The UTC instant ``day``'s digest is due: the next day at ``digest_hour``, local time."""
    local = datetime.combine(day + timedelta(days=1), time(settings.digest_hour), settings.zone)
    return local.astimezone(UTC)


def due_day(settings: Settings, now: datetime) -> date:
    """The latest day whose digest is due at ``now``."""
    today = now.astimezone(settings.zone).date()
    yesterday = today - timedelta(days=1)
    return yesterday if nightly_run(settings, yesterday) <= now else yesterday - timedelta(days=1)


def next_nightly(settings: Settings, now: datetime) -> tuple[date, datetime]:
    """The next day whose digest is not due yet, and when it will be."""
    day = due_day(settings, now) + timedelta(days=1)
    return day, nightly_run(settings, day)


def schedule_nightly(
    runtime: Runtime, now: datetime | None = None, *, at: datetime | None = None
) -> tuple[date, datetime]:
    """Put the next nightly build on RQ's scheduler (``at`` overrides the time: tests)."""
    from rq import Retry
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    from fieldreport.jobs import FAILURE_TTL_S, RESULT_TTL_S, RETRY_INTERVALS_S, rq_job_id

    day, when = next_nightly(runtime.settings, now or utcnow())
    when = at or when
    queue = runtime.queue.rq_queue(service.QUEUE)
    job_id = rq_job_id(service.job_id(day))  # RQ 3 allows no ":" in ids
    try:
        job = Job.fetch(job_id, connection=queue.connection)
        if at is None and job.get_status() in (JobStatus.SCHEDULED, JobStatus.QUEUED):
            return day, when
    except NoSuchJobError:
        pass
    queue.enqueue_at(
        when,
        service.JOB_PATH,
        day.isoformat(),
        True,
        job_id=job_id,
        retry=Retry(max=len(RETRY_INTERVALS_S), interval=list(RETRY_INTERVALS_S)),
        job_timeout=runtime.settings.job_timeout_s,
        result_ttl=RESULT_TTL_S,
        failure_ttl=FAILURE_TTL_S,
    )
    log.info("nightly digest of %s scheduled for %s", day, when.isoformat())
    return day, when


def _needs_nightly(runtime: Runtime, day: date, now: datetime) -> bool:
    with runtime.db.session_scope(write=False) as session:
        digest = service.get_digest(session, day)
        if digest is None:
            return True
        if digest.state == "building":
            # Its worker died (a live build ends or fails well within the job timeout).
            limit = timedelta(seconds=runtime.settings.job_timeout_s * 2)
            return digest.started_at is None or now - digest.started_at > limit
        if digest.state != "ready" or not runtime.settings.digest_recipients:
            return False  # building, failed (coordinators told), sending or sent
        sent = session.scalar(
            select(DigestSend.id).where(
                DigestSend.digest_id == digest.id, DigestSend.state == "sent"
            )
        )
        return sent is None


def enqueue_due_digest(queue: JobQueue, now: datetime | None = None) -> Any:
    """The periodic check: catch up on a missed night, and keep the next night scheduled."""
    runtime = queue.runtime
    now = now or utcnow()
    day = due_day(runtime.settings, now)
    if _needs_nightly(runtime, day, now):
        service.request_build(runtime, day, send=True)
    if queue.mode == "rq":
        schedule_nightly(runtime, now)
    return day


def _interval(settings: Settings) -> float:
    return RQ_CHECK_S if settings.redis_url else IN_PROCESS_CHECK_S


# The one line of wiring: ``PERIODIC_TASKS.append(DIGEST_TASK)`` in worker/jobs.py.
DIGEST_TASK = PeriodicTask("digest", _interval, enqueue_due_digest)
