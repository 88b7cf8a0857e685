"""Job: after sectors change, put every report in the sector its position falls in now."""

from __future__ import annotations

from fieldreport import runtime
from fieldreport.sectors import service

MAX_ROUNDS = 5


def rederive_sectors() -> int:
    """Re-derive all reports' sectors; return how many moved.

    Runs again while the sectors changed under it (a second edit while the first job ran is
    otherwise lost: the deterministic job id lets only one run at a time).
    """
    moved = 0
    db = runtime.current().db
    for _round in range(MAX_ROUNDS):
        with db.session_scope() as session:
            before = service.sectors_stamp(session)
            moved += service.rederive_report_sectors(session)
        with db.session_scope(write=False) as session:
            if service.sectors_stamp(session) == before:
                break
    return moved
