"""A worker forks a child per job while its periodic thread works: the child must not inherit a
lock that thread held (it hung, until the job timed out, in 2 of 5 CI runs)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from types import SimpleNamespace

import pytest

from fieldreport.clock import PeriodicRunner, PeriodicTask

HELD_S = 0.6


class _Queue:
    """Just what PeriodicRunner asks of a queue."""

    settings = SimpleNamespace()

    def activate(self):
        return contextlib.nullcontext()


def _child_can_take(shared: threading.Lock) -> bool:
    """Fork while the periodic thread holds ``shared``; can the child take it within 2 s?"""
    pid = os.fork()
    if pid == 0:  # the child: exit 0 if the lock is free to take, 1 if it hangs
        os._exit(0 if shared.acquire(timeout=2) else 1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _runner_holding(shared: threading.Lock, started: threading.Event) -> PeriodicRunner:
    def enqueue(_queue):
        with shared:  # as a query holds SQLAlchemy's statement cache lock
            started.set()
            time.sleep(HELD_S)

    task = PeriodicTask("busy", lambda _settings: 3600, enqueue)
    return PeriodicRunner(_Queue(), [task])


@pytest.mark.parametrize("guarded", [False, True])
def test_a_fork_waits_for_the_periodic_round_in_progress(guarded):
    shared, started = threading.Lock(), threading.Event()
    runner = _runner_holding(shared, started)
    if guarded:
        runner.hold_forks()
    runner.start()
    try:
        assert started.wait(5)
        # Unguarded, the child is forked while the lock is held, and hangs on it.
        assert _child_can_take(shared) is guarded
    finally:
        runner.stop()
