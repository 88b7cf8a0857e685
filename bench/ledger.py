"""The evidence log's figures against its targets (issue 11).

    python bench/ledger.py [--proof-leaves 1000000] [--reports 100000] [--photos 10000]
                           [--submissions 300]

1. Append rate: leaves appended through ``ledger.service.append`` (the path every report,
   photo, decision and sector change takes), one transaction per 500 leaves, on SQLite (WAL).
2. Inclusion (and consistency) proof time at 1,000,000 leaves (target <= 5 ms): the leaves and
   the tree's stored nodes are bulk-loaded (computed by ``merkle.MemoryTree``), then proofs for
   random leaves are read from the database and checked.
3. Full ``fieldreport verify`` of 100,000 reports with 10,000 photo files (target <= 30 s):
   report rows, versions and leaves made in bulk as the services would make them.
4. Cost added to a report submission (target <= 10 %): ``submit_report_with_photos`` in its own
   transaction, with and without the ledger append, on the database of step 3.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select

from fieldreport.accounts.models import User
from fieldreport.accounts.service import create_user
from fieldreport.config import load_settings
from fieldreport.ledger import leaves, merkle, service
from fieldreport.ledger.models import LedgerLeaf, LedgerNode, node_key
from fieldreport.ledger.verify import verify_all
from fieldreport.migrate import upgrade
from fieldreport.photos.models import Photo
from fieldreport.reports import service as reports_service
from fieldreport.reports.models import Report, ReportVersion
from fieldreport.reports.schemas import canonical_json
from fieldreport.runtime import Runtime, build_runtime
from fieldreport.storage import original_key

BATCH = 20_000


def fresh_runtime(folder: Path) -> Runtime:
    settings = load_settings(
        {"FIELDREPORT_DATA_DIR": str(folder), "FIELDREPORT_TIME_ZONE": "Europe/Rome"}
    )
    runtime = build_runtime(settings)
    upgrade(runtime.db)
    return runtime


def append_rate(runtime: Runtime, count: int = 5000) -> float:
    began = time.perf_counter()
    for start in range(0, count, 500):
        with runtime.db.session_scope() as session:
            for i in range(start, start + 500):
                payload = {"kind": "bench", "n": i}
                service.append(session, "tombstone", i, payload)
    return count / (time.perf_counter() - began)


def bulk_tree(runtime: Runtime, entries: list[str], kinds: list[str], subjects: list[int]) -> None:
    """Store leaves and the perfect subtrees they complete, as the appends would have."""
    tree = merkle.MemoryTree()
    now = datetime.now(UTC)
    with runtime.db.session_scope() as session:
        rows: list[dict[str, Any]] = []
        for index, data in enumerate(entries):
            leaf_hash = merkle.leaf_hash(data.encode())
            tree.append(leaf_hash)
            rows.append(
                {"leaf_index": index, "kind": kinds[index], "subject_id": subjects[index],
                 "data": data, "leaf_hash": leaf_hash.hex(), "appended_at": now}
            )  # fmt: skip
            if len(rows) == BATCH:
                session.connection().execute(insert(LedgerLeaf.__table__), rows)
                rows = []
        if rows:
            session.connection().execute(insert(LedgerLeaf.__table__), rows)
        nodes = [
            {"node_key": node_key(level, position), "hash": value.hex()}
            for level in range(1, len(tree.levels))
            for position, value in enumerate(tree.levels[level])
        ]
        for start in range(0, len(nodes), BATCH):
            session.connection().execute(insert(LedgerNode.__table__), nodes[start : start + BATCH])


def proof_times(runtime: Runtime, size: int, samples: int = 300) -> tuple[float, float, float]:
    rng = random.Random(3)
    inclusion, consistency = [], []
    with runtime.db.session_scope(write=False) as session:
        root = service.root_at(session, size)
        for _ in range(samples):
            index = rng.randrange(size)
            began = time.perf_counter()
            path = service.inclusion_proof(session, index, size)
            inclusion.append(time.perf_counter() - began)
            leaf = session.scalar(
                select(LedgerLeaf.leaf_hash).where(LedgerLeaf.leaf_index == index)
            )
            assert merkle.verify_inclusion(bytes.fromhex(leaf), index, size, path, root)
        for _ in range(samples // 10):
            old = rng.randrange(1, size)
            began = time.perf_counter()
            service.consistency_proof(session, old, size)
            consistency.append(time.perf_counter() - began)
        began = time.perf_counter()
        service.root_at(session, size)
        root_s = time.perf_counter() - began
    p95 = statistics.quantiles(inclusion, n=20)[-1]
    return statistics.median(inclusion) * 1000, p95 * 1000, root_s * 1000


def populate_reports(runtime: Runtime, count: int, photo_count: int) -> None:
    """Reports, their first versions, photos (files on disk) and the leaves logging them."""
    with runtime.db.session_scope() as session:
        user_id = create_user(
            session, "obs", role="observer", password=secrets.token_urlsafe(), team_code="T-01"
        ).id
    when = datetime(2026, 11, 24, 8, tzinfo=UTC)
    reports, versions, entries, kinds, subjects = [], [], [], [], []
    for i in range(1, count + 1):
        content = {
            "client_id": str(uuid.UUID(int=i)), "category": "ceasefire_violation",
            "subcategory": "small_arms_fire", "occurred_at": when.isoformat(),
            "occurred_offset_minutes": 60, "latitude": 43.4 + i * 1e-6, "longitude": 11.8,
            "accuracy_m": 10.0, "position_source": "gps", "basis": "seen",
            "attribution_party": None, "attribution_confidence": None,
            "narrative": f"Report {i}.", "urgent": False, "details": {"count": i % 9 + 1},
        }  # fmt: skip
        text = canonical_json(content)
        sha = hashlib.sha256(text.encode()).hexdigest()
        reports.append({**content, "id": i, "observer_id": user_id, "occurred_at": when,
                        "received_at": when, "status": "submitted", "version": 1,
                        "content_sha256": sha})  # fmt: skip
        versions.append({"id": i, "report_id": i, "version": 1, "content": text,
                         "content_sha256": sha, "entry_sha256": f"{i:064x}",
                         "created_by_id": user_id, "created_at": when})  # fmt: skip
        version = SimpleNamespace(version=1, content=text, created_by_id=user_id)
        report = SimpleNamespace(client_id=content["client_id"])
        entries.append(leaves.canonical(leaves.report_version(version, report, None)))  # type: ignore[arg-type]
        kinds.append(leaves.REPORT_VERSION)
        subjects.append(i)
    photos = []
    for i in range(1, photo_count + 1):
        data = f"photo {i} ".encode() * 200
        sha = hashlib.sha256(data).hexdigest()
        runtime.storage.put(original_key(sha), data)
        photos.append({"id": i, "report_id": i, "sha256": sha, "byte_size": len(data),
                       "format": "JPEG", "width": 10, "height": 10, "state": "ready", "flags": [],
                       "attempts": 0, "uploaded_at": when})  # fmt: skip
        row = SimpleNamespace(id=i, sha256=sha, byte_size=len(data))
        entries.append(
            leaves.canonical(leaves.photo(row, SimpleNamespace(client_id=str(uuid.UUID(int=i)))))
        )  # type: ignore[arg-type]
        kinds.append(leaves.PHOTO)
        subjects.append(i)
    with runtime.db.session_scope() as session:
        for model, rows in ((Report, reports), (ReportVersion, versions), (Photo, photos)):
            for start in range(0, len(rows), BATCH):
                session.connection().execute(insert(model.__table__), rows[start : start + BATCH])
    bulk_tree(runtime, entries, kinds, subjects)


def submission_cost(runtime: Runtime, count: int) -> tuple[float, float]:
    """Median seconds of one submission (own transaction) with and without the ledger append,
    the two alternating so that a busy machine slows both alike."""
    with runtime.db.session_scope(write=False) as session:
        observer = session.scalar(select(User))
    real = reports_service.evidence_log.report_version
    times: dict[bool, list[float]] = {True: [], False: []}
    for i in range(2 * count):
        logged = i % 2 == 0
        reports_service.evidence_log.report_version = real if logged else _no_leaf  # type: ignore[assignment]
        body = {"client_id": str(uuid.uuid4()), "category": "ceasefire_violation",
                "subcategory": "small_arms_fire", "latitude": 43.47, "longitude": 11.85,
                "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
                "basis": "seen", "narrative": "Bursts.", "details": {"count": 2}}  # fmt: skip
        began = time.perf_counter()
        with runtime.db.session_scope() as session:
            reports_service.submit_report_with_photos(
                session, runtime.storage, runtime.queue, session.merge(observer), body, (),
                runtime.settings,
            )  # fmt: skip
        times[logged].append(time.perf_counter() - began)
    reports_service.evidence_log.report_version = real  # type: ignore[assignment]
    return statistics.median(times[True]), statistics.median(times[False])


def _no_leaf(*args: Any, **kwargs: Any) -> None:
    """Stands in for the ledger append when timing a submission without it."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proof-leaves", type=int, default=1_000_000)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--photos", type=int, default=10_000)
    parser.add_argument("--submissions", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        runtime = fresh_runtime(Path(folder) / "append")
        print(f"append rate: {append_rate(runtime):,.0f} leaves/s (500 per transaction, SQLite)")
        runtime = fresh_runtime(Path(folder) / "proofs")
        n = args.proof_leaves
        began = time.perf_counter()
        bulk_tree(runtime, [f'{{"n":{i}}}' for i in range(n)], ["bench"] * n, list(range(n)))
        print(f"bulk-loaded {n:,} leaves and their nodes in {time.perf_counter() - began:.1f} s")
        median_ms, p95_ms, root_ms = proof_times(runtime, n)
        print(f"inclusion proof at {n:,} leaves: median {median_ms:.2f} ms, 95th percentile "
              f"{p95_ms:.2f} ms (target <= 5 ms); root {root_ms:.2f} ms")  # fmt: skip
        runtime = fresh_runtime(Path(folder) / "verify")
        began = time.perf_counter()
        populate_reports(runtime, args.reports, args.photos)
        print(f"made {args.reports:,} reports, {args.photos:,} photos in "
              f"{time.perf_counter() - began:.1f} s")  # fmt: skip
        began = time.perf_counter()
        with runtime.db.session_scope(write=False) as session:
            outcome = verify_all(session, runtime.storage, runtime.settings.data_dir)
        verify_s = time.perf_counter() - began
        found = "clean" if outcome.clean else outcome.problems[:2]
        print(f"full verify: {verify_s:.1f} s (target <= 30 s), {found}; {outcome.counts}")
        with_log, without = submission_cost(runtime, args.submissions)
        added = (with_log - without) / without * 100
        print(f"report submission: {with_log * 1000:.2f} ms with the ledger, "
              f"{without * 1000:.2f} ms without: +{added:.1f} % (target <= 10 %)")  # fmt: skip


if __name__ == "__main__":
    main()
