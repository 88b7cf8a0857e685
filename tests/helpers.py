"""What every test file needs: settings, one factory per model, the requests a client makes,
counting rows, polling, and forcing a race to overlap. Import from here, never from conftest.

Factories take a SQLAlchemy session and return the stored object (flushed, so it has its id).
Reports have two: :func:`file_report` files one through the reports service, as an observer
does (validated, sector derived from the position); :func:`add_report` stores a row with the
status and instant a test chooses (a digest's hand-counted day, reviews already done).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any, TypeVar

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from fieldreport.accounts.models import User
from fieldreport.accounts.service import create_user
from fieldreport.config import Settings, load_settings
from fieldreport.db import utcnow
from fieldreport.photos.models import Photo
from fieldreport.reports.models import Report
from fieldreport.reports.schemas import validate_report
from fieldreport.reports.service import append_version, submit_report
from fieldreport.sectors.models import Assignment, Sector
from fieldreport.sectors.shapes import square_polygon
from fieldreport.storage import original_key

T = TypeVar("T")

PASSWORD = "correct horse battery"
PARTIES = ("Party A", "Party B")
CORPUS = Path(__file__).resolve().parent / "corpus"

# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


def make_settings(tmp_path: Path, database_url: str, **overrides: Any) -> Settings:
    """Test settings: data under ``tmp_path``, the mission zone Europe/Rome, CSRF on."""
    env = {
        "FIELDREPORT_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": database_url,
        "FIELDREPORT_TESTING": "true",
        "FIELDREPORT_PARTIES": ",".join(PARTIES),
        "FIELDREPORT_TIME_ZONE": "Europe/Rome",
        "FIELDREPORT_TWO_FACTOR_ROLES": "",  # one-step log-in; tests/test_two_factor*.py: on
    }
    return load_settings(env, **overrides)


# --------------------------------------------------------------------------------------------
# Factories: one per model
# --------------------------------------------------------------------------------------------


def make_user(
    session: Session,
    username: str,
    role: str = "observer",
    *,
    password: str = PASSWORD,
    team_code: str | None = None,
    **fields: Any,
) -> User:
    """A user through the accounts service (an observer needs a ``team_code``)."""
    return create_user(
        session, username, role=role, password=password, team_code=team_code, **fields
    )


def report_body(**overrides: Any) -> dict[str, Any]:
    """A valid API report body (an hour ago, at the bridge); override any field."""
    body: dict[str, Any] = {
        "client_id": str(uuid.uuid4()),
        "category": "ceasefire_violation",
        "subcategory": "small_arms_fire",
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "latitude": 43.4675,
        "longitude": 11.8851,
        "accuracy_m": 12,
        "basis": "seen",
        "narrative": "Bursts of fire from the ridge.",
        "urgent": False,
        "details": {"count": 4, "direction": "NE"},
    }
    body.update(overrides)
    return body


def file_report(
    session: Session,
    observer: Any,
    lat: float,
    lon: float,
    *,
    occurred_at: datetime | None = None,
    urgent: bool = False,
    **overrides: Any,
) -> Report:
    """A report filed through the same service the API uses (sector derived on save)."""
    body = report_body(latitude=lat, longitude=lon, urgent=urgent, **overrides)
    if occurred_at is not None:
        body["occurred_at"] = occurred_at.astimezone(UTC).isoformat()
    data = validate_report(body, now=utcnow(), parties=PARTIES)
    report = submit_report(session, observer, data).report
    session.flush()
    return report


def add_report(
    session: Session,
    observer: Any,
    occurred_at: datetime,
    *,
    category: str = "ceasefire_violation",
    subcategory: str = "small_arms_fire",
    status: str = "verified",
    sector: Sector | None = None,
    details: dict[str, Any] | None = None,
    urgent: bool = False,
    party: str | None = None,
    confidence: str | None = None,
    narrative: str = "Bursts of fire from the ridge.",
    lon: float = 11.85,
    lat: float = 43.47,
) -> Report:
    """A stored report row at an exact instant, with a status and sector chosen by the test;
    it gets a ledger entry as a filed report does."""
    report = Report(
        client_id=str(uuid.uuid4()),
        observer_id=observer.id,
        team_code=observer.team_code,
        category=category,
        subcategory=subcategory,
        occurred_at=occurred_at,
        occurred_offset_minutes=60,
        latitude=lat,
        longitude=lon,
        accuracy_m=10,
        sector_id=sector.id if sector else None,
        basis="seen",
        attribution_party=party,
        attribution_confidence=confidence,
        details=details or {},
        narrative=narrative,
        urgent=urgent,
        status=status,
        version=1,
        content_sha256="0" * 64,
    )
    session.add(report)
    session.flush()
    append_version(session, report, {"client_id": report.client_id, "narrative": narrative}, None)
    session.flush()
    return report


def add_alert(session: Session, report: Report) -> Any:
    """The alert row of ``report`` (as if it had arrived urgent), in its sector."""
    from fieldreport.alerts.models import Alert

    alert = Alert(report_id=report.id, sector_id=report.sector_id, raised_at=utcnow())
    session.add(alert)
    session.flush()
    return alert


def square(lon: float, lat: float, half: float = 0.05) -> dict[str, Any]:
    """A GeoJSON square polygon centred on (lon, lat)."""
    return square_polygon(lon, lat, half)


def add_sector(session: Session, code: str, lon: float, lat: float, kind: str = "sector") -> Sector:
    """A sector row: a square of 0.1 degree centred on (lon, lat)."""
    sector = Sector(code=code, name=f"Sector {code}", kind=kind, geometry=square(lon, lat))
    session.add(sector)
    session.flush()
    return sector


def add_assignment(
    session: Session, observer: Any, sector: Sector, first: date, last: date
) -> Assignment:
    """An assignment row (no overlap check: use the sectors service to test that)."""
    assignment = Assignment(
        observer_id=observer.id, sector_id=sector.id, starts_on=first, ends_on=last
    )
    session.add(assignment)
    session.flush()
    return assignment


def add_photo_row(runtime: Any, report_id: int, data: bytes) -> int:
    """A pending photo row whose stored original is ``data``, as if it had passed the upload
    check: for photos the upload would refuse (a truncated JPEG reaching the worker) or that
    must not be processed yet."""
    sha256 = hashlib.sha256(data).hexdigest()
    runtime.storage.put(original_key(sha256), data)
    with runtime.db.session_scope() as session:
        photo = Photo(
            report_id=report_id,
            sha256=sha256,
            byte_size=len(data),
            format="JPEG",
            width=100,
            height=100,
            state="pending",
            flags=[],
        )
        session.add(photo)
        session.flush()
        return photo.id


# Sector files as a coordinator imports them.


def feature(code: str, geometry: dict[str, Any], kind: str = "sector", name: str = "") -> dict:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name or f"Sector {code}", "kind": kind},
        "geometry": geometry,
    }


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


# Two neighbouring sectors sharing the border lon = 11.90 (the east one smaller), a DMZ inside
# the west one.
WEST = feature("W", square(11.85, 43.47, 0.05))
EAST = feature("E", square(11.94, 43.47, 0.04))
DMZ = feature("DMZ-1", square(11.86, 43.47, 0.01), kind="dmz")


def utc(text: str) -> datetime:
    """``"2026-11-24T10:00"`` as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# Requests a client makes
