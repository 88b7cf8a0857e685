"""Times the review desk's queue with a big backlog: the first page, a deep page, the counts.

Run: ``python bench/review_desk.py [--sizes 10000,100000] [--database URL]``. For each size it
makes a fresh SQLite file database (or uses the PostgreSQL at ``--database``, whose tables are
dropped and made again), 20 sectors, one observer, ``size`` waiting reports (5 % urgent) and
prints the best of 3 of: the queue's first page, the page after 20 pages (reached by its
cursor), the counts beside the filters, and the same with a sector filter. A keyset page should
cost the same on page 1 and page 21; the counts are read from ``review_counts`` (kept by triggers
on reports), so they grow with the combinations of status, category, urgency and sector only.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select

from fieldreport.accounts.models import User
from fieldreport.config import load_settings
from fieldreport.db import Base
from fieldreport.reports.models import Report
from fieldreport.reports.taxonomy import CATEGORIES
from fieldreport.review import desk
from fieldreport.runtime import build_runtime
from fieldreport.sectors.models import Sector

SECTORS = 20
NOW = datetime(2026, 11, 24, 18, tzinfo=UTC)


def populate(runtime: Any, size: int) -> None:
    rng = random.Random(7)
    with runtime.db.session_scope() as session:
        session.execute(
            insert(User),
            [
                {
                    "username": "obs",
                    "display_name": "Obs",
                    "role": "observer",
                    "team_code": "T-1",
                    "password_hash": "x",
                    "active": True,
                    "language": "en",
                    "session_version": 1,
                },
                {
                    "username": "coord",
                    "display_name": "Coord",
                    "role": "coordinator",
                    "password_hash": "x",
                    "active": True,
                    "language": "en",
                    "session_version": 1,
                },
            ],
        )
        square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
        session.execute(
            insert(Sector),
            [
                {
                    "code": f"S-{i:02d}",
                    "name": f"S {i}",
                    "kind": "sector",
                    "geometry": square,
                    "active": True,
                }
                for i in range(SECTORS)
            ],
        )
        observer = session.scalar(select(User.id).where(User.username == "obs"))
        sector_ids = list(session.scalars(select(Sector.id)))
        for start in range(0, size, 10_000):
            session.execute(
                insert(Report),
                [
                    row(rng, observer, sector_ids, n)
                    for n in range(start, min(size, start + 10_000))
                ],
            )


def row(rng: random.Random, observer: int, sector_ids: list[int], n: int) -> dict[str, Any]:
    category = rng.choice(CATEGORIES)
    when = NOW - timedelta(seconds=rng.randrange(86_400 * 3))
    return {
        "client_id": str(uuid.UUID(int=n + 1)),
        "observer_id": observer,
        "team_code": "T-1",
        "category": category.code,
        "subcategory": category.subcategories[0].code,
        "occurred_at": when,
        "occurred_offset_minutes": 120,
        "received_at": when,
        "latitude": 0.5,
        "longitude": 0.5,
        "sector_id": rng.choice([*sector_ids, None]),
        "basis": "seen",
        "details": {},
        "narrative": "Shelling heard to the north. " * 4,
        "urgent": rng.random() < 0.05,
        "status": rng.choice(["submitted", "in_review"]),
        "version": 1,
        "content_sha256": "0" * 64,
    }


def best(work: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return min(times) * 1000


def measure(url: str, data_dir: Path, size: int) -> dict[str, float]:
    settings = load_settings({"DATABASE_URL": url, "FIELDREPORT_DATA_DIR": str(data_dir)})
    runtime = build_runtime(settings)
    Base.metadata.drop_all(runtime.db.engine)
    Base.metadata.create_all(runtime.db.engine)
    populate(runtime, size)
    with runtime.db.session_scope(write=False) as session:
        coord = session.scalar(select(User).where(User.username == "coord"))
        plain, one = desk.Filters(), desk.Filters(sector=str(session.scalar(select(Sector.id))))
        cursor = None
        for _ in range(20):
            cursor = desk.queue_page(session, coord, plain, cursor).next_cursor
        figures = {
            "page 1": best(lambda: desk.queue_page(session, coord, plain)),
            "page 21": best(lambda: desk.queue_page(session, coord, plain, cursor)),
            "counts": best(lambda: desk.counts(session, coord, plain)),
            "sector page 1": best(lambda: desk.queue_page(session, coord, one)),
            "sector counts": best(lambda: desk.counts(session, coord, one)),
        }
    runtime.db.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--database", default="", help="a PostgreSQL URL (default: SQLite)")
    args = parser.parse_args()
    print(
        f"{'reports':>9} "
        + " ".join(
            f"{name:>14}"
            for name in ("page 1", "page 21", "counts", "sector page 1", "sector counts")
        )
        + "   (ms)"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="desk-bench-") as tmp:
            url = args.database or f"sqlite:///{tmp}/bench.db"
            figures = measure(url, Path(tmp), size)
        print(f"{size:>9,} " + " ".join(f"{value:>14.1f}" for value in figures.values()))


if __name__ == "__main__":
    main()
