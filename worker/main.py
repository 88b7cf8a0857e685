"""The RQ worker process: listens on the photos, digests and default queues, and keeps time.

Besides working jobs it runs every domain's periodic tasks (``fieldreport.periodic``: the sweep
first, at start-up) from a thread; they only enqueue, with deterministic job ids, so any number
of workers on any number of machines schedule each piece of work once. Nothing imports this
package: it is a program (``python -m worker``, or ``fieldreport worker`` which becomes it).
"""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import signal
import sys
import time

from redis.exceptions import RedisError
from rq.exceptions import StopRequested

import fieldreport.models  # noqa: F401  (register every table before jobs are forked)
from fieldreport.clock import PeriodicRunner
from fieldreport.config import SettingsError, load_settings
from fieldreport.logs import setup_logging
from fieldreport.periodic import PERIODIC_TASKS
from fieldreport.runtime import Runtime, build_runtime, set_process_default
from worker.rq_worker import (
    DEQUEUE_TIMEOUT_S,
    PatientWorker,
    make_rq_worker,
    stop_children,
    stop_listening,
)
from worker.watchdog import Watchdog, end_stalled_process, stall_limit_s

log = logging.getLogger(__name__)
REDIS_RETRY_S = 2.0


def run_worker(runtime: Runtime, *, burst: bool = False) -> bool:
    """Work jobs until stopped (or, with ``burst``, until the queues are empty).

    Returns whether any job was worked. Needs ``runtime.settings.redis_url``.
    """
    set_process_default(runtime)
    # Each job runs in a forked child; it must open its own database connections, not reuse
    # the parent's (SQLAlchemy's advice for engines that cross a fork).
    os.register_at_fork(after_in_child=lambda: runtime.db.engine.dispose(close=False))
    watchdog = None
    current: list[PatientWorker] = []
    if burst:
        PeriodicRunner(runtime.queue, PERIODIC_TASKS).run_due()
    else:
        runtime.queue.start_periodic(PERIODIC_TASKS).hold_forks()
        watchdog = _watchdog(runtime, current).start()
    try:
        while True:
            if watchdog is not None:
                watchdog.beat()  # this loop is alive, even while Redis stays away
            rq_worker = None
            try:
                # Inside the try: making an RQ worker already talks to Redis (it names its
                # connection), and Redis may not be back yet.
                rq_worker = make_rq_worker(runtime, watchdog)
                current[:] = [rq_worker]
                # The scheduler moves jobs waiting for a retry (with back-off) to their queue.
                worked = rq_worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
                if burst or rq_worker._stop_requested:
                    return worked
            except RedisError as error:  # refused, timed out, loading: all mean "not now"
                if burst:
                    raise
                log.warning("lost Redis (%s)", error)
            finally:
                if rq_worker is not None:
                    stop_listening(rq_worker)
            # RQ quits when Redis goes away while it watches a job (bench/topology.py restarts
            # Redis mid-run): work again, with a new worker, once Redis answers.
            try:
                time.sleep(REDIS_RETRY_S)
            except (StopRequested, RedisError):  # asked to stop while we waited (RQ's signal
                return False  # handler asks Redis for the worker's state, which may be away)
            log.warning("working again after losing Redis")
    finally:
        if watchdog is not None:
            watchdog.stop()
        runtime.queue.shutdown()


def _watchdog(runtime: Runtime, current: list[PatientWorker]) -> Watchdog:
    """The watchdog of this process's work loop (worker/watchdog.py says why)."""
    limit = stall_limit_s(
        runtime.settings.job_heartbeat_s, DEQUEUE_TIMEOUT_S, PatientWorker.max_connection_wait_time
    )
    return Watchdog(
        limit, lambda silence: end_stalled_process(silence, lambda: stop_children(current))
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
