"""The RQ worker process: listens on the photos, digests and default queues, and keeps time.

Besides working jobs it runs the periodic tasks of :data:`worker.jobs.PERIODIC_TASKS` (the
sweep first, at start-up) from a thread; they only enqueue, with deterministic job ids, so any
number of workers on any number of machines schedule each piece of work once.
"""

from __future__ import annotations

import os

import worker.jobs  # noqa: F401  (imported once here rather than in every forked job process)
from fieldreport.jobs import QUEUE_NAMES, PeriodicRunner, default_periodic_tasks
from fieldreport.runtime import Runtime, set_process_default


def run_worker(runtime: Runtime, *, burst: bool = False) -> bool:
    """Work jobs until stopped (or, with ``burst``, until the queues are empty).

    Returns whether any job was worked. Needs ``runtime.settings.redis_url``.
    """
    from redis import Redis
    from rq import Queue, Worker

    set_process_default(runtime)
    # Each job runs in a forked child; it must open its own database connections, not reuse
    # the parent's (SQLAlchemy's advice for engines that cross a fork).
    os.register_at_fork(after_in_child=lambda: runtime.db.engine.dispose(close=False))
    connection = Redis.from_url(runtime.settings.redis_url, socket_connect_timeout=5)
    queues = [Queue(name, connection=connection) for name in QUEUE_NAMES]
    # While a job runs, this process beats every job_heartbeat_s; enqueuers judge by it whether
    # a job marked started still has a living worker (fieldreport.jobs.JobQueue._in_flight).
    rq_worker = Worker(
        queues, connection=connection, job_monitoring_interval=runtime.settings.job_heartbeat_s
    )
    if burst:
        PeriodicRunner(runtime.queue, default_periodic_tasks()).run_due()
    else:
        runtime.queue.start_periodic()
    try:
        # The scheduler moves jobs waiting for a retry (with back-off) back onto their queue.
        return rq_worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
    finally:
        runtime.queue.shutdown()
