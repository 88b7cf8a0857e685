"""Map data for a day of 100,000 reports: bytes and server time per zoom (budget 300 KB, 300 ms).

Run: ``python bench/map.py [--size 100000] [--postgres URL]``. Fills a fresh SQLite file
database (WAL) with the digest benchmark's mission (500 sectors over about 2.5° × 1.1° of
eastern Ukraine, 200 teams, the day's reports at random positions; ``bench/digest.py``), then
asks ``/map/data.json`` through the real Flask app as a coordinator, the way the page does: the
widest zoom first (the whole mission in view), then closer views of its centre. With
``--postgres`` (an admin URL) a database ``fieldreport_map_bench`` is made there and the same
is measured. Prints the best of ``--repeat`` requests per zoom.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
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
from fieldreport.web.app import build_app
from tests.helpers import PASSWORD, login

EAST, NORTH = WEST + COLUMNS * 0.1, SOUTH + ROWS * 0.055
CENTRE = ((SOUTH + NORTH) / 2, (WEST + EAST) / 2)
# The map page's size (1280 × 800 laptop, map about 1200 × 560 px): the box seen at each zoom.
VIEW_PX = (1200, 560)
ZOOMS = (3, 6, 8, 10, 12, 14, 16)


def view_box(zoom: int) -> str:
    """The bbox the page sends at ``zoom``: the whole mission at 8 and below, else the centre."""
    if zoom <= 8:
        return f"{WEST - 1},{SOUTH - 1},{EAST + 1},{NORTH + 1}"
    degrees_per_px = 360 / (256 * 2**zoom)
    half_w, half_h = VIEW_PX[0] / 2 * degrees_per_px, VIEW_PX[1] / 2 * degrees_per_px * 0.67
    lat, lon = CENTRE
    return f"{lon - half_w},{lat - half_h},{lon + half_w},{lat + half_h}"


def measure(database_url: str, data_dir: Path, size: int, repeat: int) -> None:
    settings = load_settings(
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
    runtime = build_runtime(settings)
    upgrade(runtime.db)
    began = time.perf_counter()
    populate(runtime, size)
    with runtime.db.session_scope() as session:
        create_user(session, "coord", role="coordinator", password=PASSWORD)
    print(f"  {size:,} reports in {time.perf_counter() - began:.1f} s", flush=True)
    client = build_app(settings, runtime).test_client()
    assert login(client, "coord", PASSWORD).status_code == 302
    widest = f"/map/data.json?day={DAY.isoformat()}&zoom=3&bbox={view_box(3)}"
    began = time.perf_counter()
    client.get(widest)
    print(f"  first request (reads the day into the array): {_ms(began)} ms")
    print(f"{'zoom':>5} {'clusters':>9} {'points':>7} {'in view':>9} {'KB':>7} {'ms':>7}")
    for zoom in ZOOMS:
        url = f"/map/data.json?day={DAY.isoformat()}&zoom={zoom}&bbox={view_box(zoom)}"
        best = float("inf")
        for _ in range(repeat):
            began = time.perf_counter()
            response = client.get(url)
            best = min(best, time.perf_counter() - began)
        data = response.get_json()
        print(
            f"{zoom:>5} {len(data['clusters']):>9,} {len(data['points']):>7,} "
            f"{data['in_view']:>9,} {len(response.data) / 1000:>7.1f} {best * 1000:>7.0f}"
        )
    _change(runtime, new=100, reviewed=50)
    began = time.perf_counter()
    client.get(widest)
    print(f"  after 100 new reports and 50 decisions: {_ms(began)} ms (only those re-read)")
    runtime.queue.shutdown()
    runtime.db.dispose()


def _ms(began: float) -> str:
    return f"{(time.perf_counter() - began) * 1000:.0f}"


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
    admin_url = admin_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS fieldreport_map_bench"))
        connection.execute(text("CREATE DATABASE fieldreport_map_bench"))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/fieldreport_map_bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", default="", help="an admin URL of a PostgreSQL server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="map-bench-") as tmp:
        print("SQLite (file, WAL): /map/data.json, best of", args.repeat)
        measure(f"sqlite:///{tmp}/bench.db", Path(tmp), args.size, args.repeat)
    if args.postgres:
        with tempfile.TemporaryDirectory(prefix="map-bench-") as tmp:
            print("\nPostgreSQL: /map/data.json, best of", args.repeat)
            measure(postgres_database(args.postgres), Path(tmp), args.size, args.repeat)
    print(
        "\nKB = the JSON answer (before compression); ms = server time of the request, "
        "Flask included. Budget at the widest zoom: ≤ 300 KB and ≤ 300 ms."
    )


if __name__ == "__main__":
    main()
