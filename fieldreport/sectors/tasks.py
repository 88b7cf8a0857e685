"""The sector job: after sectors change, put every report in the sector its position falls in.

One job id (``sectors:rederive``) for all changes: a second edit while the job runs is caught by
the job's own loop (it runs again while the sectors changed under it).
"""

from __future__ import annotations

from fieldreport.jobs import JobQueue
from fieldreport.runtime import current
from fieldreport.sectors.locate import rederive_report_sectors, sectors_stamp

JOB_ID = "sectors:rederive"
MAX_ROUNDS = 5


def rederive_sectors() -> int:
    """Job: re-derive all reports' sectors; return how many moved."""
    moved = 0
    db = current().db
    for _round in range(MAX_ROUNDS):
        with db.session_scope() as session:
            before = sectors_stamp(session)
            moved += rederive_report_sectors(session)
        with db.session_scope(write=False) as session:
            if sectors_stamp(session) == before:
                break
    return moved


def enqueue_rederive(queue: JobQueue) -> bool:
    """Ask for the re-derive job (one id for every change: a double request does one job)."""
    return queue.enqueue(rederive_sectors, job_id=JOB_ID)
