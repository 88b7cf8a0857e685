"""Map data for a day of 100,000 reports: bytes and server time per zoom (budget 300 KB, 300 ms).

Run: ``python bench/map.py [--size 100000] [--postgres auto|none|URL] [--cold-runs 3]``. Fills a
fresh SQLite file database (WAL) with the digest benchmark's mission (500 sectors over about
2.5° × 1.1° of eastern Ukraine, 200 teams, the day's reports at random positions;
``bench/digest.py``), then asks ``/map/data.json`` through the real Flask app as a coordinator.

The first request of a day is timed apart, because it reads the whole day into the array kept
between requests (``fieldreport/sectors/map_points.py``): ``cold (new process)`` is that first
request in a freshly started process (a new Python process per run: imports, statement caches and
the array all cold; the login before it is not timed), ``cold (cache cleared)`` the same in the
warm bench process after ``map_points.clear()``. Then the warm requests the way the page makes
them: the widest zoom first (the whole mission in view), then closer views of its centre, best of
``--repeat``; and the ratio cold/warm at the widest zoom, both measured in this run. ``cpu`` is the
server process's CPU time for the request: on a shared machine the wall time also holds the
time spent waiting for a core.

PostgreSQL: ``auto`` (the default) starts a throwaway server when its binaries are installed
(``tests/servers.py``); a URL (an admin URL) makes a database ``fieldreport_map_bench`` there.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from typing import Any

from sqlalchemy import create_engine, insert, select, text

from bench.digest import COLUMNS, DAY, ROWS, SOUTH, WEST, populate
from fieldreport.accounts.models import User
from fieldreport.accounts.service import create_user
from fieldreport.config import load_settings
from fieldreport.migrate import upgrade
from fieldreport.reports.models import Report
from fieldreport.review.models import ReviewEvent
from fieldreport.runtime import build_runtime
from fieldreport.sectors import map_points
from fieldreport.web.app import build_app
from tests.helpers import PASSWORD, login

EAST, NORTH = WEST + COLUMNS * 0.1, SOUTH + ROWS * 0.055
CENTRE = ((SOUTH + NORTH) / 2, (WEST + EAST) / 2)
# The map page's size (1280 × 800 laptop, map about 1200 × 560 px): the box seen at each zoom.
VIEW_PX = (1200, 560)
ZOOMS = (3, 6, 8, 10, 12, 14, 16)
BUDGET_MS, BUDGET_KB = 300, 300


def view_box(zoom: int) -> str:
    """The bbox the page sends at ``zoom``: the whole mission at 8 and below, else the centre."""
    if zoom <= 8:
        return f"{WEST - 1},{SOUTH - 1},{EAST + 1},{NORTH + 1}"
    degrees_per_px = 360 / (256 * 2**zoom)
    half_w, half_h = VIEW_PX[0] / 2 * degrees_per_px, VIEW_PX[1] / 2 * degrees_per_px * 0.67
    lat, lon = CENTRE
    return f"{lon - half_w},{lat - half_h},{lon + half_w},{lat + half_h}"


def bench_settings(database_url: str, data_dir: Path) -> Any:
    return load_settings(
        {
            "FIELDREPORT_DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url,
            "FIELDREPORT_TIME_ZONE": "Europe/Rome",
            "FIELDREPORT_TWO_FACTOR_ROLES": "",
            # No periodic tasks: the catch-up digest build would run beside the measured requests.
            "FIELDREPORT_TESTING": "true",
            "SECRET_KEY": "bench",
        }
    )


def widest_url() -> str:
    return f"/map/data.json?day={DAY.isoformat()}&zoom=3&bbox={view_box(3)}"


def timed_get(client: Any, url: str) -> tuple[Any, float, float]:
    """(response, wall ms, CPU ms of this process) of one request through the app."""
    wall, cpu = time.perf_counter(), time.process_time()
    response = client.get(url)
    return response, (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def first_request(database_url: str, data_dir: Path) -> None:
    """In a new process: log in (not timed), then time the first widest request; print JSON."""
    settings = bench_settings(database_url, data_dir)
    runtime = build_runtime(settings)
    client = build_app(settings, runtime).test_client()
    assert login(client, "coord", PASSWORD).status_code == 302
    response, wall, cpu = timed_get(client, widest_url())
    assert response.status_code == 200, response.status_code
    total = response.get_json()["total"]
    print(json.dumps({"ms": wall, "cpu": cpu, "kb": len(response.data) / 1000, "total": total}))
    runtime.queue.shutdown()
    runtime.db.dispose()


def cold_in_new_processes(database_url: str, data_dir: Path, runs: int) -> list[dict]:
    """``runs`` fresh processes, each timing its first request (see :func:`first_request`)."""
    results = []
    for _ in range(runs):
        command = [sys.executable, __file__, "--first-request", database_url, str(data_dir)]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def measure(database_url: str, data_dir: Path, size: int, repeat: int, cold_runs: int) -> None:
    settings = bench_settings(database_url, data_dir)
    runtime = build_runtime(settings)
    upgrade(runtime.db)
    began = time.perf_counter()
    populate(runtime, size)
    with runtime.db.session_scope() as session:
        create_user(session, "coord", role="coordinator", password=PASSWORD)
    print(f"  {size:,} reports in {time.perf_counter() - began:.1f} s", flush=True)
    fresh = cold_in_new_processes(database_url, data_dir, cold_runs)
    client = build_app(settings, runtime).test_client()
    assert login(client, "coord", PASSWORD).status_code == 302
    widest = widest_url()
    client.get(widest)  # the bench process's own first request: imports and statement caches
    cleared = []
    for _ in range(cold_runs):
        map_points.clear()
        _response, wall, cpu = timed_get(client, widest)
        cleared.append({"ms": wall, "cpu": cpu})
    print(f"{'zoom':>5} {'clusters':>9} {'points':>7} {'in view':>9} {'KB':>7} {'ms':>7}")
    warm: dict[int, float] = {}
    for zoom in ZOOMS:
        url = f"/map/data.json?day={DAY.isoformat()}&zoom={zoom}&bbox={view_box(zoom)}"
        best = float("inf")
        for _ in range(repeat):
            response, wall, _cpu = timed_get(client, url)
            best = min(best, wall)
        warm[zoom] = best
        data = response.get_json()
        print(
            f"{zoom:>5} {len(data['clusters']):>9,} {len(data['points']):>7,} "
            f"{data['in_view']:>9,} {len(response.data) / 1000:>7.1f} {best:>7.0f}"
        )
    _cold_summary(fresh, cleared, warm[ZOOMS[0]])
    _change(runtime, new=100, reviewed=50)
    _response, wall, _cpu = timed_get(client, widest)
    print(f"  after 100 new reports and 50 decisions: {wall:.0f} ms (only those re-read)")
    runtime.queue.shutdown()
    runtime.db.dispose()


def _cold_summary(fresh: list[dict], cleared: list[dict], warm_ms: float) -> None:
    """The first request of the day against the budget, and cold/warm at the widest zoom."""
    for label, runs in (("cold (new process)", fresh), ("cold (cache cleared)", cleared)):
        walls = sorted(run["ms"] for run in runs)
        cpus = sorted(run["cpu"] for run in runs)
        verdict = "within" if walls[0] <= BUDGET_MS else "OVER"
        print(
            f"  {label:<21} best {walls[0]:>5.0f} ms, median {statistics.median(walls):>5.0f} ms "
            f"(cpu best {cpus[0]:.0f} ms) of {len(runs)}: {verdict} the {BUDGET_MS} ms budget"
        )
    kb = fresh[0]["kb"]
    print(f"  cold answer {kb:.1f} KB ({'within' if kb <= BUDGET_KB else 'OVER'} {BUDGET_KB} KB)")
    cold = min(run["ms"] for run in fresh)
    print(f"  warm (widest zoom, best) {warm_ms:.0f} ms; cold/warm = {cold / warm_ms:.1f}")


def _change(runtime: Any, new: int, reviewed: int) -> None:
    """Copy ``new`` of the day's reports as new rows, and decide ``reviewed`` others."""
    with runtime.db.session_scope() as session:
        day_ids = list(session.scalars(select(Report.id).order_by(Report.id.desc()).limit(new)))
        for report_id in day_ids:
            source = session.get(Report, report_id)
            values = {c.key: getattr(source, c.key) for c in Report.__table__.columns}
            values.pop("id")
            values["client_id"] = str(uuid.uuid4())
            session.execute(insert(Report), [values])
        actor = session.scalar(select(User.id).where(User.username == "coord"))
        for report_id in day_ids[:reviewed]:
            session.get(Report, report_id).status = "verified"
            session.add(ReviewEvent(report_id=report_id, actor_id=actor, to_status="verified"))


