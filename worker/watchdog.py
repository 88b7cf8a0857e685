"""A worker that stops making progress ends itself, so that its supervisor starts a fresh one.

Why: a worker's work loop can stop for good without dying (a process it waits for that never
ends, a lock left held across a fork), and then the jobs wait in Redis while the process looks
alive to compose or systemd. RQ's loop beats at least every ``dequeue timeout`` while idle,
every job-heartbeat interval while a job runs, and every back-off step while Redis is away; a
silence much longer than all of those means the loop is stuck. The watchdog then writes every
thread's stack to the log (to find out where) and ends the process with status 70
(``EX_SOFTWARE``); ``restart: unless-stopped`` (compose.yaml) or ``Restart=on-failure``
(systemd) starts it again.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import sys
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)
STALLED_EXIT_STATUS = 70  # EX_SOFTWARE


class Watchdog:
    """Calls ``on_stall`` (once) when ``beat`` has not been called for ``limit_s`` seconds."""

    def __init__(
        self, limit_s: float, on_stall: Callable[[float], None], check_s: float = 5.0
    ) -> None:
        self.limit_s = limit_s
        self.on_stall = on_stall
        self.check_s = check_s
        self._last_beat = time.monotonic()
        self._stop = threading.Event()

    def beat(self) -> None:
        """The work loop made progress (a pass of RQ's loop, a job's heartbeat, a restart)."""
        self._last_beat = time.monotonic()

    def silence_s(self) -> float:
        return time.monotonic() - self._last_beat

    def start(self) -> Watchdog:
        threading.Thread(target=self._watch, name="watchdog", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.wait(self.check_s):
            silence = self.silence_s()
            if silence > self.limit_s:
                self.on_stall(silence)
                return


def stall_limit_s(job_heartbeat_s: int, dequeue_timeout_s: int, backoff_max_s: float) -> float:
    """Longer than any silence of a healthy loop: a whole idle wait for a job, RQ's longest
    back-off while Redis is away, and four missed job heartbeats, with a margin."""
    return dequeue_timeout_s + backoff_max_s + 4 * job_heartbeat_s + 30


def end_stalled_process(silence_s: float, stop_children: Callable[[], None]) -> None:
    """Log where every thread is, stop the worker's children, and end the process."""
    log.error(
        "the work loop made no progress for %.0f s: every thread's stack follows; quitting so "
        "that a fresh worker is started",
        silence_s,
    )
    faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    try:
        stop_children()
    finally:
        # os._exit: the stuck main thread would never let a normal exit finish (nor, if it is
        # stuck inside a log call, logging.shutdown; each log line is flushed as written).
        os._exit(STALLED_EXIT_STATUS)
