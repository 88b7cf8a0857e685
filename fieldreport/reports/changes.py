"""The order in which reports changed: the key of incremental sync (the API's ``since``).

A client that syncs asks "what changed after the last change I saw?". A time (``updated_at``)
cannot answer that under concurrent writes: a transaction that stamps 10:00:01 but commits at
10:00:05 becomes visible after a reader has moved past 10:00:03, and is missed forever. A
database sequence has the same flaw (numbers are drawn in start order, not commit order).

So the key is drawn *at commit, in commit order*. The committing transaction takes a lock
(PostgreSQL: a transaction-level advisory lock, held until the commit ends; SQLite: writers are
one at a time already), reads the greatest key so far and stamps every report it changed with the
next one. The next writer can only read the greatest key once this commit is visible, so its key
is greater, and a reader that has seen key k has seen every change with a key up to k. All
reports of one transaction share a key; ``(change_seq, id)`` orders them.

The lock is taken last, after every other lock of the transaction (the final flush comes first),
so it cannot take part in a deadlock; it is held for the few statements of the commit only.
Changes through the ORM are found by the flush; a bulk UPDATE calls :func:`note_changed`.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from typing import Any

from sqlalchemy import bindparam, event, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

CHANGES_LOCK_ID = 72_031_018
STAMP_BATCH = 500
_PENDING = "fieldreport_changed_reports"


def note_changed(session: Session, report_ids: Iterable[int]) -> None:
    """Mark reports changed by a statement the ORM does not track (a bulk UPDATE)."""
    session.info.setdefault(_PENDING, set()).update(report_ids)


def _next_key(session: Session) -> int:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": CHANGES_LOCK_ID})
    last = session.execute(text("SELECT max(change_seq) FROM reports")).scalar()
    return int(last or 0) + 1


def _stamp(session: Session, report_ids: set[int]) -> None:
    key = _next_key(session)
    ids = sorted(report_ids)
    statement = text("UPDATE reports SET change_seq = :key WHERE id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    for start in range(0, len(ids), STAMP_BATCH):
        session.execute(statement, {"key": key, "ids": ids[start : start + STAMP_BATCH]})
    for obj in list(session.identity_map.values()):
        if getattr(obj, "__tablename__", None) == "reports" and obj.id in report_ids:
            set_committed_value(obj, "change_seq", key)


def watch(model: type[Any]) -> None:
    """Stamp every committed change of ``model`` (the Report class) with its change key."""

    def collect(session: Session, _context: Any) -> None:
        changed = [
            obj.id
            for obj in chain(session.new, session.dirty)
            if isinstance(obj, model) and (obj in session.new or session.is_modified(obj))
        ]
        if changed:
            note_changed(session, changed)

    def before_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return
        if session.new or session.dirty:
            session.flush()
        pending = session.info.pop(_PENDING, None)
        if pending:
            _stamp(session, pending)

    def forget(session: Session) -> None:
        if not session.in_nested_transaction():
            session.info.pop(_PENDING, None)

    event.listen(Session, "after_flush", collect)
    event.listen(Session, "before_commit", before_commit)
    event.listen(Session, "after_rollback", forget)