def postgres_database(admin_url: str) -> str:
    """A fresh database ``fieldreport_map_bench`` on the server (never the admin database)."""
    if admin_url.startswith("postgresql://"):
        admin_url = admin_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS fieldreport_map_bench"))
        connection.execute(text("CREATE DATABASE fieldreport_map_bench"))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/fieldreport_map_bench"


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--first-request":
        first_request(sys.argv[2], Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cold-runs", type=int, default=3, help="fresh processes timed")
    parser.add_argument(
        "--postgres",
        default="auto",
        help="an admin URL of a PostgreSQL server; 'auto' starts a throwaway one; 'none' skips",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="map-bench-") as tmp:
        print("SQLite (file, WAL): /map/data.json, best of", args.repeat)
        measure(f"sqlite:///{tmp}/bench.db", Path(tmp), args.size, args.repeat, args.cold_runs)
    if args.postgres != "none":
        with postgres_admin(args.postgres) as admin_url, tempfile.TemporaryDirectory() as tmp:
            if admin_url:
                print("\nPostgreSQL: /map/data.json, best of", args.repeat)
                url = postgres_database(admin_url)
                measure(url, Path(tmp), args.size, args.repeat, args.cold_runs)
    print(
        "\nKB = the JSON answer (before compression); ms = server time of the request, "
        "Flask included. Budget at the widest zoom, the first request of a day included: "
        f"≤ {BUDGET_KB} KB and ≤ {BUDGET_MS} ms."
    )


@contextmanager
def postgres_admin(url: str) -> Iterator[str]:
    """The admin URL given, or a throwaway server's for ``auto`` ("" when none can start)."""
    if url != "auto":
        yield url
        return
    from tests.servers import PostgresServer, ServerUnavailable

    try:
        server = PostgresServer().start()
    except ServerUnavailable as error:
        print(f"\nPostgreSQL skipped: {error}")
        yield ""
        return
    try:
        yield server.url
    finally:
        server.close()


if __name__ == "__main__":
    main()
