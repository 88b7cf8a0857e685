"""The worker's watchdog: a work loop that stops beating ends its process (worker/watchdog.py),
and RQ's loop does beat it (worker/rq_worker.py)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from redis import Redis

from fieldreport.config import PROJECT_ROOT
from worker.rq_worker import PatientWorker
from worker.watchdog import STALLED_EXIT_STATUS, Watchdog, stall_limit_s


def test_a_beating_loop_is_left_alone_and_a_silent_one_is_reported_once():
    stalls: list[float] = []
    reported = threading.Event()

    def on_stall(silence: float) -> None:
        stalls.append(silence)
        reported.set()

    watchdog = Watchdog(limit_s=0.4, on_stall=on_stall, check_s=0.05).start()
    try:
        for _ in range(12):  # 0.6 s of beats, longer than the limit in total
            watchdog.beat()
            time.sleep(0.05)
        assert stalls == []
        assert reported.wait(5), "a silent loop must be reported"
        time.sleep(0.3)
        assert len(stalls) == 1 and stalls[0] > 0.4
    finally:
        watchdog.stop()


def test_the_limit_outlasts_every_silence_of_a_healthy_loop():
    limit = stall_limit_s(job_heartbeat_s=30, dequeue_timeout_s=30, backoff_max_s=60)
    assert limit > 30 + 60 + 2 * 30
    assert limit < 10 * 60  # a stuck worker is replaced within minutes, not hours


def test_rq_loop_beats_the_watchdog(own_redis_url):
    watchdog = Watchdog(limit_s=60, on_stall=lambda silence: None)
    rq_worker = PatientWorker(["photos"], connection=Redis.from_url(own_redis_url))
    rq_worker.watchdog = watchdog
    began = time.monotonic()
    rq_worker.work(burst=True)  # an empty queue: one pass of the loop
    assert watchdog.silence_s() < time.monotonic() - began, "no beat during the pass"


STUCK_PROCESS = """
import threading, time
from worker.watchdog import Watchdog, end_stalled_process

def children():
    print("children stopped", flush=True)

watchdog = Watchdog(0.5, lambda silence: end_stalled_process(silence, children), check_s=0.1)
watchdog.start()
threading.Event().wait()  # the main thread waits for good, as a stuck worker would
"""


def test_a_stuck_process_shows_its_stacks_stops_its_children_and_ends_with_status_70():
    process = subprocess.run(
        [sys.executable, "-c", STUCK_PROCESS],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == STALLED_EXIT_STATUS
    assert "made no progress" in process.stderr
    assert "most recent call first" in process.stderr and "in <module>" in process.stderr
    assert "children stopped" in process.stdout
