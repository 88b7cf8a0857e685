"""One way to enqueue background work: RQ on Redis, or in-process when there is no Redis.

Each domain declares its jobs in its own ``tasks.py``: the job function, its queue, its job-id
rule and an ``enqueue_…`` helper, imported (never named by a string) by whoever enqueues. Callers
enqueue only after their database commit (:func:`fieldreport.db.after_commit`), with a
deterministic job id (``photo:42``, ``digest:2026-11-24``) so that a double enqueue does one piece
of work. A commit never depends on Redis: when Redis is down the enqueue is logged and reported as
not queued, and the periodic sweep (``fieldreport.photos.tasks.sweep``) enqueues what was missed.
See docs/architecture.md, "Background work".

A job id guards against duplicates *in flight* (queued, scheduled for a retry, or running); it is
not a record of work done — that lives in the database (a photo's state, a digest's state). An id
whose last job finished or failed may therefore be enqueued again, and the job decides from the
database whether anything is left to do.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fieldreport import metrics
from fieldreport.clock import PeriodicRunner, PeriodicTask

if TYPE_CHECKING:
    from fieldreport.config import Settings

log = logging.getLogger(__name__)

QUEUE_NAMES = ("photos", "digests", "default")
# Back-off between RQ's retries of a job that raised (a storage or database hiccup).
RETRY_INTERVALS_S = (10, 60, 300)
RESULT_TTL_S = 3600
FAILURE_TTL_S = 7 * 24 * 3600
# A running job's worker refreshes the job's heartbeat every ``job_heartbeat_s``; a job marked
# started whose heartbeat missed two beats (plus this margin) lost its worker.
STALE_GRACE_S = 3
_NOT_IN_RQ_IDS = re.compile(r"[^A-Za-z0-9_-]")
Job = Callable[..., Any]


def rq_job_id(job_id: str) -> str:
    """The id RQ stores: RQ 3 takes only letters, digits, ``_`` and ``-``.

    Callers keep the readable ids of the design (``photo:42``); RQ sees ``photo_42``.
    """
    return _NOT_IN_RQ_IDS.sub("_", job_id)


class JobQueue:
    """Enqueues job functions, with ids that make repeats harmless.

    ``activate`` gives in-process jobs and periodic tasks the context a job finds its runtime
    in (:func:`fieldreport.runtime.activated`); the queue itself knows nothing of the runtime.
    """

    def __init__(
        self, settings: Settings, activate: Callable[[], AbstractContextManager[object]]
    ) -> None:
        self.settings = settings
        self.activate = activate
        self.redis_url = settings.redis_url
        self._executor: ThreadPoolExecutor | None = None
        self._pending: dict[str, Future[Any]] = {}
        self._queue_of: dict[str, str] = {}  # in-process job id -> its queue (metrics)
        self._lock = threading.Lock()
        self._redis: Any = None
        self._periodic: PeriodicRunner | None = None

    @property
    def mode(self) -> str:
        return "rq" if self.redis_url else "in-process"

    @property
    def job_timeout_s(self) -> int:
        return self.settings.job_timeout_s

    def redis(self) -> Any:
        """The client for enqueueing and health checks (short timeouts: a request is waiting)."""
        with self._lock:
            if self._redis is None:
                from redis import Redis

                self._redis = Redis.from_url(
                    self.redis_url, socket_connect_timeout=2, socket_timeout=5
                )
            return self._redis

    def rq_queue(self, name: str) -> Any:
        from rq import Queue

        return Queue(name, connection=self.redis())

    def enqueue(self, job: Job, *args: Any, job_id: str, queue: str = "default") -> bool:
        """Queue ``job(*args)``; False when it could not be queued now (the sweep retries).

        ``job`` is a module-level function (RQ stores its dotted name). A job with the same id
        already queued, waiting for a retry or running is left alone.
        """
        if self.redis_url:
            return self._enqueue_rq(job, args, job_id=job_id, queue=queue)
        self._enqueue_in_process(job, args, job_id=job_id, queue=queue)
        return True

    def enqueue_at(self, when: datetime, job: Job, *args: Any, job_id: str, queue: str) -> None:
        """Put ``job(*args)`` on RQ's scheduler for ``when`` (RQ mode only; raises if down)."""
        from rq import Retry

        self.rq_queue(queue).enqueue_at(
            when,
            job,
            *args,
            job_id=rq_job_id(job_id),
            retry=Retry(max=len(RETRY_INTERVALS_S), interval=list(RETRY_INTERVALS_S)),
            job_timeout=self.job_timeout_s,
            result_ttl=RESULT_TTL_S,
            failure_ttl=FAILURE_TTL_S,
        )

    def status(self, job_id: str) -> str | None:
        """RQ's status of the job with this id (``queued``, ``scheduled``, …); None if none."""
        job = self._existing_job(rq_job_id(job_id))
        if job is None:
            return None
        status = job.get_status()
        return None if status is None else str(status.value)

    def wait(self, job_id: str, timeout: float, poll_s: float = 0.5) -> str | None:
        """Wait until the job with this id is no longer queued or running; its last status."""
        deadline = time.monotonic() + timeout
        if not self.redis_url:
            self.drain(timeout=timeout)
            return None
        status = self.status(job_id)
        while status in ("queued", "started", "deferred", "scheduled") and (
            time.monotonic() < deadline
        ):
            time.sleep(poll_s)
            status = self.status(job_id)
        return status

    def _enqueue_rq(self, job: Job, args: tuple[Any, ...], *, job_id: str, queue: str) -> bool:
        from redis.exceptions import RedisError
        from rq import Retry
        from rq.exceptions import DuplicateJobError

        job_id = rq_job_id(job_id)
        try:
            existing = self._existing_job(job_id)
            if existing is not None:
                if self._in_flight(existing):
                    return True
                existing.delete()
            # unique=True makes RQ check and enqueue atomically: of two racing enqueues, one wins.
            self.rq_queue(queue).enqueue(
                job,
                *args,
                job_id=job_id,
                retry=Retry(max=len(RETRY_INTERVALS_S), interval=list(RETRY_INTERVALS_S)),
                job_timeout=self.job_timeout_s,
                result_ttl=RESULT_TTL_S,
                failure_ttl=FAILURE_TTL_S,
                unique=True,
            )
        except DuplicateJobError:
            return True
        except (RedisError, OSError) as error:
            log.warning("could not enqueue %s: %s; the sweep will retry", job_id, error)
            return False
        return True

    def _existing_job(self, job_id: str) -> Any:
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        try:
            return Job.fetch(job_id, connection=self.redis())
        except NoSuchJobError:
            return None

    def _in_flight(self, job: Any) -> bool:
        """Queued, deferred, scheduled for a retry, or running on a worker that is still alive."""
        from rq.job import JobStatus
        from rq.utils import now

        status = job.get_status()
        if status in (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
            return False
        beat = job.last_heartbeat or job.started_at
        if status == JobStatus.STARTED and beat is not None:
            if beat.tzinfo is None:
                beat = beat.replace(tzinfo=UTC)
            silence = timedelta(seconds=2 * self.settings.job_heartbeat_s + STALE_GRACE_S)
            if now() - beat > silence:
                log.warning("job %s: its worker stopped beating (killed?); enqueueing anew", job.id)
                return False
        return status is not None

    def _enqueue_in_process(
        self, job: Job, args: tuple[Any, ...], *, job_id: str, queue: str
    ) -> None:
        with self._lock:
            existing = self._pending.get(job_id)
            if existing is not None and not existing.done():
                return
            self._pending = {key: job for key, job in self._pending.items() if not job.done()}
            self._queue_of = {key: self._queue_of[key] for key in self._pending}
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jobs")
            future = self._executor.submit(self._run, job, args, job_id, queue)
            self._pending[job_id] = future
            self._queue_of[job_id] = queue

    def _run(self, job: Job, args: tuple[Any, ...], job_id: str, queue: str = "default") -> Any:
        try:
            with self.activate():
                return job(*args)
        except Exception:
            # No retry here: the job's record says where it stopped and the sweep takes it up.
            log.exception("in-process job %s failed", job_id)
            metrics.JOB_FAILURES.labels(queue).inc()
            raise

    def drain(self, timeout: float = 60) -> None:
        """Wait for the in-process jobs queued so far, and those they queue (tests, the CLI)."""
        while True:
            with self._lock:
                futures = [future for future in self._pending.values() if not future.done()]
            if not futures:
                return
            for future in futures:
                # A failed job was logged in _run; its outcome is on its record (photo, digest).
                with contextlib.suppress(Exception):
                    future.result(timeout=timeout)

    def health(self) -> str:
        """ok, in-process or down: what /healthz reports about the queue."""
        if not self.redis_url:
            return "in-process"
        from redis.exceptions import RedisError

        try:
            self.redis().ping()
        except (RedisError, OSError):
            return "down"
        return "ok"

    def counts(self) -> metrics.QueueCounts:
        """Jobs waiting and jobs failed for good, by queue; None when Redis does not answer.

        In-process, "queued" counts the jobs not finished (the running one too) and failures
        are the ``fieldreport_jobs_failed`` counter instead.
        """
        if not self.redis_url:
            with self._lock:
                waiting = [self._queue_of.get(k) for k, f in self._pending.items() if not f.done()]
            return {"queued": {name: waiting.count(name) for name in QUEUE_NAMES}, "failed": {}}
        from redis.exceptions import RedisError
        from rq.registry import FailedJobRegistry

        try:
            queues = [self.rq_queue(name) for name in QUEUE_NAMES]
            return {
                "queued": {queue.name: queue.count for queue in queues},
                "failed": {queue.name: FailedJobRegistry(queue=queue).count for queue in queues},
            }
        except (RedisError, OSError):
            return None

    def start_periodic(self, tasks: Iterable[PeriodicTask]) -> PeriodicRunner:
        """Run the periodic tasks (the sweep, …) from a daemon thread of this process.

        The embedded app calls it for itself; with RQ the worker processes call it instead.
        """
        if self._periodic is None:
            self._periodic = PeriodicRunner(self, tasks).start()
        return self._periodic

    def shutdown(self) -> None:
        if self._periodic is not None:
            self._periodic.stop()
            self._periodic = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