# --------------------------------------------------------------------------------------------

CSRF_INPUT = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'name="csrf_token" value="([^"]+)"'
)
CSRF_REFUSED = "security token was missing or has expired"


def csrf_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1) or match.group(2)


def login(
    client: FlaskClient, username: str, password: str = PASSWORD, *, address: str | None = None
) -> Any:
    """Post the log-in form (with its token); ``address`` is the client's IP address."""
    environ = {"REMOTE_ADDR": address} if address else {}
    page = client.get("/login", environ_base=environ)
    token = csrf_from(page.get_data(as_text=True))
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        environ_base=environ,
    )


def browser_login(page: Any, base_url: str | None, username: str, password: str = PASSWORD) -> None:
    """Log in through the page in a real browser (Playwright) and wait to be let in.

    ``base_url=None``: the page is on the log-in form already (sent there with ``?next=``).
    """
    if base_url is not None:
        page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def fill_report_form(page: Any, narrative: str) -> None:
    """Fill in a valid small-arms report on the phone's form (Playwright), without sending it."""
    page.check("input[name=category][value=ceasefire_violation]")
    page.check("input[name=subcategory][value=small_arms_fire]")
    page.check("input[name=basis][value=seen]")
    page.fill("input[name=latitude]", "43.4675")
    page.fill("input[name=longitude]", "11.8851")
    page.fill("input[name=d-ceasefire_violation-count]", "3")
    page.fill("textarea[name=narrative]", narrative)


