"""The RQ worker process: listens on the photos, digests and default queues, and keeps time.

Besides working jobs it runs every domain's periodic tasks (``fieldreport.periodic``: the sweep
first, at start-up) from a thread; they only enqueue, with deterministic job ids, so any number
of workers on any number of machines schedule each piece of work once. Nothing imports this
package: it is a program (``python -m worker``, or ``fieldreport worker`` which becomes it).
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import logging
import os
import signal
import sys
import time
from typing import Any

from redis.exceptions import RedisError
from rq import Worker
from rq.exceptions import StopRequested

import fieldreport.models  # noqa: F401  (register every table before jobs are forked)
from fieldreport.clock import PeriodicRunner
from fieldreport.config import SettingsError, load_settings
from fieldreport.jobs import QUEUE_NAMES
from fieldreport.logs import setup_logging
from fieldreport.periodic import PERIODIC_TASKS
from fieldreport.runtime import Runtime, build_runtime, set_process_default

log = logging.getLogger(__name__)
REDIS_RETRY_S = 2.0
SCHEDULER_STOP_S = 10.0


class PatientWorker(Worker):
    """RQ's worker, except that stopping never hangs on its scheduler process.

    RQ's ``stop_scheduler`` sends SIGTERM and then waits with no limit; a scheduler process
    stuck (in a Redis call, or on a lock inherited at fork) would keep this worker from ever
    working again, since after losing Redis it stops only to start again. So: wait a while,
    then kill it; the next worker starts a new scheduler.
    """

    def stop_scheduler(self) -> None:
        process = self.scheduler._process if self.scheduler else None
        if process is None or not process.pid:
            return
        with contextlib.suppress(OSError):
            os.kill(process.pid, signal.SIGTERM)
        process.join(SCHEDULER_STOP_S)
        if process.is_alive():
            log.warning("RQ's scheduler (pid %s) did not stop; killed", process.pid)
            process.kill()
            process.join(5)


def run_worker(runtime: Runtime, *, burst: bool = False) -> bool:
    """Work jobs until stopped (or, with ``burst``, until the queues are empty).

    Returns whether any job was worked. Needs ``runtime.settings.redis_url``.
    """
    set_process_default(runtime)
    # Each job runs in a forked child; it must open its own database connections, not reuse
    # the parent's (SQLAlchemy's advice for engines that cross a fork).
    os.register_at_fork(after_in_child=lambda: runtime.db.engine.dispose(close=False))
    if burst:
        PeriodicRunner(runtime.queue, PERIODIC_TASKS).run_due()
    else:
        runtime.queue.start_periodic(PERIODIC_TASKS).hold_forks()
    try:
        while True:
            rq_worker = _rq_worker(runtime)
            try:
                # The scheduler moves jobs waiting for a retry (with back-off) to their queue.
                worked = rq_worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
                if burst or rq_worker._stop_requested:
                    return worked
            except RedisError as error:  # refused, timed out, loading: all mean "not now"
                if burst:
                    raise
                log.warning("lost Redis (%s)", error)
            finally:
                _stop_listening(rq_worker)
            # RQ quits when Redis goes away while it watches a job (bench/topology.py restarts
            # Redis mid-run): work again, with a new worker, once Redis answers.
            try:
                time.sleep(REDIS_RETRY_S)
            except StopRequested:  # RQ's signal handler: asked to stop while we waited
                return False
            log.warning("working again after losing Redis")
    finally:
        runtime.queue.shutdown()


def _stop_listening(rq_worker: Any) -> None:
    """End the thread that listens for RQ's commands: RQ's teardown leaves it running when
    Redis is gone, and each worker started again would add one more."""
    thread = getattr(rq_worker, "pubsub_thread", None)
    if thread is not None and thread.is_alive():
        thread.stop()
        thread.join(timeout=1)


def _rq_worker(runtime: Runtime) -> Any:
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(runtime.settings.redis_url, socket_connect_timeout=5)
    queues = [Queue(name, connection=connection) for name in QUEUE_NAMES]
    # While a job runs, this process beats every job_heartbeat_s; enqueuers judge by it whether
    # a job marked started still has a living worker (fieldreport.jobs.JobQueue._in_flight).
    return PatientWorker(
        queues, connection=connection, job_monitoring_interval=runtime.settings.job_heartbeat_s
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m worker", description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    arguments = parser.parse_args(argv)
    setup_logging()
    # ``kill -USR1 <pid>`` writes every thread's stack to the log: where a stuck worker waits.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"fieldreport worker: {error}", file=sys.stderr)
        return 2
    if not settings.redis_url:
        print("fieldreport worker: REDIS_URL is not set (without it jobs run inside the app).")
        return 2
    run_worker(build_runtime(settings), burst=arguments.burst)
    return 0
