"""The evidence log: every piece of evidence is a leaf, proofs come from the stored tree, heads
are signed (and keys rotate), digests print their head and the proof from the day before.
The mutation test is tests/test_ledger_mutations.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from fieldreport.accounts.models import User
from fieldreport.digests import pipeline
from fieldreport.ledger import heads, keys, merkle, service
from fieldreport.ledger.models import LedgerLeaf, TreeHead
from fieldreport.ledger.verify import verify_all
from fieldreport.photos.service import PhotoLimits, Upload, check_photo, store_photo
from fieldreport.reports.schemas import validate_report
from fieldreport.reports.service import amend_report
from fieldreport.review.service import review_report
from fieldreport.sectors.service import save_sector
from tests.helpers import file_report, report_body, square

LIMITS = PhotoLimits(max_bytes=20_000_000, max_pixels=40_000_000)


def _world(runtime, users, corpus, *, digest: bool = True) -> dict:
    """A sector, two reports (one amended), a photo, a review decision and a built digest."""
    now = datetime.now(UTC)
    with runtime.db.session_scope() as s:
        admin, observer, coordinator = (
            s.get(User, u.id) for u in (users.admin, users.observer, users.coordinator)
        )
        save_sector(
            s, sector_id=None, code="S-01", name="North", kind="sector",
            geometry=square(11.85, 43.47), active=True, actor=admin,
        )  # fmt: skip
        first = file_report(s, observer, 43.47, 11.85, occurred_at=now - timedelta(hours=1))
        second = file_report(s, observer, 43.48, 11.86, occurred_at=now - timedelta(hours=2))
        body = report_body(client_id=second.client_id, narrative="Corrected narrative.")
        body["occurred_at"] = (now - timedelta(hours=2)).isoformat()
        amended = validate_report(body, now=now, parties=("A", "B"))
        amend_report(s, second, observer, amended, queue=runtime.queue)
        data = (corpus / "accept" / "Canon_40D.jpg").read_bytes()
        store_photo(s, runtime.storage, first, observer, check_photo(Upload(data, "a.jpg"), LIMITS))
        review_report(s, first, coordinator, "verified", "Seen by two teams.")
    day = now.astimezone(runtime.settings.zone).date()
    if digest:
        pipeline.build(runtime, day)
    return {"day": day}


def _verify(runtime) -> list[str]:
    with runtime.db.session_scope(write=False) as s:
        return verify_all(s, runtime.storage, runtime.settings.data_dir).problems


def test_each_piece_of_evidence_is_a_leaf_and_the_stored_tree_gives_the_naive_root(
    runtime, users, corpus
):
    _world(runtime, users, corpus)
    with runtime.db.session_scope(write=False) as s:
        leaves = list(s.scalars(select(LedgerLeaf).order_by(LedgerLeaf.leaf_index)))
        kinds = [leaf.kind for leaf in leaves]
        size = service.tree_size(s)
        stored_root = service.root_at(s, size)
        head = s.scalar(select(TreeHead))
    assert kinds == [
        "sector_change", "report_version", "report_version", "report_version", "photo", "review",
    ]  # fmt: skip
    tree = merkle.MemoryTree()
    for leaf in leaves:
        tree.append(merkle.leaf_hash(leaf.data.encode()))
    assert stored_root == merkle.root(tree.get, size)
    assert head is not None and head.tree_size == size and head.root_hash == stored_root.hex()
    assert heads.signature_valid(head, keys.public_keys(runtime.settings.data_dir))


def test_inclusion_and_consistency_proofs_from_the_database_verify(runtime, users, corpus):
    _world(runtime, users, corpus)
    with runtime.db.session_scope(write=False) as s:
        size = service.tree_size(s)
        root = service.root_at(s, size)
        for leaf in s.scalars(select(LedgerLeaf)):
            path = service.inclusion_proof(s, leaf.leaf_index, size)
            leaf_hash = bytes.fromhex(leaf.leaf_hash)
            assert merkle.verify_inclusion(leaf_hash, leaf.leaf_index, size, path, root)
        for old in range(1, size):
            proof = service.consistency_proof(s, old, size)
            old_root = service.root_at(s, old)
            assert merkle.verify_consistency(old, size, old_root, root, proof)


def test_a_rotated_key_is_announced_by_the_old_one_and_old_heads_still_check(runtime, users):
    data_dir = runtime.settings.data_dir
    with runtime.db.session_scope() as s:
        old_head = heads.sign_head(s, data_dir)
    old, new = keys.rotate(data_dir)
    with runtime.db.session_scope() as s:
        new_head = heads.sign_head(s, data_dir)
    public = keys.public_keys(data_dir)
    assert list(public) == [old, new]
    assert public[new].announcement["previous"] == old
    assert (old_head.key_fingerprint, new_head.key_fingerprint) == (old, new)
    assert heads.signature_valid(old_head, public) and heads.signature_valid(new_head, public)
    assert (data_dir / "ledger" / "private-key.pem").stat().st_mode & 0o777 == 0o600
    assert _verify(runtime) == []


def test_digest_page_and_email_text_print_the_signed_head_and_fingerprint(runtime, users, corpus):
    world = _world(runtime, users, corpus)
    with runtime.db.session_scope(write=False) as s:
        head = heads.head_for_day(s, world["day"])
        from fieldreport.digests.models import Digest

        digest = s.scalar(select(Digest))
    base = digest.html_key.rsplit("/", 1)[0]
    grouped = keys.grouped(head.key_fingerprint)
    for name in ("body.html", "digest.html", "digest.txt"):
        text = runtime.storage.get(f"{base}/{name}").decode()
        assert head.root_hash in text and grouped in text and head.signature in text, name
    manifest = json.loads(runtime.storage.get(f"{base}/manifest.json"))
    assert manifest["tree_head"]["root_hash"] == head.root_hash
    assert {"reports.csv", "reports.geojson", "digest.pdf"} <= set(manifest["files"])


def test_backfill_logs_what_was_recorded_before_the_log_and_nothing_twice(runtime, users, corpus):
    from sqlalchemy import delete

    from fieldreport.ledger.backfill import backfill
    from fieldreport.ledger.models import LedgerNode

    _world(runtime, users, corpus, digest=False)
    with runtime.db.session_scope() as s:  # as a database from before the evidence log
        s.execute(delete(LedgerNode))
        s.execute(delete(LedgerLeaf))
    assert "is not in the log" in _verify(runtime)[0]
    with runtime.db.session_scope() as s:
        added = backfill(s)
        heads.sign_head(s, runtime.settings.data_dir)
    assert added == {"report_version": 3, "photo": 1, "review": 1, "sector_change": 1}
    assert _verify(runtime) == []
    with runtime.db.session_scope() as s:
        assert backfill(s) == {}


def test_the_next_digest_shows_a_consistency_proof_from_the_previous_days_head(
    runtime, users, corpus
):
    from fieldreport.digests.models import Digest

    world = _world(runtime, users, corpus)
    with runtime.db.session_scope() as s:
        file_report(s, s.get(User, users.observer.id), 43.47, 11.85)
    next_day = world["day"] + timedelta(days=1)
    pipeline.build(runtime, next_day)
    with runtime.db.session_scope(write=False) as s:
        old, new = heads.head_for_day(s, world["day"]), heads.head_for_day(s, next_day)
        key = s.scalar(select(Digest.html_key).where(Digest.day == next_day))
    manifest = json.loads(runtime.storage.get(key.rsplit("/", 1)[0] + "/manifest.json"))
    shown = manifest["tree_head"]
    assert shown["previous"]["root_hash"] == old.root_hash and old.tree_size < new.tree_size
    proof = [bytes.fromhex(node) for node in shown["consistency_proof"]]
    assert merkle.verify_consistency(
        old.tree_size,
        new.tree_size,
        bytes.fromhex(old.root_hash),
        bytes.fromhex(new.root_hash),
        proof,
    )
    page = runtime.storage.get(key.rsplit("/", 1)[0] + "/body.html").decode()
    assert old.root_hash in page and all(node in page for node in shown["consistency_proof"])


def test_an_admins_reopening_is_a_leaf_and_the_log_still_verifies(runtime, users, corpus):
    from fieldreport.reports.models import Report
    from fieldreport.review.service import reopen_decision

    _world(runtime, users, corpus, digest=False)
    with runtime.db.session_scope() as s:
        verified = s.scalar(select(Report).where(Report.status == "verified"))
        event = reopen_decision(s, verified, s.get(User, users.admin.id), "Wrong village.")
        event_id = event.id
    with runtime.db.session_scope(write=False) as s:
        last = s.scalar(select(LedgerLeaf).order_by(LedgerLeaf.leaf_index.desc()).limit(1))
    assert (last.kind, last.subject_id) == ("review", event_id)
    assert _verify(runtime) == []