def api_token(client: FlaskClient) -> str:
    return client.get("/api/v1/csrf").get_json()["csrf_token"]


def post_report(client: FlaskClient, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/reports", json=body, headers={"X-CSRFToken": api_token(client)})


def upload_photo(
    client: FlaskClient, client_id: str, photo: bytes | Path, name: str | None = None
) -> Any:
    """Upload ``photo`` (bytes or a file) to the report ``client_id`` through the API."""
    if isinstance(photo, Path):
        name = name or photo.name
        photo = photo.read_bytes()
    return client.post(
        f"/api/v1/reports/{client_id}/photos",
        data={"photo": (BytesIO(photo), name or "photo.jpg")},
        headers={"X-CSRFToken": api_token(client)},
        content_type="multipart/form-data",
    )


def post_review(
    client: FlaskClient, client_id: str, status: str, comment: str | None = None
) -> Any:
    """A coordinator's decision through the API."""
    return client.post(
        f"/api/v1/reports/{client_id}/review",
        json={"status": status, "comment": comment},
        headers={"X-CSRFToken": api_token(client)},
    )


# --------------------------------------------------------------------------------------------
# Reading back, waiting
# --------------------------------------------------------------------------------------------


def count(runtime: Any, model: Any, *where: Any) -> int:
    """How many rows of ``model`` (matching ``where``) the database holds now."""
    with runtime.db.session_scope(write=False) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def wait_until(
    condition: Callable[[], T], what: str, *, timeout: float = 60.0, interval: float = 0.05
) -> T:
    """Poll ``condition`` until it is truthy and return its value; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------------------------------------
# Races
# --------------------------------------------------------------------------------------------


@contextmanager
def held_at_statement(
    engine: Any, statement_start: str, parties: int, *, timeout: float = 15.0
) -> Iterator[list[str]]:
    """Hold the first ``parties`` executions of a SQL statement beginning with
    ``statement_start`` until all of them are waiting, then let them go at once.

    Why: threads started together may still run one after the other. Holding them at the very
    statement whose outcome is raced (the INSERT of a report, the UPDATE that claims a digest)
    proves that every one of them got there before any went on: the race window was open for
    all. If they never all arrive (something serialises them earlier), the held statements
    raise ``BrokenBarrierError`` after ``timeout`` and their requests fail, so the test cannot
    pass without the overlap. Later executions of the statement pass freely. Yields the list of
    held statements, for the test to check that all ``parties`` were held.
    """
    barrier = threading.Barrier(parties)
    held: list[str] = []
    lock = threading.Lock()
    prefix = statement_start.lower()

    def hold(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().lower().startswith(prefix):
            return
        with lock:
            if len(held) >= parties:
                return
            held.append(statement)
        barrier.wait(timeout=timeout)

    event.listen(engine, "before_cursor_execute", hold)
    try:
        yield held
    finally:
        event.remove(engine, "before_cursor_execute", hold)
        barrier.abort()


ON_POSTGRESQL_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
"""For race tests. SQLite takes its write lock when a write transaction begins (BEGIN
IMMEDIATE, see fieldreport/db.py), so two writers never overlap there and a race test on SQLite
would prove nothing; PostgreSQL lets them overlap, as production does."""


def run_together(*calls: Callable[[], T], timeout: float = 60.0) -> list[T]:
    """Run each call in its own thread, started at the same moment; their results in order.

    An exception in a call is raised here (the first one), not lost in its thread.
    """
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], T]) -> None:
        try:
            start.wait(timeout=timeout)
            results[index] = call()
        except BaseException as error:  # re-raised in the caller's thread below
            errors.append(error)

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a racing call did not finish in time"
    if errors:
        raise errors[0]
    return results


def pictures_dir(tmp_path: Path) -> Path:
    """Where a browser test saves its screenshots: ``docs/`` when asked for with
    ``FIELDREPORT_SCREENSHOTS=docs`` (to commit them), else the test's own temporary folder, so a
    test run never changes the repository."""
    if os.environ.get("FIELDREPORT_SCREENSHOTS") == "docs":
        return Path(__file__).resolve().parents[1] / "docs"
    return tmp_path
