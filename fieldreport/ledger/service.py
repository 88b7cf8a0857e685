"""Appending to the evidence log, and reading roots and proofs from it.

Each use case that makes evidence calls :func:`append` in its own transaction (services never
commit: the request or job that owns the transaction does), so a report and its leaf are
committed together or not at all. Appends are serialised (PostgreSQL: a transaction-level
advisory lock; SQLite: its single writer), and ``leaf_index`` is the primary key, so two racing
appends can never take the same index. Each append also stores the perfect subtrees it completes
(``merkle.completed_nodes``): about one extra row per leaf, and proofs read O(log n) rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from fieldreport.db import UTCDateTime, utcnow
from fieldreport.ledger import merkle
from fieldreport.ledger.leaves import canonical
from fieldreport.ledger.models import LedgerLeaf, LedgerNode, node_key, split_node_key

# The same advisory lock as reports.service.LEDGER_LOCK_ID: one lock, so never two orders.
LOG_LOCK_ID = 72_031_017


def tree_size(session: Session) -> int:
    top = session.connection().execute(_LAST_LEAF).first()
    return 0 if top is None else top[0] + 1


# Plain statements on the session's connection: an append runs on every report, photo and
# decision, and the ORM's unit of work would triple its cost (bench/ledger.py).
_LAST_LEAF = text(
    "SELECT leaf_index, leaf_hash FROM ledger_leaves ORDER BY leaf_index DESC LIMIT 1"
)
_INSERT_LEAF = text(
    "INSERT INTO ledger_leaves (leaf_index, kind, subject_id, data, leaf_hash, appended_at) "
    "VALUES (:leaf_index, :kind, :subject_id, :data, :leaf_hash, :appended_at)"
).bindparams(bindparam("appended_at", type_=UTCDateTime()))
_NODE = text("SELECT hash FROM ledger_nodes WHERE node_key = :key")
_INSERT_NODE = text("INSERT INTO ledger_nodes (node_key, hash) VALUES (:key, :hash)")


def append(session: Session, kind: str, subject_id: int, payload: dict[str, Any]) -> int:
    """Add one leaf (and the tree nodes it completes) to the caller's transaction; its index.

    Three statements on average whatever the size of the log: the last leaf (the new index
    and, for an odd index, the left sibling), the leaf, and the nodes it completes; a leaf that
    completes a subtree of 2**k leaves reads its k - 1 larger left siblings (one row each).
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOG_LOCK_ID})
    last = connection.execute(_LAST_LEAF).first()
    index = 0 if last is None else last[0] + 1
    data = canonical(payload)
    leaf_hash = merkle.leaf_hash(data.encode())
    known = {} if last is None else {(0, last[0]): bytes.fromhex(last[1])}

    def sibling(level: int, position: int) -> bytes:
        if (level, position) not in known:
            found = connection.execute(_NODE, {"key": node_key(level, position)}).scalar()
            if found is None:
                raise LookupError(f"the log has no stored node {level}/{position}")
            known[(level, position)] = bytes.fromhex(found)
        return known[(level, position)]

    completed = merkle.completed_nodes(index, sibling, leaf_hash)
    leaf = {"leaf_index": index, "kind": kind, "subject_id": subject_id, "data": data}
    connection.execute(
        _INSERT_LEAF, {**leaf, "leaf_hash": leaf_hash.hex(), "appended_at": utcnow()}
    )
    if completed:
        rows = [{"key": node_key(lv, p), "hash": value.hex()} for lv, p, value in completed]
        connection.execute(_INSERT_NODE, rows)
    return index


class StoredNodes:
    """A ``NodeGetter`` over the stored tree; :meth:`prefetch` loads what a proof needs at once."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.connection = session.connection()
        self.cache: dict[tuple[int, int], bytes] = {}

    def get(self, level: int, position: int) -> bytes:
        if (level, position) not in self.cache:
            self._load([(level, position)])
        return self.cache[(level, position)]

    def prefetch(self, compute: Any) -> None:
        """Run ``compute(getter)`` once with a recorder, then load every node it asked for."""
        wanted: list[tuple[int, int]] = []

        def record(level: int, position: int) -> bytes:
            wanted.append((level, position))
            return b"\x00" * 32

        compute(record)
        self._load([key for key in wanted if key not in self.cache])

    def _load(self, keys: Iterable[tuple[int, int]]) -> None:
        keys = list(keys)
        leaves = [position for level, position in keys if level == 0]
        inner = [key for key in keys if key[0] > 0]
        if leaves:
            rows = self.connection.execute(
                select(LedgerLeaf.leaf_index, LedgerLeaf.leaf_hash).where(
                    LedgerLeaf.leaf_index.in_(leaves)
                )
            )
            self.cache.update({(0, i): bytes.fromhex(h) for i, h in rows})
        if inner:
            wanted = [node_key(level, position) for level, position in inner]
            rows = self.connection.execute(
                select(LedgerNode.node_key, LedgerNode.hash).where(LedgerNode.node_key.in_(wanted))
            )
            self.cache.update({split_node_key(k): bytes.fromhex(h) for k, h in rows})
        missing = [key for key in keys if key not in self.cache]
        if missing:
            raise LookupError(f"the log has no stored node {missing[0]}")


def root_at(session: Session, size: int) -> bytes:
    nodes = StoredNodes(session)
    nodes.prefetch(lambda get: merkle.root(get, size))
    return merkle.root(nodes.get, size)


def inclusion_proof(session: Session, index: int, size: int) -> list[bytes]:
    nodes = StoredNodes(session)
    nodes.prefetch(lambda get: merkle.inclusion_path(get, index, size))
    return merkle.inclusion_path(nodes.get, index, size)


def consistency_proof(session: Session, old_size: int, new_size: int) -> list[bytes]:
    nodes = StoredNodes(session)
    nodes.prefetch(lambda get: merkle.consistency_proof(get, old_size, new_size))
    return merkle.consistency_proof(nodes.get, old_size, new_size)


def leaves_of(session: Session, kind: str, subject_ids: Iterable[int]) -> list[LedgerLeaf]:
    return list(
        session.scalars(
            select(LedgerLeaf)
            .where(LedgerLeaf.kind == kind, LedgerLeaf.subject_id.in_(list(subject_ids)))
            .order_by(LedgerLeaf.leaf_index)
        )
    )
