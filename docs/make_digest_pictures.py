"""Draws docs/digest-page.png and docs/digest-pdf-page1.png from a demo-like mission day.

Run: ``python docs/make_digest_pictures.py``. It builds a throwaway mission (24 sectors, a
demilitarized strip, two crossing points, eight teams, about 260 reports on the day and a
fortnight before it), builds the digest as the worker does, serves the app on a free loopback
port, logs in as the commission with Debian's Chromium (Playwright) to screenshot the page, and
renders the PDF's first page with ``pdftoppm`` (poppler-utils).
"""

from __future__ import annotations

import random
import secrets
import subprocess
import sys
import tempfile
import threading
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from werkzeug.serving import make_server

from fieldreport.accounts.service import create_user
from fieldreport.config import load_settings
from fieldreport.digests import pipeline
from fieldreport.migrate import upgrade
from fieldreport.reports.models import Report
from fieldreport.reports.service import append_version
from fieldreport.runtime import build_runtime
from fieldreport.sectors.models import Assignment, Sector
from fieldreport.web.app import build_app
from tests.servers import CHROMIUM_ARGS, chromium_executable, free_port

DOCS = Path(__file__).resolve().parent
DAY = date(2026, 11, 24)
PASSWORD = secrets.token_urlsafe(16)  # the throwaway mission lives for one run
WEST, SOUTH, STEP_LON, STEP_LAT = 11.70, 43.40, 0.06, 0.045
NARRATIVES = {
    "ceasefire_violation": [
        "Bursts of small-arms fire heard from the ridge north-east of the observation post.",
        "Three explosions assessed as mortar impacts about 2 km south of the village.",
        "Heavy-weapon fire, outgoing, from the tree line west of the crossing road.",
    ],
    "weapons_forces": ["Two tanks seen in the restricted area near the quarry."],
    "freedom_of_movement": ["Patrol stopped at the bridge checkpoint and sent back."],
    "civilian_harm": ["Roof of a house hit; residents had left the day before."],
    "repatriation": ["Exchange completed at the crossing point under ICRC supervision."],
    "humanitarian": ["Water-repair convoy passed after a short delay."],
    "other": ["Unidentified drone circling over the school for ten minutes."],
}


