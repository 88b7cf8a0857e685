"""Job functions: they take ids, open a session scope and call a service.

They run in an RQ worker process or in-process beside the web app, and find their settings,
database and storage through :func:`fieldreport.runtime.current`. Each may run twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import fieldreport.models  # noqa: F401 - a worker imports no views: register every table here
from fieldreport.db import utcnow
from fieldreport.digests.schedule import DIGEST_TASK
from fieldreport.jobs import JobQueue, PeriodicTask
from fieldreport.photos import processing
from fieldreport.runtime import current

log = logging.getLogger(__name__)


def process_photo(photo_id: int) -> str:
    """Make one photo's derivatives and flags; the photo's state after the job."""
    runtime = current()
    with runtime.db.session_scope() as session:
        try:
            photo = processing.process_photo(session, runtime.storage, photo_id, runtime.settings)
        except processing.PhotoNotFound:
            log.warning("photo %s is gone; nothing to process", photo_id)
            return "missing"
        return photo.state


def enqueue_photo(queue: JobQueue, photo_id: int) -> bool:
    return queue.enqueue(
        "worker.jobs.process_photo", photo_id, job_id=f"photo:{photo_id}", queue="photos"
    )


def sweep() -> int:
    """Enqueue the photos whose job was missed (Redis down) or lost (worker killed mid-job).

    Returns how many were enqueued. The job ids are the photos' own, so a photo whose job is
    still queued or running is not done twice.
    """
    runtime = current()
    stuck_before = utcnow() - timedelta(seconds=runtime.settings.job_timeout_s)
    with runtime.db.session_scope(write=False) as session:
        photo_ids = processing.photos_needing_work(session, stuck_before=stuck_before)
    enqueued = 0
    for photo_id in photo_ids:
        if not enqueue_photo(runtime.queue, photo_id):
            break  # the queue is down: the next sweep tries again, no need to try each photo
        enqueued += 1
    if photo_ids:
        log.info("sweep: %d of %d photos needing work enqueued", enqueued, len(photo_ids))
    return enqueued


def enqueue_sweep(queue: JobQueue) -> bool:
    return queue.enqueue("worker.jobs.sweep", job_id="sweep", queue="default")


# What the worker (or the embedded app) enqueues on a timer: the sweep, and the nightly digest
# (enqueued once the day is over in the commission's zone; its job id makes repeats harmless).
PERIODIC_TASKS: list[PeriodicTask] = [
    PeriodicTask("sweep", lambda settings: settings.sweep_interval_s, enqueue_sweep),
    DIGEST_TASK,
]
