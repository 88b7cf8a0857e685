"""Replay an outbox of 50 reports with one photo each through the JSON API of a live server.

Run: ``python bench/sync.py [--reports N]``. It starts the app on a real HTTP server in a
thread (SQLite in a temporary directory), sends each report then its photo as the phone's outbox
does, then replays the whole outbox once more — the case where the answers were lost — and
prints requests, bytes and seconds for both passes. The replay must store nothing new.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image
from sqlalchemy import func, select

from fieldreport.config import load_settings
from fieldreport.db import Database
from fieldreport.migrate import upgrade
from fieldreport.photos.models import Photo
from fieldreport.reports.models import Report
from tests.live_server import HttpClient, LiveServer, live_server


def outbox(count: int) -> list[tuple[dict, bytes]]:
    """Reports as the phone builds them, each with a distinct downscaled-size JPEG."""
    base = Image.effect_noise((1024, 768), 64).convert("RGB")
    when = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    entries = []
    for number in range(count):
        image = base.copy()
        image.putpixel((number, 0), (255, 0, 0))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=85)
        body = {
            "client_id": str(uuid.uuid4()),
            "category": "ceasefire_violation",
            "subcategory": "small_arms_fire",
            "occurred_at": when,
            "latitude": "43.4675",
            "longitude": "11.8851",
            "accuracy_m": "12",
            "position_source": "gps",
            "basis": "seen",
            "attribution_party": None,
            "attribution_confidence": None,
            "narrative": f"Bursts of fire from the ridge ({number}).",
            "urgent": False,
            "details": {"count": "4"},
        }
        entries.append((body, buffer.getvalue()))
    return entries


def replay(server: LiveServer, entries: list[tuple[dict, bytes]], client: HttpClient) -> dict:
    """One outbox pass: a fresh CSRF token, then each report and its photo."""
    before = (client.requests, client.bytes_sent, client.bytes_received)
    statuses: dict[int, int] = {}
    began = time.perf_counter()
    client.refresh_token()
    for body, photo in entries:
        answers = [client.post_report(body)]
        # As the outbox does: a repeat lists the photos that already arrived; skip those.
        arrived = {item["sha256"] for item in answers[0].json().get("photos", [])}
        if hashlib.sha256(photo).hexdigest() not in arrived:
            answers.append(client.post_photo(body["client_id"], photo, "photo.jpg"))
        for answer in answers:
            statuses[answer.status] = statuses.get(answer.status, 0) + 1
    seconds = time.perf_counter() - began
    return {
        "requests": client.requests - before[0],
        "sent": client.bytes_sent - before[1],
        "received": client.bytes_received - before[2],
        "seconds": seconds,
        "statuses": statuses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/bench.db"
        database = Database(url)
        upgrade(database)
        database.dispose()
        env = {
            "FIELDREPORT_DATA_DIR": directory,
            "DATABASE_URL": url,
            "FIELDREPORT_PARTIES": "Party A,Party B",
        }
        entries = outbox(args.reports)
        with live_server(load_settings(env)) as server:
            client = HttpClient(server.url)
            client.login("obs1")
            for name, result in (
                ("first send", replay(server, entries, client)),
                ("replay (answers lost)", replay(server, entries, client)),
            ):
                print(
                    f"{name:>22}: {result['requests']} requests, "
                    f"{result['sent'] / 1e6:.2f} MB up, {result['received'] / 1e3:.0f} KB down, "
                    f"{result['seconds']:.2f} s ({result['requests'] / result['seconds']:.0f} "
                    f"req/s), statuses {result['statuses']}"
                )
            with server.runtime.db.session_scope(write=False) as session:
                reports = session.scalar(select(func.count(Report.id)))
                photos = session.scalar(select(func.count(Photo.id)))
            print(f"{'stored':>22}: {reports} reports, {photos} photos")
            assert (reports, photos) == (args.reports, args.reports), "duplicates or losses"


if __name__ == "__main__":
    main()
