"""The photo jobs: make a photo's derivatives, and the sweep that catches missed work.

``process_photo`` runs on the ``photos`` queue under the id ``photo:<id>``, so a photo is never
worked twice at once; the sweep runs every ``sweep_interval_s`` under the id ``sweep``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy.orm import Session

from fieldreport.clock import PeriodicTask
from fieldreport.config import Settings
from fieldreport.db import Database, after_commit, utcnow
from fieldreport.jobs import JobQueue
from fieldreport.photos import processing
from fieldreport.photos.models import Photo
from fieldreport.runtime import current
from fieldreport.storage import Storage

log = logging.getLogger(__name__)

QUEUE = "photos"


def job_id(photo_id: int) -> str:
    return f"photo:{photo_id}"


def process_photo(photo_id: int) -> str:
    """Job: make one photo's derivatives and flags; the photo's state after the job."""
    runtime = current()
    return run_photo_job(runtime.db, runtime.storage, runtime.settings, photo_id)


def run_photo_job(db: Database, storage: Storage, settings: Settings, photo_id: int) -> str:
    """The photo job with its infrastructure given: claim, slow part, outcome.

    The claim is committed in its own scope before the slow part (docs/architecture.md,
    "Transactions"), and the slow part holds no session, so no write lock is held while it runs.
    """
    try:
        with db.session_scope() as session:
            work = processing.claim_photo(session, storage, photo_id)
            if work is None:
                return session.get_one(Photo, photo_id).state
        result = processing.make_outputs(storage, work, settings)
        with db.session_scope() as session:
            return processing.finish_photo(session, work, result, settings).state
    except processing.PhotoNotFound:
        log.warning("photo %s is gone; nothing to process", photo_id)
        return "missing"


def enqueue_photo(queue: JobQueue, photo_id: int) -> bool:
    return queue.enqueue(process_photo, photo_id, job_id=job_id(photo_id), queue=QUEUE)


def enqueue_photos_after_commit(
    session: Session, queue: JobQueue, photo_ids: Iterable[int]
) -> None:
    """Queue each photo's job once ``session`` commits (the rows must exist for the job)."""
    for photo_id in photo_ids:
        after_commit(session, lambda photo_id=photo_id: enqueue_photo(queue, photo_id))


def sweep() -> int:
    """Job: enqueue the photos whose job was missed (Redis down) or lost (worker killed).

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
    return queue.enqueue(sweep, job_id="sweep", queue="default")


PERIODIC = [PeriodicTask("sweep", lambda settings: settings.sweep_interval_s, enqueue_sweep)]
