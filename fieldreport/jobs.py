"""One way to enqueue background work: RQ on Redis, or in-process when there is no Redis.

Callers enqueue only after their database commit, with a deterministic job id
(``photo:42``, ``digest:2026-11-24``) so that a double enqueue does one piece of work. A commit
never depends on Redis: when Redis is down the enqueue is logged and reported as not queued, and
the periodic sweep (:func:`worker.jobs.sweep`) enqueues what was missed.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fieldreport.runtime import Runtime

log = logging.getLogger(__name__)

QUEUE_NAMES = ("photos", "digests", "default")


def resolve(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


class JobQueue:
    """Enqueues job functions by dotted path, with ids that make repeats harmless."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.redis_url = runtime.settings.redis_url
        self._executor: ThreadPoolExecutor | None = None
        self._pending: dict[str, Future[Any]] = {}
        self._lock = threading.Lock()

    @property
    def mode(self) -> str:
        return "rq" if self.redis_url else "in-process"

    def redis(self) -> Any:
        from redis import Redis

        return Redis.from_url(self.redis_url, socket_connect_timeout=2, socket_timeout=5)

    def rq_queue(self, name: str) -> Any:
        from rq import Queue

        return Queue(name, connection=self.redis())

    def enqueue(self, path: str, *args: Any, job_id: str, queue: str = "default") -> bool:
        """Queue ``path(*args)``; False when it could not be queued now (the sweep retries)."""
        if self.redis_url:
            return self._enqueue_rq(path, args, job_id=job_id, queue=queue)
        self._enqueue_in_process(path, args, job_id=job_id)
        return True

    def _enqueue_rq(self, path: str, args: tuple[Any, ...], *, job_id: str, queue: str) -> bool:
        from redis.exceptions import RedisError
        from rq import Retry

        try:
            self.rq_queue(queue).enqueue(
                path,
                *args,
                job_id=job_id,
                retry=Retry(max=3, interval=[10, 60, 300]),
                job_timeout=600,
                result_ttl=3600,
                failure_ttl=7 * 24 * 3600,
            )
        except (RedisError, OSError) as error:
            log.warning("could not enqueue %s (%s): %s; the sweep will retry", job_id, path, error)
            return False
        return True

    def _enqueue_in_process(self, path: str, args: tuple[Any, ...], *, job_id: str) -> None:
        with self._lock:
            existing = self._pending.get(job_id)
            if existing is not None and not existing.done():
                return
            self._pending = {key: job for key, job in self._pending.items() if not job.done()}
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jobs")
            future = self._executor.submit(self._run, path, args, job_id)
            self._pending[job_id] = future

    def _run(self, path: str, args: tuple[Any, ...], job_id: str) -> Any:
        from fieldreport.runtime import activated

        try:
            with activated(self.runtime):
                return resolve(path)(*args)
        except Exception:
            log.exception("in-process job %s failed", job_id)
            raise

    def drain(self, timeout: float = 60) -> None:
        """Wait for the in-process jobs queued so far (tests, and the command line)."""
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

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
