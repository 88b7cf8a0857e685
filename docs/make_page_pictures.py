"""Screenshots of the main pages as each role sees them, into docs/pages/.

Run: ``python docs/make_page_pictures.py``. It makes a throwaway demo mission, serves the app on a
free loopback port and, with Debian's Chromium (Playwright), logs in as each demo account: the
observer's pages at phone size (360×740), the others at laptop size (1280×800). Look at the
pictures after a change to any page; commit the telling ones.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select
from werkzeug.serving import make_server

from fieldreport.accounts.models import User
from fieldreport.accounts.service import set_password
from fieldreport.config import load_settings
from fieldreport.demo import create_demo
from fieldreport.migrate import upgrade
from fieldreport.runtime import build_runtime
from fieldreport.sectors.models import Sector
from fieldreport.web.app import build_app
from tests.helpers import browser_login
from tests.servers import CHROMIUM_ARGS, chromium_executable, free_port

OUT = Path(__file__).resolve().parent / "pages"
PASSWORD = "pictures only, thrown away"  # noqa: S105 (a throwaway mission)
PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1280, "height": 800}
PAGES = {
    "observer1": (PHONE, ["/home", "/reports/new", "/reports", "/outbox", "/account/password"]),
    "coordinator": (
        LAPTOP,
        ["/review", "/sectors", "/sectors/{sector}/edit", "/assignments", "/coverage", "/map"],
    ),
    "commission": (LAPTOP, ["/digests", "/reports"]),
    "admin": (LAPTOP, ["/admin/users", "/sectors"]),
}


def prepare(data_dir: Path) -> tuple[object, int]:
    settings = load_settings({"FIELDREPORT_DATA_DIR": str(data_dir)}, testing=True)
    runtime = build_runtime(settings)
    upgrade(runtime.db)
    with runtime.db.session_scope() as session:
        create_demo(session, settings.data_dir, settings.parties)
        for user in session.scalars(select(User)):
            set_password(session, user, PASSWORD)
        sector_id = session.scalar(select(Sector.id).order_by(Sector.id))
    return build_app(settings, runtime), sector_id


def shoot(base: str, sector_id: int) -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable(), args=list(CHROMIUM_ARGS), headless=True
        )
        for username, (viewport, paths) in PAGES.items():
            context = browser.new_context(viewport=viewport)
            page = context.new_page()
            browser_login(page, base, username, PASSWORD)
            for path in paths:
                page.goto(base + path.format(sector=sector_id))
                name = path.strip("/").replace("/", "-").replace("{sector}", "id") or "home"
                page.screenshot(path=str(OUT / f"{username}-{name}.png"), full_page=True)
            context.close()
        browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        app, sector_id = prepare(Path(data_dir))
        port = free_port()
        server = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            shoot(f"http://127.0.0.1:{port}", sector_id)
        finally:
            server.shutdown()
    print(f"pictures in {OUT}")


if __name__ == "__main__":
    main()
