"""Job: build the day's digest (and, for the nightly run, email it).

With RQ, a build that raises is retried with back-off by RQ itself (the job is queued with a
``Retry``); in-process there is no RQ, so the job retries in a loop with its own back-off. Either
way the last failure marks the digest failed with its reason and tells the coordinators.
"""

from __future__ import annotations

import logging
import time
from datetime import date

from fieldreport.digests import service
from fieldreport.runtime import Runtime, current

log = logging.getLogger(__name__)

# Seconds between in-process attempts: a locked SQLite file or a full disk may clear.
IN_PROCESS_BACKOFF_S: tuple[float, ...] = (5.0, 30.0)


def build_digest(day_iso: str, send: bool = False) -> str:
    """Build ``day_iso``'s digest; with ``send``, then email it once. Returns its state."""
    runtime = current()
    day = date.fromisoformat(day_iso)
    from rq import get_current_job

    job = get_current_job()
    if job is not None:
        _attempt(runtime, day, final=not job.retries_left)
    else:
        delays = (*IN_PROCESS_BACKOFF_S, None)
        for delay in delays:
            try:
                _attempt(runtime, day, final=delay is None)
                break
            except Exception:
                if delay is None:
                    raise
                log.warning("digest %s: build failed; retrying in %.0f s", day_iso, delay)
                time.sleep(delay)
    if send:
        service.send(runtime, day)
    with runtime.db.session_scope(write=False) as session:
        digest = service.get_digest(session, day)
        return digest.state if digest else "missing"


def _attempt(runtime: Runtime, day: date, *, final: bool) -> None:
    try:
        service.build(runtime, day)
    except Exception as error:
        log.exception("digest %s: build failed", day)
        service.record_failure(runtime, day, f"{type(error).__name__}: {error}", final=final)
        raise
