"""``fieldreport verify``: check the whole log against everything it logs, and name what differs.

In order: every leaf's hash and index; every leaf against the row (and photo file) it names,
rebuilt with ``leaves.py``; every report row against its latest version; every source row has
its leaf; the tree rebuilt from the leaves against the stored nodes and every signed head; the
key chain; every digest build's signed manifest and files. Problems come as sentences for
people, first found first; an empty list is a clean log.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldreport.ledger import merkle, verify_digests, verify_sources
from fieldreport.ledger.models import LedgerLeaf, LedgerNode, split_node_key
from fieldreport.ledger.verify_sources import rows
from fieldreport.storage import Storage


@dataclass
class Outcome:
    problems: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.problems


def verify_all(session: Session, storage: Storage, data_dir: Path, *, limit: int = 20) -> Outcome:
    """Every check; stops collecting after ``limit`` problems (the first is what matters)."""
    outcome = Outcome()
    columns = (LedgerLeaf.leaf_index, LedgerLeaf.kind, LedgerLeaf.subject_id, LedgerLeaf.data)
    leaves = rows(session, select(*columns, LedgerLeaf.leaf_hash).order_by(LedgerLeaf.leaf_index))
    outcome.counts["leaves"] = len(leaves)
    hashes = [merkle.leaf_hash(leaf.data.encode()) for leaf in leaves]  # from the entries
    checks = [
        _leaf_hashes(leaves, hashes),
        verify_sources.check_sources(session, storage, leaves, outcome.counts),
        _tree(session, hashes, data_dir, outcome.counts),
        verify_digests.check_digests(session, storage, data_dir, outcome.counts),
    ]
    for check in checks:
        for problem in check:
            outcome.problems.append(problem)
            if len(outcome.problems) >= limit:
                return outcome
    return outcome


def _leaf_hashes(leaves: list[LedgerLeaf], hashes: list[bytes]) -> Iterator[str]:
    for expected_index, (leaf, rebuilt) in enumerate(zip(leaves, hashes, strict=True)):
        if leaf.leaf_index != expected_index:
            yield f"The log has no leaf {expected_index} (the next is {leaf.leaf_index})."
            return
        if rebuilt.hex() != leaf.leaf_hash:
            yield f"Leaf {leaf.leaf_index} ({leaf.kind}): its hash does not match its entry."


def _tree(
    session: Session, hashes: list[bytes], data_dir: Path, counts: dict[str, int]
) -> Iterator[str]:
    """Rebuild the tree from the entries; compare stored nodes, then every signed head."""
    tree = merkle.MemoryTree()
    for leaf_hash in hashes:
        tree.append(leaf_hash)
    stored = session.execute(select(LedgerNode.node_key, LedgerNode.hash))
    nodes = 0
    for key, value in stored:
        nodes += 1
        level, position = split_node_key(key)
        if level >= len(tree.levels) or position >= len(tree.levels[level]):
            yield f"The stored tree node {level}/{position} is not in the log's tree."
            continue
        if tree.levels[level][position].hex() != value:
            yield (
                f"The stored tree node {level}/{position} differs from the leaves under it "
                "(leaves changed or reordered)."
            )
    counts["tree nodes"] = nodes
    yield from verify_digests.check_heads(session, tree, data_dir, counts)
