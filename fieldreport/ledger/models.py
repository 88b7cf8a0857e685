"""The evidence log's tables: leaves (append-only), stored tree nodes, signed tree heads, and the
phones' public keys with the signatures they made.

Nothing here is ever updated or deleted by the application: a deletion of evidence is a new
leaf (a tombstone). ``ledger_nodes`` holds each perfect subtree's hash once it is complete, so
roots and proofs read O(log n) rows (``merkle.py``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fieldreport.db import Base, UTCDateTime, utcnow


class LedgerLeaf(Base):
    __tablename__ = "ledger_leaves"
    __table_args__ = (Index("ix_ledger_leaves_kind_subject", "kind", "subject_id"),)

    leaf_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[int] = mapped_column(Integer)
    # The leaf entry itself: canonical JSON (sorted keys, no spaces, UTF-8) naming what it logs.
    data: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[str] = mapped_column(String(64))
    appended_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


NODE_LEVEL_SHIFT = 40  # node_key = level << 40 | position: one integer key, one index lookup


def node_key(level: int, position: int) -> int:
    return (level << NODE_LEVEL_SHIFT) | position


def split_node_key(key: int) -> tuple[int, int]:
    return key >> NODE_LEVEL_SHIFT, key & ((1 << NODE_LEVEL_SHIFT) - 1)


class LedgerNode(Base):
    """The hash of the perfect subtree of leaves [position * 2**level, (position+1) * 2**level)
    for level >= 1 (level 0: the leaves' own hashes), keyed by :func:`node_key`."""

    __tablename__ = "ledger_nodes"

    node_key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))


class TreeHead(Base):
    """A signed tree head: the mission key's signature over size, root and time."""

    __tablename__ = "ledger_heads"

    id: Mapped[int] = mapped_column(primary_key=True)
    tree_size: Mapped[int] = mapped_column(Integer)
    root_hash: Mapped[str] = mapped_column(String(64))
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    key_fingerprint: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    digest_day: Mapped[date | None] = mapped_column(Date, index=True)


class DeviceKey(Base):
    """A phone's public key (WebCrypto: ECDSA P-256 or Ed25519), registered by its observer."""

    __tablename__ = "device_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key_spki: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeviceSignature(Base):
    """A report version's signature made on the phone, over the exact bytes it signed."""

    __tablename__ = "device_signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_version_id: Mapped[int] = mapped_column(ForeignKey("report_versions.id"), unique=True)
    device_key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)
    signed_body: Mapped[str] = mapped_column(Text)
