"""Keeping time: periodic tasks and the runner that enqueues them when they are due.

The process that keeps time (each ``fieldreport worker``, or the embedded app) runs one
:class:`PeriodicRunner` over every domain's tasks (``fieldreport.periodic``). A task only
enqueues, with a deterministic job id, so any number of processes schedule each piece of work
once (docs/architecture.md, "Background work").
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from fieldreport.config import Settings

log = logging.getLogger(__name__)


class Enqueuer(Protocol):
    """What the runner needs of a job queue: its settings and the context its jobs run in."""

    settings: Settings

    def activate(self) -> AbstractContextManager[object]: ...


@dataclass(frozen=True)
class PeriodicTask:
    """Work to enqueue every ``interval(settings)`` seconds; an interval of 0 or less is off.

    ``enqueue`` should only enqueue (with a deterministic job id), never do the work itself: it
    runs in the process that keeps time (a worker, or the embedded app), not in a job. Each
    domain declares its own in its ``tasks.py``; ``fieldreport.periodic`` collects them.
    """

    name: str
    interval: Callable[[Settings], float]
    enqueue: Callable[[Any], object]


class PeriodicRunner:
    """Calls each periodic task's ``enqueue`` when it is due: all at once at start, then on time."""

    def __init__(self, queue: Enqueuer, tasks: Iterable[PeriodicTask]) -> None:
        self.queue = queue
        self.tasks = list(tasks)
        self._due: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._busy = threading.Lock()  # held while a round of tasks runs (see hold_forks)

    def run_due(self) -> float:
        """Enqueue what is due; the seconds until the next task is due."""
        now = time.monotonic()
        settings = self.queue.settings
        waits = []
        with self._busy, self.queue.activate():
            for task in self.tasks:
                wait = self._run_if_due(task, settings, now)
                if wait is not None:
                    waits.append(wait)
        return min(waits, default=60.0)

    def hold_forks(self) -> None:
        """Make this process's forks wait for the round of tasks in progress.

        An RQ worker forks a child for each job while this runner's thread may be inside a
        query; the child would inherit locks that thread held (SQLAlchemy's compiled-statement
        cache, a connection pool) with no thread left to release them, and hang until the job
        times out. Called once, in the worker process only.
        """
        os.register_at_fork(
            before=self._busy.acquire,
            after_in_parent=self._busy.release,
            after_in_child=self._busy.release,
        )

    def _run_if_due(self, task: PeriodicTask, settings: Settings, now: float) -> float | None:
        """Enqueue ``task`` if due; seconds until it is due again (None: off or broken)."""
        # One broken task must not stop the clock for the others (the sweep among them).
        try:
            interval = task.interval(settings)
            if interval <= 0:
                return None
            due = self._due.get(task.name, now)
            if due <= now:
                self._due[task.name] = due = now + interval
                task.enqueue(self.queue)
        except Exception:
            log.exception("periodic task %s failed", task.name)
            return None
        return due - now

    def start(self) -> PeriodicRunner:
        self._thread = threading.Thread(target=self._loop, name="periodic", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        wait = self.run_due()
        while not self._stop.wait(wait):
            wait = self.run_due()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