def square(west: float, south: float, dlon: float, dlat: float) -> dict[str, Any]:
    ring = [
        [west, south],
        [west + dlon, south],
        [west + dlon, south + dlat],
        [west, south + dlat],
        [west, south],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def mission(runtime: Any) -> None:
    rng = random.Random(2026)  # noqa: S311 (a fixed seed: the same pictures every run)
    zone = runtime.settings.zone
    with runtime.db.session_scope() as session:
        create_user(session, "comm", role="commission", password=PASSWORD, display_name="Comm")
        teams = [
            create_user(
                session,
                f"observer{i}",
                role="observer",
                password=PASSWORD,
                team_code=f"T-{i:02d}",
                display_name=f"Observer {i}",
            )
            for i in range(1, 9)
        ]
        sectors = []
        for i in range(6):
            for j in range(4):
                sector = Sector(
                    code=f"S-{i + 1}{chr(65 + j)}",
                    name=f"Sector {i + 1}{chr(65 + j)}",
                    kind="sector",
                    geometry=square(WEST + i * STEP_LON, SOUTH + j * STEP_LAT, STEP_LON, STEP_LAT),
                )
                session.add(sector)
                sectors.append(sector)
        mid = SOUTH + 2 * STEP_LAT
        session.add(
            Sector(
                code="DMZ",
                name="Demilitarized strip",
                kind="dmz",
                geometry=square(WEST, mid - 0.006, 6 * STEP_LON, 0.012),
            )
        )
        for k, lon in enumerate((WEST + 0.1, WEST + 0.27)):
            session.add(
                Sector(
                    code=f"CP-{k + 1}",
                    name=f"Crossing point {k + 1}",
                    kind="crossing_point",
                    geometry=square(lon - 0.004, mid - 0.004, 0.008, 0.008),
                )
            )
        session.flush()
        for k, team in enumerate(teams):
            session.add(
                Assignment(
                    observer_id=team.id,
                    sector_id=sectors[(k * 3) % len(sectors)].id,
                    starts_on=DAY - timedelta(days=7),
                    ends_on=DAY + timedelta(days=7),
                )
            )
        weights = [60, 8, 6, 8, 3, 10, 5]
        categories = list(NARRATIVES)
        subs = {
            "ceasefire_violation": ["small_arms_fire", "explosion", "heavy_weapon_fire"],
            "weapons_forces": ["heavy_weapons_restricted_area", "movement_across_line"],
            "freedom_of_movement": ["denied_access", "delayed"],
            "civilian_harm": ["damage_homes", "injured", "killed"],
            "repatriation": ["prisoner_exchange"],
            "humanitarian": ["repair_access", "aid_convoy"],
            "other": ["other"],
        }
        for back in range(14, -1, -1):
            day = DAY - timedelta(days=back)
            start = datetime.combine(day, time.min, zone).astimezone(UTC)
            count = 260 if back == 0 else rng.randint(120, 240)
            for _ in range(count):
                category = rng.choices(categories, weights)[0]
                sub = rng.choice(subs[category])
                # Most fire along the line of contact, in the middle rows.
                i = rng.randrange(6)
                j = min(3, max(0, int(rng.gauss(1.5, 0.9))))
                team = rng.choice(teams[:6])  # T-07 and T-08 file nothing today
                details: dict[str, Any] = {"count": rng.randint(1, 20)}
                if category == "civilian_harm":
                    details = (
                        {"men": rng.randint(0, 2), "women": rng.randint(0, 1)}
                        if sub in ("killed", "injured")
                        else {"object_damaged": "house", "objects": 1}
                    )
                elif category == "freedom_of_movement":
                    details = {
                        "checkpoint_party": rng.choice(["Party A", "Party B"]),
                        "duration_min": rng.randint(10, 90),
                        "effect": rng.choice(["patrol_rerouted", "patrol_delayed"]),
                    }
                elif category == "repatriation":
                    details = {
                        "persons_side_a": rng.randint(5, 20),
                        "persons_side_b": rng.randint(5, 20),
                        "crossing_point": "CP-1",
                    }
                report = Report(
                    client_id=str(uuid.uuid4()),
                    observer_id=team.id,
                    team_code=team.team_code,
                    category=category,
                    subcategory=sub,
                    occurred_at=start + timedelta(seconds=rng.randrange(86_400)),
                    occurred_offset_minutes=60,
                    latitude=SOUTH + (j + rng.random()) * STEP_LAT,
                    longitude=WEST + (i + rng.random()) * STEP_LON,
                    accuracy_m=15,
                    sector_id=sectors[i * 4 + j].id,
                    basis="seen",
                    attribution_party=rng.choice([None, "Party A", "Party B"]),
                    attribution_confidence=rng.choice(["confirmed", "likely", "undetermined"]),
                    details=details,
                    narrative=rng.choice(NARRATIVES[category]),
                    urgent=sub in ("killed", "injured") or rng.random() < 0.005,
                    status=rng.choice(["verified"] * 5 + ["in_review", "submitted", "disputed"]),
                    version=1,
                    content_sha256="0" * 64,
                )
                session.add(report)
            session.flush()
        append_version(session, report, {"demo": True}, None)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="digest-pictures-") as tmp:
        settings = load_settings(
            {
                "FIELDREPORT_DATA_DIR": tmp,
                "FIELDREPORT_TIME_ZONE": "Europe/Rome",
                "FIELDREPORT_MISSION_NAME": "Ceasefire Monitoring Mission (demo)",
                "SECRET_KEY": "demo-pictures",
                # Pictures of the pages, not of the log-in: no second step for this throwaway.
                "FIELDREPORT_TWO_FACTOR_ROLES": "",
            }
        )
        runtime = build_runtime(settings)
        upgrade(runtime.db)
        mission(runtime)
        digest = pipeline.build(runtime, DAY)
        pdf = runtime.storage.path(digest.pdf_key)
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "80",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(pdf),
                str(DOCS / "digest-pdf-page1"),
            ],
            check=True,
        )
        app = build_app(settings, runtime)
        port = free_port("127.0.0.1")
        server = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            screenshot(f"http://127.0.0.1:{port}")
        finally:
            server.shutdown()
            runtime.db.dispose()
    print(
        "wrote digest-page.png, digest-pdf-page1.png, digest-archive.png and "
        f"digest-phone-areas.png in {DOCS}"
    )


def screenshot(base: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable(), args=list(CHROMIUM_ARGS), headless=True
        )
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "comm")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{base}/digests/{DAY.isoformat()}")
        page.screenshot(path=str(DOCS / "digest-page.png"), full_page=False)
        if len(sys.argv) > 1:  # a whole-page picture for checking the layout
            page.screenshot(path=sys.argv[1], full_page=True)
        page.goto(f"{base}/digests")
        page.screenshot(path=str(DOCS / "digest-archive.png"), full_page=False)
        page.set_viewport_size({"width": 360, "height": 740})
        page.goto(f"{base}/digests/{DAY.isoformat()}")
        page.locator("text=By area, against the previous day").scroll_into_view_if_needed()
        page.screenshot(path=str(DOCS / "digest-phone-areas.png"), full_page=False)
        browser.close()


if __name__ == "__main__":
    main()
