"""Check signed tree heads, the key chain, and every digest build's signed manifest and files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldreport.digests.models import Digest
from fieldreport.ledger import heads, keys, merkle, seal
from fieldreport.ledger.models import TreeHead
from fieldreport.storage import Storage


def check_heads(
    session: Session, tree: merkle.MemoryTree, data_dir: Path, counts: dict[str, int]
) -> Iterator[str]:
    """Each signed head: signed by a mission key, and the rebuilt tree has its root at its size."""
    public = keys.public_keys(data_dir)
    yield from _key_chain(public)
    all_heads = list(session.scalars(select(TreeHead).order_by(TreeHead.id)))
    counts["signed heads"] = len(all_heads)
    for head in all_heads:
        when = f"The tree head signed at {head.timestamp_ms} ms (size {head.tree_size})"
        if not heads.signature_valid(head, public):
            yield f"{when}: its signature does not check with the mission key."
        elif head.tree_size > tree.size:
            yield f"{when}: the log now has fewer entries ({tree.size})."
        elif merkle.root(tree.get, head.tree_size).hex() != head.root_hash:
            yield f"{when}: the log's entries (their content or order) no longer give its root."


def _key_chain(public: dict[str, keys.PublicKey]) -> Iterator[str]:
    for fp, key in public.items():
        announcement = key.announcement
        if keys.fingerprint(keys.load_public(key.pem)) != fp:
            yield f"The public key file {fp} holds another key."
        previous = announcement.get("previous")
        if previous is None:
            continue
        message = keys.rotation_message(previous, fp, announcement["created_ms"])
        old = public.get(previous)
        signature = announcement.get("signature_by_previous", "")
        if old is None or not keys.check(old.pem, message, signature):
            yield f"The key {keys.grouped(fp)} has no valid announcement by the key before it."


def check_digests(
    session: Session, storage: Storage, data_dir: Path, counts: dict[str, int]
) -> Iterator[str]:
    public = keys.public_keys(data_dir)
    built = list(session.scalars(select(Digest).where(Digest.html_key.is_not(None))))
    counts["digests"] = len(built)
    for digest in built:
        assert digest.html_key is not None
        yield from check_build(storage, digest.html_key.rsplit("/", 1)[0], public, str(digest.day))


def check_build(
    storage: Storage, base: str, public: dict[str, keys.PublicKey], day: str
) -> Iterator[str]:
    what = f"The digest of {day}"
    if not storage.exists(f"{base}/{seal.MANIFEST}"):
        yield f"{what} has no signed manifest (built before the evidence log, or removed)."
        return
    manifest = storage.get(f"{base}/{seal.MANIFEST}")
    signed = json.loads(storage.get(f"{base}/{seal.MANIFEST_SIGNATURE}"))
    key = public.get(signed.get("key_fingerprint", ""))
    if key is None or not keys.check(key.pem, manifest, signed.get("signature", "")):
        yield f"{what}: its manifest's signature does not check with the mission key."
        return
    body = json.loads(manifest)
    for name, sha in body["files"].items():
        key_name = f"{base}/{name}"
        if not storage.exists(key_name):
            yield f"{what}: the file {name} is missing."
        elif hashlib.sha256(storage.get(key_name)).hexdigest() != sha:
            yield f"{what}: the file {name} was changed after it was signed."
