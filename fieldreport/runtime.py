"""What a piece of work needs to run outside a request: settings, database, storage, queue.

The web app builds one in ``create_app``; an RQ worker process builds its own from the
environment. Job functions call :func:`current` instead of importing Flask, so the same function
runs in a worker on another machine or in-process beside the web app.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from fieldreport.config import Settings, load_settings
from fieldreport.db import Database
from fieldreport.i18n import compile_catalogues
from fieldreport.jobs import JobQueue
from fieldreport.storage import LocalStorage, Storage


@dataclass
class Runtime:
    settings: Settings
    db: Database
    storage: Storage
    queue: JobQueue


_active: ContextVar[Runtime | None] = ContextVar("fieldreport_runtime", default=None)
_process_default: Runtime | None = None


def build_runtime(settings: Settings) -> Runtime:
    compile_catalogues()  # .mo files are built from the .po files in git, by whoever starts
    runtime = Runtime(
        settings=settings,
        db=Database(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms),
        storage=LocalStorage(settings.data_dir / "files"),
        queue=None,  # type: ignore[arg-type]  (set below: its jobs activate this runtime)
    )
    runtime.queue = JobQueue(settings, activate=lambda: activated(runtime))
    return runtime


def current() -> Runtime:
    """The runtime of the work in progress, or the process's own built from the environment."""
    global _process_default
    active = _active.get()
    if active is not None:
        return active
    if _process_default is None:
        _process_default = build_runtime(load_settings())
    return _process_default


@contextmanager
def activated(runtime: Runtime) -> Iterator[Runtime]:
    token = _active.set(runtime)
    try:
        yield runtime
    finally:
        _active.reset(token)


def set_process_default(runtime: Runtime | None) -> None:
    global _process_default
    _process_default = runtime
