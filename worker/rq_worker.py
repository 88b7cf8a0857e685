"""RQ's worker as this program runs it: a stop that cannot hang, beats for the watchdog, and
clean-up of what RQ leaves behind when Redis goes away."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from typing import Any

from redis import Redis
from rq import Queue, Worker

from fieldreport.jobs import QUEUE_NAMES
from fieldreport.runtime import Runtime
from worker.watchdog import Watchdog

log = logging.getLogger(__name__)
SCHEDULER_STOP_S = 10.0
# RQ's idle wait for a job ends after (worker TTL - 15) s and the loop beats again: keep it
# short, so that a silent loop soon means a stuck one (worker/watchdog.py).
WORKER_TTL_S = 45
DEQUEUE_TIMEOUT_S = WORKER_TTL_S - 15


class PatientWorker(Worker):
    """RQ's worker, except that stopping never hangs on its scheduler process, and every beat
    of its loop is told to the watchdog.

    RQ's ``stop_scheduler`` sends SIGTERM and then waits with no limit; a scheduler process
    stuck (in a Redis call, or on a lock inherited at fork) would keep this worker from ever
    working again, since after losing Redis it stops only to start again. So: wait a while,
    then kill it; the next worker starts a new scheduler.
    """

    watchdog: Watchdog | None = None

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        # Called before each wait for a job, after each job, while a job runs and on each
        # retry while Redis is away: the loop's pulse.
        if self.watchdog is not None:
            self.watchdog.beat()
        super().heartbeat(timeout, pipeline=pipeline)

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


def make_rq_worker(runtime: Runtime, watchdog: Watchdog | None) -> PatientWorker:
    """A new RQ worker on every queue, with its own connection to Redis."""
    connection = Redis.from_url(runtime.settings.redis_url, socket_connect_timeout=5)
    queues = [Queue(name, connection=connection) for name in QUEUE_NAMES]
    # While a job runs, this process beats every job_heartbeat_s; enqueuers judge by it whether
    # a job marked started still has a living worker (fieldreport.jobs.JobQueue._in_flight).
    worker = PatientWorker(
        queues,
        connection=connection,
        job_monitoring_interval=runtime.settings.job_heartbeat_s,
        worker_ttl=WORKER_TTL_S,
    )
    worker.watchdog = watchdog
    if watchdog is not None:
        watchdog.beat()
    return worker


def stop_listening(rq_worker: Worker) -> None:
    """End the thread that listens for RQ's commands: RQ's teardown leaves it running when
    Redis is gone, and each worker started again would add one more."""
    thread = getattr(rq_worker, "pubsub_thread", None)
    if thread is not None and thread.is_alive():
        thread.stop()
        thread.join(timeout=1)


def stop_children(workers: list[PatientWorker]) -> None:
    """Kill the job process and the scheduler process of a worker that is about to end."""
    for rq_worker in workers:
        with contextlib.suppress(Exception):
            if rq_worker.horse_pid:
                rq_worker.kill_horse()
        scheduler = getattr(rq_worker, "scheduler", None)
        process = getattr(scheduler, "_process", None)
        if process is not None and process.pid:
            with contextlib.suppress(OSError):
                os.kill(process.pid, signal.SIGKILL)
