"""What a digest build needs from the log: a signed head of the snapshot it reads, and a signed
manifest of every file of the build.

The head is made inside the build's read-only snapshot transaction (its size and root are those
the figures and the exports saw: the build reads the exports' records in that same transaction,
``digests.service.read_snapshot``) and stored with the digest row when the build is marked
ready. The manifest
(``manifest.json``: day, head, SHA-256 of each file) is signed with the mission key
(``manifest.sig``), so a file changed after the build no longer matches (``fieldreport verify``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from fieldreport.ledger import heads, keys, service
from fieldreport.ledger.models import TreeHead

MANIFEST = "manifest.json"
MANIFEST_SIGNATURE = "manifest.sig"


@dataclass(frozen=True)
class Sealed:
    head: TreeHead  # not yet added to a session: the build's write transaction keeps it
    context: dict[str, Any]  # what the digest page, PDF and email print


def seal_snapshot(session: Session, data_dir: Path, day: date) -> Sealed:
    """Sign the log as ``session`` sees it (the build's snapshot, whose exports it vouches for)."""
    head = heads.make_head(session, data_dir, digest_day=day)
    previous = heads.previous_head(session, head)
    context: dict[str, Any] = {
        **heads.as_dict(head),
        "fingerprint_grouped": keys.grouped(head.key_fingerprint),
        "signed_at_utc": datetime.fromtimestamp(head.timestamp_ms / 1000, UTC).strftime(
            "%Y-%m-%d %H:%M:%S"
        ),
        "previous": None,
        "consistency_proof": [],
    }
    if previous is not None:
        proof = service.consistency_proof(session, previous.tree_size, head.tree_size)
        context["previous"] = {**heads.as_dict(previous), "day": previous.digest_day.isoformat()}
        context["consistency_proof"] = [node.hex() for node in proof]
    return Sealed(head, context)


def manifest_bytes(day: date, head: dict[str, Any], files: dict[str, bytes]) -> bytes:
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}
    body = {"day": day.isoformat(), "tree_head": head, "files": digests}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def signed_manifest(
    data_dir: Path, day: date, head: dict[str, Any], files: dict[str, bytes]
) -> dict[str, bytes]:
    """``manifest.json`` and ``manifest.sig`` for a build's files (added to them)."""
    manifest = manifest_bytes(day, head, files)
    key = keys.signing_key(data_dir)
    signature = {
        "key_fingerprint": keys.fingerprint(key.public_key()),
        "signature": key.sign(manifest).hex(),
    }
    return {MANIFEST: manifest, MANIFEST_SIGNATURE: json.dumps(signature).encode()}
