"""Times the whole digest build against the budget: 100,000 reports in at most 5 s with the PDF.

Run from anywhere: ``python bench/digest.py [--sizes 1000,10000,100000] [--postgres URL]``.
For each size it makes a fresh SQLite file database (WAL, as deployed), 500 sectors, 200
observer teams, the day's reports (bulk inserts, fixed seed) plus 1,000 reports on each of the
14 days before (for the trend and the 7-day average), then builds the digest the way the worker
does and prints the time of each phase. With ``--postgres`` (or ``TEST_DATABASE_URL``) the same
runs on that PostgreSQL database too (its tables are dropped and made again); by default a
throwaway PostgreSQL server is started for it when the binaries are installed.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text

from fieldreport.accounts.models import User
from fieldreport.config import load_settings
from fieldreport.db import Base
from fieldreport.digests import pipeline
from fieldreport.migrate import upgrade
from fieldreport.reports.models import Report, ReportVersion
from fieldreport.reports.taxonomy import CATEGORIES
from fieldreport.runtime import build_runtime
from fieldreport.sectors.models import Assignment, Sector

DAY = date(2026, 11, 24)
ZONE = "Europe/Rome"
WEST, SOUTH = 36.0, 47.0
COLUMNS, ROWS, CELL_LON, CELL_LAT = 25, 20, 0.1, 0.055
TEAMS = 200
HISTORY_DAYS, HISTORY_PER_DAY = 14, 1000
# Mostly ceasefire violations, as in real missions; every category present.
WEIGHTS = {
    "ceasefire_violation": 70,
    "weapons_forces": 8,
    "freedom_of_movement": 5,
    "civilian_harm": 7,
    "repatriation": 3,
    "humanitarian": 4,
    "other": 3,
}
STATUSES = ["verified"] * 6 + ["submitted", "in_review", "disputed", "rejected", "needs_info"]


def details_for(rng: random.Random, category: str, sub: str) -> dict[str, Any]:
    if category == "civilian_harm" and sub in ("killed", "injured"):
        return {"men": rng.randint(0, 2), "women": rng.randint(0, 2), "children": rng.randint(0, 1)}
    if category == "civilian_harm":
        return {"object_damaged": rng.choice(["house", "school", "power line"]), "objects": 1}
    if category == "repatriation":
        return {
            "persons_side_a": rng.randint(0, 20),
            "persons_side_b": rng.randint(0, 20),
            "crossing_point": rng.choice(["CP North", "CP South"]),
        }
    if category == "freedom_of_movement":
        return {"checkpoint_party": "Party B", "duration_min": rng.randint(5, 120)}
    if category == "weapons_forces":
        return {"weapon_or_unit": "tank", "count": rng.randint(1, 5), "relation": "near_line"}
    return {"count": rng.randint(1, 30), "direction": "NE"}


def populate(runtime: Any, size: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    categories = [c for c in CATEGORIES for _ in range(WEIGHTS[c.code])]
    with runtime.db.session_scope() as session:
        session.execute(
            insert(User),
            [
                {
                    "username": f"obs{i:03d}",
                    "display_name": f"Observer Number {i}",
                    "role": "observer",
                    "team_code": f"T-{i:03d}",
                    "password_hash": "x",
                    "active": True,
                    "language": "en",
                    "session_version": 1,
                }
                for i in range(TEAMS)
            ],
        )
        sectors = []
        for i in range(COLUMNS):
            for j in range(ROWS):
                west, south = WEST + i * CELL_LON, SOUTH + j * CELL_LAT
                ring = [
                    [west, south],
                    [west + CELL_LON, south],
                    [west + CELL_LON, south + CELL_LAT],
                    [west, south + CELL_LAT],
                    [west, south],
                ]
                sectors.append(
                    {
                        "code": f"S-{i:02d}{j:02d}",
                        "name": f"Sector {i}/{j}",
                        "kind": "sector",
                        "geometry": {"type": "Polygon", "coordinates": [ring]},
                        "active": True,
                    }
                )
        session.execute(insert(Sector), sectors)
        user_ids = list(session.scalars(text("SELECT id FROM users ORDER BY id")))
        sector_ids = list(session.scalars(text("SELECT id FROM sectors ORDER BY id")))
        session.execute(
            insert(Assignment),
            [
                {
                    "observer_id": uid,
                    "sector_id": sector_ids[(k * 7) % len(sector_ids)],
                    "starts_on": DAY - timedelta(days=3),
                    "ends_on": DAY + timedelta(days=3),
                    "allow_overlap": False,
                }
                for k, uid in enumerate(user_ids)
            ],
        )

    zone = runtime.settings.zone

    def rows(day: date, count: int) -> list[dict[str, Any]]:
        start = datetime.combine(day, dtime.min, zone).astimezone(UTC)
        out = []
        for _ in range(count):
            category = rng.choice(categories)
            sub = rng.choice(category.subcategories).code
            i, j = rng.randrange(COLUMNS), rng.randrange(ROWS)
            uid = rng.choice(user_ids)
            out.append(
                {
                    "client_id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "observer_id": uid,
                    "team_code": f"T-{uid - user_ids[0]:03d}",
                    "category": category.code,
                    "subcategory": sub,
                    "occurred_at": start + timedelta(seconds=rng.randrange(86_400)),
                    "occurred_offset_minutes": 60,
                    "received_at": start + timedelta(days=1),
                    "latitude": SOUTH + (j + rng.random()) * CELL_LAT,
                    "longitude": WEST + (i + rng.random()) * CELL_LON,
                    "accuracy_m": 10.0,
                    "position_source": "gps",
                    # One report in 50 lies outside every sector.
                    "sector_id": None if rng.random() < 0.02 else sector_ids[i * ROWS + j],
                    "basis": "seen",
                    "attribution_party": rng.choice([None, "Party A", "Party B"]),
                    "attribution_confidence": rng.choice(["confirmed", "likely", "undetermined"]),
                    "details": details_for(rng, category.code, sub),
                    "narrative": "Observed from the patrol route; bursts heard from the north-east "
                    "for several minutes, then silence.",
                    "urgent": rng.random() < 0.001,
                    "status": rng.choice(STATUSES),
                    "version": 1,
                    "content_sha256": "0" * 64,
                }
            )
        # Reports reach the server roughly in the order they happen: rows follow time.
        out.sort(key=lambda row: row["occurred_at"])
        return out

    with runtime.db.session_scope() as session:
        for back in range(HISTORY_DAYS, 0, -1):
            session.execute(insert(Report), rows(DAY - timedelta(days=back), HISTORY_PER_DAY))
        todays = rows(DAY, size)
        for offset in range(0, size, 20_000):
            session.execute(insert(Report), todays[offset : offset + 20_000])
        first = session.scalar(text("SELECT min(id) FROM reports"))
        session.execute(
            insert(ReportVersion),
            [
                {
                    "report_id": first + n,
                    "version": 1,
                    "content": "{}",
                    "content_sha256": "0" * 64,
                    "entry_sha256": f"{n:064x}",
                }
                for n in range(1, 4)
            ],
        )
    if runtime.db.dialect == "sqlite":
        with runtime.db.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    else:
        with runtime.db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE reports"
            )


def run(database_url: str, data_dir: Path, size: int, repeat: int = 3) -> dict[str, float]:
    settings = load_settings(
        {
            "FIELDREPORT_DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url,
            "FIELDREPORT_TIME_ZONE": ZONE,
            "SECRET_KEY": "bench",
        }
    )
    runtime = build_runtime(settings)
    if runtime.db.dialect == "postgresql":
        Base.metadata.drop_all(runtime.db.engine)
        with runtime.db.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(runtime.db)
    began = time.perf_counter()
    populate(runtime, size)
    setup = time.perf_counter() - began
    # The first PDF of a process pays WeasyPrint's import and font set-up once: timed apart.
    began = time.perf_counter()
    pipeline.build(runtime, DAY - timedelta(days=1))
    cold = time.perf_counter() - began
    # Best of a few runs per phase: on a shared machine noise only ever adds time.
    timings: dict[str, float] = {}
    for _ in range(repeat):
        run_timings: dict[str, float] = {}
        began, cpu = time.perf_counter(), time.process_time()
        digest = pipeline.build(runtime, DAY, run_timings)
        run_timings["total"] = time.perf_counter() - began
        run_timings["cpu"] = time.process_time() - cpu
        for key, value in run_timings.items():
            timings[key] = min(value, timings.get(key, value))
    timings["setup"] = setup
    timings["cold"] = cold
    verified = digest.figures["totals"]["verified"]
    timings["verified"] = verified
    pdf = runtime.storage.get(digest.pdf_key)
    timings["pdf_kib"] = len(pdf) / 1024
    runtime.db.dispose()
    return timings


def table(label: str, results: list[tuple[int, dict[str, float]]]) -> None:
    print(f"\n{label}")
    head = (
        f"{'reports':>9} {'figures':>8} {'exports':>8} {'map':>6} {'html':>6} {'pdf':>6} "
        f"{'store':>6} {'total':>7} {'cpu':>6} {'µs/report':>10} {'SQL µs/report':>14} "
        f"{'PDF KiB':>8}"
    )
    print(head)
    print("-" * len(head))
    for size, t in results:
        print(
            f"{size:>9,} {t['figures']:>7.2f}s {t.get('exports', 0):>7.2f}s {t['map']:>5.2f}s "
            f"{t['html']:>5.2f}s {t['pdf']:>5.2f}s {t['store']:>5.2f}s {t['total']:>6.2f}s "
            f"{t['cpu']:>5.2f}s "
            f"{t['total'] / size * 1e6:>10.1f} {t['figures'] / size * 1e6:>14.1f} "
            f"{t['pdf_kib']:>8.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TEST_DATABASE_URL", "auto"),
        help="a PostgreSQL URL; 'auto' starts a throwaway server if installed; 'none' skips",
    )
    parser.add_argument("--repeat", type=int, default=3, help="builds per size; best is shown")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="digest-bench-") as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            results.append((size, run(url, Path(tmp), size, args.repeat)))
            print(
                f"  sqlite {size:,}: built in {results[-1][1]['total']:.2f} s "
                f"(setup {results[-1][1]['setup']:.1f} s; first build of the process, "
                f"{HISTORY_PER_DAY:,} reports: {results[-1][1]['cold']:.2f} s)",
                flush=True,
            )
    table("SQLite (file, WAL): digest build time by phase", results)
    if args.postgres == "none":
        return
    server = None
    url = args.postgres
    if url in (None, "auto"):
        from tests.servers import PostgresServer, ServerUnavailable

        try:
            server = PostgresServer().start()
        except ServerUnavailable as error:
            print(f"\nPostgreSQL skipped: {error}")
            return
        url = server.url
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    try:
        pg_results = []
        for size in sizes:
            with tempfile.TemporaryDirectory(prefix="digest-bench-") as tmp:
                pg_results.append((size, run(url, Path(tmp), size, args.repeat)))
        table("PostgreSQL: digest build time by phase", pg_results)
    finally:
        if server is not None:
            server.close()
    print(
        "\nfigures = all SQL aggregation + one read of the day's reports (map positions and the "
        "exports' records, in the build's snapshot); exports = CSV and GeoJSON encoded; "
        "map = map and trend PNGs; html = web body, PDF document and email text; "
        "pdf = WeasyPrint; store = files written (temp + rename, fsync); total = the whole build "
        "(best run; phases are each their best); cpu = this process's CPU time for the build "
        "(a PostgreSQL server's is not in it): on a busy machine, wall time is not the code's.\n"
        "Budget: 100,000 reports in ≤ 5 s in total."
    )


if __name__ == "__main__":
    main()
