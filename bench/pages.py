"""Server time of the list pages as history grows: 10 k, 100 k and 1 M reports.

Run: ``python bench/pages.py [--sizes 10000,100000,1000000] [--database-url URL] [--repeat 5]
[--data DIR]`` (``--data``: keep the SQLite files there and use them again next time).
Each size gets a fresh database (a SQLite file, as deployed, unless ``--database-url`` names a
PostgreSQL database, whose tables are dropped and made again) with the digest benchmark's
mission (500 sectors, 200 observer teams, its categories, statuses and details) and a history
of ``PER_DAY`` reports a day ending now: more reports means a longer mission, not a busier day.
Every observer has one assignment a week. Then each page is asked for in-process (Flask's test
client, so the figure is the server's time, no network), once to warm and ``--repeat`` times
timed; the median is printed, with the 1 M / 10 k ratio (target: at most 150 ms at 1 M, ratio
at most 2).
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from bench.pages_data import PASSWORD, populate
from fieldreport.config import load_settings
from fieldreport.db import Base
from fieldreport.migrate import upgrade
from fieldreport.pagination import encode_cursor
from fieldreport.reports.models import Report
from fieldreport.runtime import build_runtime
from fieldreport.web.app import build_app

CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
PAGES = [
    ("coord", "/review"),
    ("coord", "/reports"),
    ("limited", "/reports"),
    ("obs000", "/reports"),
    ("comm", "/reports"),
    ("coord", "/coverage"),
    ("coord", "/roster"),
    ("coord", "/assignments"),
    ("admin", "/admin/audit"),
    ("admin", "/api/v1/reports"),
    ("admin", "/api/v1/reports?cursor={deep}"),
    ("admin", "/api/v1/reports?limit=500"),
    ("admin", "/api/v1/reports?limit=500&cursor={deep}"),
    ("admin", "/api/v1/reports?limit=500&since={middle}"),
]


def _login(app: Any, username: str) -> Any:
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    answer = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 302, (username, answer.status_code)
    return client


def _cursors(runtime: Any, size: int) -> dict[str, str]:
    """A page 90 % down the newest-first list, and the sync feed from half-way."""
    with runtime.db.session_scope(write=False) as session:
        at, rid = session.execute(
            select(Report.occurred_at, Report.id)
            .order_by(Report.occurred_at.desc(), Report.id.desc())
            .offset(size * 9 // 10)
            .limit(1)
        ).one()
        seq, sid = session.execute(
            select(Report.change_seq, Report.id).order_by(Report.id).offset(size // 2).limit(1)
        ).one()
    return {"deep": encode_cursor([at, rid]), "middle": encode_cursor([seq, sid])}


def _time(client: Any, url: str, repeat: int) -> tuple[float, float]:
    """Median milliseconds of ``repeat`` answers (after one to warm): the server thread's CPU
    time (what the page costs, steady on a shared machine) and the wall-clock time."""
    cpu, wall = [], []
    for i in range(repeat + 1):
        began, began_cpu = time.perf_counter(), time.thread_time()
        answer = client.get(url)
        answer.get_data()
        assert answer.status_code == 200, (url, answer.status_code)
        if i:
            cpu.append((time.thread_time() - began_cpu) * 1000)
            wall.append((time.perf_counter() - began) * 1000)
    return statistics.median(cpu), statistics.median(wall)


def run(
    database_url: str, data_dir: Path, size: int, repeat: int
) -> dict[str, tuple[float, float]]:
    settings = load_settings(
        {
            "FIELDREPORT_DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url,
            "FIELDREPORT_TIME_ZONE": "Europe/Rome",
            "FIELDREPORT_TWO_FACTOR_ROLES": "",
            "SECRET_KEY": "bench",
        }
    )
    runtime = build_runtime(settings)
    made = data_dir / "made"
    if not made.exists():
        _fill(runtime, size)
        made.write_text(str(size))
    else:  # a kept --data directory is used again, brought to the newest schema as a deployment is
        upgrade(runtime.db)
    app = build_app(settings, runtime)
    cursors = _cursors(runtime, size)
    clients: dict[str, Any] = {}
    results = {}
    for user, url in PAGES:
        client = clients.get(user) or clients.setdefault(user, _login(app, user))
        results[f"{user} {url}"] = _time(client, url.format(**cursors), repeat)
    runtime.queue.shutdown()
    runtime.db.dispose()
    return results


def _fill(runtime: Any, size: int) -> None:
    if runtime.db.dialect == "postgresql":
        Base.metadata.drop_all(runtime.db.engine)
        with runtime.db.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(runtime.db)
    began = time.perf_counter()
    populate(runtime, size)
    print(f"  {size:,} reports made in {time.perf_counter() - began:.0f} s", flush=True)


def _label(key: str) -> str:
    return re.sub(r"=[A-Za-z0-9_-]{20,}", "=…", key)


def table(label: str, sizes: list[int], results: dict[int, dict[str, tuple[float, float]]]) -> None:
    for column, kind in ((0, "server CPU time"), (1, "wall-clock time (shared machine)")):
        print(f"\n{label}: median {kind}, ms; ratio: largest / smallest size")
        head = f"{'page (as)':<48}" + "".join(f"{s:>11,}" for s in sizes) + f"{'ratio':>8}"
        print(head)
        print("-" * len(head))
        for key in results[sizes[0]]:
            cells = "".join(f"{results[s][key][column]:>11.1f}" for s in sizes)
            ratio = results[sizes[-1]][key][column] / results[sizes[0]][key][column]
            print(f"{_label(key):<48}{cells}{ratio:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--database-url", default=None, help="PostgreSQL (default: SQLite)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", help="keep the SQLite databases here and use them again")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            data = Path(args.data or tmp) / str(size)
            url = args.database_url or f"sqlite:///{data / 'bench.db'}"
            if args.database_url:  # one PostgreSQL database: made again for each size
                shutil.rmtree(data, ignore_errors=True)
            data.mkdir(parents=True, exist_ok=True)
            results[size] = run(url, data, size, args.repeat)
    table(args.database_url.split("@")[-1] if args.database_url else "SQLite", sizes, results)


if __name__ == "__main__":
    main()
