"""Signed tree heads: the mission key's signature over (size, root, time).

The signed bytes are plain text so that anyone can rebuild them by hand (``tools/verify_package.py``
does): ``fieldreport-tree-head-v1\\n<size>\\n<root hex>\\n<timestamp ms>\\n``.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldreport.ledger import keys, service
from fieldreport.ledger.models import TreeHead

HEAD_CONTEXT = "fieldreport-tree-head-v1"


def head_message(size: int, root_hex: str, timestamp_ms: int) -> bytes:
    return f"{HEAD_CONTEXT}\n{size}\n{root_hex}\n{timestamp_ms}\n".encode()


def make_head(
    session: Session, data_dir: Path, *, size: int | None = None, digest_day: date | None = None
) -> TreeHead:
    """Sign the log as ``session``'s snapshot sees it (or at ``size``); the caller keeps it."""
    size = service.tree_size(session) if size is None else size
    root_hex = service.root_at(session, size).hex()
    timestamp_ms = int(time.time() * 1000)
    key = keys.signing_key(data_dir)
    return TreeHead(
        tree_size=size,
        root_hash=root_hex,
        timestamp_ms=timestamp_ms,
        key_fingerprint=keys.fingerprint(key.public_key()),
        signature=key.sign(head_message(size, root_hex, timestamp_ms)).hex(),
        digest_day=digest_day,
    )


def sign_head(session: Session, data_dir: Path, *, size: int | None = None) -> TreeHead:
    """Sign and keep a head now (the ``fieldreport sign-head`` command, tests)."""
    head = make_head(session, data_dir, size=size)
    session.add(head)
    session.flush()
    return head


def as_dict(head: TreeHead) -> dict[str, Any]:
    """The head as it is published (API, email, evidence package)."""
    return {
        "tree_size": head.tree_size,
        "root_hash": head.root_hash,
        "timestamp_ms": head.timestamp_ms,
        "key_fingerprint": head.key_fingerprint,
        "signature": head.signature,
    }


def signature_valid(head: TreeHead, public: dict[str, keys.PublicKey]) -> bool:
    key = public.get(head.key_fingerprint)
    message = head_message(head.tree_size, head.root_hash, head.timestamp_ms)
    return key is not None and keys.check(key.pem, message, head.signature)


def head_for_day(session: Session, day: date) -> TreeHead | None:
    """The latest head signed for ``day``'s digest."""
    return session.scalar(
        select(TreeHead).where(TreeHead.digest_day == day).order_by(TreeHead.id.desc()).limit(1)
    )


def previous_head(session: Session, head: TreeHead) -> TreeHead | None:
    """The latest digest head signed before ``head`` for an earlier day (the witness to extend)."""
    if head.digest_day is None:
        return None
    return session.scalar(
        select(TreeHead)
        .where(TreeHead.digest_day < head.digest_day, TreeHead.tree_size <= head.tree_size)
        .order_by(TreeHead.digest_day.desc(), TreeHead.id.desc())
        .limit(1)
    )
